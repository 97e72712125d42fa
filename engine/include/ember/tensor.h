// Tensor: a cheap handle to shared storage plus the metadata that says how to read it.
//
// Copying a Tensor copies a pointer: both handles see the same numbers, as in PyTorch.
// A view (view, transpose, slice, expand, ...) makes a new TensorImpl that shares the
// Storage and changes only shape, strides and offset; contiguous() copies only when the
// layout is not already dense row-major.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ember/device.h"
#include "ember/shape.h"
#include "ember/storage.h"

namespace ember {

class Tensor;
struct Node;

// Everything a tensor is. Shared by handles; views get their own TensorImpl.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;

  // Autograd. A leaf (grad_fn == nullptr) that requires grad accumulates into grad;
  // a result of an op records the op that made it in grad_fn.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
};

// A readable way to write input[y:y+h, x:x+w]: input.index({Slice(y, y + h), Slice(x, x + w)}).
struct Slice {
  static constexpr int64_t kEnd = INT64_MAX;
  int64_t start = 0;
  int64_t stop = kEnd;
  int64_t step = 1;
  Slice() = default;
  Slice(int64_t start_, int64_t stop_, int64_t step_ = 1) : start(start_), stop(stop_), step(step_) {}
};

// One entry of index({...}): an integer selects (and drops the dim), a Slice keeps it.
struct TensorIndex {
  TensorIndex(int64_t index_) : is_slice(false), index(index_) {}
  TensorIndex(int index_) : is_slice(false), index(index_) {}
  TensorIndex(Slice slice_) : is_slice(true), slice(slice_) {}
  bool is_slice;
  int64_t index = 0;
  Slice slice;
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor; most calls on it throw
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- what it is ----------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked_impl("shape").shape; }
  const Shape& strides() const { return checked_impl("strides").strides; }
  int64_t offset() const { return checked_impl("offset").offset; }
  int64_t size(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(checked_impl("dim").shape.size()); }
  int64_t numel() const;
  Device device() const { return checked_impl("device").storage->device(); }
  bool is_contiguous() const;
  // The single value of a one-element tensor ("item: expected one element, got shape (2, 3)").
  float item() const;
  // All values in row-major order, copied to the host.
  std::vector<float> to_vector() const;
  // The value at a full index, for tests and printing: x.at({1, 2}).
  float at(const std::vector<int64_t>& index) const;
  std::string str() const;  // PyTorch-style text: tensor([[2., 3.]])

  // ---- views: share storage, change metadata --------------------------------
  Tensor view(const Shape& shape) const;     // needs a compatible layout; one size may be -1
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor movedim(int64_t source, int64_t destination) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;  // drops every dim of size 1
  Tensor squeeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size; new dims go on the left
  Tensor expand_as(const Tensor& other) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const;  // select(0, index)
  Tensor index(std::initializer_list<TensorIndex> indices) const;
  Tensor contiguous() const;
  Tensor clone() const;  // a copy with its own storage, still in the graph

  // ---- autograd --------------------------------------------------------------
  bool requires_grad() const { return checked_impl("requires_grad").requires_grad; }
  // Marks a leaf as a parameter to differentiate. As in PyTorch, only a leaf can be set
  // back to false (a result of ops that requires grad is part of the graph).
  Tensor& set_requires_grad(bool requires_grad = true);
  Tensor& requires_grad_(bool requires_grad = true) { return set_requires_grad(requires_grad); }
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward pass reached this leaf
  void set_grad(const Tensor& grad);
  void zero_grad();     // drops the gradient (as PyTorch's set_to_none)
  // Backpropagates from this tensor. Without an argument the tensor must hold one
  // element; otherwise gradient gives d(loss)/d(this) and must have this shape.
  void backward(const Tensor& gradient = Tensor()) const;
  Tensor detach() const;  // same storage, cut from the graph
  const std::shared_ptr<Node>& grad_fn() const;

  // ---- devices ---------------------------------------------------------------
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }

  // ---- maths as methods (the same ops as the free functions in ops.h) ---------
  Tensor sum() const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  Tensor min(int64_t dim, bool keepdim = false) const;
  Tensor var(bool unbiased = true) const;
  Tensor var(int64_t dim, bool unbiased = true, bool keepdim = false) const;
  // Makes x.var(0) mean dim 0, not "unbiased = false".
  Tensor var(int dim, bool unbiased = true, bool keepdim = false) const {
    return var(static_cast<int64_t>(dim), unbiased, keepdim);
  }
  Tensor std(bool unbiased = true) const;
  Tensor std(int64_t dim, bool unbiased = true, bool keepdim = false) const;
  // Makes x.std(0) mean dim 0, not "unbiased = false".
  Tensor std(int dim, bool unbiased = true, bool keepdim = false) const {
    return std(static_cast<int64_t>(dim), unbiased, keepdim);
  }
  Tensor logsumexp(int64_t dim, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin() const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor pow(float exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor clamp(float min, float max) const;
  Tensor clamp_min(float min) const;
  Tensor clamp_max(float max) const;
  Tensor matmul(const Tensor& other) const;
  Tensor dot(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor masked_fill(const Tensor& mask, float value) const;

  // ---- in place (only where autograd is not watching: under NoGradGuard, or on
  //      tensors that do not require grad) --------------------------------------
  Tensor& operator+=(const Tensor& other);
  Tensor& operator-=(const Tensor& other);
  Tensor& operator*=(const Tensor& other);
  Tensor& operator+=(float value);
  Tensor& operator-=(float value);
  Tensor& operator*=(float value);
  Tensor& operator/=(float value);
  // Broadcasts source into this (a view works too, but not an expanded one: a dim of size
  // > 1 with stride 0 would have several elements written to one place; ember::Error).
  Tensor& copy_(const Tensor& source);
  Tensor& fill_(float value);
  // value wherever mask != 0, in place (torch's masked_fill_). The mask broadcasts to this
  // tensor's shape. Like every in-place op, refused on a tensor that requires grad while
  // autograd records: write x = x.masked_fill(mask, value) there.
  Tensor& masked_fill_(const Tensor& mask, float value);
  Tensor& zero_() { return fill_(0.0f); }

  // ---- internals, for ops and backends -----------------------------------------
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  // Device pointer to element 0 of this view.
  float* data_ptr() const { return checked_impl("data_ptr").storage->data() + impl_->offset; }
  bool same_impl(const Tensor& other) const { return impl_ == other.impl_; }
  // Throws "<op>: the tensor is undefined (default-constructed, never assigned)".
  [[noreturn]] static void throw_undefined(const char* op);

 private:
  // The impl, or an ember::Error naming op for an undefined tensor. Inline (with the
  // accessors above) because every op calls them several times.
  const TensorImpl& checked_impl(const char* op) const {
    if (!impl_) throw_undefined(op);
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& tensor);

}  // namespace ember

template <>
struct fmt::formatter<ember::Tensor> : fmt::formatter<std::string> {
  template <typename FormatContext>
  auto format(const ember::Tensor& tensor, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format(tensor.str(), ctx);
  }
};
