// Reductions of the middle axis of a contiguous (outer, n, inner) block: Sum, Max, Min,
// ArgMax, ArgMin. Same results as the CPU loops in fast_cpu/cpu_backend.cpp:
//   * Max/Min: a NaN anywhere gives NaN;
//   * ArgMax/ArgMin: the first index of the largest (smallest) value, a NaN counting as
//     both (formulas::arg_wins, PyTorch's rule): the index of the first NaN if there is one;
//   * Max/Min: between -0 and +0, Max gives +0 and Min -0, wherever they are (so the
//     result does not depend on the order the threads combine in);
//   * Sum: the order of additions differs from the CPU's, so the last bits may too; but it
//     is fixed by the shapes alone, so every run gives the same sum (no atomics). It starts
//     from -0 (the identity of IEEE addition), so a sum of -0s is -0 as on the CPU; an
//     empty sum is +0.
//
// Each op is a "reducer": how one element becomes a Partial result (a float, or for
// ArgMax/ArgMin a value and its index), and how two Partials combine. Combining is associative, so threads can reduce their own elements first and
// the block can then combine the threads' results in a tree.
//
// Two kernels, by where the reduced elements lie in memory:
//   inner == 1:  (outer, n) rows; one warp per row for rows of up to 256 elements, one block
//                per row for longer ones, its threads striding along the row.
//   inner > 1:   (outer, n, inner); one thread per output column, 32 neighbouring columns
//                per block (so a warp reads 32 neighbouring floats), 8 threads per column
//                sharing the n rows.
// When there are few outputs and long reductions, each output's n elements are split
// into chunks reduced by separate blocks (to keep the whole GPU busy); the chunks' Partials
// go to scratch memory and a third kernel combines them, in chunk order. Grids are at most
// 65535 blocks wide; blocks loop over the rest of the rows (or column tiles), so any number
// of outputs works.
#include <math_constants.h>

#include <algorithm>
#include <optional>

#include "cuda/block_reduce.cuh"
#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "ember/error.h"
#include "formulas.h"

