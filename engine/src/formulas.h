// The per-element formulas, written once for every backend: the unary and binary maps of
// backend.h and the SGD, Adam and AdamW updates. The reference, fast CPU and CUDA backends all call
// these, so they compute the same function of each element by construction; they differ
// only in how they walk the elements (a plain loop, vectorised threads, GPU threads).
//
// Compiled for the host and, under nvcc, for the GPU (EMBER_HOST_DEVICE). Only functions
// that exist on both sides are used: expf, logf, ... (not std::exp), and x != x for NaN.
#pragma once

#include <cmath>
#include <cstdint>

#include "ember/backend.h"

#ifndef EMBER_HOST_DEVICE
#ifdef __CUDACC__
#define EMBER_HOST_DEVICE __host__ __device__
#else
#define EMBER_HOST_DEVICE
#endif
#endif

namespace ember::formulas {

// GELU's constants, as PyTorch writes them (aten/src/ATen/native/cpu/Activation.cpp).
constexpr float kSqrtHalf = 0.70710678118654752440f;        // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;      // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;     // sqrt(2 / pi)
constexpr float kGeluTanhCubic = 0.044715f;

// gelu(x) = x * Phi(x): approximate "none" (exact, with erf) ...
EMBER_HOST_DEVICE inline float gelu(float x) { return x * 0.5f * (1.0f + erff(x * kSqrtHalf)); }
// ... and "tanh".
EMBER_HOST_DEVICE inline float gelu_tanh(float x) {
  const float inner = kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x);
  return 0.5f * x * (1.0f + tanhf(inner));
}
// Their derivatives: d/dx x Phi(x) = Phi(x) + x phi(x), phi the standard normal density.
EMBER_HOST_DEVICE inline float gelu_derivative(float x) {
  const float cdf = 0.5f * (1.0f + erff(x * kSqrtHalf));
  const float pdf = expf(-0.5f * x * x) * kInvSqrt2Pi;
  return cdf + x * pdf;
}
// d/dx 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3):
//   0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
EMBER_HOST_DEVICE inline float gelu_tanh_derivative(float x) {
  const float x_sq = x * x;
  const float inner = kSqrt2OverPi * (x + kGeluTanhCubic * x_sq * x);
  const float t = tanhf(inner);
  const float left_derivative = 0.5f * (1.0f + t);
  const float right_derivative = (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluTanhCubic * x_sq);
  return left_derivative + 0.5f * x * right_derivative;
}

// out = f(x) for UnaryOp op; a and b are its scalars (backend.h).
EMBER_HOST_DEVICE inline float unary(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return expf(x);
    case UnaryOp::Log: return logf(x);
    case UnaryOp::Sqrt: return sqrtf(x);
    case UnaryOp::Abs: return fabsf(x);
    // x != x keeps a NaN as PyTorch does; x > 0 alone would turn it into 0 and hide it.
    case UnaryOp::Relu: return x != x ? x : (x > 0.0f ? x : 0.0f);
    case UnaryOp::Sigmoid: return 1.0f / (1.0f + expf(-x));
    case UnaryOp::Tanh: return tanhf(x);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::RsubScalar: return a - x;
    case UnaryOp::RdivScalar: return a / x;
    case UnaryOp::PowScalar: return powf(x, a);
    case UnaryOp::RpowScalar: return powf(a, x);
    case UnaryOp::Clamp: {
      // min(max(x, a), b) spelled out: fminf/fmaxf would drop a NaN, this keeps it.
      const float at_least_a = x < a ? a : x;
      return b < at_least_a ? b : at_least_a;
    }
    case UnaryOp::Sign: return static_cast<float>((x > 0.0f) - (x < 0.0f));
    case UnaryOp::GtScalar: return x > a ? 1.0f : 0.0f;
    case UnaryOp::GeScalar: return x >= a ? 1.0f : 0.0f;
    case UnaryOp::LtScalar: return x < a ? 1.0f : 0.0f;
    case UnaryOp::LeScalar: return x <= a ? 1.0f : 0.0f;
    case UnaryOp::EqScalar: return x == a ? 1.0f : 0.0f;
    case UnaryOp::NeScalar: return x != a ? 1.0f : 0.0f;
    case UnaryOp::InRange: return (x >= a && x <= b) ? 1.0f : 0.0f;
    case UnaryOp::Gelu: return gelu(x);
    case UnaryOp::GeluTanh: return gelu_tanh(x);
  }
  return 0.0f;
}

