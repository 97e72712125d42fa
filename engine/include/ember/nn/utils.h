// nn::utils: helpers around training, as torch.nn.utils.
#pragma once

#include <vector>

#include "ember/tensor.h"

namespace ember::nn::utils {

// torch.nn.utils.clip_grad_norm_: the 2-norm of all the gradients together (as if they were
// one vector) is computed; when it exceeds max_norm every gradient is scaled in place by
// max_norm / (total_norm + 1e-6). Parameters without a gradient are skipped. Returns the
// total norm before clipping (0 when no parameter has a gradient). max_norm must be >= 0.
//   loss.backward();
//   nn::utils::clip_grad_norm_(model->parameters(), 1.0);
//   optimizer.step();
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

}  // namespace ember::nn::utils
