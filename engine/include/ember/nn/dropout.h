// nn::Dropout: in training, zeroes each element with probability p and scales the
// survivors by 1/(1-p), so the expected value is unchanged; in evaluation (after
// eval()) it is the identity. The mask is drawn with ember::rand, so manual_seed makes
// it reproducible.
#pragma once

#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

class Dropout : public Module {
 public:
  // p must be in [0, 1).
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace ember::nn
