// Layer normalisation over the rows of a contiguous (rows, cols) matrix, and its gradient.
#include <cmath>

#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {

void ReferenceBackend::layer_norm(const float* in, const float* weight, const float* bias,
                                  float* out, float* mean, float* rstd, int64_t rows,
                                  int64_t cols, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * cols;  // (cols,)
    float* y = out + r * cols;       // (cols,)
    float total = 0.0f;
    for (int64_t j = 0; j < cols; ++j) total += x[j];
    const float row_mean = total / static_cast<float>(cols);
    float squares = 0.0f;  // the variance from the centered values: no cancellation
    for (int64_t j = 0; j < cols; ++j) squares += (x[j] - row_mean) * (x[j] - row_mean);
    const float row_rstd = 1.0f / std::sqrt(squares / static_cast<float>(cols) + eps);
    for (int64_t j = 0; j < cols; ++j) {
      y[j] = formulas::layer_norm_element(x[j], row_mean, row_rstd, weight ? weight[j] : 1.0f,
                                          bias ? bias[j] : 0.0f);
    }
    mean[r] = row_mean;
    rstd[r] = row_rstd;
  }
}

void ReferenceBackend::layer_norm_backward(const float* grad, const float* in,
                                           const float* weight, const float* mean,
                                           const float* rstd, float* grad_in,
                                           float* grad_weight, float* grad_bias, int64_t rows,
                                           int64_t cols) {
  for (int64_t j = 0; j < cols; ++j) {
    if (grad_weight) grad_weight[j] = 0.0f;
    if (grad_bias) grad_bias[j] = 0.0f;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = grad + r * cols;  // (cols,)
    const float* x = in + r * cols;    // (cols,)
    float* dx = grad_in + r * cols;    // (cols,)
    // The row's means of gw = g * weight and of gw * xhat.
    float sum_gw = 0.0f, sum_gw_xhat = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      const float gw = g[j] * (weight ? weight[j] : 1.0f);
      const float xhat = (x[j] - mean[r]) * rstd[r];
      sum_gw += gw;
      sum_gw_xhat += gw * xhat;
    }
    const float mean_gw = sum_gw / static_cast<float>(cols);
    const float mean_gw_xhat = sum_gw_xhat / static_cast<float>(cols);
    for (int64_t j = 0; j < cols; ++j) {
      const float gw = g[j] * (weight ? weight[j] : 1.0f);
      const float xhat = (x[j] - mean[r]) * rstd[r];
      dx[j] = formulas::layer_norm_grad_element(gw, xhat, rstd[r], mean_gw, mean_gw_xhat);
      if (grad_weight) grad_weight[j] += g[j] * xhat;
      if (grad_bias) grad_bias[j] += g[j];
    }
  }
}

}  // namespace ember::reference
