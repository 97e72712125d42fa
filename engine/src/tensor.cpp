// The Tensor handle: making tensors and views of a storage, what a tensor is (numel, item,
// at), its autograd state, moving it between devices, and the method forms of the ops.
// Views with their gradients are in tensor_views.cpp, in-place ops in tensor_in_place.cpp.
#include "ember/tensor.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <ostream>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {

// ---------------------------------------------------------------------------------------
// Helpers

Tensor empty_tensor(const Shape& shape, Device device) {
  for (int64_t size : shape) EMBER_CHECK(size >= 0, "empty: negative size in shape {}", shape_str(shape));
  EMBER_CHECK(static_cast<int>(shape.size()) <= kMaxDims,
        "empty: shape {} has {} dims; Ember supports at most {}", shape_str(shape), shape.size(),
        kMaxDims);
  std::shared_ptr<TensorImpl> impl = new_tensor_impl();
  impl->storage = new_storage(device, shape_numel(shape));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

void check_max_dims(const Shape& shape, const char* op) {
  EMBER_CHECK(static_cast<int>(shape.size()) <= kMaxDims,
              "{}: the result would have {} dims (shape {}); Ember supports at most {}", op,
              shape.size(), shape_str(shape), kMaxDims);
}

Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  std::shared_ptr<TensorImpl> impl = new_tensor_impl();
  impl->storage = base.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  return Tensor(std::move(impl));
}

StridedLayout broadcast_layout(const Tensor& t, const Shape& shape) {
  EMBER_CHECK(static_cast<int>(shape.size()) <= kMaxDims, "layout: {} dims is more than the {} Ember supports",
              shape.size(), kMaxDims);
  StridedLayout layout;
  layout.ndim = static_cast<int>(shape.size());
  layout.offset = t.offset();
  size_t shift = shape.size() - t.shape().size();
  for (size_t i = 0; i < shape.size(); ++i) {
    layout.shape[i] = shape[i];
    // Dims that broadcasting adds on the left, or stretches from size 1, repeat: stride 0.
    bool repeated = i < shift || t.shape()[i - shift] == 1;
    layout.strides[i] = repeated ? 0 : t.strides()[i - shift];
  }
  return layout;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  EMBER_CHECK(a.device() == b.device(),
        "{}: expected all tensors on the same device, but found {} and {}; move one with "
        ".to(device)",
        op, a.device().str(), b.device().str());
}

StridedLayout::StridedLayout(const Shape& shape_, const Shape& strides_, int64_t offset_)
    : ndim(static_cast<int>(shape_.size())), offset(offset_) {
  EMBER_CHECK(ndim <= kMaxDims, "layout: {} dims is more than the {} Ember supports", ndim, kMaxDims);
  for (int i = 0; i < ndim; ++i) {
    shape[i] = shape_[i];
    strides[i] = strides_[i];
  }
}

int64_t StridedLayout::numel() const {
  int64_t count = 1;
  for (int i = 0; i < ndim; ++i) count *= shape[i];
  return count;
}

bool StridedLayout::is_contiguous() const {
  int64_t expected = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

void Tensor::throw_undefined(const char* op) {
  throw Error(fmt::format("{}: the tensor is undefined (default-constructed, never assigned)", op));
}

// ---------------------------------------------------------------------------------------
// What it is

int64_t Tensor::numel() const { return shape_numel(checked_impl("numel").shape); }

int64_t Tensor::size(int64_t dim) const {
  const TensorImpl& impl = checked_impl("size");
  int64_t d = normalize_dim(dim, static_cast<int64_t>(impl.shape.size()), "size");
  return impl.shape.empty() ? 1 : impl.shape[d];
}

bool Tensor::is_contiguous() const { return layout_of(*this).is_contiguous(); }

float Tensor::item() const {
  EMBER_CHECK(checked_impl("item").shape.size() == 0 || numel() == 1,
        "item: expected one element, got shape {}", shape_str(shape()));
  float value = 0.0f;
  backend_of(*this).copy_to_host(data_ptr(), &value, 1);
  return value;
}

std::vector<float> Tensor::to_vector() const {
  checked_impl("to_vector");
  Tensor dense_tensor = contiguous();
  std::vector<float> values(static_cast<size_t>(numel()));
  if (!values.empty()) backend_of(*this).copy_to_host(dense_tensor.data_ptr(), values.data(), numel());
  return values;
}

float Tensor::at(const std::vector<int64_t>& index) const {
  const TensorImpl& impl = checked_impl("at");
  EMBER_CHECK(index.size() == impl.shape.size(), "at: expected {} indices for shape {}, got {}",
        impl.shape.size(), shape_str(impl.shape), index.size());
  int64_t position = impl.offset;
  for (size_t d = 0; d < index.size(); ++d) {
    EMBER_CHECK(index[d] >= 0 && index[d] < impl.shape[d],
          "at: index {} is out of range for dim {} of size {} (shape {})", index[d], d,
          impl.shape[d], shape_str(impl.shape));
    position += index[d] * impl.strides[d];
  }
  float value = 0.0f;
  backend_of(*this).copy_to_host(impl.storage->data() + position, &value, 1);
  return value;
}

// ---------------------------------------------------------------------------------------
// Autograd on the handle

bool Tensor::is_leaf() const { return checked_impl("is_leaf").grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked_impl("grad_fn").grad_fn; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  checked_impl("set_requires_grad");
  EMBER_CHECK(is_leaf() || requires_grad,
        "set_requires_grad: only leaf tensors (not results of ops) can stop requiring grad; "
        "use detach() to get a tensor outside the graph");
  impl_->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked_impl("grad").grad); }