namespace ember::cuda {
namespace {

// An ArgMax/ArgMin result so far: the value, and the index where it is (-1 when no element
// has been seen yet). Sum, Max and Min carry a plain float: no index to shuffle.
struct ArgPartial {
  float value;
  int64_t index;
};

__device__ ArgPartial shuffle_down(ArgPartial p, int offset) {
  return ArgPartial{cuda::shuffle_down(p.value, offset), cuda::shuffle_down(p.index, offset)};
}

struct SumReducer {
  using Partial = float;
  static __device__ float identity() { return -0.0f; }  // -0 + x is x, even for x = +0
  static __device__ float element(float x, int64_t) { return x; }
  __device__ float operator()(float a, float b) const { return a + b; }
  static __device__ float result(float p) { return p; }
};

// Max (kLargest) or Min. A NaN wins every comparison, so it reaches the result.
template <bool kLargest>
struct ExtremumReducer {
  using Partial = float;
  static __device__ float identity() { return kLargest ? -CUDART_INF_F : CUDART_INF_F; }
  static __device__ float element(float x, int64_t) { return x; }
  __device__ float operator()(float a, float b) const {
    if (isnan(a)) return a;
    if (isnan(b)) return b;
    // Equal zeros: +0 is the larger, -0 the smaller, as on the CPU.
    bool b_better = kLargest ? (b > a || (b == a && signbit(a) && !signbit(b)))
                             : (b < a || (b == a && signbit(b) && !signbit(a)));
    return b_better ? b : a;
  }
  static __device__ float result(float p) { return p; }
};

// ArgMax (kLargest) or ArgMin: the better value wins, the lower index breaks ties.
template <bool kLargest>
struct ArgExtremumReducer {
  using Partial = ArgPartial;
  static __device__ ArgPartial identity() { return {0.0f, -1}; }
  static __device__ ArgPartial element(float x, int64_t i) { return {x, i}; }
  // Partials arrive in any order from the tree, so "first" is decided by the indices: the
  // better value wins (a NaN beats any number), and between equals (two NaNs too) the lower
  // index.
  __device__ ArgPartial operator()(ArgPartial a, ArgPartial b) const {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool b_better = formulas::arg_wins(kLargest, b.value, a.value);
    const bool a_better = formulas::arg_wins(kLargest, a.value, b.value);
    if (b_better) return b;
    if (a_better) return a;
    return a.index < b.index ? a : b;
  }
  static __device__ float result(ArgPartial p) { return static_cast<float>(p.index < 0 ? 0 : p.index); }
};

// ---- kernels ---------------------------------------------------------------------------

// (outer, n) -> (outer,). Block (x, chunk) reduces elements [chunk * chunk_size, ...) of
// rows x, x + gridDim.x, ...; with one chunk it writes the results, otherwise its Partials
// to partials (outer, chunks).
template <typename Reducer>
__global__ void reduce_rows_kernel(const float* in, int64_t outer, int64_t n, int64_t chunk_size,
                                   float* out, typename Reducer::Partial* partials) {
  using Partial = typename Reducer::Partial;
  Reducer combine;
  const int64_t chunk = blockIdx.y, chunks = gridDim.y;
  const int64_t begin = chunk * chunk_size, end = begin + chunk_size < n ? begin + chunk_size : n;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {  // the same for the block
    const float* x = in + row * n;
    Partial partial = Reducer::identity();
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      partial = combine(partial, Reducer::element(x[i], i));
    }
    partial = block_reduce(partial, Reducer::identity(), combine);  // ends with __syncthreads
    if (threadIdx.x != 0) continue;
    if (chunks == 1) {
      out[row] = Reducer::result(partial);
    } else {
      partials[row * chunks + chunk] = partial;
    }
  }
}

constexpr int kWarpRowsThreads = 256;  // 8 warps per block, one row each at a time
constexpr int64_t kWarpRowMax = 256;   // rows up to this long get a warp, not a block

// (outer, n) -> (outer,) for short rows (n <= kWarpRowMax, no chunks): one warp per row,
// its 32 lanes striding along the row, then a warp shuffle. A block per row would leave
// most of its threads idle, and pay a block reduction for a few elements.
template <typename Reducer>
__global__ void reduce_short_rows_kernel(const float* in, int64_t outer, int64_t n, float* out) {
  using Partial = typename Reducer::Partial;
  Reducer combine;
  const int lane = threadIdx.x % 32;
  const int64_t warps_per_block = blockDim.x / 32;
  const int64_t first_row = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  // The loop condition is the same for the 32 lanes of a warp, as the shuffles need.
  for (int64_t row = first_row; row < outer; row += warps_per_block * gridDim.x) {
    const float* x = in + row * n;
    Partial partial = Reducer::identity();
    for (int64_t i = lane; i < n; i += 32) partial = combine(partial, Reducer::element(x[i], i));
    partial = warp_reduce(partial, combine);
    if (lane == 0) out[row] = Reducer::result(partial);
  }
}

constexpr int kColumnsPerBlock = 32;  // blockDim.x: one warp reads 32 neighbouring floats
constexpr int kThreadsPerColumn = 8;  // blockDim.y: threads sharing one column's rows

// (outer, n, inner) -> (outer, inner). Block x covers 32 columns of one outer index (units
// x, x + gridDim.x, ... of the outer * column_tiles); block y is the chunk of n. Thread
// (tx, ty) reduces rows ty, ty + 8, ... of its column within the chunk; the 8 threads of a
// column then combine in shared memory, in ty order.
template <typename Reducer>
__global__ void reduce_columns_kernel(const float* in, int64_t n, int64_t inner,
                                      int64_t column_tiles, int64_t units, int64_t chunk_size,
                                      float* out, typename Reducer::Partial* partials) {
  using Partial = typename Reducer::Partial;
  __shared__ Partial column_partials[kThreadsPerColumn][kColumnsPerBlock];
  Reducer combine;
  const int64_t chunk = blockIdx.y, chunks = gridDim.y;
  const int64_t begin = chunk * chunk_size, end = begin + chunk_size < n ? begin + chunk_size : n;
  for (int64_t unit = blockIdx.x; unit < units; unit += gridDim.x) {  // the same for the block
    const int64_t o = unit / column_tiles;
    const int64_t column = (unit % column_tiles) * kColumnsPerBlock + threadIdx.x;
    Partial partial = Reducer::identity();
    if (column < inner) {
      const float* block = in + o * n * inner;  // (n, inner)
      for (int64_t i = begin + threadIdx.y; i < end; i += kThreadsPerColumn) {
        partial = combine(partial, Reducer::element(block[i * inner + column], i));
      }
    }
    column_partials[threadIdx.y][threadIdx.x] = partial;
    __syncthreads();
    if (threadIdx.y == 0 && column < inner) {
      for (int t = 1; t < kThreadsPerColumn; ++t) partial = combine(partial, column_partials[t][threadIdx.x]);
      if (chunks == 1) {
        out[o * inner + column] = Reducer::result(partial);
      } else {
        partials[(o * chunks + chunk) * inner + column] = partial;
      }
    }
    __syncthreads();  // before the next unit overwrites column_partials
  }
}

// partials (outer, chunks, inner) -> out (outer, inner): one thread per output combines its
// chunks in order.
template <typename Reducer>
__global__ void combine_chunks_kernel(const typename Reducer::Partial* partials, int64_t outputs,
                                      int64_t chunks, int64_t inner, float* out) {
  using Partial = typename Reducer::Partial;
  Reducer combine;
  for (int64_t t = first_index(); t < outputs; t += index_stride()) {
    int64_t o = t / inner, column = t % inner;
    Partial partial = Reducer::identity();
    for (int64_t c = 0; c < chunks; ++c) partial = combine(partial, partials[(o * chunks + c) * inner + column]);
    out[t] = Reducer::result(partial);
  }
}

// How many chunks to split each output's n elements into: enough blocks in all to fill a
// large GPU, but no chunk under kMinChunk elements. Depends on the shapes only, so the
// order of additions (and a sum's last bits) never changes from run to run.
int64_t chunk_count(int64_t blocks_without_chunks, int64_t n) {
  constexpr int64_t kTargetBlocks = 1024;
  constexpr int64_t kMinChunk = 4096;
  if (blocks_without_chunks >= kTargetBlocks || n < 2 * kMinChunk) return 1;
  int64_t by_size = n / kMinChunk;
  int64_t by_blocks = (kTargetBlocks + blocks_without_chunks - 1) / blocks_without_chunks;
  return std::max<int64_t>(1, std::min(by_size, by_blocks));
}

constexpr int64_t kMaxGridX = 65535;  // blocks per grid row; blocks loop over the rest

template <typename Reducer>
void reduce_with(const float* in, float* out, int64_t outer, int64_t n, int64_t inner,
                 CachingAllocator& scratch) {
  using Partial = typename Reducer::Partial;
  if (inner == 1 && n <= kWarpRowMax) {  // short rows: a warp each, never chunked
    const int64_t warps_per_block = kWarpRowsThreads / 32;
    const int64_t blocks = std::min((outer + warps_per_block - 1) / warps_per_block, kMaxGridX);
    reduce_short_rows_kernel<Reducer><<<static_cast<unsigned int>(blocks), kWarpRowsThreads>>>(
        in, outer, n, out);
    check_launch("reduce");
    return;
  }
  const int64_t column_tiles = (inner + kColumnsPerBlock - 1) / kColumnsPerBlock;
  const int64_t units = inner == 1 ? outer : outer * column_tiles;  // rows, or column tiles
  const int64_t chunks = chunk_count(units, n);
  const int64_t chunk_size = (n + chunks - 1) / chunks;

  // Partials exist only when the reduction is split; otherwise results go straight to out.
  std::optional<ScratchBuffer> scratch_buffer;
  Partial* partials = nullptr;
  if (chunks > 1) {
    scratch_buffer.emplace(scratch, static_cast<size_t>(outer * chunks * inner) * sizeof(Partial));
    partials = scratch_buffer->as<Partial>();
  }
  dim3 grid(static_cast<unsigned int>(std::min(units, kMaxGridX)), static_cast<unsigned int>(chunks));
  if (inner == 1) {
    int threads = threads_for_items(chunk_size);
    reduce_rows_kernel<Reducer><<<grid, threads>>>(in, outer, n, chunk_size, out, partials);
  } else {
    dim3 threads(kColumnsPerBlock, kThreadsPerColumn);
    reduce_columns_kernel<Reducer><<<grid, threads>>>(in, n, inner, column_tiles, units, chunk_size,
                                                      out, partials);
  }
  check_launch("reduce");
  if (chunks > 1) {
    int64_t outputs = outer * inner;
    combine_chunks_kernel<Reducer><<<blocks_for(outputs), kThreadsPerBlock>>>(
        partials, outputs, chunks, inner, out);
    check_launch("reduce");
  }
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
                         int64_t inner) {
  DeviceGuard guard(index_, "reduce");
  if (outer * inner == 0) return;
  if (n == 0) {  // nothing to reduce: a sum is +0 (Max, Min and the args are refused before)
    fill(out, outer * inner, 0.0f);
    return;
  }
  switch (op) {
    case ReduceOp::Sum: return reduce_with<SumReducer>(in, out, outer, n, inner, allocator_);
    case ReduceOp::Max: return reduce_with<ExtremumReducer<true>>(in, out, outer, n, inner, allocator_);
    case ReduceOp::Min: return reduce_with<ExtremumReducer<false>>(in, out, outer, n, inner, allocator_);
    case ReduceOp::ArgMax:
      return reduce_with<ArgExtremumReducer<true>>(in, out, outer, n, inner, allocator_);
    case ReduceOp::ArgMin:
      return reduce_with<ArgExtremumReducer<false>>(in, out, outer, n, inner, allocator_);
  }
}

}  // namespace ember::cuda
