// Where a model lives, for the course's accuracy helpers: they hand the model its inputs on
// the device of its parameters, so that an accuracy can be counted whichever device the
// held-out data sits on. The model itself is never moved.
//
//   const std::optional<Device> device = model_device(model);   // cuda:0 after model.to(cuda)
//   Tensor scores = model.run(device ? x.to(*device) : x);
#pragma once

#include <optional>
#include <type_traits>
#include <vector>

#include <ember/device.h>
#include <ember/nn/module.h>
#include <ember/tensor.h>

namespace ember::course {

// The device of model's first parameter when Model is an nn::Module with parameters;
// std::nullopt for a module without parameters or a plain class (its inputs are then given
// as they are).
template <typename Model>
std::optional<Device> model_device(const Model& model) {
  if constexpr (std::is_base_of_v<nn::Module, Model>) {
    const std::vector<Tensor> parameters = static_cast<const nn::Module&>(model).parameters();
    if (!parameters.empty()) return parameters.front().device();
  }
  return std::nullopt;
}

// tensor on device when one is given (no copy when it is already there), else tensor itself.
inline Tensor on_model_device(const Tensor& tensor, const std::optional<Device>& device) {
  return device && tensor.device() != *device ? tensor.to(*device) : tensor;
}

}  // namespace ember::course