// out = f(x, y) for BinaryOp op.
EMBER_HOST_DEVICE inline float binary(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Pow: return powf(x, y);
    // The larger (smaller) value; a NaN in either input gives NaN (x != x: x is NaN).
    case BinaryOp::Maximum: return x > y ? x : (x < y ? y : (x != x ? x : y));
    case BinaryOp::Minimum: return x < y ? x : (x > y ? y : (x != x ? x : y));
    case BinaryOp::Eq: return x == y ? 1.0f : 0.0f;
    case BinaryOp::Ne: return x != y ? 1.0f : 0.0f;
    case BinaryOp::Lt: return x < y ? 1.0f : 0.0f;
    case BinaryOp::Le: return x <= y ? 1.0f : 0.0f;
    case BinaryOp::Gt: return x > y ? 1.0f : 0.0f;
    case BinaryOp::Ge: return x >= y ? 1.0f : 0.0f;
    case BinaryOp::GeluBackward: return x * gelu_derivative(y);
    case BinaryOp::GeluTanhBackward: return x * gelu_tanh_derivative(y);
  }
  return 0.0f;
}

// Whether value x, met after `best` in an ArgMax (largest) or ArgMin, takes its place. A NaN
// counts as larger and smaller than every number, as PyTorch's argmax/argmin have it, so the
// index points at the NaN that max()/min() report; between two NaNs (or equal values) the
// first stays. Every backend's loop and the GPU's tree use this test, so they agree.
EMBER_HOST_DEVICE inline bool arg_wins(bool largest, float x, float best) {
  if (best != best) return false;  // a NaN is already there: the first NaN wins
  if (x != x) return true;
  return largest ? x > best : x < best;
}

// One element of log_softmax: (x - max) - log(sum of exp(x - max)). Subtracting the max first
// keeps the digits: x - (log(sum) + max) rounds log(sum) against a large max and loses them
// ([-10000, -10000] gives -0.693359 instead of -0.693147).
EMBER_HOST_DEVICE inline float log_softmax_element(float x, float max, float log_sum) {
  return (x - max) - log_sum;
}

// PyTorch's SGD for one parameter element (backend.h has the rule). buffer is the momentum
// buffer's element, read and written only when momentum != 0.
EMBER_HOST_DEVICE inline void sgd_update(float& param, float grad, float& buffer, float lr,
                                         float momentum, float dampening, float weight_decay,
                                         bool nesterov, bool first_step) {
  float g = grad + weight_decay * param;
  if (momentum != 0.0f) {
    buffer = first_step ? g : momentum * buffer + (1.0f - dampening) * g;
    g = nesterov ? g + momentum * buffer : buffer;
  }
  param -= lr * g;
}

// Adam's bias corrections for one step, computed once per call on the host in double (as
// PyTorch does in Python floats): step_size = lr / (1 - beta1^step) and
// correction2_sqrt = sqrt(1 - beta2^step).
struct AdamStep {
  float step_size;
  float correction2_sqrt;
};
inline AdamStep adam_step_for(float lr, float beta1, float beta2, int64_t step) {
  const double correction1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
  return {static_cast<float>(lr / correction1), static_cast<float>(std::sqrt(correction2))};
}

// The step Adam and AdamW share, for one parameter element whose gradient g is final:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   param -= step_size * m / (sqrt(v) / correction2_sqrt + eps)
// Every backend rounds each operation as written (no fused multiply-adds: target_clones.h,
// cuda.cmake), so all give the same bits.
EMBER_HOST_DEVICE inline void adam_moments_update(float& param, float g, float& exp_avg,
                                                  float& exp_avg_sq, float beta1, float beta2,
                                                  float eps, AdamStep step) {
  const float m = beta1 * exp_avg + (1.0f - beta1) * g;
  const float v = beta2 * exp_avg_sq + (1.0f - beta2) * g * g;
  exp_avg = m;
  exp_avg_sq = v;
  param -= step.step_size * m / (sqrtf(v) / step.correction2_sqrt + eps);
}

// PyTorch's Adam for one parameter element: the weight decay is added to the gradient (L2),
//   g = grad + weight_decay * param, then the shared step.
EMBER_HOST_DEVICE inline void adam_update(float& param, float grad, float& exp_avg,
                                          float& exp_avg_sq, float beta1, float beta2, float eps,
                                          float weight_decay, AdamStep step) {
  const float g = grad + weight_decay * param;
  adam_moments_update(param, g, exp_avg, exp_avg_sq, beta1, beta2, eps, step);
}

// AdamW's decay factor, 1 - lr * weight_decay, computed on the host in double (PyTorch's
// param.mul_(1 - lr * weight_decay) with Python floats) and rounded to float once.
inline float adamw_decay_for(float lr, float weight_decay) {
  return static_cast<float>(1.0 - static_cast<double>(lr) * static_cast<double>(weight_decay));
}

// PyTorch's AdamW for one parameter element: decoupled weight decay shrinks the parameter
// (param *= decay, decay = adamw_decay_for(lr, weight_decay)), then the shared step with the
// plain gradient.
EMBER_HOST_DEVICE inline void adamw_update(float& param, float grad, float& exp_avg,
                                           float& exp_avg_sq, float beta1, float beta2, float eps,
                                           float decay, AdamStep step) {
  param = param * decay;
  adam_moments_update(param, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, step);
}

}  // namespace ember::formulas
