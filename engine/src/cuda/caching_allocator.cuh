// The caching allocator: GPU memory for tensors without a cudaMalloc per op.
//
// cudaMalloc and cudaFree are slow (cudaFree waits for the whole GPU), and a training loop
// creates and drops the same tensors every step. So a freed block is not returned to the
// driver: it goes on a free list for its size class, and the next request of that class
// takes it back. After the first step of a loop every allocation is served from the lists.
//
// Requests are rounded up to a size class so that a block fits later requests of nearly
// the same size: multiples of 512 bytes up to 1 MiB, then steps of one eighth of the power
// of two below the size (at most 12.5% of a large block goes unused). Only when cudaMalloc
// runs out of memory are the cached blocks released (empty_cache) and the call retried.
//
// Reuse needs no synchronisation because every kernel of the backend runs on the device's
// default stream (see cuda_common.cuh): the next owner's kernels run after the last
// owner's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_backend.h"

namespace ember::cuda {

class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least `bytes` of GPU memory on this allocator's device, aligned to 256 bytes; never
  // null. Throws ember::Error "cuda allocate: out of memory ..." with the sizes involved.
  void* allocate(size_t bytes);
  // Keeps the block for reuse. Never throws and makes no CUDA call, so it is safe from
  // destructors, even while the process exits. Null and unknown pointers are ignored.
  void deallocate(void* block);
  // Frees every cached block with cudaFree.
  void empty_cache();
  AllocatorStats stats() const;

  // The size class of a request: what a block made for it really holds.
  static size_t size_class(size_t bytes);

 private:
  void release_cached_blocks();  // the body of empty_cache(); the mutex is held

  int device_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;  // size class -> free blocks
  std::unordered_map<void*, size_t> block_sizes_;  // every block we hold -> its size class
  AllocatorStats stats_;
};

// Temporary GPU memory for one op (partial results, index lists), handed back to the cache
// when the op's scope ends. The op's kernels are queued before that, on the same stream,
// so they finish with the buffer before anyone else can use it.
class ScratchBuffer {
 public:
  ScratchBuffer(CachingAllocator& allocator, size_t bytes)
      : allocator_(allocator), data_(allocator.allocate(bytes)) {}
  ~ScratchBuffer() { allocator_.deallocate(data_); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  CachingAllocator& allocator_;
  void* data_;
};

}  // namespace ember::cuda
