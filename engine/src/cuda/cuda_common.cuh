// What every file of the CUDA backend shares: CUDA errors turned into ember::Error, the
// size of a launch, and making sure a call runs on the right GPU.
//
// Every kernel and copy of the backend goes to the default stream of its device, so they
// run one after another in the order they were issued. That ordering is what makes the
// caching allocator safe: a block freed by one op and handed to the next is only touched
// by the next op's kernels after the earlier kernels have finished.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace ember::cuda {

// Throws ember::Error "cuda <op>: <CUDA's message> (<CUDA's error name>)" unless status is
// cudaSuccess.
void check_cuda(cudaError_t status, const char* op);

// Checks that the kernel just launched could start (launch sizes, a GPU the binary has no
// code for). A fault inside the kernel (an illegal address) is only seen at the next call
// that waits for the GPU, and is reported under that call's name; run with
// CUDA_LAUNCH_BLOCKING=1 to have it reported by the op that caused it.
inline void check_launch(const char* op) { check_cuda(cudaGetLastError(), op); }

// Threads per block of the element-wise kernels: a multiple of the warp size (32) that
// lets several blocks share a streaming multiprocessor.
constexpr int kThreadsPerBlock = 256;

// Blocks for a grid-stride loop over count items: one item per thread while that needs
// fewer than 65536 blocks, and a loop over the rest beyond that.
inline unsigned int blocks_for(int64_t count, int threads = kThreadsPerBlock) {
  int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned int>(std::clamp<int64_t>(blocks, 1, 65536));
}

// The first item of this thread and the distance to its next one, for grid-stride loops:
//   for (int64_t i = first_index(); i < count; i += index_stride()) ...
__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t index_stride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

// Makes `device` the current GPU of this host thread for a scope, and restores the
// previous one afterwards. CUDA calls go to the current device, so every public entry
// point of the backend starts with one of these.
class DeviceGuard {
 public:
  DeviceGuard(int device, const char* op) : device_(device) {
    check_cuda(cudaGetDevice(&previous_), op);
    if (previous_ != device_) check_cuda(cudaSetDevice(device_), op);
  }
  ~DeviceGuard() {
    if (previous_ != device_) cudaSetDevice(previous_);  // nothing to do about a failure here
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int device_;
  int previous_ = 0;
};

}  // namespace ember::cuda
