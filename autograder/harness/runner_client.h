// The checker's end of the channel to the runner (the student's code, in the sandbox).
//
//   RemoteModel model("DigitClassificationModel");              // made in the runner
//   Tensor logits = model.call("run", ember::rand({8, 784}));   // computed there, copied back
//   for (const auto& [name, value] : model.named_parameters()) ...
//
// The runner is started on the first request and lives until the checker ends, so a model
// trained in one check can be looked at in the next (runner_generation() tells whether it is
// still the same runner). A runner that crashes or sends nonsense is stopped, with everything
// it started, and the next request starts a fresh one: a crash costs the check it happened in.
// A runner that uses up the question's time budget fails that check and every later one.
// Each check seeds the runner's generator afresh (from the grading seed and the check's name).
// What comes back is data, never a verdict: the checks decide.
//
// Errors:
//   StudentError   the student's code threw (an unfinished stub, an ember::Error, ...): the
//                  runner is still there, and the check may go on.
//   RunnerFailure  the runner is gone: it crashed, ran past the question's time budget, or
//                  sent something that is not an answer. Its message says which, with the last
//                  lines it printed (control characters shown escaped).
// The harness (grading.cpp) turns both into a failed check with the message.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ember/tensor.h>
#include <ember_course/progress.h>

#include "wire.h"

namespace ember::grading {

using wire::Value;

struct StudentError : std::runtime_error {
  StudentError(std::string kind_, std::string type_, const std::string& message)
      : std::runtime_error(message), kind(std::move(kind_)), type(std::move(type_)) {}
  bool not_implemented() const { return kind == "not_implemented"; }
  bool ember_error() const { return kind == "ember_error" || kind == "not_implemented"; }
  std::string kind;  // not_implemented, ember_error, exception, unknown
  std::string type;  // the exception's class, e.g. std::out_of_range
};

struct RunnerFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One request to the runner of the check under way (started on first use): the command and
// its arguments. Returns the result.
Value ask(std::vector<Value> request);

// Stops the runner, and every process it started. The harness calls it when the checks end.
void stop_runner();

// Seeds the runner's generator from the grading seed and key, e.g. before a training that two
// checks share, so that it is the same whichever check asks first.
void seed_runner(const std::string& key);

// Which runner is live: 0 for none, then 1, 2, ... as runners are started. A model made in
// the runner belongs to the generation it was made in.
std::uint64_t runner_generation();

// A tensor argument that the runner should make a leaf requiring grad.
Value with_grad(const Tensor& tensor);

// Converts the arguments of call(): tensors, lists of tensors, numbers, texts, Values.
inline Value arg(const Value& v) { return v; }
inline Value arg(const Tensor& t) { return Value::of(t); }
inline Value arg(const std::vector<Tensor>& ts) {
  std::vector<Value> items;
  for (const Tensor& t : ts) items.push_back(Value::of(t));
  return Value::list(std::move(items));
}
inline Value arg(std::int64_t v) { return Value::of(v); }
inline Value arg(int v) { return Value::of(v); }
inline Value arg(double v) { return Value::of(v); }
inline Value arg(const std::string& v) { return Value::of(v); }
inline Value arg(const char* v) { return Value::of(v); }

// A model made in the runner by name, with the constructor arguments the question's runner
// file accepts.
class RemoteModel {
 public:
  template <typename... Args>
  explicit RemoteModel(const std::string& model, Args&&... args) {
    std::vector<Value> request = {Value::of("new"), Value::of(model)};
    (request.push_back(arg(std::forward<Args>(args))), ...);
    handle_ = ask(std::move(request)).as_int("a model handle");
  }

  // A method of the model: the raw result.
  template <typename... Args>
  Value call_value(const std::string& method, Args&&... args) {
    std::vector<Value> request = {Value::of("call"), Value::of(handle_), Value::of(method)};
    (request.push_back(arg(std::forward<Args>(args))), ...);
    return ask(std::move(request));
  }
  // A method that returns a tensor (undefined when it returned none); also remembered by the
  // runner for backward().
  template <typename... Args>
  Tensor call(const std::string& method, Args&&... args) {
    return call_value(method, std::forward<Args>(args)...).as_tensor("the result of " + method);
  }

  // The same call without recording a graph (as under torch.no_grad()): for evaluation on
  // held-out data, where no backward follows.
  template <typename... Args>
  Tensor evaluate(const std::string& method, Args&&... args) {
    std::vector<Value> request = {Value::of("call_no_grad"), Value::of(handle_), Value::of(method)};
    (request.push_back(arg(std::forward<Args>(args))), ...);
    return ask(std::move(request)).as_tensor("the result of " + method);
  }

  std::vector<std::pair<std::string, Tensor>> named_parameters();
  std::vector<std::pair<std::string, Tensor>> named_buffers();
  std::vector<std::string> children();  // the names of its registered submodules
  // Each parameter's gradient (undefined where it has none).
  std::vector<std::pair<std::string, Tensor>> named_gradients();
  Tensor parameter(const std::string& name);  // throws when there is none of that name
  void set_parameter(const std::string& name, const Tensor& values);
  void zero_grad();
  void eval();
  void train_mode();

 private:
  std::int64_t handle_ = -1;
};

// backward() of the last tensor a method returned, in the runner.
void backward_last_result();
// The gradients of the last call's tensor arguments (in the order they were read).
std::vector<Tensor> input_gradients();
// What the last training in the runner recorded (course::TrainingProgress), for the pictures
// of the training curves; clear it before training with clear_training_history().
course::TrainingHistory training_history();
void clear_training_history();

// A free function of the question (q0's shape functions, q5's Convolve).
template <typename... Args>
Value call_function(const std::string& name, Args&&... args) {
  std::vector<Value> request = {Value::of("function"), Value::of(name)};
  (request.push_back(arg(std::forward<Args>(args))), ...);
  return ask(std::move(request));
}

}  // namespace ember::grading
