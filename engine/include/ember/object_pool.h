// Recycled memory for the engine's small bookkeeping objects: TensorImpl, Storage, Node.
//
// Why: one training step of the course's naive convolution (q5) creates a few hundred
// thousand of them, a handful per output pixel, and frees them all during backward.
// These objects are a few hundred bytes, too large for glibc's fast bins, so each free
// went through malloc's sorting and coalescing of free blocks: a third of the step.
// Here a freed object goes on a free list of its thread, and the next allocation of
// that size takes it back: a push and a pop.
//
// Used through PoolAllocator with std::allocate_shared:
//   auto impl = std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace ember::detail {

// Objects up to this size are pooled; larger ones go to operator new.
constexpr size_t kMaxPooledBytes = 512;

// Memory for `bytes` bytes (aligned as operator new aligns); never null.
void* pool_allocate(size_t bytes);
// Returns memory from pool_allocate(bytes), with the same `bytes`.
void pool_deallocate(void* memory, size_t bytes);

template <typename T>
struct PoolAllocator {
  using value_type = T;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned types are not pooled");

  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) {}  // NOLINT: rebinding, as allocate_shared needs

  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* memory, size_t n) { pool_deallocate(memory, n * sizeof(T)); }

  template <typename U>
  bool operator==(const PoolAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const PoolAllocator<U>&) const { return false; }
};

}  // namespace ember::detail
