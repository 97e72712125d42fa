// Lesson q2: non-linear regression.
//
// Fit sin(x) on [-2 pi, 2 pi] with a small neural network: a function from one number to
// one number, learnt from 200 samples by minimising the mean squared error. A linear model
// cannot bend; layers with a ReLU between them can.
//
// Goal: a mean squared error of at most 0.02 over the 200 training points, and also on
// points between them that the model never sees.
// Time budget: the whole grader must finish in 60 s; aim for a few seconds of training.
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
#include <ember_course/progress.h>
#include <ember_course/regression_dataset.h>

namespace q2 {
using namespace ember;
namespace F = ember::nn::functional;

class RegressionModel : public nn::Module {
 public:
  // Build and register your layers here (register_module), e.g. 1 -> hidden -> hidden -> 1
  // with ReLU between them.
  RegressionModel() {
    // YOUR CODE HERE
    throw ember::NotImplemented("q2: RegressionModel::RegressionModel");
  }

  // x: (B, 1), one input per row. Returns the predictions, (B, 1).
  Tensor forward(const Tensor& x) override {
    // YOUR CODE HERE
    throw ember::NotImplemented("q2: RegressionModel::forward");
  }

  // x: (B, 1) inputs, y: (B, 1) targets. Returns the mean squared error of forward(x)
  // against y, a scalar tensor that loss.backward() can start from.
  Tensor get_loss(const Tensor& x, const Tensor& y) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q2: RegressionModel::get_loss");
  }

  // Trains on dataset (200 points; dataset.x() and dataset.y() are all of them, (200, 1)).
  // Walk it in batches with data::DataLoader loader(dataset, batch_size, /*shuffle=*/true),
  // step an optimizer (optim::Adam works well) on get_loss, and stop once the loss over the
  // whole dataset is comfortably below 0.02.
  // To watch training as it runs, keep a course::TrainingProgress in your loop
  // (ember_course/progress.h); 0 epochs means "not known in advance" (the loop stops when
  // the loss is low enough):
  //   course::TrainingProgress progress(/*epochs=*/0, loader.size());  // before the loop
  //   progress.step(loss);                                             // after each batch
  //   progress.end_epoch();                                            // after each epoch
  void train(const course::RegressionDataset& dataset) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q2: RegressionModel::train");
  }

  // Module::train(bool) switches training mode; this keeps it callable beside train(dataset).
  using nn::Module::train;

 private:
  // YOUR CODE HERE
};

}  // namespace q2
