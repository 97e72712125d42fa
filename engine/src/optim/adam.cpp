#include "ember/optim/adam.h"

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/error.h"

namespace ember::optim {

void AdamOptions::validate() const {
  check(lr_ >= 0.0, "Adam: the learning rate must be >= 0, got {}", lr_);
  check(betas_.first >= 0.0 && betas_.first < 1.0, "Adam: beta1 must be in [0, 1), got {}",
        betas_.first);
  check(betas_.second >= 0.0 && betas_.second < 1.0, "Adam: beta2 must be in [0, 1), got {}",
        betas_.second);
  check(eps_ >= 0.0, "Adam: eps must be >= 0, got {}", eps_);
  check(weight_decay_ >= 0.0, "Adam: weight_decay must be >= 0, got {}", weight_decay_);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Optimizer(std::move(params)), options_(options) {
  options_.validate();
  state_.resize(params_.size());
}

int64_t Adam::step_count(std::size_t i) const {
  check(i < state_.size(), "Adam::step_count: parameter {} is out of range for {} parameters", i,
        state_.size());
  return state_[i].step;
}

void Adam::step() {
  options_.validate();  // the options may have been changed since construction
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& param = params_[i];
    if (!param.grad().defined()) continue;
    Tensor grad = checked_grad(i, "Adam.step");
    State& state = state_[i];
    if (!state.exp_avg.defined()) {
      state.exp_avg = zeros_like(param);
      state.exp_avg_sq = zeros_like(param);
    } else if (state.exp_avg.device() != param.device()) {  // moved by Module::to
      state.exp_avg = state.exp_avg.to(param.device());
      state.exp_avg_sq = state.exp_avg_sq.to(param.device());
    }
    state.step += 1;
    backend_for(param.device())
        .adam_step(param.data_ptr(), grad.data_ptr(), state.exp_avg.data_ptr(),
                   state.exp_avg_sq.data_ptr(), param.numel(),
                   static_cast<float>(options_.lr()), static_cast<float>(options_.betas().first),
                   static_cast<float>(options_.betas().second),
                   static_cast<float>(options_.eps()),
                   static_cast<float>(options_.weight_decay()), state.step);
  }
}

}  // namespace ember::optim
