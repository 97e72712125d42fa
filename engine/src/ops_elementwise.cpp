// Element-wise ops with NumPy broadcasting, and their gradients.
//
// A gradient of a broadcast input is summed back to the input's shape (sum_to_shape):
// if b (3,) was added to every row of a (2, 3), each b[j] influenced two outputs, so its
// gradient is the sum of the two.
#include <cmath>
#include <string>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {

using Grads = std::vector<Tensor>;

Tensor unary_kernel(UnaryOp op, const Tensor& x, const char* name, float a = 0.0f, float b = 0.0f) {
  check_defined(x, name);
  Tensor input = x.contiguous();
  Tensor out = empty_tensor(x.shape(), x.device());
  backend_of(x).unary(op, input.data_ptr(), out.data_ptr(), out.numel(), a, b);
  return out;
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name);
  check_defined(b, name);
  check_same_device(a, b, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty_tensor(shape, a.device());
  backend_of(a).binary(op, storage_data(a), broadcast_layout(a, shape), storage_data(b),
                       broadcast_layout(b, shape), out.data_ptr(), layout_of(out));
  return out;
}

// Records an op of one input whose gradient is grad * local_derivative().
template <typename Derivative>
Tensor record_unary(const char* name, const Tensor& x, Tensor out, Derivative derivative) {
  return record_op(name, {x}, std::move(out),
                   [derivative](const Tensor& grad) { return Grads{grad * derivative()}; });
}

Tensor scalar_tensor_like(float value, const Tensor& like) { return full({}, value, like.device()); }

}  // namespace

