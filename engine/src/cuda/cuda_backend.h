// What the CUDA backend offers besides the Backend interface: a look inside the caching
// allocator, and a switch between the matrix-multiply kernels. Used by the tests, the
// benchmarks and docs/gpu.md; a model never needs it.
//
// Plain C++ (no CUDA headers), so that files compiled by g++ can include it. It exists
// only in builds with the CUDA backend (EMBER_HAS_CUDA_BACKEND is defined).
#pragma once

#include <cstdint>
#include <string>

namespace ember::cuda {

// What the caching allocator of one GPU has done so far.
struct AllocatorStats {
  int64_t device_allocations = 0;  // cudaMalloc calls (each is slow; a warm loop makes none)
  int64_t cache_hits = 0;          // allocations served from a block freed earlier
  int64_t bytes_reserved = 0;      // GPU memory held: blocks in use plus cached free blocks
  int64_t bytes_in_use = 0;        // held by live tensors
  int64_t rejected_frees = 0;      // frees of a block already free or never ours (ignored)
  int64_t failed_releases = 0;     // cudaFree calls that failed (the block stays reserved)
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

// For the tests: copy, binary and where take their 64-bit index path (taken for more than
// about 4e9 elements) whatever the size, so that small shapes check it. Off by default.
void force_64bit_indexing(bool on);

// The GPU architectures this build has code for, as EMBER_CUDA_ARCHITECTURES spells them
// ("80-real;90": machine code for sm_80, machine code and PTX for sm_90).
std::string built_architectures();
// Whether a GPU of compute capability major.minor can run code built for `architectures`
// (CMake's spelling): machine code for sm_XY runs on X.Y and on later minors of X, PTX for
// compute_XY on any GPU from X.Y on (the driver compiles it when the program loads).
bool architectures_cover(const std::string& architectures, int major, int minor);
// The sentence for a GPU that failed the kernel-launch probe: the device, its compute
// capability, what failed, the architectures built and how to rebuild for it.
std::string unusable_gpu_message(int index, const std::string& gpu_name, int major, int minor,
                                 const std::string& failure, const std::string& architectures);

}  // namespace ember::cuda
