// Layer norm on the CPU (see layer_norm_kernels.h).
//
// Why a kernel of its own: written as ops (x - mean, squared, mean, + eps, sqrt, divide,
// * weight), a layer norm is 8 passes over its input forward and about 20 backward, each a
// separate op with its own result to allocate. A GPT runs 2 per block and one at the end, so
// in nanoGPT's laptop settings those passes took about a tenth of a training step. Here the
// forward reads each row twice and writes it once; the backward reads grad and x twice.
//
// Each row's sums use 16 running partial sums, combined in a fixed order (the compiler keeps
// them in one vector register), so a row's result does not depend on the thread count. The
// weight's and bias's gradients are sums over rows: every block of kBlockRows rows writes its
// own partial column sums, and the blocks are added in order afterwards, so those do not
// depend on the thread count either.
#include "fast_cpu/layer_norm_kernels.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "fast_cpu/target_clones.h"
#include "fast_cpu/thread_pool.h"
#include "formulas.h"

namespace ember::cpu {
namespace {

constexpr int kLanes = 16;
// Rows per block of the weight and bias gradients' partial sums.
constexpr int64_t kBlockRows = 64;

// About 16K elements per task: a layer norm makes ~3 passes over its rows, so below that
// waking a thread costs more than it saves.
int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)); }

template <typename Fn>
void for_each_row_range(int64_t rows, int64_t grain, Fn&& fn) {
  if (rows <= grain) {
    if (rows > 0) fn(int64_t{0}, rows);
    return;
  }
  parallel_for(0, rows, grain, std::ref(fn));
}

// sum_j x[j], in 16 partial sums.
EMBER_ALWAYS_INLINE float row_sum(const float* x, int64_t n) {
  float partial[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) partial[l] += x[j + l];
  }
  float total = 0.0f;
  for (; j < n; ++j) total += x[j];
  for (int l = 0; l < kLanes; ++l) total += partial[l];
  return total;
}

// sum_j (x[j] - mean)^2, in 16 partial sums.
EMBER_ALWAYS_INLINE float row_centered_squares(const float* x, int64_t n, float mean) {
  float partial[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float c = x[j + l] - mean;
      partial[l] += c * c;
    }
  }
  float total = 0.0f;
  for (; j < n; ++j) total += (x[j] - mean) * (x[j] - mean);
  for (int l = 0; l < kLanes; ++l) total += partial[l];
  return total;
}

EMBER_TARGET_CLONES
void forward_range(const float* in, const float* weight, const float* bias, float* out, float* mean,
                   float* rstd, int64_t cols, float eps, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* x = in + r * cols;
    float* y = out + r * cols;
    const float m = row_sum(x, cols) / static_cast<float>(cols);
    const float s = 1.0f / std::sqrt(row_centered_squares(x, cols, m) / static_cast<float>(cols) + eps);
    if (weight != nullptr && bias != nullptr) {
      for (int64_t j = 0; j < cols; ++j) y[j] = formulas::layer_norm_element(x[j], m, s, weight[j], bias[j]);
    } else if (weight != nullptr) {
      for (int64_t j = 0; j < cols; ++j) y[j] = formulas::layer_norm_element(x[j], m, s, weight[j], 0.0f);
    } else if (bias != nullptr) {
      for (int64_t j = 0; j < cols; ++j) y[j] = formulas::layer_norm_element(x[j], m, s, 1.0f, bias[j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) y[j] = formulas::layer_norm_element(x[j], m, s, 1.0f, 0.0f);
    }
    mean[r] = m;
    rstd[r] = s;
  }
}

