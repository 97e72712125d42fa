// nn::LayerNorm: normalises each vector along the last dim to mean 0 and variance 1
// (biased variance, as PyTorch), then scales by weight and shifts by bias:
//   y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
// weight starts as ones and bias as zeros, both of shape (normalized_size,).
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t normalized_size, double eps = 1e-5);
  // (*, normalized_size) -> the same shape.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t normalized_size() const { return normalized_size_; }
  double eps() const { return eps_; }

  Tensor weight;  // (normalized_size,), starts at 1
  Tensor bias;    // (normalized_size,), starts at 0

 private:
  int64_t normalized_size_;
  double eps_;
};

}  // namespace ember::nn
