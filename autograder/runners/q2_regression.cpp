// The runner of q2 (non-linear regression): what the checker (questions/q2_regression.cpp)
// may ask of the student's RegressionModel. See runner/runner.h.
#include <ember/ember.h>
#include <ember_course/regression_dataset.h>

#include "regression.hpp"
#include "runner.h"

void ember::runner::define_question(Question& q) {
  using Model = q2::RegressionModel;
  q.model("RegressionModel", [](const Args&) { return std::make_shared<Model>(); });
  q.method<Model>("forward", [](Model& m, const Args& a) { return result(m.forward(tensor_arg(a, 0))); });
  q.method<Model>("get_loss", [](Model& m, const Args& a) {
    return result(m.get_loss(tensor_arg(a, 0), tensor_arg(a, 1)));
  });
  // train on the points x (N, 1), y (N, 1) the checker drew.
  q.method<Model>("train", [](Model& m, const Args& a) {
    course::RegressionDataset dataset(cpu_tensor_arg(a, 0), cpu_tensor_arg(a, 1));
    dataset.to(device());
    m.train(dataset);
    return Value::none();
  });
}
