// optim::Adam, exactly as torch.optim.Adam (not AdamW: weight decay is added to the
// gradient). With step t counted per parameter from 1:
//   g = grad + weight_decay * param
//   m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.h"

namespace ember::optim {

// Settings, with chainable setters: AdamOptions(3e-4).betas({0.9, 0.98}).eps(1e-9).
class AdamOptions {
 public:
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, so Adam(params, 1e-3) works

  AdamOptions& lr(double value) { lr_ = value; return *this; }
  AdamOptions& betas(std::pair<double, double> value) { betas_ = value; return *this; }
  AdamOptions& eps(double value) { eps_ = value; return *this; }
  AdamOptions& weight_decay(double value) { weight_decay_ = value; return *this; }

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
  double weight_decay_ = 0.0;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = AdamOptions());
  void step() override;

  AdamOptions& options() { return options_; }
  const AdamOptions& options() const { return options_; }
  // How many updates parameter i has had (0 before its first).
  int64_t step_count(std::size_t i) const;

 private:
  struct State {
    Tensor exp_avg;
    Tensor exp_avg_sq;
    int64_t step = 0;
  };
  AdamOptions options_;
  std::vector<State> state_;  // per parameter; buffers made on its first update
};

}  // namespace ember::optim
