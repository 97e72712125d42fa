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
//
// Guards: each block carries an in-use flag, so a second free of a block (or a free of a
// pointer that is not ours) is ignored and counted instead of putting the block on a free
// list twice, which would hand it to two tensors. The free lists are linked through the
// blocks' own records, so deallocate() never allocates and can never throw. A cudaFree
// that fails leaves its block reserved (and counted as reserved).
//
// The bookkeeping is plain C++ and gets its memory from a RawMemory: the GPU's
// (cudaMalloc/cudaFree) in the engine, host memory in the tests, which so run without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cuda/cuda_backend.h"

namespace ember::cuda {

// Where the allocator's blocks come from.
class RawMemory {
 public:
  virtual ~RawMemory() = default;
  // A new block of `bytes`, or null when the device has no memory left; throws
  // ember::Error on any other failure.
  virtual void* allocate(size_t bytes) = 0;
  // Hands a block back; false when that failed. Never throws.
  virtual bool release(void* block) noexcept = 0;
  // What is free, for the out-of-memory message: "3.10 GiB free of 139.80 GiB".
  virtual std::string free_memory() = 0;
};

class CachingAllocator {
 public:
  // Blocks from cudaMalloc on GPU `device`.
  explicit CachingAllocator(int device);
  // Blocks from `memory` (the tests' host memory); `device` only names it in messages.
  CachingAllocator(int device, std::unique_ptr<RawMemory> memory);
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least `bytes` of GPU memory on this allocator's device, aligned to 256 bytes; never
  // null. Throws ember::Error "cuda allocate: out of memory ..." with the sizes involved.
  void* allocate(size_t bytes);
  // Keeps the block for reuse. Never throws, allocates nothing and makes no CUDA call, so
  // it is safe from destructors, even while the process exits. Null is ignored; a block
  // that is already free, or a pointer that is not ours, is ignored and counted in
  // stats().rejected_frees.
  void deallocate(void* block) noexcept;
  // Frees every cached block (cudaFree). A block whose release fails stays cached.
  void empty_cache();
  AllocatorStats stats() const;

  // The size class of a request: what a block made for it really holds.
  static size_t size_class(size_t bytes);

 private:
  struct Block {
    void* data = nullptr;         // its address
    size_t size = 0;              // its size class
    bool in_use = false;          // held by a tensor (or a ScratchBuffer)
    Block* next_free = nullptr;   // the next block of its free list, when free
  };
  void release_cached_blocks();  // the body of empty_cache(); the mutex is held

  int device_;
  std::unique_ptr<RawMemory> memory_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> blocks_;        // every block we hold (node-based: stable)
  std::unordered_map<size_t, Block*> free_lists_;  // size class -> first free block
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
