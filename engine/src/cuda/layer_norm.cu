// Layer norm over the rows of a contiguous (rows, cols) matrix, and its gradient.
//
// Forward: one block per row (blocks loop over rows past the grid's 65535): a block reduction
// for the row's sum, then one for the centered squares, then one pass writing
// formulas::layer_norm_element. Backward: one block per row for grad_in (two block
// reductions: the row's sums of grad * weight and of grad * weight * xhat), then, for the
// weight's and bias's gradients, one thread per column summing over the rows in row order
// (as the CPU does, so the sums come out the same on every run).
#include <algorithm>

#include "cuda/block_reduce.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/cuda_common.cuh"
#include "formulas.h"

namespace ember::cuda {
namespace {

struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

__global__ void layer_norm_kernel(const float* in, const float* weight, const float* bias, float* out,
                                  float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {  // the same for the block
    const float* x = in + row * cols;
    float* y = out + row * cols;
    float total = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) total += x[j];
    const float m = block_reduce(total, 0.0f, SumOp()) / static_cast<float>(cols);
    float squares = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) squares += (x[j] - m) * (x[j] - m);
    const float s = 1.0f / sqrtf(block_reduce(squares, 0.0f, SumOp()) / static_cast<float>(cols) + eps);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      y[j] = formulas::layer_norm_element(x[j], m, s, weight ? weight[j] : 1.0f, bias ? bias[j] : 0.0f);
    }
    if (threadIdx.x == 0) {
      mean[row] = m;
      rstd[row] = s;
    }
  }
}

__global__ void layer_norm_backward_kernel(const float* grad, const float* in, const float* weight,
                                           const float* mean, const float* rstd, float* grad_in,
                                           int64_t rows, int64_t cols) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* g = grad + row * cols;
    const float* x = in + row * cols;
    float* dx = grad_in + row * cols;
    const float m = mean[row], s = rstd[row];
    float sum_gw = 0.0f, sum_gw_xhat = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const float gw = g[j] * (weight ? weight[j] : 1.0f);
      sum_gw += gw;
      sum_gw_xhat += gw * ((x[j] - m) * s);
    }
    const float mean_gw = block_reduce(sum_gw, 0.0f, SumOp()) / static_cast<float>(cols);
    const float mean_gw_xhat = block_reduce(sum_gw_xhat, 0.0f, SumOp()) / static_cast<float>(cols);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const float gw = g[j] * (weight ? weight[j] : 1.0f);
      dx[j] = formulas::layer_norm_grad_element(gw, (x[j] - m) * s, s, mean_gw, mean_gw_xhat);
    }
  }
}

// grad_weight[j] = sum_r grad[r, j] * xhat[r, j], grad_bias[j] = sum_r grad[r, j] (either null).
__global__ void layer_norm_parameter_grads_kernel(const float* grad, const float* in, const float* mean,
                                                  const float* rstd, float* grad_weight, float* grad_bias,
                                                  int64_t rows, int64_t cols) {
  for (int64_t j = first_index(); j < cols; j += index_stride()) {
    float sum_weight = 0.0f, sum_bias = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const float g = grad[r * cols + j];
      sum_weight += g * ((in[r * cols + j] - mean[r]) * rstd[r]);
      sum_bias += g;
    }
    if (grad_weight) grad_weight[j] = sum_weight;
    if (grad_bias) grad_bias[j] = sum_bias;
  }
}

unsigned int row_blocks(int64_t rows) { return static_cast<unsigned int>(std::min<int64_t>(rows, 65535)); }

}  // namespace

void CudaBackend::layer_norm(const float* in, const float* weight, const float* bias, float* out,
                             float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  DeviceGuard guard(index_, "layer_norm");
  if (rows == 0 || cols == 0) return;
  layer_norm_kernel<<<row_blocks(rows), threads_for_items(cols)>>>(in, weight, bias, out, mean, rstd, rows,
                                                                   cols, eps);
  check_launch("layer_norm");
}

void CudaBackend::layer_norm_backward(const float* grad, const float* in, const float* weight,
                                      const float* mean, const float* rstd, float* grad_in,
                                      float* grad_weight, float* grad_bias, int64_t rows, int64_t cols) {
  DeviceGuard guard(index_, "layer_norm_backward");
  if (cols == 0) return;
  if (rows > 0) {
    layer_norm_backward_kernel<<<row_blocks(rows), threads_for_items(cols)>>>(grad, in, weight, mean, rstd,
                                                                              grad_in, rows, cols);
    check_launch("layer_norm_backward");
  }
  if (grad_weight != nullptr || grad_bias != nullptr) {
    layer_norm_parameter_grads_kernel<<<blocks_for(cols), kThreadsPerBlock>>>(grad, in, mean, rstd, grad_weight,
                                                                             grad_bias, rows, cols);
    check_launch("layer_norm_backward");
  }
}

}  // namespace ember::cuda
