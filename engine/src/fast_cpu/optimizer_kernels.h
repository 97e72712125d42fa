// The CPU optimizer updates behind Backend::sgd_step, Backend::adam_step and
// Backend::adamw_step.
//
// Each is one pass over a parameter: read param, grad and the state buffers once, write
// param and state once. The update of an element depends on nothing else, so the pass is
// vectorised (target_clones.h) and split across the thread pool for large parameters, and
// the result is the same whatever the thread count.
#pragma once

#include <cstdint>

namespace ember::cpu {

// Arguments as Backend::sgd_step (backend.h); momentum_buffer may be null when momentum == 0.
void sgd_update(float* param, const float* grad, float* momentum_buffer, int64_t count, float lr,
                float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step);

// Arguments as Backend::adam_step (backend.h).
void adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t count,
                 float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step);

// Arguments as Backend::adamw_step (backend.h).
void adamw_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                  int64_t count, float lr, float beta1, float beta2, float eps, float weight_decay,
                  int64_t step);

}  // namespace ember::cpu
