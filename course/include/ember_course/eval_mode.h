// Evaluation mode for the length of a scope: measure a model with Dropout (and anything
// else that behaves differently while training) switched off, then leave it as it was.
//
//   {
//     course::EvalModeGuard eval_mode(model);   // model.is_training() is now false
//     ... model.run(x) ...
//   }                                           // back in the mode it was in
#pragma once

#include <optional>
#include <type_traits>

#include <ember/nn/module.h>

namespace ember::course {

// Puts a module in evaluation mode for its lifetime, then back in the mode it was in (also
// when an exception passes through).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  // Held as the base class, because a model's own train(dataset) hides Module::train(bool).
  nn::Module& module_;
  bool was_training_;
};

// For code that takes any model (the datasets' accuracy templates): an EvalModeGuard when
// Model is an nn::Module, nothing when it is a plain class with no modes.
//   const auto eval_mode = eval_mode_if_module(model);
template <typename Model>
std::optional<EvalModeGuard> eval_mode_if_module(Model& model) {
  if constexpr (std::is_base_of_v<nn::Module, Model>) {
    return std::optional<EvalModeGuard>(std::in_place, static_cast<nn::Module&>(model));
  } else {
    return std::nullopt;
  }
}

}  // namespace ember::course
