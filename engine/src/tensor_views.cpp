// Views with their gradients: view, reshape, transpose, permute, movedim, unsqueeze,
// squeeze, flatten, expand, slice, select, index; and contiguous/clone, which copy.
//
// A view makes new metadata (shape, strides, offset) over the same storage, and records how
// to send the gradient back to the input's shape:
//   x (2, 3) strides (3, 1)  ->  x.t() (3, 2) strides (1, 3); its gradient is grad.t().
#include <algorithm>
#include <optional>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "ember/tensor.h"
#include "tensor_internal.h"

namespace ember {

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

namespace {

// Where a slice, a select or an index looks into its input: the view's metadata. Worked out
// here once for the three of them; each then makes one view.
struct Place {
  Shape shape, strides;
  int64_t offset;
};

Place place_of(const Tensor& t) { return {t.shape(), t.strides(), t.offset()}; }

// x.slice(d, start, end, step): positions as in Python (negative from the end, clamped).
Place slice_place(Place from, int64_t dim_in, int64_t start, int64_t end, int64_t step) {
  EMBER_CHECK(!from.shape.empty(), "slice: cannot slice a scalar (shape ())");
  int64_t d = normalize_dim(dim_in, static_cast<int64_t>(from.shape.size()), "slice");
  EMBER_CHECK(step > 0, "slice: step must be positive, got {}", step);
  int64_t size = from.shape[d];
  auto clamp_position = [size](int64_t position) {
    if (position < 0) position += size;
    return std::clamp<int64_t>(position, 0, size);
  };
  int64_t first = clamp_position(start), last = std::max(first, clamp_position(end));
  from.offset += first * from.strides[d];
  from.shape[d] = (last - first + step - 1) / step;
  from.strides[d] *= step;
  return from;
}

// x.select(d, index): the dim disappears.
Place select_place(Place from, int64_t dim_in, int64_t index) {
  EMBER_CHECK(!from.shape.empty(), "select: cannot index a scalar (shape ())");
  int64_t d = normalize_dim(dim_in, static_cast<int64_t>(from.shape.size()), "select");
  int64_t size = from.shape[d];
  EMBER_CHECK(index >= -size && index < size,
        "select: index {} is out of range for dim {} of size {} (shape {})", index, d, size,
        shape_str(from.shape));
  if (index < 0) index += size;
  from.offset += index * from.strides[d];
  from.shape.erase(from.shape.begin() + d);
  from.strides.erase(from.strides.begin() + d);
  return from;
}

// x.index({...}): the entries applied left to right (a select drops its dim, so the next
// entry applies to the dim that took its place).
Place index_place(Place from, const TensorIndex* first, const TensorIndex* last) {
  int64_t d = 0;
  for (const TensorIndex* entry_pointer = first; entry_pointer != last; ++entry_pointer) {
    const TensorIndex& entry = *entry_pointer;
    if (entry.is_slice) {
      from = slice_place(std::move(from), d, entry.slice.start, entry.slice.stop, entry.slice.step);
      ++d;
    } else {
      from = select_place(std::move(from), d, entry.index);
    }
  }
  return from;
}

Tensor view_at(const Tensor& base, const Place& place) {
  return make_view(base, place.shape, place.strides, place.offset);
}

// The node of the three views: the input's gradient is grad_output in the place the view
// looked at (place_in, given the input gradient's own Place, works it out again there) and
// zeros elsewhere. add_into_input_grad adds grad_output into that place of a gradient the
// input already has (autograd.h says when), so that the slices q, k and v of one tensor make
// one gradient of its shape, not three to add up. (Only the first of them makes zeros.)
template <typename PlaceIn>
struct ViewNode final : Node {
  ViewNode(PlaceIn place_in_, Shape input_shape_, Device device_)
      : place_in(std::move(place_in_)), input_shape(std::move(input_shape_)), device(device_) {}
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    Tensor input_grad = zeros(input_shape, device);
    view_at(input_grad, (*place_in)(place_of(input_grad))).copy_(grad_output);
    return {input_grad};
  }
  bool add_into_input_grad(Tensor& input_grad, const Tensor& grad_output) override {
    Tensor place = view_at(input_grad, (*place_in)(place_of(input_grad)));
    place += grad_output;
    return true;
  }
  void release() override {
    place_in.reset();
    Node::release();
  }
  std::optional<PlaceIn> place_in;  // (dropped by release, as OpNode's closure)
  Shape input_shape;
  Device device;
};

// record_op for a view of input: place_in maps a Place of the input to the view's.
template <typename PlaceIn>
Tensor record_view(const char* name, const Tensor& input, PlaceIn&& place_in) {
  Tensor view = view_at(input, place_in(place_of(input)));
  if (!detail::should_record(&input, 1)) return view;
  using ThisNode = ViewNode<std::decay_t<PlaceIn>>;
  auto node = std::allocate_shared<ThisNode>(detail::PoolAllocator<ThisNode>(),
                                             std::forward<PlaceIn>(place_in), input.shape(), input.device());
  return detail::attach_node(std::move(node), name, &input, 1, std::move(view));
}

}  // namespace

Tensor Tensor::slice(int64_t dim_in, int64_t start, int64_t end, int64_t step) const {
  return record_view("slice", *this, [dim_in, start, end, step](Place from) {
    return slice_place(std::move(from), dim_in, start, end, step);
  });
}

Tensor Tensor::select(int64_t dim_in, int64_t index) const {
  return record_view("select", *this, [dim_in, index](Place from) {
    return select_place(std::move(from), dim_in, index);
  });
}

Tensor Tensor::operator[](int64_t index) const { return select(0, index); }

// One view for all the entries (not a chain of slices and selects: the naive convolution
// takes a patch per output pixel).
Tensor Tensor::index(std::initializer_list<TensorIndex> list) const {
  EMBER_CHECK(static_cast<int64_t>(list.size()) <= dim(),
        "index: {} indices given for a tensor of shape {}", list.size(), shape_str(shape()));
  // When nothing is recorded, the list is not copied.
  if (!detail::should_record(this, 1)) {
    return view_at(*this, index_place(place_of(*this), list.begin(), list.end()));
  }
  return record_view("index", *this, [indices = std::vector<TensorIndex>(list)](Place from) {
    return index_place(std::move(from), indices.data(), indices.data() + indices.size());
  });
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

}  // namespace ember
