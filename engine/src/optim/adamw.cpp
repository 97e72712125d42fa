#include "ember/optim/adamw.h"

#include <cmath>
#include <unordered_map>

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/error.h"
#include "ember/shape.h"

namespace ember::optim {
namespace {

// The groups' parameters in order, each tensor once; a tensor in two groups throws (as
// PyTorch's "some parameters appear in more than one parameter group").
std::vector<Tensor> flatten_groups(const std::vector<ParamGroup>& groups) {
  std::vector<Tensor> params;
  std::unordered_map<const TensorImpl*, std::size_t> group_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i = 0; i < groups[g].params.size(); ++i) {
      const Tensor& param = groups[g].params[i];
      check(param.defined(), "AdamW: parameter {} of group {} is an undefined tensor", i, g);
      auto [it, inserted] = group_of.emplace(param.impl().get(), g);
      EMBER_CHECK(inserted || it->second == g,
                  "AdamW: a parameter (shape {}) is in group {} and in group {}; each parameter "
                  "may be in one group only",
                  shape_str(param.shape()), it->second, g);
      if (inserted) params.push_back(param);
    }
  }
  return params;
}

}  // namespace

void AdamWOptions::validate() const {
  check(lr_ >= 0.0, "AdamW: the learning rate must be >= 0, got {}", lr_);
  check(betas_.first >= 0.0 && betas_.first < 1.0, "AdamW: beta1 must be in [0, 1), got {}",
        betas_.first);
  check(betas_.second >= 0.0 && betas_.second < 1.0, "AdamW: beta2 must be in [0, 1), got {}",
        betas_.second);
  check(eps_ >= 0.0, "AdamW: eps must be >= 0, got {}", eps_);
  check(weight_decay_ >= 0.0, "AdamW: weight_decay must be >= 0, got {}", weight_decay_);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Optimizer(std::move(params)), options_(options) {
  options_.validate();
  state_.resize(params_.size());
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Optimizer(flatten_groups(groups)), options_(options) {
  options_.validate();
  std::unordered_map<const TensorImpl*, double> decay_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double decay = groups[g].weight_decay;
    check(decay >= 0.0, "AdamW: weight_decay of group {} must be >= 0, got {}", g, decay);
    for (const Tensor& param : groups[g].params) decay_of.emplace(param.impl().get(), decay);
  }
  group_decay_.reserve(params_.size());
  for (const Tensor& param : params_) group_decay_.push_back(decay_of.at(param.impl().get()));
  state_.resize(params_.size());
}

int64_t AdamW::step_count(std::size_t i) const {
  check(i < state_.size(), "AdamW::step_count: parameter {} is out of range for {} parameters", i,
        state_.size());
  return state_[i].step;
}

double AdamW::weight_decay_of(std::size_t i) const {
  check(i < params_.size(), "AdamW::weight_decay_of: parameter {} is out of range for {} parameters",
        i, params_.size());
  return group_decay_.empty() ? options_.weight_decay() : group_decay_[i];
}

void AdamW::step() {
  options_.validate();  // the options may have been changed since construction
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& param = params_[i];
    if (!param.grad().defined()) continue;
    Tensor grad = checked_grad(i, "AdamW.step");
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
        .adamw_step(param.data_ptr(), grad.data_ptr(), state.exp_avg.data_ptr(),
                    state.exp_avg_sq.data_ptr(), param.numel(),
                    static_cast<float>(options_.lr()), static_cast<float>(options_.betas().first),
                    static_cast<float>(options_.betas().second),
                    static_cast<float>(options_.eps()), static_cast<float>(weight_decay_of(i)),
                    state.step);
  }
}

}  // namespace ember::optim
