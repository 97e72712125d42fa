#include "ember/nn/flatten.h"

#include <fmt/format.h>

#include "ember/error.h"

namespace ember::nn {

Tensor Flatten::forward(const Tensor& input) {
  check(input.defined(), "Flatten: the input is an undefined tensor");
  return input.flatten(start_dim_, end_dim_);
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim_, end_dim_);
}

}  // namespace ember::nn
