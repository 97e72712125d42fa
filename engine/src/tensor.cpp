// Tensor metadata, views and the autograd bookkeeping of the handle.
#include "ember/tensor.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <ostream>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "object_pool.h"
#include "tensor_internal.h"

namespace ember {

// ---------------------------------------------------------------------------------------
// Helpers

Tensor empty_tensor(const Shape& shape, Device device) {
  for (int64_t size : shape) EMBER_CHECK(size >= 0, "empty: negative size in shape {}", shape_str(shape));
  EMBER_CHECK(static_cast<int>(shape.size()) <= kMaxDims,
        "empty: shape {} has {} dims; Ember supports at most {}", shape_str(shape), shape.size(),
        kMaxDims);
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
  impl->storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), device, shape_numel(shape));
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
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
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
// Views. Each makes new metadata over the same storage and records how to send the
// gradient back to the input's shape.

namespace {

// Strides for viewing (shape, strides) as new_shape without copying, if any exist.
// Dims of the old shape are grouped into runs that are contiguous with each other; each
// run must be split or merged into whole new dims.
std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape) {
  if (shape_numel(shape) == 0 || shape.empty()) return contiguous_strides(new_shape);
  Shape new_strides(new_shape.size(), 1);
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    bool chunk_ends = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      new_strides[view_d] = view_numel * chunk_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_stride = strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// Replaces one -1 by what the element count requires.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
  Shape result = shape;
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 0; i < result.size(); ++i) {
    if (result[i] == -1) {
      EMBER_CHECK(inferred < 0, "{}: only one dimension can be -1, got {}", op, shape_str(shape));
      inferred = static_cast<int>(i);
    } else {
      EMBER_CHECK(result[i] >= 0, "{}: invalid size {} in shape {}", op, result[i], shape_str(shape));
      known *= result[i];
    }
  }
  if (inferred >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0,
          "{}: shape {} is invalid for a tensor of {} elements (shape {})", op, shape_str(shape),
          numel, shape_str(from));
    result[inferred] = numel / known;
  }
  check_max_dims(result, op);
  EMBER_CHECK(shape_numel(result) == numel, "{}: shape {} is invalid for a tensor of {} elements (shape {})",
        op, shape_str(shape), numel, shape_str(from));
  return result;
}

Tensor reshape_backward_view(const char* name, const Tensor& input, Tensor output) {
  Shape input_shape = input.shape();
  return record_op(name, {input}, std::move(output), [input_shape](const Tensor& grad) {
    return std::vector<Tensor>{grad.reshape(input_shape)};
  });
}

}  // namespace

Tensor Tensor::view(const Shape& new_shape_in) const {
  const TensorImpl& impl = checked_impl("view");
  Shape new_shape = infer_shape(new_shape_in, numel(), "view", impl.shape);
  std::optional<Shape> strides = view_strides(impl.shape, impl.strides, new_shape);
  EMBER_CHECK(strides.has_value(),
        "view: a tensor of shape {} with strides {} cannot be viewed as {} without copying; "
        "use reshape() (which copies when it must) or call contiguous() first",
        shape_str(impl.shape), shape_str(impl.strides), shape_str(new_shape));
  return reshape_backward_view("view", *this, make_view(*this, new_shape, *strides, impl.offset));
}

Tensor Tensor::reshape(const Shape& new_shape_in) const {
  const TensorImpl& impl = checked_impl("reshape");
  Shape new_shape = infer_shape(new_shape_in, numel(), "reshape", impl.shape);
  std::optional<Shape> strides = view_strides(impl.shape, impl.strides, new_shape);
  if (strides) {
    return reshape_backward_view("reshape", *this, make_view(*this, new_shape, *strides, impl.offset));
  }
  return contiguous().view(new_shape);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  int64_t ndim = dim();
  int64_t d0 = normalize_dim(dim0, ndim, "transpose"), d1 = normalize_dim(dim1, ndim, "transpose");
  if (ndim == 0) return *this;
  Shape shape_t = shape(), strides_t = strides();
  std::swap(shape_t[d0], shape_t[d1]);
  std::swap(strides_t[d0], strides_t[d1]);
  Tensor view = make_view(*this, shape_t, strides_t, offset());
  return record_op("transpose", {*this}, view,
                   [d0, d1](const Tensor& grad) { return std::vector<Tensor>{grad.transpose(d0, d1)}; });
}

