#include "ember/nn/parameter.h"

#include "ember/error.h"

namespace ember::nn {

Tensor Parameter(const Tensor& tensor) {
  check(tensor.defined(), "nn::Parameter: the tensor is undefined");
  if (tensor.is_leaf()) {
    Tensor parameter = tensor;
    parameter.set_requires_grad(true);
    return parameter;
  }
  Tensor parameter = tensor.detach();
  parameter.set_requires_grad(true);
  return parameter;
}

}  // namespace ember::nn