// ---- tensor with tensor ----------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Add, a, b, "add");
  // The gradients need only the inputs' shapes, so the closure keeps those and not the
  // inputs: they can be freed once the forward pass is done with them. (Closures that need an
  // input's values keep its handle, not a detached copy: copying a handle allocates nothing.
  // Only an op's own output must never be kept undetached: the node would own itself.)
  return record_op("add", {a, b}, out, [a_shape = a.shape(), b_shape = b.shape()](const Tensor& grad) {
    return Grads{sum_to_shape(grad, a_shape), sum_to_shape(grad, b_shape)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Sub, a, b, "sub");
  return record_op("sub", {a, b}, out, [a_shape = a.shape(), b_shape = b.shape()](const Tensor& grad) {
    return Grads{sum_to_shape(grad, a_shape), sum_to_shape(-grad, b_shape)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Mul, a, b, "mul");
  // Each input's gradient needs the other input's value, and the closure keeps only those
  // (h * mask keeps the mask, not the activation h, when only h needs a gradient).
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const Tensor b_for_grad_a = need_a ? b : Tensor(), a_for_grad_b = need_b ? a : Tensor();
  return record_op("mul", {a, b}, out, [=, a_shape = a.shape(), b_shape = b.shape()](const Tensor& grad) {
    return Grads{need_a ? sum_to_shape(grad * b_for_grad_a, a_shape) : Tensor(),
                 need_b ? sum_to_shape(grad * a_for_grad_b, b_shape) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Div, a, b, "div");
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  // Both gradients need b; only b's needs a, so a is kept only then.
  const Tensor a_for_grad_b = need_b ? a : Tensor();
  return record_op("div", {a, b}, out, [=, a_shape = a.shape()](const Tensor& grad) {
    // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2
    return Grads{need_a ? sum_to_shape(grad / b, a_shape) : Tensor(),
                 need_b ? sum_to_shape(-grad * a_for_grad_b / (b * b), b.shape()) : Tensor()};
  });
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  Tensor out = binary_kernel(BinaryOp::Pow, base, exponent, "pow");
  Tensor out_value = out.detach();  // the node must not own its own output
  bool need_exponent = exponent.requires_grad();
  return record_op("pow", {base, exponent}, out, [=](const Tensor& grad) {
    // d(b^e)/db = e * b^(e-1), which is 0 where e = 0 (not 0 * inf at b = 0);
    // d(b^e)/de = b^e * ln(b), which is 0 at b = 0 for e >= 0 (the limit, as PyTorch).
    Tensor zero = scalar_tensor_like(0.0f, grad);
    Tensor local_base = where(exponent == 0.0f, zero,
                              exponent * pow(base, exponent - 1.0f));
    Grads grads{sum_to_shape(grad * local_base, base.shape()), Tensor()};
    if (need_exponent) {
      Tensor local_exponent =
          where((base == 0.0f) * (exponent >= 0.0f), zero, out_value * log(base));
      grads[1] = sum_to_shape(grad * local_exponent, exponent.shape());
    }
    return grads;
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Maximum, a, b, "maximum");
  return record_op("maximum", {a, b}, out, [a, b](const Tensor& grad) {
    // The larger input takes the gradient; a tie shares it equally (as PyTorch).
    Tensor share_a = gt(a, b) + eq(a, b) * 0.5f;
    return Grads{sum_to_shape(grad * share_a, a.shape()),
                 sum_to_shape(grad * (1.0f - share_a), b.shape())};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::Minimum, a, b, "minimum");
  return record_op("minimum", {a, b}, out, [a, b](const Tensor& grad) {
    Tensor share_a = lt(a, b) + eq(a, b) * 0.5f;
    return Grads{sum_to_shape(grad * share_a, a.shape()),
                 sum_to_shape(grad * (1.0f - share_a), b.shape())};
  });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }

// ---- tensor with scalar ------------------------------------------------------------------

Tensor operator+(const Tensor& a, float b) {
  Tensor out = unary_kernel(UnaryOp::AddScalar, a, "add", b);
  return record_op("add", {a}, out, [](const Tensor& grad) { return Grads{grad}; });
}
Tensor operator-(const Tensor& a, float b) {
  Tensor out = unary_kernel(UnaryOp::AddScalar, a, "sub", -b);
  return record_op("sub", {a}, out, [](const Tensor& grad) { return Grads{grad}; });
}
Tensor operator*(const Tensor& a, float b) {
  Tensor out = unary_kernel(UnaryOp::MulScalar, a, "mul", b);
  return record_op("mul", {a}, out, [b](const Tensor& grad) { return Grads{grad * b}; });
}
Tensor operator/(const Tensor& a, float b) {
  const float reciprocal = 1.0f / b;  // one multiply per element instead of a division
  Tensor out = unary_kernel(UnaryOp::MulScalar, a, "div", reciprocal);
  return record_op("div", {a}, out, [reciprocal](const Tensor& grad) { return Grads{grad * reciprocal}; });
}
Tensor operator+(float a, const Tensor& b) { return b + a; }
Tensor operator*(float a, const Tensor& b) { return b * a; }
Tensor operator-(float a, const Tensor& b) {
  Tensor out = unary_kernel(UnaryOp::RsubScalar, b, "sub", a);
  return record_op("sub", {b}, out, [](const Tensor& grad) { return Grads{-grad}; });
}
Tensor operator/(float a, const Tensor& b) {
  Tensor out = unary_kernel(UnaryOp::RdivScalar, b, "div", a);
  return record_op("div", {b}, out, [a, b](const Tensor& grad) {
    return Grads{grad * (-a) / (b * b)};  // d(a/b)/db = -a/b^2
  });
}

Tensor pow(const Tensor& base, float exponent) {
  Tensor out = unary_kernel(UnaryOp::PowScalar, base, "pow", exponent);
  return record_unary("pow", base, out, [base, exponent] {
    // x^0 is constant: its derivative is 0 everywhere, even where 0 * x^-1 would be NaN.
    if (exponent == 0.0f) return zeros_like(base);
    return pow(base, exponent - 1.0f) * exponent;
  });
}

Tensor pow(float base, const Tensor& exponent) {
  Tensor out = unary_kernel(UnaryOp::RpowScalar, exponent, "pow", base);
  Tensor out_value = out.detach();  // the node must not own its own output
  float log_base = std::log(base);
  return record_unary("pow", exponent, out, [out_value, log_base] { return out_value * log_base; });
}

// ---- functions of one tensor ---------------------------------------------------------------

Tensor neg(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Neg, x, "neg");
  return record_op("neg", {x}, out, [](const Tensor& grad) { return Grads{-grad}; });
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Exp, x, "exp");
  Tensor out_value = out.detach();  // detached: the node must not own its own output
  return record_unary("exp", x, out, [out_value] { return out_value; });
}

Tensor log(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Log, x, "log");
  return record_op("log", {x}, out, [x](const Tensor& grad) { return Grads{grad / x}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Sqrt, x, "sqrt");
  Tensor out_value = out.detach();  // the node must not own its own output
  return record_op("sqrt", {x}, out, [out_value](const Tensor& grad) {
    return Grads{grad * 0.5f / out_value};
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Abs, x, "abs");
  return record_unary("abs", x, out, [x] { return unary_kernel(UnaryOp::Sign, x, "abs"); });
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Relu, x, "relu");
  // The gradient passes where x > 0 or x is NaN, as PyTorch's threshold_backward
  // (x <= 0 ? 0 : grad): a NaN input passes its gradient on rather than silently stopping it.
  return record_op("relu", {x}, out, [x](const Tensor& grad) { return Grads{where(x <= 0.0f, 0.0f, grad)}; });
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh",
              "gelu: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate);
  const bool tanh_form = approximate == "tanh";
  Tensor out = unary_kernel(tanh_form ? UnaryOp::GeluTanh : UnaryOp::Gelu, x, "gelu");
  // One kernel for the gradient: grad * gelu'(x) (formulas.h), as PyTorch's gelu_backward.
  return record_op("gelu", {x}, out, [x, tanh_form](const Tensor& grad) {
    return Grads{binary_kernel(tanh_form ? BinaryOp::GeluTanhBackward : BinaryOp::GeluBackward,
                               grad, x, "gelu")};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Sigmoid, x, "sigmoid");
  Tensor out_value = out.detach();  // the node must not own its own output
  return record_unary("sigmoid", x, out, [out_value] { return out_value * (1.0f - out_value); });
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::Tanh, x, "tanh");
  Tensor out_value = out.detach();  // the node must not own its own output
  return record_unary("tanh", x, out, [out_value] { return 1.0f - out_value * out_value; });
}

Tensor clamp(const Tensor& x, float min, float max) {
  EMBER_CHECK(min <= max, "clamp: min {} is above max {}", min, max);
  Tensor out = unary_kernel(UnaryOp::Clamp, x, "clamp", min, max);
  return record_unary("clamp", x, out, [x, min, max] {
    return unary_kernel(UnaryOp::InRange, x, "clamp", min, max);
  });
}

// One bound only: the other is an infinity, which Clamp's formula passes every number (and a
// NaN) through; the gradient is 1 wherever the bound does not bite.
Tensor clamp_min(const Tensor& x, float min) {
  EMBER_CHECK(min == min, "clamp_min: the bound is NaN");
  Tensor out = unary_kernel(UnaryOp::Clamp, x, "clamp_min", min, INFINITY);
  return record_unary("clamp_min", x, out, [x, min] {
    return unary_kernel(UnaryOp::InRange, x, "clamp_min", min, INFINITY);
  });
}

Tensor clamp_max(const Tensor& x, float max) {
  EMBER_CHECK(max == max, "clamp_max: the bound is NaN");
  Tensor out = unary_kernel(UnaryOp::Clamp, x, "clamp_max", -INFINITY, max);
  return record_unary("clamp_max", x, out, [x, max] {
    return unary_kernel(UnaryOp::InRange, x, "clamp_max", -INFINITY, max);
  });
}

// ---- comparisons (not differentiable) ------------------------------------------------------

Tensor eq(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::Ge, a, b, "ge"); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, float b) { return unary_kernel(UnaryOp::EqScalar, a, "eq", b); }
Tensor operator!=(const Tensor& a, float b) { return unary_kernel(UnaryOp::NeScalar, a, "ne", b); }
Tensor operator<(const Tensor& a, float b) { return unary_kernel(UnaryOp::LtScalar, a, "lt", b); }
Tensor operator<=(const Tensor& a, float b) { return unary_kernel(UnaryOp::LeScalar, a, "le", b); }
Tensor operator>(const Tensor& a, float b) { return unary_kernel(UnaryOp::GtScalar, a, "gt", b); }
Tensor operator>=(const Tensor& a, float b) { return unary_kernel(UnaryOp::GeScalar, a, "ge", b); }

// ---- selection -------------------------------------------------------------------------------

Tensor where(const Tensor& condition, const Tensor& x, const Tensor& y) {
  for (const Tensor* t : {&condition, &x, &y}) check_defined(*t, "where");
  check_same_device(condition, x, "where");
  check_same_device(x, y, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(condition.shape(), x.shape(), "where"), y.shape(), "where");
  Tensor out = empty_tensor(shape, x.device());
  backend_of(x).where(storage_data(condition), broadcast_layout(condition, shape), storage_data(x),
                      broadcast_layout(x, shape), storage_data(y), broadcast_layout(y, shape),
                      out.data_ptr(), layout_of(out));
  Tensor condition_value = condition.detach();  // not an input: no graph behind it is kept
  Shape shape_x = x.shape(), shape_y = y.shape();
  bool need_x = x.requires_grad(), need_y = y.requires_grad();  // masked_fill's value needs none
  return record_op("where", {x, y}, out, [=](const Tensor& grad) {
    Tensor zero = scalar_tensor_like(0.0f, grad);
    return Grads{need_x ? sum_to_shape(where(condition_value, grad, zero), shape_x) : Tensor(),
                 need_y ? sum_to_shape(where(condition_value, zero, grad), shape_y) : Tensor()};
  });
}

Tensor where(const Tensor& condition, const Tensor& x, float y) {
  return where(condition, x, scalar_tensor_like(y, x));
}

Tensor where(const Tensor& condition, float x, const Tensor& y) {
  return where(condition, scalar_tensor_like(x, y), y);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  check_defined(x, "masked_fill");
  check_defined(mask, "masked_fill");
  // As torch.masked_fill, x and the mask broadcast against each other: a (1, 1, T, T) mask
  // on (B, T, T) scores gives (1, B, T, T). A shape neither fits is refused by
  // broadcast_shapes, with both shapes in the message.
  broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  return where(mask, scalar_tensor_like(value, x), x);  // where broadcasts all three
}

}  // namespace ember
