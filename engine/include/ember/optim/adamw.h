// optim::AdamW, exactly as torch.optim.AdamW: Adam with decoupled weight decay (the decay
// shrinks the parameter instead of being added to the gradient). With step t counted per
// parameter from 1:
//   param *= 1 - lr * weight_decay
//   m = beta1 * m + (1 - beta1) * grad       v = beta2 * v + (1 - beta2) * grad^2
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Parameter groups give each group its own weight decay (optimizer.h's ParamGroup):
//   optim::AdamW optimizer({{decay_params, 0.1}, {no_decay_params, 0.0}},
//                          optim::AdamWOptions(1e-3).betas({0.9, 0.99}));
//   optimizer.options().lr(schedule.lr_at(iter));   // between steps
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.h"

namespace ember::optim {

// Settings, with chainable setters: AdamWOptions(1e-3).betas({0.9, 0.99}).weight_decay(0.1).
// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
class AdamWOptions {
 public:
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, so AdamW(params, 1e-3) works

  AdamWOptions& lr(double value) { lr_ = value; return *this; }
  AdamWOptions& betas(std::pair<double, double> value) { betas_ = value; return *this; }
  AdamWOptions& eps(double value) { eps_ = value; return *this; }
  AdamWOptions& weight_decay(double value) { weight_decay_ = value; return *this; }

  double lr() const { return lr_; }
  std::pair<double, double> betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

  // Throws ember::Error unless lr >= 0, both betas in [0, 1), eps >= 0, weight_decay >= 0.
  void validate() const;

 private:
  double lr_;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0.01;
};

class AdamW : public Optimizer {
 public:
  // One group: every parameter decays by options.weight_decay() (read at each step, so it
  // may be changed between steps like the learning rate).
  AdamW(std::vector<Tensor> params, AdamWOptions options = AdamWOptions());
  // Several groups, each with its own weight_decay (options.weight_decay() is not used);
  // parameters() lists the groups' parameters in order. A tensor listed twice in one group
  // is kept once; a tensor in two groups throws, as in PyTorch. Groups may be empty, but not
  // all of them.
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = AdamWOptions());
  void step() override;

  // The settings; change them between steps (optimizer.options().lr(new_lr)).
  AdamWOptions& options() { return options_; }
  const AdamWOptions& options() const { return options_; }
  // How many updates parameter i (an index into parameters()) has had (0 before its first).
  int64_t step_count(std::size_t i) const;
  // The weight decay parameter i gets at the next step.
  double weight_decay_of(std::size_t i) const;

 private:
  struct State {
    Tensor exp_avg;
    Tensor exp_avg_sq;
    int64_t step = 0;
  };
  AdamWOptions options_;
  std::vector<State> state_;            // per parameter; buffers made on its first update
  std::vector<double> group_decay_;     // per parameter; empty: options_.weight_decay()
};

}  // namespace ember::optim
