// The caching allocator (see caching_allocator.cuh for the idea).
#include <fmt/format.h>

#include "cuda/caching_allocator.cuh"
#include "cuda/cuda_common.cuh"
#include "ember/error.h"

namespace ember::cuda {
namespace {

// "512 B", "3.0 KiB", "1.50 GiB": sizes as people read them.
std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, units[unit]);
}

size_t round_up(size_t value, size_t step) { return (value + step - 1) / step * step; }

}  // namespace

size_t CachingAllocator::size_class(size_t bytes) {
  constexpr size_t kSmallStep = 512;
  constexpr size_t kSmallLimit = size_t{1} << 20;  // 1 MiB
  if (bytes <= kSmallLimit) return round_up(std::max<size_t>(bytes, 1), kSmallStep);
  size_t power = kSmallLimit;  // the largest power of two <= bytes
  while (power <= bytes / 2) power *= 2;
  return round_up(bytes, power / 8);
}

void* CachingAllocator::allocate(size_t bytes) {
  size_t size = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<void*>& cached = free_blocks_[size];
  if (!cached.empty()) {
    void* block = cached.back();
    cached.pop_back();
    stats_.cache_hits += 1;
    stats_.bytes_in_use += static_cast<int64_t>(size);
    return block;
  }

  DeviceGuard guard(device_, "allocate");
  void* block = nullptr;
  cudaError_t status = cudaMalloc(&block, size);
  if (status == cudaErrorMemoryAllocation) {
    // Blocks of other sizes may be sitting in the cache: give them back and try again.
    cudaGetLastError();  // clear the error so that the next launch check does not see it
    release_cached_blocks();
    status = cudaMalloc(&block, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw Error(fmt::format(
        "cuda allocate: out of memory on cuda:{} asking for {} ({} free of {}; Ember's live "
        "tensors hold {}, and its cache of freed blocks was emptied before retrying). Use "
        "smaller batches or a smaller model, or free tensors you no longer need.",
        device_, format_bytes(static_cast<double>(size)), format_bytes(static_cast<double>(free_bytes)),
        format_bytes(static_cast<double>(total_bytes)),
        format_bytes(static_cast<double>(stats_.bytes_in_use))));
  }
  check_cuda(status, "allocate");
  block_sizes_[block] = size;
  stats_.device_allocations += 1;
  stats_.bytes_reserved += static_cast<int64_t>(size);
  stats_.bytes_in_use += static_cast<int64_t>(size);
  return block;
}

void CachingAllocator::deallocate(void* block) {
  if (block == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = block_sizes_.find(block);
  if (found == block_sizes_.end()) return;
  free_blocks_[found->second].push_back(block);
  stats_.bytes_in_use -= static_cast<int64_t>(found->second);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_, "empty_cache");
  release_cached_blocks();
}

void CachingAllocator::release_cached_blocks() {
  for (auto& [size, blocks] : free_blocks_) {
    for (void* block : blocks) {
      cudaFree(block);  // a failure leaves the block lost, which is all that can be done
      block_sizes_.erase(block);
      stats_.bytes_reserved -= static_cast<int64_t>(size);
    }
    blocks.clear();
  }
  cudaGetLastError();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace ember::cuda
