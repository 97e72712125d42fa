// Element-wise kernels: fill, copy (strided -> strided), unary, binary and where.
//
// One thread per output element, in grid-stride loops (cuda_common.cuh). The formulas
// are formulas.h's, compiled for the GPU: the same ones every backend uses.
#include <atomic>
#include <cstdint>
#include <limits>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/strided_indexer.cuh"
#include "formulas.h"

namespace ember::cuda {
namespace {

// ---- the kernels -------------------------------------------------------------------------
// The op is a kernel argument, the same for every thread, so the switch costs a few
// instructions and no divergence; the kernels are limited by memory, not arithmetic.

__global__ void fill_kernel(float* out, int64_t count, float value) {
  for (int64_t i = first_index(); i < count; i += index_stride()) out[i] = value;
}

// in and out are contiguous (count,).
__global__ void unary_kernel(UnaryOp op, const float* in, float* out, int64_t count, float a,
                             float b) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    out[i] = formulas::unary(op, in[i], a, b);
  }
}

// out[out_layout] = in[in_layout]; layout 0 is out, 1 is in.
template <typename Index>
__global__ void copy_kernel(const float* in, float* out, StridedIndexer<2> indexer, Index count) {
  for (Index i = static_cast<Index>(first_index()); i < count; i += static_cast<Index>(index_stride())) {
    int64_t position[2];
    indexer.locate(i, position);
    out[position[0]] = in[position[1]];
  }
}

// out = x op y; layout 0 is out, 1 is x, 2 is y (broadcast dims have stride 0).
template <typename Index>
__global__ void binary_kernel(BinaryOp op, const float* x, const float* y, float* out,
                              StridedIndexer<3> indexer, Index count) {
  for (Index i = static_cast<Index>(first_index()); i < count; i += static_cast<Index>(index_stride())) {
    int64_t position[3];
    indexer.locate(i, position);
    out[position[0]] = formulas::binary(op, x[position[1]], y[position[2]]);
  }
}

// out = condition != 0 ? x : y; layouts out, condition, x, y.
template <typename Index>
__global__ void where_kernel(const float* condition, const float* x, const float* y, float* out,
                             StridedIndexer<4> indexer, Index count) {
  for (Index i = static_cast<Index>(first_index()); i < count; i += static_cast<Index>(index_stride())) {
    int64_t position[4];
    indexer.locate(i, position);
    out[position[0]] = condition[position[1]] != 0.0f ? x[position[2]] : y[position[3]];
  }
}

// Launches kernel<uint32_t> when the element count fits 32 bits (the common case: cheap
// index arithmetic), kernel<int64_t> otherwise. A grid-stride loop's index can run past
// count by one grid before it stops, so 32 bits must hold count plus a grid.
constexpr int64_t kMax32BitCount =
    std::numeric_limits<uint32_t>::max() - int64_t{65536} * kThreadsPerBlock;

// force_64bit_indexing() (cuda_backend.h): the tests' switch to the int64_t path.
std::atomic<bool> forced_64bit_indexing{false};

bool fits_32_bits(int64_t count) {
  return count <= kMax32BitCount && !forced_64bit_indexing.load(std::memory_order_relaxed);
}

}  // namespace

void force_64bit_indexing(bool on) { forced_64bit_indexing.store(on); }

void CudaBackend::fill(float* out, int64_t count, float value) {
  DeviceGuard guard(index_, "fill");
  if (count <= 0) return;
  fill_kernel<<<blocks_for(count), kThreadsPerBlock>>>(out, count, value);
  check_launch("fill");
}

void CudaBackend::copy(const float* in, const StridedLayout& in_layout, float* out,
                       const StridedLayout& out_layout) {
  DeviceGuard guard(index_, "copy");
  int64_t count = out_layout.numel();
  if (count == 0) return;
  StridedIndexer<2> indexer({&out_layout, &in_layout});
  if (indexer.is_contiguous()) {  // both dense: a plain device-to-device copy
    check_cuda(cudaMemcpyAsync(out + out_layout.offset, in + in_layout.offset,
                               static_cast<size_t>(count) * sizeof(float),
                               cudaMemcpyDeviceToDevice, 0),
               "copy");
    return;
  }
  if (fits_32_bits(count)) {
    copy_kernel<uint32_t><<<blocks_for(count), kThreadsPerBlock>>>(in, out, indexer,
                                                                    static_cast<uint32_t>(count));
  } else {
    copy_kernel<int64_t><<<blocks_for(count), kThreadsPerBlock>>>(in, out, indexer, count);
  }
  check_launch("copy");
}

void CudaBackend::unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) {
  DeviceGuard guard(index_, "unary");
  if (count <= 0) return;
  unary_kernel<<<blocks_for(count), kThreadsPerBlock>>>(op, in, out, count, a, b);
  check_launch("unary");
}

void CudaBackend::binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
                         const StridedLayout& y_layout, float* out,
                         const StridedLayout& out_layout) {
  DeviceGuard guard(index_, "binary");
  int64_t count = out_layout.numel();
  if (count == 0) return;
  StridedIndexer<3> indexer({&out_layout, &x_layout, &y_layout});
  if (fits_32_bits(count)) {
    binary_kernel<uint32_t><<<blocks_for(count), kThreadsPerBlock>>>(
        op, x, y, out, indexer, static_cast<uint32_t>(count));
  } else {
    binary_kernel<int64_t><<<blocks_for(count), kThreadsPerBlock>>>(op, x, y, out, indexer, count);
  }
  check_launch("binary");
}

void CudaBackend::where(const float* condition, const StridedLayout& condition_layout,
                        const float* x, const StridedLayout& x_layout, const float* y,
                        const StridedLayout& y_layout, float* out,
                        const StridedLayout& out_layout) {
  DeviceGuard guard(index_, "where");
  int64_t count = out_layout.numel();
  if (count == 0) return;
  StridedIndexer<4> indexer({&out_layout, &condition_layout, &x_layout, &y_layout});
  if (fits_32_bits(count)) {
    where_kernel<uint32_t><<<blocks_for(count), kThreadsPerBlock>>>(
        condition, x, y, out, indexer, static_cast<uint32_t>(count));
  } else {
    where_kernel<int64_t><<<blocks_for(count), kThreadsPerBlock>>>(condition, x, y, out, indexer,
                                                                   count);
  }
  check_launch("where");
}

}  // namespace ember::cuda
