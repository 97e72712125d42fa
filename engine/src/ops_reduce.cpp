// Reductions along one dim (or over everything) and their gradients.
#include <algorithm>
#include <cmath>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {

using Grads = std::vector<Tensor>;

struct ReducedShape {
  int64_t outer = 1, n = 1, inner = 1;
  Shape kept;     // the input shape with the reduced dim set to 1 (keepdim=true)
  Shape dropped;  // the input shape without the reduced dim
};

// Views a contiguous tensor as (outer, n, inner) around dim.
ReducedShape split_around(const Shape& shape, int64_t dim) {
  ReducedShape result;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) result.outer *= shape[d];
    if (d > dim) result.inner *= shape[d];
  }
  result.n = shape.empty() ? 1 : shape[dim];
  result.kept = shape;
  result.dropped = shape;
  if (!shape.empty()) {
    result.kept[dim] = 1;
    result.dropped.erase(result.dropped.begin() + dim);
  }
  return result;
}

// Runs one reduction kernel: along `dim`, or over every element when dim is absent.
Tensor reduce_kernel(ReduceOp op, const Tensor& x, const int64_t* dim, bool keepdim, const char* name) {
  check_defined(x, name);
  Tensor input = x.contiguous();
  ReducedShape split;
  Shape out_shape;
  if (dim) {
    int64_t d = normalize_dim(*dim, x.dim(), name);
    split = split_around(x.shape(), d);
    out_shape = keepdim ? split.kept : split.dropped;
  } else {
    split.n = x.numel();
    out_shape = keepdim ? Shape(x.shape().size(), 1) : Shape{};
  }
  bool needs_elements = op != ReduceOp::Sum;
  EMBER_CHECK(!needs_elements || split.n > 0, "{}: cannot reduce an empty dim (shape {})", name,
        shape_str(x.shape()));
  Tensor out = empty_tensor(out_shape, x.device());
  backend_of(x).reduce(op, input.data_ptr(), out.data_ptr(), split.outer, split.n, split.inner);
  return out;
}

// The shape the result had with keepdim, so the gradient can broadcast back.
Shape keepdim_shape(const Shape& x_shape, const int64_t* dim) {
  if (!dim) return Shape(x_shape.size(), 1);
  Shape shape = x_shape;
  if (!shape.empty()) shape[normalize_dim(*dim, static_cast<int64_t>(shape.size()), "reduce")] = 1;
  return shape;
}

Tensor sum_impl(const Tensor& x, const int64_t* dim, bool keepdim) {
  Tensor out = reduce_kernel(ReduceOp::Sum, x, dim, keepdim, "sum");
  // Every input element contributed once: the gradient is the output's, spread back.
  // (Without a dropped dim no reshape is needed: expand adds missing dims on the left.)
  bool dropped_dim = dim != nullptr && !keepdim;
  int64_t d = dim ? *dim : 0;
  // (The closure keeps x's shape, not x: x's values are not needed, and x can be freed.)
  return record_op("sum", {x}, out, [x_shape = x.shape(), dropped_dim, d](const Tensor& grad) {
    return Grads{dropped_dim ? grad.reshape(keepdim_shape(x_shape, &d)).expand(x_shape) : grad.expand(x_shape)};
  });
}

Tensor extremum_impl(ReduceOp op, const Tensor& x, const int64_t* dim, bool keepdim, const char* name) {
  Tensor out = reduce_kernel(op, x, dim, keepdim, name);
  Shape kept = keepdim_shape(x.shape(), dim);
  Tensor winners_value = out.detach().reshape(kept);
  return record_op(name, {x}, out, [x, winners_value, kept](const Tensor& grad) {
    // The gradient goes to the elements equal to the extremum, shared among ties.
    Tensor is_winner = eq(x, winners_value);
    Tensor share = is_winner / sum_to_shape(is_winner, kept);
    return Grads{share * grad.reshape(kept)};
  });
}

// dim made non-negative, or an error naming the op and x's shape.
int64_t dim_of(const Tensor& x, int64_t dim, const char* op) {
  const int64_t range = x.dim() == 0 ? 1 : x.dim();  // a scalar accepts 0 and -1, as PyTorch
  EMBER_CHECK(dim >= -range && dim < range,
              "{}: dim {} is out of range for a tensor of shape {} (expected {} to {})", op, dim,
              shape_str(x.shape()), -range, range - 1);
  return dim < 0 ? dim + range : dim;
}

// The listed dims made non-negative and sorted from the last to the first, so that reducing
// them one at a time (keepdim) never shifts a dim still to come. A dim listed twice is an
// error, as in PyTorch.
std::vector<int64_t> dims_of(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  EMBER_CHECK(!dims.empty(), "{}: the list of dims is empty (tensor of shape {}); leave the dims "
              "out to reduce every element", op, shape_str(x.shape()));
  std::vector<int64_t> result;
  for (int64_t dim : dims) {
    const int64_t d = dim_of(x, dim, op);
    EMBER_CHECK(std::find(result.begin(), result.end(), d) == result.end(),
                "{}: dim {} appears twice in the list for a tensor of shape {}", op, dim,
                shape_str(x.shape()));
    result.push_back(d);
  }
  std::sort(result.rbegin(), result.rend());
  return result;
}

// x's shape without the (sorted, non-negative) dims: what keepdim = false leaves.
Shape without_dims(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape result;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) result.push_back(shape[d]);
  }
  return result;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_impl(x, nullptr, false); }
Tensor sum(const Tensor& x, int64_t dim, bool keepdim) { return sum_impl(x, &dim, keepdim); }

