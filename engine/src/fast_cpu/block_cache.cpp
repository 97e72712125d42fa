#include "fast_cpu/block_cache.h"

#include <new>

namespace ember::cpu {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

// Index of a small class (0 for 64 B, 11 for 128 KiB).
int small_class_index(size_t class_bytes) {
  int index = 0;
  while ((size_t{64} << index) < class_bytes) ++index;
  return index;
}

// What the 64-byte header in front of every block records, so deallocate knows where the
// block belongs; the data after the header keeps its 64-byte alignment.
struct Header {
  size_t capacity;  // bytes after the header
  bool cacheable;   // false for blocks above kMaxCachedBlock (and with the cache off)
};

}  // namespace

size_t BlockCache::class_bytes(size_t bytes) {
  if (bytes <= 64) return 64;
  if (bytes <= kMaxSmallBytes) {
    size_t size = 64;
    while (size < bytes) size *= 2;
    return size;
  }
  if (bytes > kMaxCachedBlock) return bytes;
  // bytes is in (2^p, 2^(p+1)]: round up to a multiple of 2^(p-2), a quarter of the octave.
  size_t power = kMaxSmallBytes;
  while (power * 2 < bytes) power *= 2;
  const size_t step = power / 4;
  return (bytes + step - 1) / step * step;
}

void* BlockCache::allocate(size_t bytes) {
  // With the cache off, exactly the bytes asked for, so AddressSanitizer sees every overrun.
  const size_t capacity = kCacheEnabled ? class_bytes(bytes) : bytes;
  const bool cacheable = kCacheEnabled && capacity <= kMaxCachedBlock;
  char* block = nullptr;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<void*>* list = nullptr;
    if (capacity <= kMaxSmallBytes) {
      list = &small_blocks_[small_class_index(capacity)];
    } else if (auto found = large_blocks_.find(capacity); found != large_blocks_.end()) {
      list = &found->second;
    }
    if (list != nullptr && !list->empty()) {
      block = static_cast<char*>(list->back());
      list->pop_back();
      cached_bytes_ -= capacity;
    }
  }
  if (!block) {
    block = static_cast<char*>(::operator new(kAlignment + capacity, std::align_val_t(kAlignment)));
  }
  *reinterpret_cast<Header*>(block) = Header{capacity, cacheable};
  return block + kAlignment;
}

void BlockCache::deallocate(void* data) {
  char* block = static_cast<char*>(data) - kAlignment;
  const Header header = *reinterpret_cast<const Header*>(block);
  if (header.cacheable) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + header.capacity <= kMaxCachedBytes) {
      if (header.capacity <= kMaxSmallBytes) {
        small_blocks_[small_class_index(header.capacity)].push_back(block);
      } else {
        large_blocks_[header.capacity].push_back(block);
      }
      cached_bytes_ += header.capacity;
      return;
    }
  }
  ::operator delete(block, std::align_val_t(kAlignment));
}

size_t BlockCache::cached_bytes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_bytes_;
}

BlockCache::~BlockCache() {
  auto free_all = [](std::vector<void*>& list) {
    for (void* block : list) ::operator delete(block, std::align_val_t(kAlignment));
  };
  for (std::vector<void*>& list : small_blocks_) free_all(list);
  for (auto& entry : large_blocks_) free_all(entry.second);
}

}  // namespace ember::cpu
