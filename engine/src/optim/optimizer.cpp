#include "ember/optim/optimizer.h"

#include <unordered_set>

#include "ember/error.h"
#include "ember/shape.h"

namespace ember::optim {

Optimizer::Optimizer(std::vector<Tensor> params) {
  check(!params.empty(), "optimizer: got an empty parameter list (did the model register any?)");
  std::unordered_set<const TensorImpl*> seen;
  for (std::size_t i = 0; i < params.size(); ++i) {
    check(params[i].defined(), "optimizer: parameter {} is an undefined tensor", i);
    EMBER_CHECK(params[i].is_leaf(),
          "optimizer: parameter {} (shape {}) is computed by an op, not a leaf tensor; an "
          "optimizer can only update leaves",
          i, shape_str(params[i].shape()));
    if (seen.insert(params[i].impl().get()).second) params_.push_back(params[i]);
  }
}

void Optimizer::zero_grad() {
  for (Tensor& param : params_) param.zero_grad();
}

Tensor Optimizer::checked_grad(std::size_t i, const char* op) const {
  const Tensor& param = params_[i];
  Tensor grad = param.grad();
  EMBER_CHECK(grad.shape() == param.shape(),
        "{}: parameter {} has shape {} but its gradient has shape {}", op, i,
        shape_str(param.shape()), shape_str(grad.shape()));
  EMBER_CHECK(grad.device() == param.device(),
        "{}: parameter {} is on {} but its gradient is on {}", op, i, param.device().str(),
        grad.device().str());
  EMBER_CHECK(param.is_contiguous(),
        "{}: parameter {} (shape {}) is not contiguous; register a contiguous tensor as a "
        "parameter",
        op, i, shape_str(param.shape()));
  return grad.contiguous();
}

}  // namespace ember::optim