Tensor Tensor::t() const {
  EMBER_CHECK(dim() == 2, "t: expected a 2-D tensor, got shape {}; use transpose(dim0, dim1)",
        shape_str(shape()));
  return transpose(0, 1);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  int64_t ndim = dim();
  EMBER_CHECK(static_cast<int64_t>(dims.size()) == ndim,
        "permute: expected {} dims for a tensor of shape {}, got ({})", ndim, shape_str(shape()),
        fmt::join(dims, ", "));
  std::vector<int64_t> order(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  Shape new_shape(dims.size()), new_strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = normalize_dim(dims[i], ndim, "permute");
    EMBER_CHECK(!seen[d], "permute: dim {} appears twice in ({})", d, fmt::join(dims, ", "));
    seen[d] = true;
    order[i] = d;
    inverse[d] = static_cast<int64_t>(i);
    new_shape[i] = shape()[d];
    new_strides[i] = strides()[d];
  }
  Tensor view = make_view(*this, new_shape, new_strides, offset());
  return record_op("permute", {*this}, view,
                   [inverse](const Tensor& grad) { return std::vector<Tensor>{grad.permute(inverse)}; });
}

Tensor Tensor::movedim(int64_t source, int64_t destination) const {
  int64_t ndim = dim();
  int64_t from = normalize_dim(source, ndim, "movedim"), to = normalize_dim(destination, ndim, "movedim");
  std::vector<int64_t> order;
  for (int64_t d = 0; d < ndim; ++d) {
    if (d != from) order.push_back(d);
  }
  order.insert(order.begin() + to, from);
  return permute(order);
}

Tensor Tensor::unsqueeze(int64_t dim_in) const {
  int64_t d = normalize_dim(dim_in, dim() + 1, "unsqueeze");
  check_max_dims(Shape(static_cast<size_t>(dim() + 1), 1), "unsqueeze");
  Shape new_shape = shape(), new_strides = strides();
  // The new dim's stride never matters (its size is 1); pick the natural one.
  int64_t stride = d < dim() ? shape()[d] * strides()[d] : 1;
  new_shape.insert(new_shape.begin() + d, 1);
  new_strides.insert(new_strides.begin() + d, stride);
  return reshape_backward_view("unsqueeze", *this, make_view(*this, new_shape, new_strides, offset()));
}

Tensor Tensor::squeeze() const {
  Shape new_shape, new_strides;
  for (int64_t d = 0; d < dim(); ++d) {
    if (shape()[d] != 1) {
      new_shape.push_back(shape()[d]);
      new_strides.push_back(strides()[d]);
    }
  }
  return reshape_backward_view("squeeze", *this, make_view(*this, new_shape, new_strides, offset()));
}

Tensor Tensor::squeeze(int64_t dim_in) const {
  int64_t d = normalize_dim(dim_in, dim(), "squeeze");
  if (dim() == 0 || shape()[d] != 1) return *this;  // as PyTorch: squeezing a non-1 dim does nothing
  Shape new_shape = shape(), new_strides = strides();
  new_shape.erase(new_shape.begin() + d);
  new_strides.erase(new_strides.begin() + d);
  return reshape_backward_view("squeeze", *this, make_view(*this, new_shape, new_strides, offset()));
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t start = normalize_dim(start_dim, dim(), "flatten"), end = normalize_dim(end_dim, dim(), "flatten");
  EMBER_CHECK(start <= end, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape new_shape(shape().begin(), shape().begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= shape()[d];
  new_shape.push_back(merged);
  new_shape.insert(new_shape.end(), shape().begin() + end + 1, shape().end());
  return reshape(new_shape);
}

Tensor Tensor::expand(const Shape& target) const {
  const Shape& old_shape = shape();
  EMBER_CHECK(target.size() >= old_shape.size(),
        "expand: cannot expand shape {} to {} (fewer dims than the tensor)", shape_str(old_shape),
        shape_str(target));
  check_max_dims(target, "expand");
  size_t shift = target.size() - old_shape.size();
  Shape new_shape(target.size()), new_strides(target.size(), 0);
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < shift) {
      EMBER_CHECK(target[i] >= 0, "expand: cannot expand shape {} to {} (-1 is not allowed for a new dim)",
            shape_str(old_shape), shape_str(target));
      new_shape[i] = target[i];
      continue;
    }
    int64_t old_size = old_shape[i - shift];
    int64_t size = target[i] == -1 ? old_size : target[i];
    EMBER_CHECK(size == old_size || old_size == 1,
          "expand: cannot expand shape {} to {} (dim {}: {} vs {}; only size-1 dims can grow)",
          shape_str(old_shape), shape_str(target), i, old_size, size);
    new_shape[i] = size;
    new_strides[i] = (old_size == 1 && size != 1) ? 0 : strides()[i - shift];
  }
  Tensor view = make_view(*this, new_shape, new_strides, offset());
  Shape input_shape = old_shape;
  return record_op("expand", {*this}, view,
                   [input_shape](const Tensor& grad) {
                     return std::vector<Tensor>{sum_to_shape(grad, input_shape)};
                   });
}

