// Lesson q1: the perceptron.
//
// A perceptron scores a point x with a weight vector w, score = w . x, and predicts +1 when
// the score is >= 0 and -1 otherwise. It learns by correcting its mistakes: whenever it
// gets a training point wrong, it adds label * x to w, which moves the score of that point
// towards the right side. On data that a line separates, this stops after finitely many
// mistakes.
//
// The dataset (course::PerceptronDataset) holds 500 points (x0, x1, 1): the constant 1
// lets w's last entry act as a bias. Its labels are +1 and -1.
// Time budget: the whole grader must finish in 60 s; training takes well under a second.
#pragma once

// The same includes and names in every lesson, so code moves between lessons as it is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

namespace q1 {
using namespace ember;
namespace F = ember::nn::functional;

class PerceptronModel : public nn::Module {
 public:
  // Registers exactly one parameter, named "w", of shape (1, dimensions):
  //   register_parameter("w", ...)
  // Its starting values do not matter much; ones({1, dimensions}) is the usual choice.
  explicit PerceptronModel(int64_t dimensions) {
    // BEGIN SOLUTION q1 PerceptronModel::PerceptronModel
    w_ = register_parameter("w", ones({1, dimensions}));  // (1, d)
    // END SOLUTION
  }

  // The parameter w itself, shape (1, dimensions): the tensor that register_parameter
  // returned, not a copy, so changes through it change the model.
  Tensor get_weights() {
    // BEGIN SOLUTION q1 PerceptronModel::get_weights
    return w_;
    // END SOLUTION
  }

  // x: one point, shape (1, dimensions). Returns its score w . x as a tensor holding exactly
  // one value (for example of shape (1, 1)); read it with .item().
  Tensor run(const Tensor& x) {
    // BEGIN SOLUTION q1 PerceptronModel::run
    return x.matmul(w_.t());  // (1, d) @ (d, 1) -> (1, 1)
    // END SOLUTION
  }

  // x: one point, shape (1, dimensions). Returns +1 if its score is >= 0 (a score of exactly
  // 0 counts as +1), else -1.
  int get_prediction(const Tensor& x) {
    // BEGIN SOLUTION q1 PerceptronModel::get_prediction
    return run(x).item() >= 0.0f ? 1 : -1;
    // END SOLUTION
  }

  // Trains until the model classifies every point of dataset correctly. Walk it in batches
  // of one point:
  //   data::DataLoader loader(dataset, 1, /*shuffle=*/true);
  //   for (const data::Batch& batch : loader) { ... batch.x (1, d), batch.label (1, 1) ... }
  // and on every mistake update w += label * x. Repeat whole passes until one pass makes no
  // mistake. The update changes w in place, which autograd forbids on a parameter while it
  // records; do the training under NoGradGuard (no gradients are needed here).
  void train(const course::PerceptronDataset& dataset) {
    // BEGIN SOLUTION q1 PerceptronModel::train
    NoGradGuard no_grad;
    data::DataLoader loader(dataset, /*batch_size=*/1, /*shuffle=*/true);
    bool made_mistake = true;
    while (made_mistake) {
      made_mistake = false;
      for (const data::Batch& batch : loader) {
        const float label = batch.label.item();  // (1, 1) -> +1 or -1
        if (get_prediction(batch.x) != static_cast<int>(label)) {
          w_ += batch.x * label;  // (1, d)
          made_mistake = true;
        }
      }
    }
    // END SOLUTION
  }

  // Module::train(bool) switches training mode; this keeps it callable beside train(dataset).
  using nn::Module::train;

 private:
  // BEGIN SOLUTION
  Tensor w_;  // (1, d), the registered parameter "w"
  // END SOLUTION
};

}  // namespace q1
