#include "ember/nn/dropout.h"

#include <fmt/format.h>

#include "ember/error.h"
#include "ember/nn/functional.h"

namespace ember::nn {

Dropout::Dropout(double p) : Module("Dropout"), p_(p) {
  check(p >= 0.0 && p < 1.0, "Dropout: p must be in [0, 1), got {}", p);
}

Tensor Dropout::forward(const Tensor& input) {
  return functional::dropout(input, p_, is_training());
}

std::string Dropout::extra_repr() const { return fmt::format("p={}", p_); }

}  // namespace ember::nn