Tensor Tensor::expand_as(const Tensor& other) const { return expand(other.shape()); }

Tensor Tensor::slice(int64_t dim_in, int64_t start, int64_t end, int64_t step) const {
  int64_t d = normalize_dim(dim_in, dim(), "slice");
  EMBER_CHECK(dim() > 0, "slice: cannot slice a scalar (shape ())");
  EMBER_CHECK(step > 0, "slice: step must be positive, got {}", step);
  int64_t size = shape()[d];
  // Python's rules: negative positions count from the end; out-of-range ones clamp.
  auto clamp_position = [size](int64_t position) {
    if (position < 0) position += size;
    return std::clamp<int64_t>(position, 0, size);
  };
  int64_t first = clamp_position(start), last = std::max(first, clamp_position(end));
  Shape new_shape = shape(), new_strides = strides();
  new_shape[d] = (last - first + step - 1) / step;
  new_strides[d] *= step;
  Tensor view = make_view(*this, new_shape, new_strides, offset() + first * strides()[d]);
  Shape input_shape = shape();
  Device device = this->device();
  return record_op("slice", {*this}, view, [=](const Tensor& grad) {
                     Tensor input_grad = zeros(input_shape, device);
                     input_grad.slice(d, first, last, step).copy_(grad);
                     return std::vector<Tensor>{input_grad};
                   });
}

Tensor Tensor::select(int64_t dim_in, int64_t index) const {
  EMBER_CHECK(dim() > 0, "select: cannot index a scalar (shape ())");
  int64_t d = normalize_dim(dim_in, dim(), "select");
  int64_t size = shape()[d];
  EMBER_CHECK(index >= -size && index < size,
        "select: index {} is out of range for dim {} of size {} (shape {})", index, d, size,
        shape_str(shape()));
  if (index < 0) index += size;
  Shape new_shape = shape(), new_strides = strides();
  new_shape.erase(new_shape.begin() + d);
  new_strides.erase(new_strides.begin() + d);
  Tensor view = make_view(*this, new_shape, new_strides, offset() + index * strides()[d]);
  Shape input_shape = shape();
  Device device = this->device();
  return record_op("select", {*this}, view, [=](const Tensor& grad) {
                     Tensor input_grad = zeros(input_shape, device);
                     input_grad.select(d, index).copy_(grad);
                     return std::vector<Tensor>{input_grad};
                   });
}

