#include "ember/nn/sequential.h"

#include <string>

namespace ember::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("Sequential") {
  for (const auto& module : modules) append(module);
}

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules)
    : Module("Sequential") {
  for (const auto& module : modules) append(module);
}

void Sequential::append(std::shared_ptr<Module> module) {
  check(module != nullptr, "Sequential: layer {} is a null module pointer", layers_.size());
  register_module(std::to_string(layers_.size()), module);
  layers_.push_back(std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](std::size_t index) const {
  check(index < layers_.size(), "Sequential: index {} is out of range for {} layers", index,
        layers_.size());
  return layers_[index];
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      x = layers_[i]->forward(x);
    } catch (const NotImplemented&) {
      throw;  // a lesson stub: keep its type so graders can recognise it
    } catch (const Error& error) {
      throw Error(fmt::format("Sequential[{}] ({}): {}", i, layers_[i]->name(), error.what()));
    }
  }
  return x;
}

}  // namespace ember::nn
