// Element-wise kernels: unary, binary and where, one output element per loop step.
#include <algorithm>
#include <cmath>

#include "reference/reference_backend.h"

namespace ember::reference {
namespace {

float apply_unary(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Relu: return x > 0.0f ? x : 0.0f;
    case UnaryOp::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::RsubScalar: return a - x;
    case UnaryOp::RdivScalar: return a / x;
    case UnaryOp::PowScalar: return std::pow(x, a);
    case UnaryOp::RpowScalar: return std::pow(a, x);
    case UnaryOp::Clamp: return std::min(std::max(x, a), b);
    case UnaryOp::Sign: return static_cast<float>((x > 0.0f) - (x < 0.0f));
    case UnaryOp::GtScalar: return x > a ? 1.0f : 0.0f;
    case UnaryOp::GeScalar: return x >= a ? 1.0f : 0.0f;
    case UnaryOp::LtScalar: return x < a ? 1.0f : 0.0f;
    case UnaryOp::LeScalar: return x <= a ? 1.0f : 0.0f;
    case UnaryOp::EqScalar: return x == a ? 1.0f : 0.0f;
    case UnaryOp::NeScalar: return x != a ? 1.0f : 0.0f;
    case UnaryOp::InRange: return (x >= a && x <= b) ? 1.0f : 0.0f;
  }
  return 0.0f;
}

float apply_binary(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Pow: return std::pow(x, y);
    // The larger (smaller) value; a NaN in either input gives NaN.
    case BinaryOp::Maximum: return x > y ? x : (x < y ? y : (std::isnan(x) ? x : y));
    case BinaryOp::Minimum: return x < y ? x : (x > y ? y : (std::isnan(x) ? x : y));
    case BinaryOp::Eq: return x == y ? 1.0f : 0.0f;
    case BinaryOp::Ne: return x != y ? 1.0f : 0.0f;
    case BinaryOp::Lt: return x < y ? 1.0f : 0.0f;
    case BinaryOp::Le: return x <= y ? 1.0f : 0.0f;
    case BinaryOp::Gt: return x > y ? 1.0f : 0.0f;
    case BinaryOp::Ge: return x >= y ? 1.0f : 0.0f;
  }
  return 0.0f;
}

}  // namespace

// in and out: contiguous (count,).
void ReferenceBackend::unary(UnaryOp op, const float* in, float* out, int64_t count, float a,
                             float b) {
  for (int64_t i = 0; i < count; ++i) out[i] = apply_unary(op, in[i], a, b);
}

// out: contiguous, out_layout's shape; x and y already broadcast to it (stride 0 repeats).
void ReferenceBackend::binary(BinaryOp op, const float* x, const StridedLayout& x_layout,
                              const float* y, const StridedLayout& y_layout, float* out,
                              const StridedLayout& out_layout) {
  const int64_t count = out_layout.numel();
  for (int64_t i = 0; i < count; ++i) {
    out[position_of(out_layout, i)] =
        apply_binary(op, x[position_of(x_layout, i)], y[position_of(y_layout, i)]);
  }
}

void ReferenceBackend::where(const float* condition, const StridedLayout& condition_layout,
                             const float* x, const StridedLayout& x_layout, const float* y,
                             const StridedLayout& y_layout, float* out,
                             const StridedLayout& out_layout) {
  const int64_t count = out_layout.numel();
  for (int64_t i = 0; i < count; ++i) {
    const bool take_x = condition[position_of(condition_layout, i)] != 0.0f;
    out[position_of(out_layout, i)] =
        take_x ? x[position_of(x_layout, i)] : y[position_of(y_layout, i)];
  }
}

}  // namespace ember::reference
