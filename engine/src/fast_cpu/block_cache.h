// A cache of memory blocks for the CPU backend.
//
// Training makes and frees the same tensors over and over (a (64, 10) gradient, a scalar
// loss, attention's (B, T, T) scores): asking the system each time costs more than the
// arithmetic. A freed block goes to a free list for its size class and is handed out again
// for the next request of that class:
//
//   * small blocks, up to 128 KiB: classes are powers of two (64 B, 128 B, ... 128 KiB);
//     here the cost saved is malloc's bookkeeping.
//   * large blocks, above 128 KiB and up to 64 MiB: four classes per power of two (160, 192,
//     224, 256 KiB, 320 KiB, ...), so a block is at most 25% larger than asked for. Here the
//     cost saved is the kernel's: glibc hands blocks this large back to the OS when they are
//     freed (munmap, or trimming the heap), and every page of the next one is then a page
//     fault and a zero fill, about 0.25 us per 4 KiB. Without the cache a 1024 x 1024
//     matmul spent 1 ms of its 5 ms faulting in its fresh 4 MB output.
//
// Blocks above 64 MiB (a whole data set) are not cached, and the cache holds at most
// 256 MiB; a block freed beyond that goes back to the system. Cached memory stays counted
// in the process's resident size, as in PyTorch's CUDA caching allocator.
// Under AddressSanitizer the cache is off, so that use-after-free stays detectable.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace ember::cpu {

class BlockCache {
 public:
  // 64-byte aligned memory for `bytes` bytes; never null (throws std::bad_alloc).
  void* allocate(size_t bytes);
  void deallocate(void* data);
  ~BlockCache();

  // Bytes held in free lists right now (for tests).
  size_t cached_bytes();

  static constexpr size_t kMaxSmallBytes = size_t{128} << 10;   // 128 KiB
  static constexpr size_t kMaxCachedBlock = size_t{64} << 20;   // 64 MiB
  static constexpr size_t kMaxCachedBytes = size_t{256} << 20;  // 256 MiB in all
  // The capacity a request of `bytes` gets: its size class, or `bytes` itself when blocks
  // that large are not cached.
  static size_t class_bytes(size_t bytes);

 private:
  static constexpr size_t kAlignment = 64;  // AVX-512 width; also the header size
  static constexpr int kSmallClassCount = 12;  // 64 B .. 128 KiB

  std::mutex mutex_;
  std::vector<void*> small_blocks_[kSmallClassCount];   // indexed by log2(bytes / 64)
  std::map<size_t, std::vector<void*>> large_blocks_;   // keyed by the class's bytes
  size_t cached_bytes_ = 0;
};

}  // namespace ember::cpu