// grad_in for rows [begin, end); with partial_weight / partial_bias (cols each, or null) also
// the rows' sums of grad * xhat and of grad, added to what they hold.
EMBER_TARGET_CLONES
void backward_range(const float* grad, const float* in, const float* weight, const float* mean,
                    const float* rstd, float* grad_in, float* partial_weight, float* partial_bias,
                    int64_t cols, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* g = grad + r * cols;
    const float* x = in + r * cols;
    float* dx = grad_in + r * cols;
    const float m = mean[r], s = rstd[r];
    float sum_gw[kLanes] = {}, sum_gw_xhat[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const float gw = g[j + l] * (weight ? weight[j + l] : 1.0f);
        const float xhat = (x[j + l] - m) * s;
        sum_gw[l] += gw;
        sum_gw_xhat[l] += gw * xhat;
      }
    }
    float total_gw = 0.0f, total_gw_xhat = 0.0f;
    for (; j < cols; ++j) {
      const float gw = g[j] * (weight ? weight[j] : 1.0f);
      const float xhat = (x[j] - m) * s;
      total_gw += gw;
      total_gw_xhat += gw * xhat;
    }
    for (int l = 0; l < kLanes; ++l) {
      total_gw += sum_gw[l];
      total_gw_xhat += sum_gw_xhat[l];
    }
    const float mean_gw = total_gw / static_cast<float>(cols);
    const float mean_gw_xhat = total_gw_xhat / static_cast<float>(cols);
    if (weight != nullptr) {
      for (int64_t c = 0; c < cols; ++c) {
        const float xhat = (x[c] - m) * s;
        dx[c] = formulas::layer_norm_grad_element(g[c] * weight[c], xhat, s, mean_gw, mean_gw_xhat);
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const float xhat = (x[c] - m) * s;
        dx[c] = formulas::layer_norm_grad_element(g[c], xhat, s, mean_gw, mean_gw_xhat);
      }
    }
    if (partial_weight != nullptr) {
      for (int64_t c = 0; c < cols; ++c) partial_weight[c] += g[c] * ((x[c] - m) * s);
    }
    if (partial_bias != nullptr) {
      for (int64_t c = 0; c < cols; ++c) partial_bias[c] += g[c];
    }
  }
}

// sum[c] += part[c]
EMBER_TARGET_CLONES
void add_row(float* __restrict sum, const float* __restrict part, int64_t cols) {
  for (int64_t c = 0; c < cols; ++c) sum[c] += part[c];
}

}  // namespace

void layer_norm_rows(const float* in, const float* weight, const float* bias, float* out,
                     float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  if (cols == 0) return;
  for_each_row_range(rows, row_grain(cols), [&](int64_t begin, int64_t end) {
    forward_range(in, weight, bias, out, mean, rstd, cols, eps, begin, end);
  });
}

void layer_norm_backward_rows(const float* grad, const float* in, const float* weight,
                              const float* mean, const float* rstd, float* grad_in,
                              float* grad_weight, float* grad_bias, int64_t rows, int64_t cols) {
  if (cols == 0) return;
  const bool sums = grad_weight != nullptr || grad_bias != nullptr;
  if (!sums) {
    for_each_row_range(rows, row_grain(cols), [&](int64_t begin, int64_t end) {
      backward_range(grad, in, weight, mean, rstd, grad_in, nullptr, nullptr, cols, begin, end);
    });
    return;
  }
  // Blocks of kBlockRows rows, each with its own partial column sums (zeros to start).
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  std::vector<float> partial_weight(grad_weight ? static_cast<size_t>(blocks * cols) : 0, 0.0f);
  std::vector<float> partial_bias(grad_bias ? static_cast<size_t>(blocks * cols) : 0, 0.0f);
  const int64_t block_grain = std::max<int64_t>(1, row_grain(cols) / kBlockRows);
  for_each_row_range(blocks, block_grain, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t begin = block * kBlockRows, end = std::min(rows, begin + kBlockRows);
      backward_range(grad, in, weight, mean, rstd, grad_in,
                     grad_weight ? partial_weight.data() + block * cols : nullptr,
                     grad_bias ? partial_bias.data() + block * cols : nullptr, cols, begin, end);
    }
  });
  // The blocks' sums, added in block order.
  if (grad_weight != nullptr) std::fill(grad_weight, grad_weight + cols, 0.0f);
  if (grad_bias != nullptr) std::fill(grad_bias, grad_bias + cols, 0.0f);
  for (int64_t block = 0; block < blocks; ++block) {
    if (grad_weight != nullptr) add_row(grad_weight, partial_weight.data() + block * cols, cols);
    if (grad_bias != nullptr) add_row(grad_bias, partial_bias.data() + block * cols, cols);
  }
}

}  // namespace ember::cpu
