// Helpers shared by the engine's op files; not part of the public API.
#pragma once

#include <memory>

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/error.h"
#include "ember/tensor.h"

namespace ember {

// Fresh, empty objects of the engine's bookkeeping types (object_pool.cpp says where their
// memory comes from, and why; nodes come from the same pool, through autograd.h).
std::shared_ptr<TensorImpl> new_tensor_impl();
std::shared_ptr<Storage> new_storage(Device device, int64_t count);

// A new, uninitialised, contiguous tensor with its own storage.
Tensor empty_tensor(const Shape& shape, Device device);

// Throws "<op>: the result would have 9 dims ..." past kMaxDims.
void check_max_dims(const Shape& shape, const char* op);

// A view of base's storage with the given metadata (no autograd recorded).
Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

inline StridedLayout layout_of(const Tensor& t) {
  return StridedLayout(t.shape(), t.strides(), t.offset());
}

// t's layout read as if broadcast to `shape` (stride 0 along broadcast dims).
StridedLayout broadcast_layout(const Tensor& t, const Shape& shape);

inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }

// Throws "<op>: the tensor is undefined (default-constructed, never assigned)" for misuse.
inline void check_defined(const Tensor& t, const char* op) {
  if (!t.defined()) Tensor::throw_undefined(op);
}
void check_same_device(const Tensor& a, const Tensor& b, const char* op);

// Raw storage pointer (element 0 of the storage, not of the view).
inline const float* storage_data(const Tensor& t) { return t.impl()->storage->data(); }

}  // namespace ember
