#include "ember/nn/activation.h"

#include <fmt/format.h>

#include "ember/nn/functional.h"

namespace ember::nn {

Tensor ReLU::forward(const Tensor& input) { return functional::relu(input); }
Tensor Sigmoid::forward(const Tensor& input) { return functional::sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return functional::tanh(input); }
Tensor Softmax::forward(const Tensor& input) { return functional::softmax(input, dim_); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim_); }

}  // namespace ember::nn
