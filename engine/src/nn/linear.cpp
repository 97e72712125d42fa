#include "ember/nn/linear.h"

#include <cmath>

#include "ember/creation.h"
#include "ember/error.h"
#include "ember/nn/functional.h"
#include "ember/shape.h"

namespace ember::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : Module("Linear"), in_features_(in_features), out_features_(out_features) {
  check(in_features > 0 && out_features > 0,
        "Linear: in_features and out_features must be positive, got Linear({}, {})", in_features,
        out_features);
  // PyTorch: kaiming_uniform_(weight, a=sqrt(5)) has bound gain * sqrt(3 / fan_in) with
  // gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), which is 1/sqrt(fan_in); the bias uses the same.
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(in_features)));
  weight = register_parameter("weight", uniform({out_features, in_features}, -bound, bound));
  if (bias) this->bias = register_parameter("bias", uniform({out_features}, -bound, bound));
}

Tensor Linear::forward(const Tensor& input) {
  check(input.defined(), "Linear: the input is an undefined tensor");
  EMBER_CHECK(input.dim() >= 1 && input.size(-1) == in_features_,
        "Linear: expected input with {} features in its last dim, got shape {} (weight has "
        "shape {})",
        in_features_, shape_str(input.shape()), shape_str(weight.shape()));
  EMBER_CHECK(input.device() == weight.device(),
        "Linear: the input is on {} but the layer's weight is on {} (move one with .to())",
        input.device().str(), weight.device().str());
  return functional::linear(input, weight, bias);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features_, out_features_,
                     bias.defined());
}

}  // namespace ember::nn
