// Vectorised, threaded GELU forward and backward (see activation_kernels.h).
//
// Why it matters: in nanoGPT's laptop settings the MLP's GELU sees 4 x 393,216 values per
// step forward and again backward. With erff/expf/tanhf from libm (one scalar call per value)
// one (768, 512) GELU took several milliseconds, longer than the matrix product before it;
// the formulas.h versions use only arithmetic (fmaf included) and bit moves, so these loops run
// 8 or 16 values at a time.
//
// no-trapping-math: the clamps in formulas::exp_poly are selects (x > c ? c : x), which GCC
// turns into vector blends only when it may assume that comparisons do not trap. Ember never
// enables floating-point traps, and the setting changes no result, only what the compiler may
// reorder; fp-contract=off (as EMBER_TARGET_CLONES) keeps every rounding as written, so the
// result is the reference backend's, bit for bit.
//
// EMBER_AVX2_FMA_CLONE (target_clones.h) instead of "avx2": AVX2 together with FMA, so that the
// fmaf of formulas.h's polynomials become vector instructions.
#include "fast_cpu/activation_kernels.h"

#include <functional>

#include "fast_cpu/target_clones.h"
#include "fast_cpu/thread_pool.h"
#include "formulas.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__)
#define EMBER_GELU_CLONES                                             \
  __attribute__((target_clones("avx512f", EMBER_AVX2_FMA_CLONE, "default"), \
                 optimize("fp-contract=off", "no-trapping-math")))
#else
#define EMBER_GELU_CLONES
#endif

namespace ember::cpu {
namespace {

// Below this many elements a call runs on one thread.
constexpr int64_t kGeluGrain = 16384;

template <typename Fn>
void for_each_chunk(int64_t count, Fn&& fn) {
  if (count <= kGeluGrain) {
    if (count > 0) fn(int64_t{0}, count);
    return;
  }
  parallel_for(0, count, kGeluGrain, std::ref(fn));
}

EMBER_GELU_CLONES
void gelu_range(const float* __restrict in, float* __restrict out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = formulas::gelu(in[i]);
}

EMBER_GELU_CLONES
void gelu_tanh_range(const float* __restrict in, float* __restrict out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = formulas::gelu_tanh(in[i]);
}

EMBER_GELU_CLONES
void gelu_backward_range(const float* __restrict grad, const float* __restrict x,
                         float* __restrict grad_in, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) grad_in[i] = grad[i] * formulas::gelu_derivative(x[i]);
}

EMBER_GELU_CLONES
void gelu_tanh_backward_range(const float* __restrict grad, const float* __restrict x,
                              float* __restrict grad_in, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) grad_in[i] = grad[i] * formulas::gelu_tanh_derivative(x[i]);
}

}  // namespace

void gelu_forward(bool tanh_form, const float* in, float* out, int64_t count) {
  for_each_chunk(count, [&](int64_t begin, int64_t end) {
    if (tanh_form) {
      gelu_tanh_range(in, out, begin, end);
    } else {
      gelu_range(in, out, begin, end);
    }
  });
}

void gelu_backward(bool tanh_form, const float* grad, const float* x, float* grad_in, int64_t count) {
  for_each_chunk(count, [&](int64_t begin, int64_t end) {
    if (tanh_form) {
      gelu_tanh_backward_range(grad, x, grad_in, begin, end);
    } else {
      gelu_backward_range(grad, x, grad_in, begin, end);
    }
  });
}

}  // namespace ember::cpu