Tensor mean(const Tensor& x) {
  check_defined(x, "mean");
  EMBER_CHECK(x.numel() > 0, "mean: cannot average an empty tensor (shape {})", shape_str(x.shape()));
  return sum(x) * (1.0f / static_cast<float>(x.numel()));
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, "mean");
  int64_t n = x.size(normalize_dim(dim, x.dim(), "mean"));
  EMBER_CHECK(n > 0, "mean: cannot average an empty dim (shape {})", shape_str(x.shape()));
  return sum(x, dim, keepdim) * (1.0f / static_cast<float>(n));
}

// Several dims: one at a time with keepdim (last dim first), then the size-1 dims dropped.
// Autograd sees the single-dim sums and reshape, so the gradient needs no code of its own.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "sum");
  const std::vector<int64_t> sorted = dims_of(x, dims, "sum");
  Tensor result = x;
  for (int64_t d : sorted) result = sum(result, d, true);
  return keepdim ? result : result.reshape(without_dims(x.shape(), sorted));
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "mean");
  int64_t count = 1;
  for (int64_t d : dims_of(x, dims, "mean")) count *= x.size(d);
  EMBER_CHECK(count > 0, "mean: cannot average empty dims (shape {})", shape_str(x.shape()));
  return sum(x, dims, keepdim) * (1.0f / static_cast<float>(count));
}

Tensor max(const Tensor& x) { return extremum_impl(ReduceOp::Max, x, nullptr, false, "max"); }
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_impl(ReduceOp::Max, x, &dim, keepdim, "max");
}
Tensor min(const Tensor& x) { return extremum_impl(ReduceOp::Min, x, nullptr, false, "min"); }
Tensor min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_impl(ReduceOp::Min, x, &dim, keepdim, "min");
}

Tensor var(const Tensor& x, bool unbiased) {
  check_defined(x, "var");
  return var(x.reshape({-1}), 0, unbiased, false);
}

Tensor var(const Tensor& x, int64_t dim, bool unbiased, bool keepdim) {
  check_defined(x, "var");
  int64_t n = x.size(normalize_dim(dim, x.dim(), "var"));
  // Unbiased (Bessel's correction) divides by n - 1, which needs two or more values.
  int64_t divisor = unbiased ? n - 1 : n;
  EMBER_CHECK(divisor > 0, "var: need at least {} values along dim {} (shape {})", unbiased ? 2 : 1,
        dim, shape_str(x.shape()));
  Tensor deviation = x - mean(x, dim, true);
  return sum(deviation * deviation, dim, keepdim) * (1.0f / static_cast<float>(divisor));
}

// sqrt(var). The checks are repeated here so that a student's error names std, not var.
Tensor std(const Tensor& x, bool unbiased) {
  check_defined(x, "std");
  EMBER_CHECK(x.numel() > (unbiased ? 1 : 0), "std: need at least {} values (shape {})",
              unbiased ? 2 : 1, shape_str(x.shape()));
  return sqrt(var(x, unbiased));
}
Tensor std(const Tensor& x, int64_t dim, bool unbiased, bool keepdim) {
  check_defined(x, "std");
  const int64_t n = x.dim() == 0 ? 1 : x.size(dim_of(x, dim, "std"));
  EMBER_CHECK(n > (unbiased ? 1 : 0), "std: need at least {} values along dim {} (shape {})",
              unbiased ? 2 : 1, dim, shape_str(x.shape()));
  return sqrt(var(x, dim, unbiased, keepdim));
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, "logsumexp");
  const int64_t d = dim_of(x, dim, "logsumexp");
  EMBER_CHECK(x.dim() == 0 || x.size(d) > 0, "logsumexp: cannot reduce an empty dim (shape {})",
              shape_str(x.shape()));
  // log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max: exp never overflows. m is a
  // constant to autograd (the two m terms cancel in the derivative), and a max of -inf (every
  // element -inf) becomes 0, so the result is log(0) = -inf rather than -inf - -inf = NaN.
  Tensor largest = max(x.detach(), d, true);                 // x's shape, dim d of size 1
  Tensor shift = where(largest == -INFINITY, 0.0f, largest);  // the same shape
  Tensor result = log(sum(exp(x - shift), d, true)) + shift;  // the same shape
  return keepdim || x.dim() == 0 ? result : result.squeeze(d);
}

ValuesAndIndices max_with_indices(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, "max");
  dim_of(x, dim, "max");
  return {max(x, dim, keepdim), argmax(x, dim, keepdim)};
}
ValuesAndIndices min_with_indices(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, "min");
  dim_of(x, dim, "min");
  return {min(x, dim, keepdim), argmin(x, dim, keepdim)};
}

Tensor argmax(const Tensor& x) { return reduce_kernel(ReduceOp::ArgMax, x, nullptr, false, "argmax"); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return reduce_kernel(ReduceOp::ArgMax, x, &dim, keepdim, "argmax");
}
Tensor argmin(const Tensor& x) { return reduce_kernel(ReduceOp::ArgMin, x, nullptr, false, "argmin"); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return reduce_kernel(ReduceOp::ArgMin, x, &dim, keepdim, "argmin");
}

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  EMBER_CHECK(x.dim() >= static_cast<int64_t>(shape.size()),
        "sum_to_shape: cannot sum shape {} down to {}", shape_str(x.shape()), shape_str(shape));
  Tensor result = x;
  // Dims that broadcasting added on the left are summed away...
  while (result.dim() > static_cast<int64_t>(shape.size())) result = sum(result, 0, false);
  // ...and dims that were 1 and got stretched are summed back to 1.
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1 && result.shape()[d] != 1) result = sum(result, static_cast<int64_t>(d), true);
  }
  EMBER_CHECK(result.shape() == shape, "sum_to_shape: cannot sum shape {} down to {}",
        shape_str(x.shape()), shape_str(shape));
  return result;
}

}  // namespace ember
