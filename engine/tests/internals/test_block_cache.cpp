// The CPU backend's block cache (cpu/block_cache.h): size classes, reuse of small and large
// blocks, alignment, and the limits on what it keeps.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "fast_cpu/block_cache.h"

namespace {

using ember::cpu::BlockCache;

constexpr size_t KiB = size_t{1} << 10, MiB = size_t{1} << 20;

TEST(BlockCache, SizeClasses) {
  EXPECT_EQ(BlockCache::class_bytes(1), 64u);
  EXPECT_EQ(BlockCache::class_bytes(65), 128u);
  EXPECT_EQ(BlockCache::class_bytes(128 * KiB), 128 * KiB);
  // Above 128 KiB: four classes per power of two.
  EXPECT_EQ(BlockCache::class_bytes(128 * KiB + 1), 160 * KiB);
  EXPECT_EQ(BlockCache::class_bytes(200 * KiB), 224 * KiB);
  EXPECT_EQ(BlockCache::class_bytes(256 * KiB), 256 * KiB);
  EXPECT_EQ(BlockCache::class_bytes(256 * KiB + 1), 320 * KiB);
  EXPECT_EQ(BlockCache::class_bytes(4 * MiB), 4 * MiB);
  EXPECT_EQ(BlockCache::class_bytes(4 * MiB + 1), 5 * MiB);
  EXPECT_EQ(BlockCache::class_bytes(64 * MiB), 64 * MiB);
  // Not cached: the request itself.
  EXPECT_EQ(BlockCache::class_bytes(64 * MiB + 4), 64 * MiB + 4);
  for (size_t bytes = 1; bytes < 64 * MiB; bytes = bytes * 3 / 2 + 7) {
    const size_t capacity = BlockCache::class_bytes(bytes);
    EXPECT_GE(capacity, bytes);
    EXPECT_LE(capacity, bytes <= 128 * KiB ? 2 * bytes + 64 : bytes + bytes / 4) << bytes;
  }
}

TEST(BlockCache, ReusesFreedBlocksOfTheSameClass) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the cache is off under AddressSanitizer";
#endif
  BlockCache cache;
  for (size_t bytes : {size_t{100}, 100 * KiB, 3 * MiB + 5, 40 * MiB}) {
    SCOPED_TRACE(bytes);
    const size_t cached_before = cache.cached_bytes();  // blocks of the earlier sizes
    void* first = cache.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    std::memset(first, 1, bytes);  // the whole request is usable
    cache.deallocate(first);
    EXPECT_EQ(cache.cached_bytes(), cached_before + BlockCache::class_bytes(bytes));
    void* again = cache.allocate(bytes - 1);  // same class
    EXPECT_EQ(again, first);
    EXPECT_EQ(cache.cached_bytes(), cached_before);
    cache.deallocate(again);
  }
}

TEST(BlockCache, KeepsNeitherHugeBlocksNorMoreThanItsLimit) {
  BlockCache cache;
  void* huge = cache.allocate(BlockCache::kMaxCachedBlock + 1);
  cache.deallocate(huge);
  EXPECT_EQ(cache.cached_bytes(), 0u);
  // Free more 64 MiB blocks than the limit holds: the extra ones go back to the system.
  std::vector<void*> blocks;
  for (size_t i = 0; i < BlockCache::kMaxCachedBytes / BlockCache::kMaxCachedBlock + 2; ++i) {
    blocks.push_back(cache.allocate(BlockCache::kMaxCachedBlock));
  }
  for (void* block : blocks) cache.deallocate(block);
  EXPECT_LE(cache.cached_bytes(), BlockCache::kMaxCachedBytes);
}

}  // namespace
