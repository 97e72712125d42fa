// Optimizer updates, one thread per parameter element: PyTorch's SGD, Adam and AdamW, the
// formulas of formulas.h that every backend uses.
//
// This file is compiled with --fmad=false (see cuda.cmake): without fused multiply-adds,
// every operation rounds as on the CPU, and since +, -, *, / and sqrt are correctly
// rounded on both, a step on the GPU gives bit for bit the CPU's parameters.
#include <cmath>

#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "formulas.h"

namespace ember::cuda {
namespace {

// momentum_buffer is only read or written when momentum != 0 (it may be null otherwise).
__global__ void sgd_kernel(float* param, const float* grad, float* momentum_buffer, int64_t count,
                           float lr, float momentum, float dampening, float weight_decay,
                           bool nesterov, bool first_step) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    float no_buffer = 0.0f;
    float& buffer = momentum != 0.0f ? momentum_buffer[i] : no_buffer;
    formulas::sgd_update(param[i], grad[i], buffer, lr, momentum, dampening, weight_decay,
                         nesterov, first_step);
  }
}

// step holds the bias corrections, computed on the host in double (formulas::adam_step_for).
__global__ void adam_kernel(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                            int64_t count, float beta1, float beta2, float eps,
                            float weight_decay, formulas::AdamStep step) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    formulas::adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps,
                          weight_decay, step);
  }
}

// AdamW: decay = 1 - lr * weight_decay, rounded once on the host (formulas::adamw_decay_for).
__global__ void adamw_kernel(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                             int64_t count, float beta1, float beta2, float eps, float decay,
                             formulas::AdamStep step) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    formulas::adamw_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, beta2, eps, decay,
                           step);
  }
}

}  // namespace

void CudaBackend::sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count,
                           float lr, float momentum, float dampening, float weight_decay,
                           bool nesterov, bool first_step) {
  DeviceGuard guard(index_, "sgd_step");
  if (count <= 0) return;
  sgd_kernel<<<blocks_for(count), kThreadsPerBlock>>>(param, grad, momentum_buffer, count, lr,
                                                      momentum, dampening, weight_decay, nesterov,
                                                      first_step);
  check_launch("sgd_step");
}

void CudaBackend::adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                            int64_t count, float lr, float beta1, float beta2, float eps,
                            float weight_decay, int64_t step) {
  DeviceGuard guard(index_, "adam_step");
  if (count <= 0) return;
  const formulas::AdamStep step_constants = formulas::adam_step_for(lr, beta1, beta2, step);
  adam_kernel<<<blocks_for(count), kThreadsPerBlock>>>(param, grad, exp_avg, exp_avg_sq, count,
                                                       beta1, beta2, eps, weight_decay,
                                                       step_constants);
  check_launch("adam_step");
}

void CudaBackend::adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                             int64_t count, float lr, float beta1, float beta2, float eps,
                             float weight_decay, int64_t step) {
  DeviceGuard guard(index_, "adamw_step");
  if (count <= 0) return;
  const formulas::AdamStep step_constants = formulas::adam_step_for(lr, beta1, beta2, step);
  const float decay = formulas::adamw_decay_for(lr, weight_decay);
  adamw_kernel<<<blocks_for(count), kThreadsPerBlock>>>(param, grad, exp_avg, exp_avg_sq, count,
                                                        beta1, beta2, eps, decay, step_constants);
  check_launch("adamw_step");
}

}  // namespace ember::cuda
