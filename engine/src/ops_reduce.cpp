// Reductions along one dim (or over everything) and their gradients.
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
Shape keepdim_shape(const Tensor& x, const int64_t* dim) {
  if (!dim) return Shape(x.shape().size(), 1);
  Shape shape = x.shape();
  if (!shape.empty()) shape[normalize_dim(*dim, x.dim(), "reduce")] = 1;
  return shape;
}

Tensor sum_impl(const Tensor& x, const int64_t* dim, bool keepdim) {
  Tensor out = reduce_kernel(ReduceOp::Sum, x, dim, keepdim, "sum");
  // Every input element contributed once: the gradient is the output's, spread back.
  // (Without a dropped dim no reshape is needed: expand adds missing dims on the left.)
  bool dropped_dim = dim != nullptr && !keepdim;
  int64_t d = dim ? *dim : 0;
  return record_op("sum", {x}, out, [x, dropped_dim, d](const Tensor& grad) {
    return Grads{dropped_dim ? grad.reshape(keepdim_shape(x, &d)).expand(x.shape()) : grad.expand(x.shape())};
  });
}

Tensor extremum_impl(ReduceOp op, const Tensor& x, const int64_t* dim, bool keepdim, const char* name) {
  Tensor out = reduce_kernel(op, x, dim, keepdim, name);
  Shape kept = keepdim_shape(x, dim);
  Tensor winners_value = out.detach().reshape(kept);
  return record_op(name, {x}, out, [x, winners_value, kept](const Tensor& grad) {
    // The gradient goes to the elements equal to the extremum, shared among ties.
    Tensor is_winner = eq(x, winners_value);
    Tensor share = is_winner / sum_to_shape(is_winner, kept);
    return Grads{share * grad.reshape(kept)};
  });
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

Tensor argmax(const Tensor& x) { return reduce_kernel(ReduceOp::ArgMax, x, nullptr, false, "argmax"); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return reduce_kernel(ReduceOp::ArgMax, x, &dim, keepdim, "argmax");
}
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
