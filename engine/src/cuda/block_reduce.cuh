// Combining one value per thread into one value per warp and per block, with warp shuffles
// (a thread reads a register of another thread of its warp) and a little shared memory.
//
// The order in which values are combined depends only on the block's size, never on
// timing, so a sum comes out the same on every run (no atomics anywhere).
#pragma once

#include <cstdint>

namespace ember::cuda {

constexpr unsigned int kFullWarp = 0xffffffffu;  // every lane of the warp takes part

__device__ inline float shuffle_down(float value, int offset) {
  return __shfl_down_sync(kFullWarp, value, offset);
}
__device__ inline int64_t shuffle_down(int64_t value, int offset) {
  return static_cast<int64_t>(__shfl_down_sync(kFullWarp, static_cast<long long>(value), offset));
}

// Halving steps: lane i combines with lane i + 16, then i + 8, ..., i + 1. Lane 0 ends up
// with the combination of all 32 lanes (other lanes hold partial results).
// T needs a shuffle_down overload; combine(a, b) gets a from the lower lane.
template <typename T, typename Combine>
__device__ T warp_reduce(T value, Combine combine) {
  for (int offset = 16; offset > 0; offset /= 2) value = combine(value, shuffle_down(value, offset));
  return value;
}

// Every thread of the block passes a value and gets the combination of all of them.
// blockDim.x must be a multiple of 32 (at most 1024), and every thread must call it.
template <typename T, typename Combine>
__device__ T block_reduce(T value, T identity, Combine combine) {
  __shared__ T warp_results[32];
  __shared__ T block_result;
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int warps = blockDim.x / 32;
  value = warp_reduce(value, combine);
  if (lane == 0) warp_results[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < warps ? warp_results[lane] : identity;
    value = warp_reduce(value, combine);
    if (lane == 0) block_result = value;
  }
  __syncthreads();
  T result = block_result;
  __syncthreads();  // so that a second call cannot overwrite block_result before all read it
  return result;
}

// Threads for a block that works through `count` items: a multiple of 32, at most 256.
inline int threads_for_items(int64_t count) {
  int64_t warps = (count + 31) / 32;
  return static_cast<int>(warps >= 8 ? 256 : (warps < 1 ? 32 : warps * 32));
}

}  // namespace ember::cuda
