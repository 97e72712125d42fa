// The runner's commands: one request in, one answer out (the main loop that reads them from
// the channel is runner_loop.cpp). See runner.h.
//
// Requests (each a list; the answer is ["ok", result] or ["error", kind, type, message]):
//   ["seed", n]                              manual_seed(n)
//   ["new", model, args...]                  a new model; the result is its handle (an Int)
//   ["call", handle, method, args...]        a method of the question (runner.h), or forward(x)
//   ["function", name, args...]              a free function of the question
//   ["parameters", handle] / ["buffers", handle]   [[name, tensor], ...], copied to the CPU
//   ["children", handle]                     the names of its registered submodules
//   ["set_parameter", handle, name, tensor]  copies the values in, without recording
//   ["zero_grad", handle]
//   ["backward"]                             backward() of the last tensor a call returned
//   ["gradients", handle]                    [[name, gradient or nothing], ...]
//   ["input_gradients"]                      the gradients of the last call's tensor inputs
//   ["mode", handle, "train" or "eval"]
//   ["history"] / ["clear_history"]          course::latest_training_history()
// Error kinds: "not_implemented" (an unfinished stub), "ember_error", "exception" (any other
// std::exception; type is its class), "unknown" (not a std::exception), "protocol" (a request
// the harness cannot read: a bug in the checker).
#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <ember/ember.h>
#include <ember_course/progress.h>

#include "grade_device.h"
#include "runner.h"

