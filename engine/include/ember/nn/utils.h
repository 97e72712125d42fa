// nn::utils: helpers around training, as torch.nn.utils.
#pragma once

#include <vector>

#include "ember/tensor.h"

namespace ember::nn::utils {

// torch.nn.utils.clip_grad_norm_: the 2-norm of all the gradients together (as if they were
// one vector) is computed, and every gradient is scaled in place by
// min(1, max_norm / (total_norm + 1e-6)): so when the total is above max_norm (and, by the
// 1e-6, a hair below it) the gradients end with norm max_norm. Parameters without a gradient
// are skipped. Returns the total norm before clipping (0 when no parameter has a gradient).
// max_norm must be >= 0. As PyTorch (error_if_nonfinite=False), an infinite or NaN total is
// returned and the gradients are scaled by the resulting factor (0 or NaN), not refused.
//   loss.backward();
//   nn::utils::clip_grad_norm_(model->parameters(), 1.0);
//   optimizer.step();
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

}  // namespace ember::nn::utils
