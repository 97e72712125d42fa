// Optimizer updates, one parameter element per loop step; the formulas are in formulas.h.
#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {

void ReferenceBackend::sgd_step(float* param, const float* grad, float* momentum_buffer,
                                int64_t count, float lr, float momentum, float dampening,
                                float weight_decay, bool nesterov, bool first_step) {
  float no_buffer = 0.0f;  // momentum_buffer may be null when momentum is 0
  for (int64_t i = 0; i < count; ++i) {
    float& buffer = momentum != 0.0f ? momentum_buffer[i] : no_buffer;
    formulas::sgd_update(param[i], grad[i], buffer, lr, momentum, dampening, weight_decay,
                         nesterov, first_step);
  }
}

void ReferenceBackend::adam_step(float* param, const float* grad, float* exp_avg,
                                 float* exp_avg_sq, int64_t count, float lr, float beta1,
                                 float beta2, float eps, float weight_decay, int64_t step) {
  const formulas::AdamStep corrections = formulas::adam_step_for(lr, beta1, beta2, step);
  for (int64_t i = 0; i < count; ++i) {
    formulas::adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps,
                          weight_decay, corrections);
  }
}

void ReferenceBackend::adamw_step(float* param, const float* grad, float* exp_avg,
                                  float* exp_avg_sq, int64_t count, float lr, float beta1,
                                  float beta2, float eps, float weight_decay, int64_t step) {
  const formulas::AdamStep corrections = formulas::adam_step_for(lr, beta1, beta2, step);
  const float decay = formulas::adamw_decay_for(lr, weight_decay);
  for (int64_t i = 0; i < count; ++i) {
    formulas::adamw_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps, decay,
                           corrections);
  }
}

}  // namespace ember::reference
