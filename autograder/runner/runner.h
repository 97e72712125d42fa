// The runner: the untrusted half of a question. It is built from the student's files, the
// engine and this harness, runs inside the sandbox, and does only what its checker asks
// over the channel (wire.h): make a model, call one of its methods on these inputs, hand
// back its parameters and gradients, train it on this data. It decides nothing: every
// point is the checker's (autograder/questions/), a program that never includes or links
// student code.
//
// Each question's runner file (autograder/runners/qN_*.cpp) includes the student's header
// and says what the checker may ask for, in one function:
//
//   void ember::runner::define_question(Question& q) {
//     q.model("PerceptronModel", [](const Args& a) {
//       return std::make_shared<q1::PerceptronModel>(a.at(0).as_int("dimensions"));
//     });
//     q.method<q1::PerceptronModel>("run", [](q1::PerceptronModel& m, const Args& a) {
//       return Value::of(m.run(tensor_arg(a, 0)));
//     });
//   }
//
// The harness adds the commands every model has (parameters, buffers, set_parameter,
// gradients, backward, train/eval mode, the training history) and moves models and input
// tensors to the grading device (EMBER_DEVICE). An exception from student code goes back to
// the checker as an error answer; the runner carries on with the next request.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <ember/nn/module.h>
#include <ember/tensor.h>

#include "wire.h"

namespace ember::runner {

using grading::wire::Value;
using Args = std::vector<Value>;

// A tensor argument, on the grading device, as a leaf that requires grad when the checker
// asked for one. The harness remembers it, so the checker can ask for its gradient after
// `backward` ("input_gradients").
Tensor tensor_arg(const Args& args, std::size_t index);
// A list of tensors (q4's one tensor per character), each as tensor_arg.
std::vector<Tensor> tensor_list_arg(const Args& args, std::size_t index);
// A tensor as it was sent, on the CPU, not remembered (data for a dataset).
Tensor cpu_tensor_arg(const Args& args, std::size_t index);

// A tensor result; the harness remembers the last one returned, for `backward`.
Value result(const Tensor& tensor);

// The grading device (EMBER_DEVICE; the CPU when unset).
Device device();

class Question {
 public:
  using MakeModel = std::function<std::shared_ptr<nn::Module>(const Args&)>;
  using Method = std::function<Value(nn::Module&, const Args&)>;
  using Function = std::function<Value(const Args&)>;

  // A model the checker can make by name ("new").
  void model(const std::string& name, MakeModel make) { models_[name] = std::move(make); }

  // A method the checker can call on a model of type Model ("call"). A model of another type
  // is refused with a message.
  template <typename Model>
  void method(const std::string& name, std::function<Value(Model&, const Args&)> body) {
    static_assert(std::is_base_of_v<nn::Module, Model>, "a model derives from ember::nn::Module");
    methods_[name] = [name, body = std::move(body)](nn::Module& module, const Args& args) {
      auto* model = dynamic_cast<Model*>(&module);
      if (model == nullptr) throw std::runtime_error("the model has no method " + name);
      return body(*model, args);
    };
  }

  // A free function ("function"): q0's shape functions, q5's Convolve.
  void function(const std::string& name, Function body) { functions_[name] = std::move(body); }

  const std::map<std::string, MakeModel>& models() const { return models_; }
  const std::map<std::string, Method>& methods() const { return methods_; }
  const std::map<std::string, Function>& functions() const { return functions_; }

 private:
  std::map<std::string, MakeModel> models_;
  std::map<std::string, Method> methods_;
  std::map<std::string, Function> functions_;
};

// Written once per question, in autograder/runners/qN_*.cpp.
void define_question(Question& question);

// For the main loop (runner_loop.cpp) and the runner's tests: the question the requests are
// about (define_question fills it in once, before the first request), and the answer to one
// request, ["ok", result] or ["error", kind, type, message] (runner_main.cpp lists them).
Question& question();
Value answer(const Value& request);

}  // namespace ember::runner
