// Lesson q3: classifying handwritten digits (MNIST).
//
// Each image is 28 x 28 grey pixels in [0, 1], flattened to 784 numbers; the model turns a
// batch of them into 10 scores (logits), one per digit, and the largest score is its guess.
// Training minimises the cross entropy between softmax(logits) and the one-hot labels.
//
// Goal: at least 97% accuracy on 5,000 test images the model never sees while training
// (the odd-indexed t10k images, which the autograder grades on). Watch
// dataset.get_validation_accuracy(*this) on the other 5,000 while you tune.
// Time budget: the whole grader, training included, must finish in 180 s; aim for seconds.
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
#include <ember_course/digit_dataset.h>
#include <ember_course/progress.h>

namespace q3 {
using namespace ember;
namespace F = ember::nn::functional;

class DigitClassificationModel : public nn::Module {
 public:
  // Build and register your layers here (register_module / register_parameter), so that
  // parameters() lists everything the optimizer should learn. A multi-layer perceptron
  // 784 -> hidden -> ... -> 10 with ReLU between the layers is enough.
  DigitClassificationModel() {
    // YOUR CODE HERE
    throw ember::NotImplemented("q3: DigitClassificationModel::DigitClassificationModel");
  }

  // x: (B, 784) images, one per row. Returns (B, 10) logits: raw scores, not probabilities
  // (no softmax here; the loss applies log_softmax itself, more stably).
  Tensor run(const Tensor& x) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q3: DigitClassificationModel::run");
  }

  // x: (B, 784) images; y: (B, 10) one-hot labels (a 1 in the column of the right digit).
  // Returns the cross-entropy loss averaged over the batch: a scalar tensor that
  // loss.backward() can start from (see nn::functional::cross_entropy).
  Tensor get_loss(const Tensor& x, const Tensor& y) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q3: DigitClassificationModel::get_loss");
  }

  // Trains the model on dataset's 60,000 training images. Iterate over batches with
  //   data::DataLoader loader(dataset, batch_size, /*shuffle=*/true);
  //   for (const data::Batch& batch : loader) { ... batch.x (B, 784), batch.label (B, 10) ... }
  // and step an optimizer (optim::Adam or optim::SGD) on get_loss. Check
  // dataset.get_validation_accuracy(*this) as you tune (or to stop early): aim comfortably
  // above the goal, since the test half scatters around the validation figure.
  // To watch training as it runs (epoch, loss, accuracy, time left) and to get the loss and
  // accuracy curves in the grade report, keep a course::TrainingProgress in your loop
  // (ember_course/progress.h):
  //   course::TrainingProgress progress(epochs, loader.size());     // before the loop
  //   progress.step(loss);                                           // after each batch
  //   progress.end_epoch(dataset.get_validation_accuracy(*this));   // after each epoch
  void train(const course::DigitClassificationDataset& dataset) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q3: DigitClassificationModel::train");
  }

  // Module::train(bool) switches training mode; this keeps it callable beside train(dataset).
  using nn::Module::train;

 private:
  // YOUR CODE HERE
};

}  // namespace q3
