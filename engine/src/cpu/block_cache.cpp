#include "cpu/block_cache.h"

#include <new>

namespace ember::cpu {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

constexpr size_t class_bytes(int size_class) { return size_t{64} << size_class; }

// The smallest class that holds `bytes`, or -1 for a block too large to cache.
int size_class_for(size_t bytes, int class_count) {
  for (int c = 0; c < class_count; ++c) {
    if (bytes <= class_bytes(c)) return c;
  }
  return -1;
}

}  // namespace

// Each block starts with a 64-byte header holding its size class, so deallocate knows
// where it belongs and the data after the header keeps its 64-byte alignment.
void* BlockCache::allocate(size_t bytes) {
  int size_class = kCacheEnabled ? size_class_for(bytes, kClassCount) : -1;
  char* block = nullptr;
  if (size_class >= 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<void*>& list = free_blocks_[size_class];
    if (!list.empty()) {
      block = static_cast<char*>(list.back());
      list.pop_back();
      cached_bytes_ -= class_bytes(size_class);
    }
  }
  if (!block) {
    size_t size = size_class >= 0 ? class_bytes(size_class) : bytes;
    block = static_cast<char*>(::operator new(kAlignment + size, std::align_val_t(kAlignment)));
  }
  *reinterpret_cast<int*>(block) = size_class;
  return block + kAlignment;
}

void BlockCache::deallocate(void* data) {
  char* block = static_cast<char*>(data) - kAlignment;
  int size_class = *reinterpret_cast<int*>(block);
  if (size_class >= 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + class_bytes(size_class) <= kMaxCachedBytes) {
      free_blocks_[size_class].push_back(block);
      cached_bytes_ += class_bytes(size_class);
      return;
    }
  }
  ::operator delete(block, std::align_val_t(kAlignment));
}

BlockCache::~BlockCache() {
  for (std::vector<void*>& list : free_blocks_) {
    for (void* block : list) ::operator delete(block, std::align_val_t(kAlignment));
  }
}

}  // namespace ember::cpu
