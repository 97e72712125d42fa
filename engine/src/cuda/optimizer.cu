// Optimizer updates, one thread per parameter element: PyTorch's SGD and Adam, with the
// CPU backend's formulas written the same way.
//
// This file is compiled with --fmad=false (see cuda.cmake): without fused multiply-adds,
// every operation rounds as on the CPU, and since +, -, *, / and sqrt are correctly
// rounded on both, a step on the GPU gives bit for bit the CPU's parameters.
#include <cmath>

#include "cuda/cuda_common.cuh"
#include "cuda/kernels.cuh"

namespace ember::cuda {
namespace {

// momentum_buffer is only read or written when momentum != 0 (it may be null otherwise).
__global__ void sgd_kernel(float* param, const float* grad, float* momentum_buffer, int64_t count,
                           float lr, float momentum, float dampening, float weight_decay,
                           bool nesterov, bool first_step) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    float g = grad[i] + weight_decay * param[i];
    if (momentum != 0.0f) {
      float buffer = first_step ? g : momentum * momentum_buffer[i] + (1.0f - dampening) * g;
      momentum_buffer[i] = buffer;
      g = nesterov ? g + momentum * buffer : buffer;
    }
    param[i] -= lr * g;
  }
}

// step_size = lr / (1 - beta1^step) and correction2_sqrt = sqrt(1 - beta2^step) come from
// the host, computed in double as the CPU backend (and PyTorch) does.
__global__ void adam_kernel(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                            int64_t count, float beta1, float beta2, float eps,
                            float weight_decay, float step_size, float correction2_sqrt) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    float g = grad[i] + weight_decay * param[i];
    exp_avg[i] = beta1 * exp_avg[i] + (1.0f - beta1) * g;
    exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
    float denominator = sqrtf(exp_avg_sq[i]) / correction2_sqrt + eps;
    param[i] -= step_size * exp_avg[i] / denominator;
  }
}

}  // namespace

void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count, float lr,
              float momentum, float dampening, float weight_decay, bool nesterov,
              bool first_step) {
  if (count <= 0) return;
  sgd_kernel<<<blocks_for(count), kThreadsPerBlock>>>(param, grad, momentum_buffer, count, lr,
                                                      momentum, dampening, weight_decay, nesterov,
                                                      first_step);
  check_launch("sgd_step");
}

void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               int64_t count, float lr, float beta1, float beta2, float eps, float weight_decay,
               int64_t step) {
  if (count <= 0) return;
  double correction1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
  double correction2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
  float step_size = static_cast<float>(lr / correction1);
  float correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  adam_kernel<<<blocks_for(count), kThreadsPerBlock>>>(param, grad, exp_avg, exp_avg_sq, count,
                                                       beta1, beta2, eps, weight_decay, step_size,
                                                       correction2_sqrt);
  check_launch("adam_step");
}

}  // namespace ember::cuda
