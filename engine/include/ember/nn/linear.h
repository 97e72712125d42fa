// nn::Linear: the fully connected layer y = x W^T + b.
//
//   auto fc = std::make_shared<nn::Linear>(784, 128);
//   Tensor h = fc->forward(images);   // (64, 784) -> (64, 128)
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

class Linear : public Module {
 public:
  // weight has shape (out_features, in_features) and bias (out_features,). Both start
  // as PyTorch's do: uniform on (-1/sqrt(in_features), 1/sqrt(in_features)) (for the
  // weight this is kaiming_uniform with a = sqrt(5)), drawn from Ember's seeded
  // generator, so ember::manual_seed makes them reproducible.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  // (*, in_features) -> (*, out_features): x.matmul(weight.t()) + bias. Any number of
  // leading dims (including none: (in_features,) -> (out_features,)).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  bool has_bias() const { return bias.defined(); }

  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features,), or undefined when built with bias = false

 private:
  int64_t in_features_;
  int64_t out_features_;
};

}  // namespace ember::nn
