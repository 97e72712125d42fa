// Optimizer updates, one parameter element per loop step (the rules are in backend.h).
#include <cmath>

#include "reference/reference_backend.h"

namespace ember::reference {

void ReferenceBackend::sgd_step(float* param, const float* grad, float* momentum_buffer,
                                int64_t count, float lr, float momentum, float dampening,
                                float weight_decay, bool nesterov, bool first_step) {
  for (int64_t i = 0; i < count; ++i) {
    float g = grad[i] + weight_decay * param[i];
    if (momentum != 0.0f) {
      const float buffer =
          first_step ? g : momentum * momentum_buffer[i] + (1.0f - dampening) * g;
      momentum_buffer[i] = buffer;
      g = nesterov ? g + momentum * buffer : buffer;
    }
    param[i] -= lr * g;
  }
}

void ReferenceBackend::adam_step(float* param, const float* grad, float* exp_avg,
                                 float* exp_avg_sq, int64_t count, float lr, float beta1,
                                 float beta2, float eps, float weight_decay, int64_t step) {
  // Bias corrections in double, as PyTorch computes them in Python floats.
  const double correction1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
  const float step_size = static_cast<float>(lr / correction1);
  const float correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  for (int64_t i = 0; i < count; ++i) {
    const float g = grad[i] + weight_decay * param[i];
    exp_avg[i] = beta1 * exp_avg[i] + (1.0f - beta1) * g;
    exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
    param[i] -= step_size * exp_avg[i] / (std::sqrt(exp_avg_sq[i]) / correction2_sqrt + eps);
  }
}

}  // namespace ember::reference
