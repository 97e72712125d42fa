#include "ember/object_pool.h"

#include <vector>

#include "ember/autograd.h"
#include "ember/storage.h"
#include "ember/tensor.h"
#include "tensor_internal.h"

namespace ember::detail {
namespace {

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every object goes back to the allocator at once, so that a use
// after free is still caught.
constexpr bool kPoolEnabled = false;
#else
constexpr bool kPoolEnabled = true;
#endif

constexpr size_t kGranule = 32;                             // size classes: 32, 64, ... 512 bytes
constexpr size_t kClassCount = kMaxPooledBytes / kGranule;
// Beyond this, freed objects go back to operator delete. A step of the naive convolution
// holds about 150 MB of graph bookkeeping at its peak, and reuses all of it next step.
constexpr size_t kMaxCachedBytesPerThread = size_t{256} << 20;

size_t size_class(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }
size_t class_bytes(size_t size_class) { return (size_class + 1) * kGranule; }

// One thread's free lists. Memory freed by another thread than the one that allocated it
// simply joins the freeing thread's lists: every block came from operator new.
struct FreeLists {
  std::vector<void*> lists[kClassCount];
  size_t cached_bytes = 0;
  ~FreeLists();
};

// Where this thread's FreeLists is in its life. A trivially destructible thread_local,
// so it can be read at any time: the lists are destroyed at thread exit (for the main
// thread, before static objects, which may still hold tensors), and after that memory
// goes straight to operator new and delete.
enum class ListsState : unsigned char { kUnused, kAlive, kDestroyed };
thread_local ListsState lists_state = ListsState::kUnused;

// This thread's lists, or nullptr once they are destroyed.
FreeLists* free_lists() {
  if (lists_state == ListsState::kDestroyed) return nullptr;
  thread_local FreeLists lists;
  lists_state = ListsState::kAlive;
  return &lists;
}

FreeLists::~FreeLists() {
  lists_state = ListsState::kDestroyed;
  for (std::vector<void*>& list : lists) {
    for (void* block : list) ::operator delete(block);
  }
}

}  // namespace

void* pool_allocate(size_t bytes) {
  if (!kPoolEnabled || bytes > kMaxPooledBytes) return ::operator new(bytes);
  size_t c = size_class(bytes);
  FreeLists* pool = free_lists();
  if (pool && !pool->lists[c].empty()) {
    void* block = pool->lists[c].back();
    pool->lists[c].pop_back();
    // The blocks of this size still in the list are likely out of cache (the last graph was
    // larger than the caches): start bringing the one after next in for writing now, so that
    // it has arrived by the time it is handed out.
    const std::vector<void*>& list = pool->lists[c];
    if (list.size() >= 2) {
      char* soon = static_cast<char*>(list[list.size() - 2]);
      for (size_t line = 0; line < class_bytes(c); line += 64) __builtin_prefetch(soon + line, 1);
    }
    pool->cached_bytes -= class_bytes(c);
    return block;
  }
  // Always the whole class, so that whichever thread frees it can hand it out again.
  return ::operator new(class_bytes(c));
}

void pool_deallocate(void* memory, size_t bytes) {
  FreeLists* pool = kPoolEnabled && bytes <= kMaxPooledBytes ? free_lists() : nullptr;
  if (pool) {
    size_t c = size_class(bytes);
    if (pool->cached_bytes + class_bytes(c) <= kMaxCachedBytesPerThread) {
      pool->lists[c].push_back(memory);
      pool->cached_bytes += class_bytes(c);
      return;
    }
  }
  ::operator delete(memory);
}

}  // namespace ember::detail

// --- tensor_internal.h: the engine's objects, from these pools --------------------------
namespace ember {

std::shared_ptr<TensorImpl> new_tensor_impl() {
  return std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
}

namespace {
// A Storage with its numbers inside it: a loss, a scalar, a 3x3 patch. The course's per-pixel
// convolution makes hundreds of thousands of these per batch; one pooled object instead of an
// object plus a block from the backend made its training step about 15% faster.
struct TinyStorage : Storage {
  static constexpr int64_t kCapacity = 16;  // floats
  float numbers[kCapacity];
  TinyStorage(Device device, int64_t count) : Storage(device, count, numbers) {}
};
}  // namespace

std::shared_ptr<Storage> new_storage(Device device, int64_t count) {
  if (device.is_cpu() && count <= TinyStorage::kCapacity) {
    return std::allocate_shared<TinyStorage>(detail::PoolAllocator<TinyStorage>(), device, count);
  }
  return std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), device, count);
}

}  // namespace ember
