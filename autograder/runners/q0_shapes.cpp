// The runner of q0 (tensor shapes): the student's shape functions, split/merge_heads and
// fit_linear, as the checker (questions/q0_shapes.cpp) asks for them. See runner/runner.h.
#include <string>
#include <vector>

#include <ember/ember.h>

#include "runner.h"
#include "tensor_shapes.hpp"

namespace {

using ember::Shape;
using ember::Tensor;
using namespace ember::runner;

Shape shape_of(const Value& value) {
  Shape shape;
  for (const Value& size : value.as_list("a shape")) shape.push_back(size.as_int("a size"));
  return shape;
}

Value value_of(const Shape& shape) {
  std::vector<Value> sizes;
  for (int64_t size : shape) sizes.push_back(Value::of(size));
  return Value::list(std::move(sizes));
}

// f on every pair of shapes in args[0]: for each, ["shape", sizes], ["ember_error", message]
// or ["other", message]. An unfinished stub's NotImplemented ends the whole call.
template <typename F>
Value outcomes(const Args& args, F f) {
  std::vector<Value> out;
  for (const Value& pair : args.at(0).as_list("shape pairs")) {
    const auto& two = pair.as_list("a shape pair");
    const Shape a = shape_of(two.at(0)), b = shape_of(two.at(1));
    try {
      out.push_back(Value::list({Value::of("shape"), value_of(f(a, b))}));
    } catch (const ember::NotImplemented&) {
      throw;
    } catch (const ember::Error& e) {
      out.push_back(Value::list({Value::of("ember_error"), Value::of(e.what())}));
    } catch (const std::exception& e) {
      out.push_back(Value::list({Value::of("other"), Value::of(e.what())}));
    }
  }
  return Value::list(std::move(out));
}

}  // namespace

void ember::runner::define_question(Question& q) {
  q.function("broadcast_shape", [](const Args& a) { return outcomes(a, q0::broadcast_shape); });
  q.function("matmul_shape", [](const Args& a) { return outcomes(a, q0::matmul_shape); });
  // split_heads(x, n_head), and whether the result shares x's storage (a view, not a copy).
  q.function("split_heads", [](const Args& a) {
    const Tensor x = tensor_arg(a, 0);
    const Tensor heads = q0::split_heads(x, a.at(1).as_int("n_head"));
    const bool shares = heads.defined() && heads.impl()->storage == x.impl()->storage;
    return Value::list({Value::of(heads), Value::of(static_cast<int64_t>(shares))});
  });
  q.function("merge_heads", [](const Args& a) { return result(q0::merge_heads(tensor_arg(a, 0))); });
  // merge_heads(split_heads(x, n_head)): the round trip, on the view split_heads made.
  q.function("round_trip", [](const Args& a) {
    return result(q0::merge_heads(q0::split_heads(tensor_arg(a, 0), a.at(1).as_int("n_head"))));
  });
  q.function("fit_linear", [](const Args&) {
    const q0::LinearFit fit = q0::fit_linear();
    return Value::list({Value::of(fit.weight), Value::of(fit.bias)});
  });
}
