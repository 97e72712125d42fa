// A cache of small memory blocks for the CPU backend.
//
// Training makes and frees the same small tensors over and over (a (64, 10) gradient, a
// scalar loss): asking malloc each time costs more than the arithmetic. Freed blocks up to
// 128 KiB go to a free list for their size class (powers of two) and are handed out again.
// Under AddressSanitizer the cache is off, so that use-after-free stays detectable.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace ember::cpu {

class BlockCache {
 public:
  // 64-byte aligned memory for `bytes` bytes; never null (throws std::bad_alloc).
  void* allocate(size_t bytes);
  void deallocate(void* data);
  ~BlockCache();

 private:
  static constexpr size_t kAlignment = 64;   // AVX-512 width; also the header size
  static constexpr int kClassCount = 12;     // 64 B .. 128 KiB
  static constexpr size_t kMaxCachedBytes = size_t{256} << 20;

  std::mutex mutex_;
  std::vector<void*> free_blocks_[kClassCount];
  size_t cached_bytes_ = 0;
};

}  // namespace ember::cpu
