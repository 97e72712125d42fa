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
    // BEGIN SOLUTION q2 RegressionModel::RegressionModel
    layers_ = register_module(
        "layers", std::make_shared<nn::Sequential>(
                      std::make_shared<nn::Linear>(1, 64), std::make_shared<nn::ReLU>(),
                      std::make_shared<nn::Linear>(64, 64), std::make_shared<nn::ReLU>(),
                      std::make_shared<nn::Linear>(64, 1)));
    // END SOLUTION
  }

  // x: (B, 1), one input per row. Returns the predictions, (B, 1).
  Tensor forward(const Tensor& x) override {
    // BEGIN SOLUTION q2 RegressionModel::forward
    return layers_->forward(x);  // (B, 1) -> (B, 1)
    // END SOLUTION
  }

  // x: (B, 1) inputs, y: (B, 1) targets. Returns the mean squared error of forward(x)
  // against y, a scalar tensor that loss.backward() can start from.
  Tensor get_loss(const Tensor& x, const Tensor& y) {
    // BEGIN SOLUTION q2 RegressionModel::get_loss
    return F::mse_loss(forward(x), y);  // (B, 1) and (B, 1) -> ()
    // END SOLUTION
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
    // BEGIN SOLUTION q2 RegressionModel::train
    optim::Adam optimizer(parameters(), optim::AdamOptions(1e-2));
    data::DataLoader loader(dataset, /*batch_size=*/20, /*shuffle=*/true);
    // Aim ten times below the goal: points between the training samples then fit too.
    const float target_loss = 0.002f;
    const int max_epochs = 2000;
    course::TrainingProgress progress(/*epochs=*/0, loader.size());
    for (int epoch = 0; epoch < max_epochs; ++epoch) {
      for (const data::Batch& batch : loader) {
        optimizer.zero_grad();
        Tensor loss = get_loss(batch.x, batch.label);  // (20, 1), (20, 1) -> ()
        loss.backward();
        optimizer.step();
        progress.step(loss);
      }
      progress.end_epoch();
      NoGradGuard no_grad;
      if (get_loss(dataset.x(), dataset.y()).item() < target_loss) return;
    }
    // END SOLUTION
  }

  // Module::train(bool) switches training mode; this keeps it callable beside train(dataset).
  using nn::Module::train;

 private:
  // BEGIN SOLUTION
  std::shared_ptr<nn::Sequential> layers_;
  // END SOLUTION
};

}  // namespace q2
