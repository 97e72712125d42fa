// Vectorised, threaded SGD, Adam and AdamW updates (see optimizer_kernels.h).
//
// Why it matters: Adam touches 7 floats of memory per parameter (4 read, 3 written), 6.6 MB
// per step for the q3 MLP's 235,146 parameters. As a plain loop compiled for baseline x86-64
// (SSE: 4 floats at a time, two divisions each) on one thread it took 0.5 ms per step on one
// core, more than the forward and backward passes together; as below it takes about 0.1 ms,
// and what is left is the memory traffic.
//
// Each loop body uses only its own element, so:
//   * the compiler vectorises it (EMBER_TARGET_CLONES: 16 floats a step with AVX-512), which
//     also needs -fno-math-errno for sqrt (set for the engine in engine/CMakeLists.txt);
//   * parallel_for may cut [0, count) anywhere, and every element gets the same result.
#include "fast_cpu/optimizer_kernels.h"

#include <cmath>
#include <functional>

#include "fast_cpu/target_clones.h"
#include "fast_cpu/thread_pool.h"
#include "formulas.h"

namespace ember::cpu {
namespace {

// Below this many elements an update runs on one thread: it takes ~10 us on one core, about
// what handing half of it to a second core costs.
constexpr int64_t kUpdateGrain = 16384;

template <typename Fn>
void for_each_chunk(int64_t count, Fn&& fn) {
  if (count <= kUpdateGrain) {
    if (count > 0) fn(int64_t{0}, count);
    return;
  }
  // std::ref: parallel_for's std::function refers to fn instead of copying it onto the heap.
  parallel_for(0, count, kUpdateGrain, std::ref(fn));
}

// Elements [begin, end) of one Adam update (formulas::adam_update). __restrict: the buffers
// never overlap, which lets the compiler vectorise without run-time overlap checks.
EMBER_TARGET_CLONES
void adam_range(float* __restrict param, const float* __restrict grad, float* __restrict exp_avg,
                float* __restrict exp_avg_sq, int64_t begin, int64_t end, float beta1,
                float beta2, float eps, float weight_decay, formulas::AdamStep step) {
  for (int64_t i = begin; i < end; ++i) {
    formulas::adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps,
                          weight_decay, step);
  }
}

// Elements [begin, end) of one AdamW update (formulas::adamw_update).
EMBER_TARGET_CLONES
void adamw_range(float* __restrict param, const float* __restrict grad, float* __restrict exp_avg,
                 float* __restrict exp_avg_sq, int64_t begin, int64_t end, float beta1,
                 float beta2, float eps, float decay, formulas::AdamStep step) {
  for (int64_t i = begin; i < end; ++i) {
    formulas::adamw_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps, decay,
                           step);
  }
}

// Elements [begin, end) of one SGD update with momentum (formulas::sgd_update).
EMBER_TARGET_CLONES
void sgd_momentum_range(float* __restrict param, const float* __restrict grad,
                        float* __restrict buffer, int64_t begin, int64_t end, float lr,
                        float momentum, float dampening, float weight_decay, bool nesterov,
                        bool first_step) {
  for (int64_t i = begin; i < end; ++i) {
    formulas::sgd_update(param[i], grad[i], buffer[i], lr, momentum, dampening, weight_decay,
                         nesterov, first_step);
  }
}

// Elements [begin, end) of plain SGD: the same formula with momentum 0 (which folds away).
EMBER_TARGET_CLONES
void sgd_range(float* __restrict param, const float* __restrict grad, int64_t begin, int64_t end,
               float lr, float weight_decay) {
  float no_buffer = 0.0f;
  for (int64_t i = begin; i < end; ++i) {
    formulas::sgd_update(param[i], grad[i], no_buffer, lr, 0.0f, 0.0f, weight_decay, false, false);
  }
}

}  // namespace

void sgd_update(float* param, const float* grad, float* momentum_buffer, int64_t count, float lr,
                float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step) {
  if (momentum == 0.0f) {
    for_each_chunk(count, [&](int64_t begin, int64_t end) {
      sgd_range(param, grad, begin, end, lr, weight_decay);
    });
    return;
  }
  for_each_chunk(count, [&](int64_t begin, int64_t end) {
    sgd_momentum_range(param, grad, momentum_buffer, begin, end, lr, momentum, dampening,
                       weight_decay, nesterov, first_step);
  });
}

void adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t count,
                 float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step) {
  const formulas::AdamStep step_constants = formulas::adam_step_for(lr, beta1, beta2, step);
  for_each_chunk(count, [&](int64_t begin, int64_t end) {
    adam_range(param, grad, exp_avg, exp_avg_sq, begin, end, beta1, beta2, eps, weight_decay,
               step_constants);
  });
}

void adamw_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                  int64_t count, float lr, float beta1, float beta2, float eps, float weight_decay,
                  int64_t step) {
  const formulas::AdamStep step_constants = formulas::adam_step_for(lr, beta1, beta2, step);
  const float decay = formulas::adamw_decay_for(lr, weight_decay);
  for_each_chunk(count, [&](int64_t begin, int64_t end) {
    adamw_range(param, grad, exp_avg, exp_avg_sq, begin, end, beta1, beta2, eps, decay,
                step_constants);
  });
}

}  // namespace ember::cpu
