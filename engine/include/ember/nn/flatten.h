// nn::Flatten: merges dims start_dim..end_dim into one, e.g. images (B, 28, 28) into
// (B, 784) before a Linear layer. The default keeps the batch dim.
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  int64_t start_dim_;
  int64_t end_dim_;
};

}  // namespace ember::nn