Tensor Tensor::operator[](int64_t index) const { return select(0, index); }

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const {
  EMBER_CHECK(static_cast<int64_t>(indices.size()) <= dim(),
        "index: {} indices given for a tensor of shape {}", indices.size(), shape_str(shape()));
  Tensor result = *this;
  int64_t d = 0;
  for (const TensorIndex& entry : indices) {
    if (entry.is_slice) {
      result = result.slice(d, entry.slice.start, entry.slice.stop, entry.slice.step);
      ++d;
    } else {
      result = result.select(d, entry.index);  // the dim disappears; d stays
    }
  }
  return result;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  checked_impl("clone");
  Tensor copy = empty_tensor(shape(), device());
  backend_of(*this).copy(storage_data(*this), layout_of(*this), copy.data_ptr(), layout_of(copy));
  return record_op("clone", {*this}, copy, [](const Tensor& grad) { return std::vector<Tensor>{grad}; });
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
// In place. Autograd cannot see a change made in place, so it is refused where it would
// silently give wrong gradients: on a tensor that requires grad while recording is on.

namespace {
void check_in_place(const Tensor& t, const char* op) {
  check_defined(t, op);
  EMBER_CHECK(!(t.requires_grad() && grad_enabled()),
        "{}: a tensor that requires grad cannot be changed in place while autograd is "
        "recording; do the update inside a NoGradGuard block (as optimizers do)",
        op);
}
}  // namespace

Tensor& Tensor::copy_(const Tensor& source) {
  check_in_place(*this, "copy_");
  check_defined(source, "copy_");
  Shape target = shape();
  Shape broadcast = broadcast_shapes(source.shape(), target, "copy_");
  EMBER_CHECK(broadcast == target, "copy_: cannot copy a tensor of shape {} into one of shape {}",
        shape_str(source.shape()), shape_str(target));
  // A destination where several elements share one memory location (stride 0 on a dim of
  // size > 1: an expanded view) would be written by many threads at once on a GPU, with a
  // result that changes from run to run; refused on every backend, as PyTorch does.
  const Shape& strides = this->strides();
  for (size_t d = 0; d < static_cast<size_t>(dim()); ++d) {
    EMBER_CHECK(!(strides[d] == 0 && target[d] > 1),
                "copy_: cannot write into a tensor of shape {} with strides {}: dim {} (size {}) has "
                "stride 0, so its {} elements share one memory location (an expanded view); write "
                "into .contiguous() or .clone() of it instead",
                shape_str(target), shape_str(strides), d, target[d], target[d]);
  }
  // Copying through host covers a source on another device.
  Tensor src = source.device() == device() ? source : source.to(device());
  // A source that shares this storage (y[1:] = y[:-1]) could be overwritten while it is
  // read; going through a private copy keeps it intact.
  if (src.impl()->storage == impl_->storage) src = src.detach().clone();
  backend_of(*this).copy(storage_data(src), broadcast_layout(src, target), impl_->storage->data(),
                         layout_of(*this));
  return *this;
}

Tensor& Tensor::fill_(float value) {
  check_in_place(*this, "fill_");
  if (is_contiguous()) {
    backend_of(*this).fill(data_ptr(), numel(), value);
  } else {
    copy_(full({}, value, device()));
  }
  return *this;
}

// With a tensor: written in place where that is safe (below). With a number: computed out
// of place, then copied in.
namespace {
// self = self <op> other, written straight into self's memory. Optimizers and gradient
// accumulation do this millions of times; a new tensor and a copy each time doubled it.
Tensor& binary_in_place(Tensor& self, BinaryOp op, const Tensor& other, const char* name) {
  check_in_place(self, name);
  check_defined(other, name);
  check_same_device(self, other, name);
  Shape shape = broadcast_shapes(self.shape(), other.shape(), name);
  EMBER_CHECK(shape == self.shape(), "{}: the result would have shape {}, but the tensor changed in place has shape {}",
              name, shape_str(shape), shape_str(self.shape()));
  // Element i is read and then written at the same place, so a dense self may be both
  // input and output of the kernel (whose output must be dense). A strided self, or
  // another view of self's memory as the other input, goes through a temporary.
  if (!self.is_contiguous() || other.impl()->storage == self.impl()->storage) {
    return self.copy_(op == BinaryOp::Add ? self + other : op == BinaryOp::Sub ? self - other : self * other);
  }
  StridedLayout dense(shape, contiguous_strides(shape), 0);
  backend_of(self).binary(op, self.data_ptr(), dense, storage_data(other), broadcast_layout(other, shape),
                          self.data_ptr(), dense);
  return self;
}
}  // namespace

Tensor& Tensor::operator+=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Add, other, "+="); }
Tensor& Tensor::operator-=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Sub, other, "-="); }
Tensor& Tensor::operator*=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Mul, other, "*="); }
Tensor& Tensor::operator+=(float value) { check_in_place(*this, "+="); return copy_(*this + value); }
Tensor& Tensor::operator-=(float value) { check_in_place(*this, "-="); return copy_(*this - value); }
Tensor& Tensor::operator*=(float value) { check_in_place(*this, "*="); return copy_(*this * value); }
Tensor& Tensor::operator/=(float value) { check_in_place(*this, "/="); return copy_(*this / value); }

// ---------------------------------------------------------------------------------------
// Method forms of the ops

Tensor Tensor::sum() const { return ember::sum(*this); }
Tensor Tensor::sum(int64_t d, bool keepdim) const { return ember::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return ember::mean(*this); }
Tensor Tensor::mean(int64_t d, bool keepdim) const { return ember::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return ember::max(*this); }
Tensor Tensor::max(int64_t d, bool keepdim) const { return ember::max(*this, d, keepdim); }
Tensor Tensor::min() const { return ember::min(*this); }
Tensor Tensor::min(int64_t d, bool keepdim) const { return ember::min(*this, d, keepdim); }
Tensor Tensor::var(bool unbiased) const { return ember::var(*this, unbiased); }
Tensor Tensor::var(int64_t d, bool unbiased, bool keepdim) const { return ember::var(*this, d, unbiased, keepdim); }
Tensor Tensor::argmax() const { return ember::argmax(*this); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return ember::argmax(*this, d, keepdim); }
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
Tensor Tensor::matmul(const Tensor& other) const { return ember::matmul(*this, other); }
Tensor Tensor::dot(const Tensor& other) const { return ember::dot(*this, other); }
Tensor Tensor::softmax(int64_t d) const { return ember::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return ember::log_softmax(*this, d); }
Tensor Tensor::masked_fill(const Tensor& mask, float value) const { return ember::masked_fill(*this, mask, value); }

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) { return os << tensor.str(); }

}  // namespace ember
