// Attack: control the instructor's terminal through an error message.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

namespace q1 {
using namespace ember;
class PerceptronModel : public nn::Module {
 public:
  explicit PerceptronModel(int64_t) { register_parameter("w", ones({1, 1})); }
  Tensor get_weights() { throw ember::NotImplemented("q1: PerceptronModel::get_weights"); }
  Tensor run(const Tensor&) { throw ember::Error("\x1b[2J\x1b[H\x1b]0;pwned\x07\rall checks passed"); }
  int get_prediction(const Tensor&) { throw ember::NotImplemented("q1: PerceptronModel::get_prediction"); }
  void train(const course::PerceptronDataset&) { throw ember::NotImplemented("q1: PerceptronModel::train"); }
  using nn::Module::train;
};
}  // namespace q1

