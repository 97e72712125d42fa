#include "ember/nn/utils.h"

#include <cmath>

#include "ember/autograd.h"
#include "ember/error.h"
#include "ember/ops.h"

namespace ember::nn::utils {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  check(max_norm >= 0.0, "clip_grad_norm_: max_norm must be >= 0, got {}", max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (std::size_t i = 0; i < params.size(); ++i) {
    check(params[i].defined(), "clip_grad_norm_: parameter {} is an undefined tensor", i);
    Tensor grad = params[i].grad();
    if (grad.defined()) grads.push_back(grad);
  }
  if (grads.empty()) return 0.0;
  // As PyTorch: the 2-norm of each gradient, then the 2-norm of those norms, in float, on the
  // first gradient's device (one value crosses to the host at the end).
  const Device device = grads.front().device();
  std::vector<Tensor> norms;
  norms.reserve(grads.size());
  for (const Tensor& grad : grads) norms.push_back(sqrt(sum(grad * grad)).to(device));
  const Tensor all_norms = stack(norms);
  const float total = sqrt(sum(all_norms * all_norms)).item();
  // clip_coef = max_norm / (total + 1e-6), clamped to at most 1: the gradients are scaled when
  // the total is above max_norm (and, as in PyTorch, when it is NaN or infinite).
  const float coefficient = static_cast<float>(max_norm) / (total + 1e-6f);
  if (!(coefficient >= 1.0f)) {
    for (Tensor& grad : grads) grad *= coefficient;
  }
  return static_cast<double>(total);
}

}  // namespace ember::nn::utils
