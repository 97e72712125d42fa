// Row-wise softmax, log_softmax and their gradients on the CPU (see softmax_kernels.h).
//
// Each row is independent, so rows are shared out between threads whole, and a row's
// result never depends on the thread count. The max and the sums inside a row use 16
// running partial results, combined in a fixed order at the end: the compiler keeps them
// in one vector register (EMBER_TARGET_CLONES) instead of waiting on one long chain of
// dependent additions, and the result is the same in every version.
//
// exp is our own (exp_nonpositive below), because the C library's expf is a function call
// the compiler cannot vectorise: with it, softmax over attention's (32, 256, 256) scores
// took longer than the GEMM that made them.
#include "fast_cpu/softmax_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

#include "fast_cpu/target_clones.h"
#include "formulas.h"
#include "fast_cpu/thread_pool.h"

namespace ember::cpu {
namespace {

// Rows per task: about 32K elements, below which waking a thread costs more than it saves.
template <typename Fn>
void for_each_row_range(int64_t rows, int64_t cols, Fn&& fn) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1));
  if (rows <= grain) {
    if (rows > 0) fn(int64_t{0}, rows);
    return;
  }
  parallel_for(0, rows, grain, std::ref(fn));
}

constexpr int kLanes = 16;

// softmax works through a chunk of rows a block of about this many elements (16 KiB, so it
// stays in L1) at a time; see softmax_rows.
constexpr int64_t kBlockElements = 4096;

// exp(x) for x <= 0 (also -inf and NaN), which is all softmax needs: it subtracts the row's
// max first. Within 1 ulp of the exact value (checked on 200 million points of [-87.3, 0]);
// results below 2^-126 (x < -87.3) become 0.
//
// Cephes' expf: exp(x) = 2^n * exp(r), with n = x / ln 2 rounded to the nearest integer and
// r = x - n ln 2 in [-ln2/2, ln2/2]; ln 2 is split in two parts (C1 has few bits, so n * C1
// is exact) to keep r accurate. exp(r) = 1 + r + r^2 P(r), P a degree-5 polynomial fitted on
// that interval. 2^n is built directly from its bits: exponent n + 127, mantissa 0.
inline float exp_nonpositive(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kC1 = 0.693359375f, kC2 = -2.12194440e-4f;  // C1 + C2 = ln 2
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: v + kRound - kRound rounds v to an integer
  constexpr float kLowest = -87.33f;     // below this 2^n would leave the normal floats
  // A NaN becomes kLowest here (the test is false), so that the conversion to an integer
  // below always gets a number; the NaN itself is returned at the end.
  const float clamped = x >= kLowest ? x : kLowest;
  const float n = (clamped * kLog2e + kRound) - kRound;
  const float r = (clamped - n * kC1) - n * kC2;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float exp_r = p * (r * r) + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n; n is in [-126, 0]
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x >= kLowest ? exp_r * scale : (x < kLowest ? 0.0f : x);
}

// The row's largest value; NaNs are passed over, as by std::max.
EMBER_TARGET_CLONES
float max_row(const float* __restrict x, int64_t cols) {
  float partial[kLanes];
  std::fill(partial, partial + kLanes, -std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) partial[lane] = std::max(partial[lane], x[j + lane]);
  }
  float largest = -std::numeric_limits<float>::infinity();
  for (; j < cols; ++j) largest = std::max(largest, x[j]);
  for (float p : partial) largest = std::max(largest, p);
  return largest;
}

// y = exp(y) for n values (all <= 0: each is x minus its row's max), as one flat loop.
EMBER_TARGET_CLONES
void exp_in_place(float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_nonpositive(y[i]);
}

// y = x - shift (shift = the row's max).
EMBER_TARGET_CLONES
void subtract_row(const float* __restrict x, float* __restrict y, int64_t cols, float shift) {
  for (int64_t j = 0; j < cols; ++j) y[j] = x[j] - shift;
}

// y = (x - max) - log_sum: log_softmax's formula (formulas.h), the same on every backend.
EMBER_TARGET_CLONES
void log_softmax_row(const float* __restrict x, float* __restrict y, int64_t cols, float max,
                     float log_sum) {
  for (int64_t j = 0; j < cols; ++j) y[j] = formulas::log_softmax_element(x[j], max, log_sum);
}

