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
#include <cstring>

#include "ember/backend.h"

#ifndef EMBER_HOST_DEVICE
#ifdef __CUDACC__
#define EMBER_HOST_DEVICE __host__ __device__
#else
#define EMBER_HOST_DEVICE
#endif
#endif

// Always inlined: the vectoriser sees through a formula only once it sits in the loop body.
#ifndef EMBER_ALWAYS_INLINE
#if defined(__CUDACC__)
#define EMBER_ALWAYS_INLINE __forceinline__
#elif defined(__GNUC__)
#define EMBER_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EMBER_ALWAYS_INLINE inline
#endif
#endif

namespace ember::formulas {

// ---- gelu ------------------------------------------------------------------------------
// GELU runs on every hidden activation of a transformer's MLP (a quarter of a million values per
// layer and step in nanoGPT's small settings), so its formulas are written to vectorise: only
// +, -, *, /, fmaf, comparisons and bit moves (erff, expf and tanhf are scalar libm calls the
// compiler cannot vectorise; with them the exact GELU of one layer took longer than its matrix
// products). The three helpers below are the standard constructions:
//   exp_poly:  Cephes' expf: e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln(2) / 2, e^r by a
//              degree-7 polynomial; within 2 ulp of e^x (underflows to 2^-126, not to 0).
//   erf_poly:  Abramowitz and Stegun 7.1.26, |error| < 1.5e-7: the erf that PyTorch's own
//              vectorised CPU GELU uses (Vectorized<float>::erf).
//   tanh_poly: 1 - 2 / (e^(2|u|) + 1) with u's sign; absolute error about 1e-7.
// Every backend uses them, so the reference loops, the fast CPU and the GPU agree.
//
// Their polynomials step with fmaf, a multiply and an add rounded once (a fused multiply-add):
// one instruction instead of two on CPUs with FMA (the fast backend's AVX-512 and AVX2+FMA
// clones) and on GPUs, which makes GELU about 1.3x faster, and a little more accurate. fmaf is
// exact-then-rounded everywhere (where the CPU code is built without FMA, as the reference
// backend and the baseline clone, it is a libm call: slower, the same bits), so the two CPU
// backends still agree bit for bit; CUDA's other operations may still be contracted.

// The bits of a float and back (a bit cast: memcpy on the host, the intrinsic on the GPU).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE uint32_t float_bits(float value) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(value);
#else
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
#endif
}
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float float_from_bits(uint32_t bits) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
#endif
}

// c0 + c1 t + c2 t^2 + ..., by Horner's rule: c0 + t (c1 + t (c2 + ...)), one fmaf a
// coefficient. (Recursion, not a loop over an array, so that it unrolls before the vectoriser
// sees it.)
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float polynomial(float, float c0) { return c0; }
template <typename... Higher>
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float polynomial(float t, float c0, Higher... higher) {
  return fmaf(polynomial(t, higher...), t, c0);
}

EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float exp_poly(float x) {
  // Inside the range whose result is a normal float; a NaN fails both tests and stays NaN.
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  // n = round(x / ln 2): adding 1.5 * 2^23 rounds to a whole number, and n sits in the low bits.
  const float kRound = 12582912.0f;
  const float shifted = fmaf(x, 1.44269504088896341f, kRound);
  const float n = shifted - kRound;
  const uint32_t n_plus_127 = float_bits(shifted) - float_bits(kRound) + 127u;  // 1..254
  // r = x - n ln 2, in two steps (Cody and Waite): n * 0.693359375 is exact.
  float r = fmaf(n, -0.693359375f, x);
  r = fmaf(n, 2.12194440e-4f, r);
  // e^r = 1 + r + r^2 (1/2 + r/6 + ...): Cephes' coefficients, close to 1/k!.
  const float tail = polynomial(r, 5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                                    8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f);
  const float p = fmaf(tail, r * r, r) + 1.0f;
  return p * float_from_bits(n_plus_127 << 23);  // times 2^n
}

// exp(-a^2) for a >= 0, as erf and the normal density need it, or exactly 0 beyond a = 9
// (|x| > 12.73 for GELU's a = |x| / sqrt 2). Beyond there exp(-a^2) < 7e-36: erf is +-1 either
// way, and GELU and its derivative change by less than 1e-34 (a value that was about -1e-35
// becomes 0). But its products with the small factors around it would be subnormal, and Intel
// cores take a slow path on every subnormal: without the cut-off, a GELU of values spread over
// +-20 ran 5x slower (889 vs 170 us for a (768, 512) tensor).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float exp_minus_square(float a) {
  return a > 9.0f ? 0.0f : exp_poly(-a * a);
}

// erf(x) = 1 - erf_tail(t) e^(-x^2) for x >= 0, t = 1 / (1 + 0.3275911 x), where
// erf_tail(t) = t (a1 + a2 t + ... + a5 t^4).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float erf_tail(float t) {
  return t * polynomial(t, 0.254829592f, -0.284496736f, 1.421413741f, -1.453152027f, 1.061405429f);
}
// erf(x), given e = exp(-x^2): for callers that need exp(-x^2) for something else too.
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float erf_given_exp(float x, float e) {
  const float t = 1.0f / fmaf(0.3275911f, fabsf(x), 1.0f);
  return copysignf(fmaf(-erf_tail(t), e, 1.0f), x);
}
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float erf_poly(float x) {
  return erf_given_exp(x, exp_minus_square(fabsf(x)));
}

EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float tanh_poly(float u) {
  const float y = 1.0f - 2.0f / (exp_poly(2.0f * fabsf(u)) + 1.0f);
  return copysignf(y, u);
}

// GELU's constants, as PyTorch writes them (aten/src/ATen/native/cpu/Activation.cpp).
constexpr float kSqrtHalf = 0.70710678118654752440f;        // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;      // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;     // sqrt(2 / pi)
constexpr float kGeluTanhCubic = 0.044715f;

// gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)): approximate "none" ...
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float gelu(float x) { return x * 0.5f * (1.0f + erf_poly(x * kSqrtHalf)); }
// ... and "tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float gelu_tanh(float x) {
  const float inner = kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x);
  return 0.5f * x * (1.0f + tanh_poly(inner));
}
// Their derivatives (PyTorch's GeluBackward): d/dx x Phi(x) = Phi(x) + x phi(x), phi the
// standard normal density ...
// exp(-x^2 / 2) is computed once and gives both erf(x / sqrt 2) and phi(x): one exp per element
// instead of two.
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float gelu_derivative(float x) {
  const float z = x * kSqrtHalf;
  const float e = exp_minus_square(fabsf(z));  // exp(-x^2 / 2)
  const float cdf = 0.5f * (1.0f + erf_given_exp(z, e));
  const float pdf = e * kInvSqrt2Pi;
  return fmaf(x, pdf, cdf);
}
// ... and d/dx 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3):
//   0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float gelu_tanh_derivative(float x) {
  const float x_sq = x * x;
  const float inner = kSqrt2OverPi * (x + kGeluTanhCubic * x_sq * x);
  const float t = tanh_poly(inner);
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

// ---- layer norm and attention (F::layer_norm, F::scaled_dot_product_attention) ------------
// One element of layer_norm's output: x normalised with its row's mean and 1/std, then scaled
// and shifted (weight 1 and bias 0 when the layer has none).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float layer_norm_element(float x, float mean, float rstd,
                                                             float weight, float bias) {
  return (x - mean) * rstd * weight + bias;
}
// One element of its input gradient. gw = grad * weight and xhat = (x - mean) * rstd at this
// element; mean_gw and mean_gw_xhat are the row's means of gw and of gw * xhat. (The gradient
// of xhat through the mean and the variance: the two means take out the parts of gw that only
// move the whole row, or only stretch it.)
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float layer_norm_grad_element(float gw, float xhat, float rstd,
                                                                  float mean_gw,
                                                                  float mean_gw_xhat) {
  return rstd * (gw - mean_gw - xhat * mean_gw_xhat);
}
// Whether attention lets query i see key j: always, or with is_causal only keys up to i
// (PyTorch's is_causal: the lower triangle, aligned at the top left when L != S).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE bool attention_visible(bool causal, int64_t i, int64_t j) {
  return !causal || j <= i;
}
// One element of the gradient of attention's scores: softmax's gradient p (dp - sum_j dp p)
// with row_dot = sum_j dp p over the row; 0 where p is 0 (a masked score).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float attention_score_grad(float p, float dp, float row_dot) {
  return p * (dp - row_dot);
}

// x, or +0 when x is subnormal (a float below about 1.2e-38 in magnitude: its exponent bits
// are all zero). The state the optimizers carry from step to step in the numerator of their
// update (SGD's momentum buffer, Adam's m) goes through it, one difference from PyTorch: a
// gradient that stays 0 (the weight of a pixel that is blank in every image, a ReLU unit that
// never fires) leaves that state shrinking by its beta every step, subnormal after about 800
// steps, and on Intel cores an operation on a subnormal float takes a slow path about a
// hundred times longer: with them, Adam took half of a q3 MLP epoch (1.17 s against 0.52 s
// flushed, on this course's Xeon). Such a state moves its parameter by less than
// lr * 1.2e-38 / eps in Adam (1.2e-33 with lr 1e-3 and eps 1e-8), and lr * 1.2e-38 in SGD:
// no parameter larger than about 1e-25 changes, so the parameters stay PyTorch's. (Adam's v,
// a denominator, is not flushed: setting it to 0 would make a step larger, not smaller; it
// shrinks by 0.999 a step and takes some 70,000 steps of zero gradient to become subnormal.)
// An integer test, so that a vectorised loop may use it (a float comparison could trap, which
// keeps the compiler from turning the choice into a vector blend).
EMBER_HOST_DEVICE EMBER_ALWAYS_INLINE float flush_subnormal(float x) {
  return (float_bits(x) & 0x7f800000u) == 0 ? 0.0f : x;
}

// PyTorch's SGD for one parameter element (backend.h has the rule). buffer is the momentum
// buffer's element, read and written only when momentum != 0 (and flushed after the first
// step: flush_subnormal).
EMBER_HOST_DEVICE inline void sgd_update(float& param, float grad, float& buffer, float lr,
                                         float momentum, float dampening, float weight_decay,
                                         bool nesterov, bool first_step) {
  float g = grad + weight_decay * param;
  if (momentum != 0.0f) {
    buffer = first_step ? g : flush_subnormal(momentum * buffer + (1.0f - dampening) * g);
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
// m goes through flush_subnormal (above).
EMBER_HOST_DEVICE inline void adam_moments_update(float& param, float g, float& exp_avg,
                                                  float& exp_avg_sq, float beta1, float beta2,
                                                  float eps, AdamStep step) {
  const float m = flush_subnormal(beta1 * exp_avg + (1.0f - beta1) * g);
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
