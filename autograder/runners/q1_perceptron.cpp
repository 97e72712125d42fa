// The runner of q1 (the perceptron): what the checker (questions/q1_perceptron.cpp) may ask of
// the student's PerceptronModel. See runner/runner.h.
#include <stdexcept>
#include <string>

#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <fmt/format.h>

#include "perceptron.hpp"
#include "runner.h"

namespace {

using ember::Tensor;
using namespace ember::runner;

// A PerceptronDataset that counts the examples training asks for and stops a training that
// runs too long by throwing: a wrong update rule can loop forever, and this turns that into
// a failed check with a message instead of a timeout for the whole question.
class LimitedDataset : public ember::course::PerceptronDataset {
 public:
  // description says what the points are, for the message.
  LimitedDataset(Tensor x, Tensor labels, int64_t limit, std::string description)
      : PerceptronDataset(std::move(x), std::move(labels)), limit_(limit), description_(std::move(description)) {}

  ember::data::Example get(int64_t i) const override {
    count(1);
    return PerceptronDataset::get(i);
  }
  ember::data::Example get_batch(const std::vector<int64_t>& indices) const override {
    count(static_cast<int64_t>(indices.size()));
    return PerceptronDataset::get_batch(indices);
  }
  int64_t served() const { return served_; }

 private:
  void count(int64_t n) const {
    served_ += n;
    if (served_ > limit_) {
      throw std::runtime_error(fmt::format(
          "train did not stop: after more than {} examples (about {} passes) it still found "
          "mistakes in {}. Check the update rule, the stopping test, and that a score of exactly "
          "0 counts as +1",
          limit_, limit_ / size(), description_));
    }
  }
  int64_t limit_;
  std::string description_;
  mutable int64_t served_ = 0;
};

}  // namespace

void ember::runner::define_question(Question& q) {
  using Model = q1::PerceptronModel;
  q.model("PerceptronModel", [](const Args& a) { return std::make_shared<Model>(a.at(0).as_int("dimensions")); });
  q.method<Model>("run", [](Model& m, const Args& a) { return result(m.run(tensor_arg(a, 0))); });
  q.method<Model>("get_prediction", [](Model& m, const Args& a) {
    return Value::of(static_cast<int64_t>(m.get_prediction(tensor_arg(a, 0))));
  });
  // The weights, and whether they are the parameter itself (the same numbers in memory).
  q.method<Model>("get_weights", [](Model& m, const Args&) {
    const Tensor weights = m.get_weights();
    const auto params = m.named_parameters();
    const bool same = weights.defined() && params.size() == 1 && weights.data_ptr() == params[0].second.data_ptr();
    return Value::list({Value::of(weights), Value::of(static_cast<int64_t>(same))});
  });
  // train on points x (N, d) and labels (N, 1), stopped after `limit` examples; answers how
  // many examples it asked for.
  q.method<Model>("train", [](Model& m, const Args& a) {
    LimitedDataset dataset(cpu_tensor_arg(a, 0), cpu_tensor_arg(a, 1), a.at(2).as_int("limit"),
                           a.at(3).as_text("description"));
    dataset.to(device());
    m.train(dataset);
    return Value::of(dataset.served());
  });
}
