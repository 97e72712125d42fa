// Row-wise softmax and log_softmax over contiguous (rows, cols), and their gradients.
#include <cmath>
#include <limits>

#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {

void ReferenceBackend::softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * cols;  // (cols,)
    float* y = out + r * cols;       // (cols,)
    // Subtracting the row's max keeps exp() from overflowing and leaves the result unchanged.
    float largest = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < cols; ++j) largest = std::fmax(largest, x[j]);  // fmax skips NaN
    if (std::isinf(largest) && largest < 0) largest = 0.0f;  // a row of -inf
    float total = 0.0f;
    for (int64_t j = 0; j < cols; ++j) total += std::exp(x[j] - largest);
    const float log_total = std::log(total);
    for (int64_t j = 0; j < cols; ++j) {
      y[j] = log ? formulas::log_softmax_element(x[j], largest, log_total)
                 : std::exp(x[j] - largest) / total;
    }
  }
}

// softmax: dx = y * (g - sum(g * y)); log_softmax (y the log probabilities):
// dx = g - exp(y) * sum(g).
void ReferenceBackend::softmax_backward(const float* y, const float* grad, float* grad_in,
                                        int64_t rows, int64_t cols, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* y_row = y + r * cols;     // (cols,)
    const float* g_row = grad + r * cols;  // (cols,)
    float* dx = grad_in + r * cols;        // (cols,)
    float total = 0.0f;
    for (int64_t j = 0; j < cols; ++j) total += log ? g_row[j] : g_row[j] * y_row[j];
    for (int64_t j = 0; j < cols; ++j) {
      dx[j] = log ? g_row[j] - std::exp(y_row[j]) * total : y_row[j] * (g_row[j] - total);
    }
  }
}

}  // namespace ember::reference
