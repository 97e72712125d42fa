// Element-wise activation functions as modules, for use in nn::Sequential.
// They have no parameters; each forward is the tensor op of the same name.
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

// max(0, x)
class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& input) override;
};

// 1 / (1 + exp(-x))
class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) override;
};

// (exp(x) - exp(-x)) / (exp(x) + exp(-x))
class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) override;
};

// softmax along dim (default: the last): each slice becomes probabilities summing to 1.
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim = -1) : Module("Softmax"), dim_(dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  int64_t dim_;
};

// x * Phi(x), Phi the standard normal CDF (torch.nn.GELU): approximate "none" (exact, with
// erf) or "tanh" (the tanh approximation). Any other string throws.
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  std::string approximate_;
};

}  // namespace ember::nn
