#include "ember/nn/layer_norm.h"

#include <fmt/format.h>

#include "ember/creation.h"
#include "ember/error.h"
#include "ember/nn/functional.h"
#include "ember/shape.h"

namespace ember::nn {

LayerNorm::LayerNorm(int64_t normalized_size, double eps)
    : Module("LayerNorm"), normalized_size_(normalized_size), eps_(eps) {
  check(normalized_size > 0, "LayerNorm: normalized_size must be positive, got {}",
        normalized_size);
  check(eps >= 0.0, "LayerNorm: eps must be >= 0, got {}", eps);
  weight = register_parameter("weight", ones({normalized_size}));
  bias = register_parameter("bias", zeros({normalized_size}));
}

Tensor LayerNorm::forward(const Tensor& input) {
  check(input.defined(), "LayerNorm: the input is an undefined tensor");
  check(input.dim() >= 1 && input.size(-1) == normalized_size_,
        "LayerNorm: expected input with {} features in its last dim, got shape {}",
        normalized_size_, shape_str(input.shape()));
  check(input.device() == weight.device(),
        "LayerNorm: the input is on {} but the layer's weight is on {} (move one with .to())",
        input.device().str(), weight.device().str());
  return functional::layer_norm(input, weight, bias, eps_);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("({},), eps={}", normalized_size_, eps_);
}

}  // namespace ember::nn
