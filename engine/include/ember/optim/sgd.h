// optim::SGD: stochastic gradient descent with optional momentum, dampening, weight
// decay and Nesterov momentum, exactly as torch.optim.SGD:
//   g = grad + weight_decay * param
//   with momentum: buf = g on the first step, then momentum * buf + (1 - dampening) * g;
//                  g = Nesterov ? g + momentum * buf : buf
//   param -= lr * g
#pragma once

#include <vector>

#include "ember/optim/optimizer.h"

namespace ember::optim {

// Settings, with chainable setters: SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).
// Each setter with an argument sets and returns the options; without one it reads.
class SGDOptions {
 public:
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit, so SGD(params, 0.1) works

  SGDOptions& lr(double value) { lr_ = value; return *this; }
  SGDOptions& momentum(double value) { momentum_ = value; return *this; }
  SGDOptions& dampening(double value) { dampening_ = value; return *this; }
  SGDOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
  SGDOptions& nesterov(bool value) { nesterov_ = value; return *this; }

  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  double dampening() const { return dampening_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }

  // Throws ember::Error unless lr >= 0, momentum >= 0, weight_decay >= 0, and (with
  // nesterov) momentum > 0 and dampening == 0.
  void validate() const;

 private:
  double lr_;
  double momentum_ = 0.0;
  double dampening_ = 0.0;
  double weight_decay_ = 0.0;
  bool nesterov_ = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  void step() override;

  // The settings; change them between steps (e.g. to decay the learning rate).
  SGDOptions& options() { return options_; }
  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_buffers_;  // per parameter, made on its first update
};

}  // namespace ember::optim