void Tensor::set_grad(const Tensor& grad) {
  checked_impl("set_grad");
  if (grad.defined()) {
    EMBER_CHECK(grad.shape() == shape(), "set_grad: gradient of shape {} for a tensor of shape {}",
          shape_str(grad.shape()), shape_str(shape()));
  }
  impl_->grad = grad.impl();
}

void Tensor::zero_grad() {
  checked_impl("zero_grad");
  impl_->grad = nullptr;
}

void Tensor::backward(const Tensor& gradient) const {
  checked_impl("backward");
  run_backward(*this, gradient);
}

Tensor Tensor::detach() const {
  const TensorImpl& impl = checked_impl("detach");
  return make_view(*this, impl.shape, impl.strides, impl.offset);
}

// ---------------------------------------------------------------------------------------
// Devices

Tensor Tensor::to(Device target) const {
  checked_impl("to");
  if (target == device()) return *this;
  Tensor dense = contiguous();
  Tensor moved = empty_tensor(shape(), target);
  int64_t count = numel();
  if (device().is_cpu()) {
    backend_for(target).copy_from_host(dense.data_ptr(), moved.data_ptr(), count);
  } else if (target.is_cpu()) {
    backend_of(dense).copy_to_host(dense.data_ptr(), moved.data_ptr(), count);
  } else {
    std::vector<float> host(static_cast<size_t>(count));
    backend_of(dense).copy_to_host(dense.data_ptr(), host.data(), count);
    backend_for(target).copy_from_host(host.data(), moved.data_ptr(), count);
  }
  Device source = device();
  return record_op("to", {*this}, moved,
                   [source](const Tensor& grad) { return std::vector<Tensor>{grad.to(source)}; });
}

// ---------------------------------------------------------------------------------------
// Method forms of the ops

Tensor Tensor::sum() const { return ember::sum(*this); }
Tensor Tensor::sum(int64_t d, bool keepdim) const { return ember::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return ember::mean(*this); }
Tensor Tensor::mean(int64_t d, bool keepdim) const { return ember::mean(*this, d, keepdim); }
Tensor Tensor::sum(const std::vector<int64_t>& d, bool keepdim) const { return ember::sum(*this, d, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& d, bool keepdim) const { return ember::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return ember::max(*this); }
Tensor Tensor::max(int64_t d, bool keepdim) const { return ember::max(*this, d, keepdim); }
Tensor Tensor::min() const { return ember::min(*this); }
Tensor Tensor::min(int64_t d, bool keepdim) const { return ember::min(*this, d, keepdim); }
Tensor Tensor::var(bool unbiased) const { return ember::var(*this, unbiased); }
Tensor Tensor::var(int64_t d, bool unbiased, bool keepdim) const { return ember::var(*this, d, unbiased, keepdim); }
Tensor Tensor::std(bool unbiased) const { return ember::std(*this, unbiased); }
Tensor Tensor::std(int64_t d, bool unbiased, bool keepdim) const { return ember::std(*this, d, unbiased, keepdim); }
Tensor Tensor::logsumexp(int64_t d, bool keepdim) const { return ember::logsumexp(*this, d, keepdim); }
Tensor Tensor::argmax() const { return ember::argmax(*this); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return ember::argmax(*this, d, keepdim); }
Tensor Tensor::argmin() const { return ember::argmin(*this); }
Tensor Tensor::argmin(int64_t d, bool keepdim) const { return ember::argmin(*this, d, keepdim); }
Tensor Tensor::exp() const { return ember::exp(*this); }
Tensor Tensor::log() const { return ember::log(*this); }
Tensor Tensor::sqrt() const { return ember::sqrt(*this); }
Tensor Tensor::abs() const { return ember::abs(*this); }
Tensor Tensor::neg() const { return ember::neg(*this); }
Tensor Tensor::relu() const { return ember::relu(*this); }
Tensor Tensor::sigmoid() const { return ember::sigmoid(*this); }
Tensor Tensor::tanh() const { return ember::tanh(*this); }
Tensor Tensor::pow(float exponent) const { return ember::pow(*this, exponent); }
Tensor Tensor::pow(const Tensor& exponent) const { return ember::pow(*this, exponent); }
Tensor Tensor::clamp(float lo, float hi) const { return ember::clamp(*this, lo, hi); }
Tensor Tensor::clamp_min(float lo) const { return ember::clamp_min(*this, lo); }
Tensor Tensor::clamp_max(float hi) const { return ember::clamp_max(*this, hi); }
Tensor Tensor::matmul(const Tensor& other) const { return ember::matmul(*this, other); }
Tensor Tensor::dot(const Tensor& other) const { return ember::dot(*this, other); }
Tensor Tensor::softmax(int64_t d) const { return ember::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return ember::log_softmax(*this, d); }
Tensor Tensor::masked_fill(const Tensor& mask, float value) const { return ember::masked_fill(*this, mask, value); }

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) { return os << tensor.str(); }

}  // namespace ember
