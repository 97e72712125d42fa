#include "ember/nn/activation.h"

#include <utility>

#include <fmt/format.h>

#include "ember/error.h"
#include "ember/nn/functional.h"

namespace ember::nn {

Tensor ReLU::forward(const Tensor& input) { return functional::relu(input); }
Tensor Sigmoid::forward(const Tensor& input) { return functional::sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return functional::tanh(input); }
Tensor Softmax::forward(const Tensor& input) { return functional::softmax(input, dim_); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim_); }

GELU::GELU(std::string approximate) : Module("GELU"), approximate_(std::move(approximate)) {
  EMBER_CHECK(approximate_ == "none" || approximate_ == "tanh",
              "GELU: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate_);
}
Tensor GELU::forward(const Tensor& input) { return functional::gelu(input, approximate_); }
// As PyTorch prints it: GELU(approximate='none').
std::string GELU::extra_repr() const { return fmt::format("approximate='{}'", approximate_); }

}  // namespace ember::nn