// y *= scale (softmax: scale = 1 / sum).
EMBER_TARGET_CLONES
void scale_row(float* __restrict y, int64_t cols, float scale) {
  for (int64_t j = 0; j < cols; ++j) y[j] *= scale;
}

// sum(g * y) over one row.
EMBER_TARGET_CLONES
float dot_row(const float* __restrict g, const float* __restrict y, int64_t cols) {
  float partial[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) partial[lane] += g[j + lane] * y[j + lane];
  }
  float total = 0.0f;
  for (; j < cols; ++j) total += g[j] * y[j];
  for (float p : partial) total += p;
  return total;
}

// sum(g) over one row.
EMBER_TARGET_CLONES
float sum_row(const float* __restrict g, int64_t cols) {
  float partial[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) partial[lane] += g[j + lane];
  }
  float total = 0.0f;
  for (; j < cols; ++j) total += g[j];
  for (float p : partial) total += p;
  return total;
}

// dx = y * (g - total), with total = sum(g * y).
EMBER_TARGET_CLONES
void softmax_grad_row(const float* __restrict y, const float* __restrict g, float* __restrict dx,
                      int64_t cols, float total) {
  for (int64_t j = 0; j < cols; ++j) dx[j] = y[j] * (g[j] - total);
}

// dx = g - dx * total, where dx holds exp(y) (log_softmax's gradient, total = sum(g)).
EMBER_TARGET_CLONES
void log_softmax_grad_row(const float* __restrict g, float* __restrict dx, int64_t cols,
                          float total) {
  for (int64_t j = 0; j < cols; ++j) dx[j] = g[j] - dx[j] * total;
}

}  // namespace

void softmax_rows(const float* in, float* out, int64_t rows, int64_t cols, bool log) {
  for_each_row_range(rows, cols, [&](int64_t begin, int64_t end) {
    const int64_t block_rows = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(cols, 1));
    float shift[kBlockElements];  // each row's max, for the rows of one block
    for (int64_t r0 = begin; r0 < end; r0 += block_rows) {
      const int64_t r1 = std::min(end, r0 + block_rows);
      // 1. y = x - max(x) row by row: subtracting the max keeps exp() from overflowing and
      //    leaves the result unchanged.
      for (int64_t r = r0; r < r1; ++r) {
        float largest = max_row(in + r * cols, cols);
        if (std::isinf(largest) && largest < 0) largest = 0.0f;  // a row of -inf
        shift[r - r0] = largest;
        subtract_row(in + r * cols, out + r * cols, cols, largest);
      }
      // 2. y = exp(y) for the whole block at once.
      exp_in_place(out + r0 * cols, (r1 - r0) * cols);
      // 3. softmax: y / sum(y); log_softmax: (x - max) - log(sum(y)).
      for (int64_t r = r0; r < r1; ++r) {
        const float total = sum_row(out + r * cols, cols);
        if (log) {
          log_softmax_row(in + r * cols, out + r * cols, cols, shift[r - r0], std::log(total));
        } else {
          scale_row(out + r * cols, cols, 1.0f / total);
        }
      }
    }
  });
}

void softmax_backward_rows(const float* y, const float* grad, float* grad_in, int64_t rows,
                           int64_t cols, bool log) {
  for_each_row_range(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* y_row = y + r * cols;     // (cols,)
      const float* g_row = grad + r * cols;  // (cols,)
      float* dx = grad_in + r * cols;        // (cols,)
      if (log) {
        // dx = g - exp(y) * sum(g): y holds log probabilities, all <= 0.
        std::memcpy(dx, y_row, static_cast<size_t>(cols) * sizeof(float));
        exp_in_place(dx, cols);
        log_softmax_grad_row(g_row, dx, cols, sum_row(g_row, cols));
      } else {
        softmax_grad_row(y_row, g_row, dx, cols, dot_row(g_row, y_row, cols));
      }
    }
  });
}

}  // namespace ember::cpu
