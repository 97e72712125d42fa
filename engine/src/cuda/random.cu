// Random fills with Philox 4x32-10 (philox.h, shared with the CPU backend). Value i of a
// fill depends only on (seed, offset, i), so thread i computes it directly and the GPU
// draws the very numbers the CPU draws for the same seed.
//
// Uniform fills come out bit for bit equal to the CPU's: the generator is integer
// arithmetic, and this file is compiled with --fmad=false (see cuda.cmake) so that
// low + range * u is rounded twice, as on the CPU, not once in a fused multiply-add.
// Normal fills agree to about 1e-6: Box-Muller's log, sin and cos come from the CUDA
// maths library, whose last bit may differ from the host's.
#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "philox.h"

namespace ember::cuda {
namespace {

__global__ void uniform_kernel(float* out, int64_t count, float low, float range, uint64_t seed,
                               uint64_t offset) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    out[i] = low + range * philox::uniform_at(seed, offset, i);
  }
}

__global__ void normal_kernel(float* out, int64_t count, float mean, float std, uint64_t seed,
                              uint64_t offset) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    out[i] = mean + std * philox::normal_at(seed, offset, i);
  }
}

}  // namespace

void CudaBackend::fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                               uint64_t offset) {
  DeviceGuard guard(index_, "fill_uniform");
  if (count <= 0) return;
  float range = high - low;  // on the host, as the CPU backend computes it
  uniform_kernel<<<blocks_for(count), kThreadsPerBlock>>>(out, count, low, range, seed, offset);
  check_launch("fill_uniform");
}

void CudaBackend::fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                              uint64_t offset) {
  DeviceGuard guard(index_, "fill_normal");
  if (count <= 0) return;
  normal_kernel<<<blocks_for(count), kThreadsPerBlock>>>(out, count, mean, std, seed, offset);
  check_launch("fill_normal");
}

}  // namespace ember::cuda
