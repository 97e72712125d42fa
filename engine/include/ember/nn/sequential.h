// nn::Sequential: modules applied one after another, each one's output feeding the next.
//
//   auto model = std::make_shared<nn::Sequential>(
//       std::make_shared<nn::Linear>(784, 128),
//       std::make_shared<nn::ReLU>(),
//       std::make_shared<nn::Linear>(128, 10));
//   nn::Sequential same{std::make_shared<nn::Linear>(784, 128), ...};  // or as a value
//   Tensor logits = model->forward(images);
//   model->named_parameters();   // "0.weight", "0.bias", "2.weight", "2.bias"
//
// The children are named "0", "1", ... in order. An error inside a layer is rethrown
// with the layer's position and name in front: "Sequential[2] (Linear): Linear: ...".
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/error.h"
#include "ember/nn/module.h"

namespace ember::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Any number of modules of any types, as make_shared<Sequential>(a, b, c) passes them.
  template <typename M, typename... Ms>
  explicit Sequential(std::shared_ptr<M> first, std::shared_ptr<Ms>... rest) : Module("Sequential") {
    push_back(std::move(first));
    (push_back(std::move(rest)), ...);
  }
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  // Appends a module (named by its position) and returns it, typed as it was passed.
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    static_assert(std::is_base_of<Module, M>::value,
                  "Sequential::push_back: the module must derive from ember::nn::Module");
    append(std::static_pointer_cast<Module>(module));
    return module;
  }

  // Runs the layers in order. An empty Sequential returns its input.
  Tensor forward(const Tensor& input) override;

  std::size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  // The layer at a position; throws for a position past the end.
  std::shared_ptr<Module> operator[](std::size_t index) const;
  // The layer at a position as its own type; throws if it is another type:
  //   auto fc = model->at<nn::Linear>(0);
  template <typename M>
  std::shared_ptr<M> at(std::size_t index) const {
    std::shared_ptr<M> typed = std::dynamic_pointer_cast<M>((*this)[index]);
    check(typed != nullptr, "Sequential::at: layer {} is a {}, not the type asked for", index,
          (*this)[index]->name());
    return typed;
  }
  auto begin() const { return layers_.begin(); }
  auto end() const { return layers_.end(); }

 private:
  void append(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace ember::nn
