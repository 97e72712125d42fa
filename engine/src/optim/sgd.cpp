#include "ember/optim/sgd.h"

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/error.h"

namespace ember::optim {

void SGDOptions::validate() const {
  check(lr_ >= 0.0, "SGD: the learning rate must be >= 0, got {}", lr_);
  check(momentum_ >= 0.0, "SGD: momentum must be >= 0, got {}", momentum_);
  check(weight_decay_ >= 0.0, "SGD: weight_decay must be >= 0, got {}", weight_decay_);
  check(dampening_ == dampening_, "SGD: dampening must be a number, got {}", dampening_);
  check(!nesterov_ || (momentum_ > 0.0 && dampening_ == 0.0),
        "SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum {} and "
        "dampening {}",
        momentum_, dampening_);
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params)), options_(options) {
  options_.validate();
  momentum_buffers_.resize(params_.size());
}

void SGD::step() {
  options_.validate();  // the options may have been changed since construction
  NoGradGuard no_grad;
  const bool use_momentum = options_.momentum() != 0.0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& param = params_[i];
    if (!param.grad().defined()) continue;
    Tensor grad = checked_grad(i, "SGD.step");
    Tensor& buffer = momentum_buffers_[i];
    bool first_step = false;
    if (use_momentum) {
      // A buffer left on another device by Module::to is moved with its parameter.
      if (buffer.defined() && buffer.device() != param.device()) buffer = buffer.to(param.device());
      if (!buffer.defined()) {
        buffer = zeros_like(param);
        first_step = true;
      }
    }
    backend_for(param.device())
        .sgd_step(param.data_ptr(), grad.data_ptr(), use_momentum ? buffer.data_ptr() : nullptr,
                  param.numel(), static_cast<float>(options_.lr()),
                  static_cast<float>(options_.momentum()),
                  static_cast<float>(options_.dampening()),
                  static_cast<float>(options_.weight_decay()), options_.nesterov(), first_step);
  }
}

}  // namespace ember::optim
