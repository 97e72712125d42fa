// The free lists behind TensorImpl, Storage and Node (object_pool.h): memory comes back,
// is reused by size class, crosses threads safely, and objects built through the
// allocator behave as ordinary shared objects.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "ember/object_pool.h"

namespace {

using ember::detail::PoolAllocator;
using ember::detail::pool_allocate;
using ember::detail::pool_deallocate;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooled = false;  // the pool is off under ASan (see object_pool.cpp)
#else
constexpr bool kPooled = true;
#endif

TEST(ObjectPool, FreedMemoryIsReusedForTheSameSizeClass) {
  void* first = pool_allocate(100);
  std::memset(first, 0xab, 100);  // the whole requested size is usable
  pool_deallocate(first, 100);
  void* second = pool_allocate(120);  // 100 and 120 bytes share the 128-byte class
  if (kPooled) {
    EXPECT_EQ(second, first);
  }
  pool_deallocate(second, 120);
  void* other_class = pool_allocate(200);
  EXPECT_NE(other_class, nullptr);
  std::memset(other_class, 0, 200);
  pool_deallocate(other_class, 200);
}

TEST(ObjectPool, MemoryFreedOnAnotherThreadIsSafe) {
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(pool_allocate(64));
  std::thread other([&] {
    for (void* block : blocks) pool_deallocate(block, 64);  // joins that thread's lists...
    void* again = pool_allocate(64);                          // ...which hand it out again
    if (kPooled) {
      EXPECT_EQ(again, blocks.back());  // the last one freed comes first
    }
    std::memset(again, 0, 64);
    pool_deallocate(again, 64);
  });  // ...and free it for real when the thread ends
  other.join();
  void* mine = pool_allocate(64);
  std::memset(mine, 0, 64);
  pool_deallocate(mine, 64);
}

struct Counted {
  static inline int alive = 0;
  std::vector<int> payload = std::vector<int>(8, 7);
  Counted() { ++alive; }
  ~Counted() { --alive; }
};

TEST(ObjectPool, AllocateSharedConstructsAndDestroys) {
  {
    auto a = std::allocate_shared<Counted>(PoolAllocator<Counted>());
    auto b = a;
    EXPECT_EQ(Counted::alive, 1);
    EXPECT_EQ(a->payload[7], 7);
    a.reset();
    EXPECT_EQ(Counted::alive, 1);  // b still holds it
  }
  EXPECT_EQ(Counted::alive, 0);
}

}  // namespace