namespace ember::runner {

namespace {

using grading::wire::ProtocolError;

struct State {
  Question question;
  std::vector<std::shared_ptr<nn::Module>> models;  // handle = index
  Tensor last_result;
  std::vector<Tensor> inputs;  // the tensor arguments of the call under way / the last call
};

State& state() {
  static State instance;
  return instance;
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

nn::Module& model_at(const Args& request, std::size_t index) {
  const std::int64_t handle = request.at(index).as_int("a model handle");
  auto& models = state().models;
  if (handle < 0 || handle >= static_cast<std::int64_t>(models.size())) {
    throw ProtocolError("no model with handle " + std::to_string(handle));
  }
  return *models[static_cast<std::size_t>(handle)];
}

Args rest(const Args& request, std::size_t from) {
  return from < request.size() ? Args(request.begin() + static_cast<std::ptrdiff_t>(from), request.end()) : Args();
}

Value named_tensors(const std::vector<std::pair<std::string, Tensor>>& named, bool gradients) {
  std::vector<Value> items;
  for (const auto& [name, tensor] : named) {
    items.push_back(Value::list({Value::of(name), Value::of(gradients ? tensor.grad() : tensor.detach())}));
  }
  return Value::list(std::move(items));
}

Value history_value(const course::TrainingHistory& history) {
  std::vector<Value> epochs, curve;
  for (const course::EpochRecord& e : history.epochs) {
    epochs.push_back(Value::list({Value::of(e.epoch), Value::of(e.batches), Value::of(e.loss),
                                  e.accuracy ? Value::of(*e.accuracy) : Value::none(), Value::of(e.seconds)}));
  }
  for (const course::LossPoint& p : history.loss_curve) {
    curve.push_back(Value::list({Value::of(p.step), Value::of(p.loss)}));
  }
  return Value::list({Value::of(history.label), Value::of(history.planned_epochs),
                      Value::of(history.batches_per_epoch), Value::list(std::move(epochs)),
                      Value::list(std::move(curve))});
}

Value handle(const Args& request) {
  State& s = state();
  const std::string& command = request.at(0).as_text("the command");
  if (command == "seed") {
    manual_seed(static_cast<std::uint64_t>(request.at(1).as_int("the seed")));
    return Value::none();
  }
  if (command == "new") {
    const std::string& name = request.at(1).as_text("the model");
    const auto it = s.question.models().find(name);
    if (it == s.question.models().end()) throw ProtocolError("no model named " + name);
    std::shared_ptr<nn::Module> model = it->second(rest(request, 2));
    if (!model) throw std::runtime_error("the " + name + " constructor made no model");
    model->to(device());  // parameters and buffers, through nn::Module: a lesson's to() cannot hide it
    s.models.push_back(std::move(model));
    return Value::of(static_cast<std::int64_t>(s.models.size() - 1));
  }
  if (command == "call" || command == "call_no_grad") {
    nn::Module& model = model_at(request, 1);
    const std::string& name = request.at(2).as_text("the method");
    const auto it = s.question.methods().find(name);
    s.inputs.clear();
    // call_no_grad is the grader counting accuracy or a loss on held-out data: as under
    // torch.no_grad(), no graph is recorded (for q5's per-pixel convolution the graph of a
    // batch of 1,000 test images would be about a gigabyte).
    std::optional<NoGradGuard> no_grad;
    if (command == "call_no_grad") no_grad.emplace();
    if (it != s.question.methods().end()) return it->second(model, rest(request, 3));
    // Every module has forward(Tensor) (nn::Module's throws until a lesson defines it).
    if (name == "forward") return result(model.forward(tensor_arg(rest(request, 3), 0)));
    throw ProtocolError("no method named " + name);
  }
  if (command == "function") {
    const std::string& name = request.at(1).as_text("the function");
    const auto it = s.question.functions().find(name);
    if (it == s.question.functions().end()) throw ProtocolError("no function named " + name);
    s.inputs.clear();
    return it->second(rest(request, 2));
  }
  if (command == "children") {
    std::vector<Value> names;
    for (const auto& [name, child] : model_at(request, 1).named_children()) names.push_back(Value::of(name));
    return Value::list(std::move(names));
  }
  if (command == "parameters") return named_tensors(model_at(request, 1).named_parameters(), false);
  if (command == "buffers") return named_tensors(model_at(request, 1).named_buffers(), false);
  if (command == "gradients") return named_tensors(model_at(request, 1).named_parameters(), true);
  if (command == "set_parameter") {
    nn::Module& model = model_at(request, 1);
    const std::string& name = request.at(2).as_text("the parameter's name");
    const Tensor values = request.at(3).as_tensor("the parameter's values");
    for (auto& [parameter_name, parameter] : model.named_parameters()) {
      if (parameter_name != name) continue;
      if (parameter.shape() != values.shape()) {
        // Said in the student's terms: the grader's copy_ is not what went wrong.
        throw Error("the parameter \"" + name + "\" has shape " + shape_str(parameter.shape()) +
                                 ", but the checks give it values of shape " + shape_str(values.shape()) +
                                 ": see the shape the lesson asks for");
      }
      NoGradGuard no_grad;
      Tensor target = parameter;
      target.copy_(values.to(target.device()));
      return Value::none();
    }
    throw std::runtime_error("the model has no parameter named \"" + name + "\"");
  }
  if (command == "zero_grad") {
    model_at(request, 1).zero_grad();
    return Value::none();
  }
  if (command == "backward") {
    if (!s.last_result.defined()) throw ProtocolError("backward: no tensor was returned yet");
    s.last_result.backward();
    return Value::none();
  }
  if (command == "input_gradients") {
    std::vector<Value> grads;
    for (const Tensor& input : s.inputs) grads.push_back(Value::of(input.grad()));
    return Value::list(std::move(grads));
  }
  if (command == "mode") {
    nn::Module& model = model_at(request, 1);
    const std::string& mode = request.at(2).as_text("the mode");
    mode == "eval" ? model.eval() : model.train();
    return Value::none();
  }
  if (command == "history") return history_value(course::latest_training_history());
  if (command == "clear_history") {
    course::clear_latest_training_history();
    return Value::none();
  }
  throw ProtocolError("unknown command " + command);
}

Value error_answer(const char* kind, const std::string& type, const std::string& message) {
  return Value::list({Value::of("error"), Value::of(kind), Value::of(type), Value::of(message)});
}

}  // namespace

Value answer(const Value& request) {
  try {
    const Args& args = request.as_list("a request");
    if (args.empty()) throw ProtocolError("an empty request");
    return Value::list({Value::of("ok"), handle(args)});
  } catch (const ProtocolError& e) {
    return error_answer("protocol", "", e.what());
  } catch (const NotImplemented& e) {
    return error_answer("not_implemented", "ember::NotImplemented", e.what());
  } catch (const Error& e) {
    return error_answer("ember_error", "ember::Error", e.what());
  } catch (const std::exception& e) {
    return error_answer("exception", demangle(typeid(e).name()), e.what());
  } catch (...) {
    return error_answer("unknown", "", "an exception not derived from std::exception");
  }
}

Question& question() { return state().question; }

Tensor tensor_arg(const Args& args, std::size_t index) {
  const Value& value = args.at(index);
  Tensor t = value.as_tensor("a tensor argument");
  if (t.defined() && device() != Device::cpu()) {
    t = t.detach().to(device());
    if (value.requires_grad) t.requires_grad_(true);
  }
  state().inputs.push_back(t);
  return t;
}

std::vector<Tensor> tensor_list_arg(const Args& args, std::size_t index) {
  std::vector<Tensor> tensors;
  const Args& items = args.at(index).as_list("a list of tensors");
  for (std::size_t i = 0; i < items.size(); ++i) tensors.push_back(tensor_arg(items, i));
  return tensors;
}

Tensor cpu_tensor_arg(const Args& args, std::size_t index) { return args.at(index).as_tensor("data"); }

Value result(const Tensor& tensor) {
  state().last_result = tensor;
  return Value::of(tensor);
}

Device device() {
  const grading::DeviceChoice& choice = grading::device_choice();
  return choice.problem.empty() ? choice.device : Device::cpu();
}

}  // namespace ember::runner
