// softmax and log_softmax along the rows of a contiguous (rows, cols) matrix.
//
// One block per row (blocks loop over rows past the grid's 65535), its threads striding
// along the row, in three passes as on the CPU:
//   1. the row's largest value (subtracting it keeps exp() from overflowing; a row of
//      -inf uses 0 instead, so that it gives NaN exactly as the CPU does);
//   2. the sum of exp(x - largest);
//   3. y = exp(x - largest) / sum, or for log_softmax y = (x - largest) - log(sum)
//      (formulas.h: subtracting the max first keeps the digits of large logits).
// Each pass ends with a block reduction (block_reduce.cuh) that every thread sees.
//
// softmax_backward, the gradient, is one block per row too: a block reduction of the row's
// sum(g * y) (softmax) or sum(g) (log_softmax), then one pass that writes the gradient.
#include <math_constants.h>

#include <algorithm>

#include "cuda/block_reduce.cuh"
#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "ember/error.h"
#include "formulas.h"

namespace ember::cuda {
namespace {

// std::max's rule, (a < b) ? b : a, so a NaN is passed over as the CPU's loop does.
struct MaxOp {
  __device__ float operator()(float a, float b) const { return a < b ? b : a; }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// in, out: (rows, cols); block r handles rows r, r + gridDim.x, ... (a grid is at most
// 65535 blocks wide, and rows can be many more).
__global__ void softmax_kernel(const float* in, float* out, int64_t rows, int64_t cols, bool log) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {  // the same for the block
    const float* x = in + row * cols;  // (cols,)
    float* y = out + row * cols;       // (cols,)

    float largest = -CUDART_INF_F;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) largest = MaxOp()(largest, x[j]);
    largest = block_reduce(largest, -CUDART_INF_F, MaxOp());
    if (isinf(largest) && largest < 0) largest = 0.0f;  // a row of -inf

    float total = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      y[j] = expf(x[j] - largest);
      total += y[j];
    }
    total = block_reduce(total, 0.0f, SumOp());

    if (log) {
      const float log_total = logf(total);
      for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
        y[j] = formulas::log_softmax_element(x[j], largest, log_total);
      }
    } else {
      float scale = 1.0f / total;
      for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) y[j] *= scale;
    }
  }
}

// y, grad, grad_in: (rows, cols); block r handles rows r, r + gridDim.x, ... See backend.h
// for the formulas.
__global__ void softmax_backward_kernel(const float* y_all, const float* grad_all, float* out_all,
                                        int64_t rows, int64_t cols, bool log) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {  // the same for the block
    const int64_t start = row * cols;
    const float* y = y_all + start;     // (cols,)
    const float* g = grad_all + start;  // (cols,)
    float* dx = out_all + start;        // (cols,)

    float total = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) total += log ? g[j] : g[j] * y[j];
    total = block_reduce(total, 0.0f, SumOp());

    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      dx[j] = log ? g[j] - expf(y[j]) * total : y[j] * (g[j] - total);
    }
  }
}

// Blocks for `rows` rows: one per row up to the grid's width, then loops.
unsigned int row_blocks(int64_t rows) { return static_cast<unsigned int>(std::min<int64_t>(rows, 65535)); }

}  // namespace

void CudaBackend::softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                                   int64_t cols, bool log) {
  DeviceGuard guard(index_, "softmax_backward");
  if (rows == 0 || cols == 0) return;
  softmax_backward_kernel<<<row_blocks(rows), threads_for_items(cols)>>>(y, grad, grad_in, rows,
                                                                         cols, log);
  check_launch("softmax_backward");
}

void CudaBackend::softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) {
  DeviceGuard guard(index_, "softmax");
  if (rows == 0 || cols == 0) return;
  softmax_kernel<<<row_blocks(rows), threads_for_items(cols)>>>(in, out, rows, cols, log);
  check_launch("softmax");
}

}  // namespace ember::cuda
