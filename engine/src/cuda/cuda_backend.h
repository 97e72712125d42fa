// What the CUDA backend offers besides the Backend interface: a look inside the caching
// allocator, and a switch between the matrix-multiply kernels. Used by the tests, the
// benchmarks and docs/gpu.md; a model never needs it.
//
// Plain C++ (no CUDA headers), so that files compiled by g++ can include it. It exists
// only in builds with the CUDA backend (EMBER_HAS_CUDA_BACKEND is defined).
#pragma once

#include <cstdint>

namespace ember::cuda {

// What the caching allocator of one GPU has done so far.
struct AllocatorStats {
  int64_t device_allocations = 0;  // cudaMalloc calls (each is slow; a warm loop makes none)
  int64_t cache_hits = 0;          // allocations served from a block freed earlier
  int64_t bytes_reserved = 0;      // GPU memory held: blocks in use plus cached free blocks
  int64_t bytes_in_use = 0;        // held by live tensors
};

// The statistics of cuda:device's allocator; throws ember::Error without that device.
AllocatorStats allocator_stats(int device = 0);

// Returns every cached free block of cuda:device to the driver (cudaFree), as
// torch.cuda.empty_cache(). Blocks in use stay where they are.
void empty_cache(int device = 0);

// The kernel behind Backend::matmul. Tiled (engine/src/cuda/matmul.cu) is the default;
// Cublas exists only when Ember was configured with -DEMBER_CUDA_CUBLAS=ON and is there to
// compare against. The environment variable EMBER_CUDA_MATMUL=cublas picks it at startup.
enum class MatmulKernel { Tiled, Cublas };
bool has_cublas();
// Throws ember::Error when asked for cuBLAS in a build without it.
void set_matmul_kernel(MatmulKernel kernel);
MatmulKernel matmul_kernel();

}  // namespace ember::cuda
