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

// The GPU's memory: cudaMalloc and cudaFree on one device.
class CudaMemory final : public RawMemory {
 public:
  explicit CudaMemory(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    DeviceGuard guard(device_, "allocate");
    void* block = nullptr;
    cudaError_t status = cudaMalloc(&block, bytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the error so that the next launch check does not see it
      return nullptr;
    }
    check_cuda(status, "allocate");
    return block;
  }

  bool release(void* block) noexcept override {
    int previous = 0;
    bool released = cudaGetDevice(&previous) == cudaSuccess &&
                    (previous == device_ || cudaSetDevice(device_) == cudaSuccess) &&
                    cudaFree(block) == cudaSuccess;
    cudaGetLastError();  // a failure here must not show up as a later kernel's error
    if (previous != device_) cudaSetDevice(previous);
    return released;
  }

  std::string free_memory() override {
    DeviceGuard guard(device_, "allocate");
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
      cudaGetLastError();
      return "free memory unknown";
    }
    return fmt::format("{} free of {}", format_bytes(static_cast<double>(free_bytes)),
                       format_bytes(static_cast<double>(total_bytes)));
  }

 private:
  int device_;
};

}  // namespace

CachingAllocator::CachingAllocator(int device)
    : CachingAllocator(device, std::make_unique<CudaMemory>(device)) {}

CachingAllocator::CachingAllocator(int device, std::unique_ptr<RawMemory> memory)
    : device_(device), memory_(std::move(memory)) {}

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
  // The list head exists before any block of this class does, so that deallocate() only
  // ever finds it (no allocation there).
  Block*& free_head = free_lists_.try_emplace(size, nullptr).first->second;
  if (free_head != nullptr) {
    Block* block = free_head;
    free_head = block->next_free;
    block->next_free = nullptr;
    block->in_use = true;
    stats_.cache_hits += 1;
    stats_.bytes_in_use += static_cast<int64_t>(size);
    return block->data;
  }

  void* data = memory_->allocate(size);
  if (data == nullptr) {
    // Blocks of other sizes may be sitting in the cache: give them back and try again.
    release_cached_blocks();
    data = memory_->allocate(size);
  }
  if (data == nullptr) {
    throw Error(fmt::format(
        "cuda allocate: out of memory on cuda:{} asking for {} ({}; Ember's live tensors hold "
        "{}, and its cache of freed blocks was emptied before retrying). Use smaller batches or "
        "a smaller model, or free tensors you no longer need.",
        device_, format_bytes(static_cast<double>(size)), memory_->free_memory(),
        format_bytes(static_cast<double>(stats_.bytes_in_use))));
  }
  try {
    blocks_.emplace(data, Block{data, size, true, nullptr});
  } catch (...) {  // std::bad_alloc: do not lose the device memory
    memory_->release(data);
    throw;
  }
  stats_.device_allocations += 1;
  stats_.bytes_reserved += static_cast<int64_t>(size);
  stats_.bytes_in_use += static_cast<int64_t>(size);
  return data;
}

void CachingAllocator::deallocate(void* data) noexcept {
  if (data == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);  // std::mutex::lock only throws on misuse
  auto found = blocks_.find(data);
  if (found == blocks_.end() || !found->second.in_use) {
    stats_.rejected_frees += 1;  // not ours, or freed twice: listing it again would hand
    return;                      // one block to two owners
  }
  Block& block = found->second;
  auto list = free_lists_.find(block.size);  // made by allocate(); find() never allocates
  if (list == free_lists_.end()) {
    stats_.rejected_frees += 1;  // cannot happen; never list a block without its head
    return;
  }
  block.in_use = false;
  block.next_free = list->second;
  list->second = &block;
  stats_.bytes_in_use -= static_cast<int64_t>(block.size);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_blocks();
}

void CachingAllocator::release_cached_blocks() {
  for (auto& [size, head] : free_lists_) {
    Block* kept = nullptr;  // blocks whose release failed stay listed (and reserved)
    for (Block* block = head; block != nullptr;) {
      Block* next = block->next_free;
      void* data = block->data;  // a copy: erasing destroys the record
      if (memory_->release(data)) {
        stats_.bytes_reserved -= static_cast<int64_t>(size);
        blocks_.erase(data);
      } else {
        stats_.failed_releases += 1;
        block->next_free = kept;
        kept = block;
      }
      block = next;
    }
    head = kept;
  }
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace ember::cuda
