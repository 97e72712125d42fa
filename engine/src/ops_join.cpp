// Joining tensors (cat, stack) and picking rows (index_select).
#include <cmath>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {

using Grads = std::vector<Tensor>;

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  for (const Tensor& t : tensors) check_defined(t, "cat");
  const Tensor& first = tensors.front();
  EMBER_CHECK(first.dim() > 0, "cat: cannot concatenate scalars (shape ()); use stack");
  int64_t d = normalize_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_same_device(first, t, "cat");
    bool compatible = t.dim() == first.dim();
    for (int64_t k = 0; compatible && k < t.dim(); ++k) {
      compatible = k == d || t.size(k) == first.size(k);
    }
    EMBER_CHECK(compatible,
          "cat: tensor {} has shape {} but tensor 0 has shape {}; all dims but dim {} must match",
          i, shape_str(t.shape()), shape_str(first.shape()), d);
    out_shape[d] += t.size(d);
  }
  Tensor out = empty_tensor(out_shape, first.device());
  std::vector<int64_t> starts;
  int64_t position = 0;
  {
    NoGradGuard no_grad;  // filling the result is not part of the graph
    for (const Tensor& t : tensors) {
      starts.push_back(position);
      out.slice(d, position, position + t.size(d)).copy_(t);
      position += t.size(d);
    }
  }
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.size(d));
  return record_op("cat", tensors, out, [d, starts, sizes](const Tensor& grad) {
    Grads grads;
    for (size_t i = 0; i < starts.size(); ++i) grads.push_back(grad.slice(d, starts[i], starts[i] + sizes[i]));
    return grads;
  });
}

// Not cat of unsqueezed inputs: that recorded two ops per input, and the course's naive
// convolution stacks one scalar per output pixel.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), "stack: expected at least one tensor");
  for (const Tensor& t : tensors) check_defined(t, "stack");
  const Tensor& first = tensors.front();
  int64_t d = normalize_dim(dim, first.dim() + 1, "stack");
  for (size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK(tensors[i].shape() == first.shape(),
          "stack: tensor {} has shape {} but tensor 0 has shape {}; all must match", i,
          shape_str(tensors[i].shape()), shape_str(first.shape()));
    check_same_device(first, tensors[i], "stack");
  }
  Shape out_shape = first.shape();  // N tensors of (A, B), d = 1 -> (A, N, B)
  out_shape.insert(out_shape.begin() + d, static_cast<int64_t>(tensors.size()));
  check_max_dims(out_shape, "stack");
  Tensor out = empty_tensor(out_shape, first.device());
  // Input i goes to out.select(d, i): the same place written out as a layout, not as a view
  // tensor (the naive convolution stacks one scalar per output pixel, hundreds of thousands a batch).
  Shape place_strides = out.strides();
  const int64_t step = place_strides[d];
  place_strides.erase(place_strides.begin() + d);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const StridedLayout place(first.shape(), place_strides, static_cast<int64_t>(i) * step);
    backend_of(out).copy(storage_data(tensors[i]), layout_of(tensors[i]), out.impl()->storage->data(), place);
  }
  return record_op("stack", tensors, out, [d, count = tensors.size()](const Tensor& grad) {
    Grads grads;  // input i's gradient is slice i along d (a view, no copy)
    grads.reserve(count);
    for (size_t i = 0; i < count; ++i) grads.push_back(grad.select(d, static_cast<int64_t>(i)));
    return grads;
  });
}

Tensor index_select(const Tensor& x, const Tensor& indices) {
  check_defined(x, "index_select");
  check_defined(indices, "index_select");
  check_same_device(x, indices, "index_select");
  EMBER_CHECK(x.dim() >= 1, "index_select: cannot pick rows of a scalar");
  EMBER_CHECK(indices.dim() == 1, "index_select: expected 1-D indices, got shape {}", shape_str(indices.shape()));
  int64_t rows = x.size(0);
  // Indices are validated on the host so that no kernel ever reads out of bounds.
  for (float value : indices.to_vector()) {
    EMBER_CHECK(value == std::floor(value) && value >= 0 && value < static_cast<float>(rows),
          "index_select: index {} is out of range for dim 0 of size {} (shape {})", value, rows,
          shape_str(x.shape()));
  }
  Tensor table = x.detach().contiguous();
  Tensor index_values = indices.detach().contiguous();
  Shape out_shape = x.shape();
  out_shape[0] = indices.size(0);
  int64_t row_size = rows == 0 ? 0 : x.numel() / rows;
  Tensor out = empty_tensor(out_shape, x.device());
  if (out.numel() > 0) {
    backend_of(x).gather_rows(table.data_ptr(), row_size, index_values.data_ptr(), indices.size(0),
                              out.data_ptr());
  }
  Shape input_shape = x.shape();
  return record_op("index_select", {x}, out, [input_shape, index_values, row_size](const Tensor& grad) {
    // Each picked row sends its gradient back to where it came from; repeats add up.
    Tensor input_grad = zeros(input_shape, grad.device());
    Tensor dense = grad.contiguous();
    if (dense.numel() > 0) {
      backend_of(grad).scatter_add_rows(dense.data_ptr(), row_size, index_values.data_ptr(),
                                        index_values.numel(), input_grad.data_ptr());
    }
    return Grads{input_grad};
  });
}

}  // namespace ember
