// optim::Optimizer: the base of the optimizers, after torch.optim and libtorch.
//
//   optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   for (auto& batch : loader) {
//     optimizer.zero_grad();
//     Tensor loss = F::cross_entropy(model->forward(batch.x), batch.label);
//     loss.backward();
//     optimizer.step();
//   }
//
// The optimizer keeps handles to the parameters, so it sees every later change to them,
// including a move by Module::to (which keeps the handles valid).
#pragma once

#include <vector>

#include "ember/tensor.h"

namespace ember::optim {

// A parameter group (torch.optim's param_groups): parameters that share a weight decay, so
// that, as in nanoGPT, matrices decay and biases and LayerNorm weights do not:
//   optim::AdamW optimizer({{decay_params, 0.1}, {no_decay_params, 0.0}}, optim::AdamWOptions(1e-3));
struct ParamGroup {
  std::vector<Tensor> params;
  double weight_decay;
};

class Optimizer {
 public:
  // params: leaf tensors (Module::parameters()). A tensor listed twice is kept once, so
  // it is not updated twice per step. Throws for an empty list, an undefined tensor or
  // one computed by an op (not a leaf).
  explicit Optimizer(std::vector<Tensor> params);
  virtual ~Optimizer() = default;

  // Drops every parameter's gradient (as PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  // One update of every parameter that has a gradient; parameters without one are
  // skipped. Runs with gradient recording off.
  virtual void step() = 0;

  const std::vector<Tensor>& parameters() const { return params_; }

 protected:
  // Checks that parameter i and its gradient can go to an update kernel (same shape,
  // same device, contiguous parameter) and returns the gradient, made contiguous.
  Tensor checked_grad(std::size_t i, const char* op) const;

  std::vector<Tensor> params_;
};

}  // namespace ember::optim
