// Question 5: convolution, written by hand, then used to classify digits.
//
// A convolutional layer slides a small grid of weights (the kernel, say 3 x 3) over an
// image and, at every position, multiplies the kernel with the patch of the image under
// it and adds up the products. One number per position comes out, so a (H, W) image and
// an (h, w) kernel give an (H - h + 1, W - w + 1) output (the kernel must fit entirely
// inside the image: a "valid" convolution):
//
//   output[y][x] = sum over i < h, j < w of input[y + i][x + j] * weight[i][j]
//
// (Deep-learning libraries call this a convolution, but strictly it is a cross-correlation:
// the kernel is not flipped. Do not flip it.) Because the same few weights are used at
// every position, the layer finds a pattern (an edge, a stroke) wherever it appears.
//
// Part 1: Convolve(input, weight), with tensor operations only (slices, element-wise
// products and sums), so that autograd gives the gradients for free.
// Part 2: DigitConvolutionalModel, which convolves each 28 x 28 digit with a learned 3 x 3
// kernel and classifies the (26 x 26) result with a small network.
//
// The autograder compares Convolve with its own loops on random inputs of several sizes
// (non-square kernels, 1 x 1 kernels and kernels as large as the input included), checks
// its gradient with respect to the weight against the definition's, and requires the
// trained model to classify at least 80% of 1,000 held-out test digits correctly.
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
#include <ember_course/convolution_dataset.h>
#include <ember_course/progress.h>

namespace q5 {
using namespace ember;
namespace F = ember::nn::functional;

// input: (H, W); weight: (h, w) with h <= H and w <= W.
// returns: (H - h + 1, W - w + 1), output[y][x] = sum_ij input[y + i][x + j] * weight[i][j].
// Write it with slices (Tensor::slice or index with Slice), products and sums; autograd
// must be able to differentiate the result with respect to input and weight. If you slice
// the last two dims (-2 and -1), the same code also takes a batch (..., H, W) and gives
// (..., H - h + 1, W - w + 1), which the model below can use to convolve a whole batch in
// one call. (inline: a function defined in a header needs it, so that two files including
// it still link.)
inline Tensor Convolve(const Tensor& input, const Tensor& weight) {
  // YOUR CODE HERE
  throw ember::NotImplemented("q5: Convolve");
}

class DigitConvolutionalModel : public nn::Module {
 public:
  // The 3 x 3 kernel, registered as the parameter "convolution_weights". (Given.)
  Tensor convolution_weights;

  // Add the layers that classify the convolved (26 x 26 = 676 numbers per image) digits.
  DigitConvolutionalModel() {
    // Starts as all ones (a blur); training shapes it.
    convolution_weights = register_parameter("convolution_weights", ones({3, 3}));
    // YOUR CODE HERE
  }

  // Our train(dataset) below would hide nn::Module's train(bool); keep both usable.
  using nn::Module::train;

  // x: (B, 784), each row a 28 x 28 digit in row-major order.
  // returns: (B, 10) scores (logits), one per digit.
  // Reshape to images (B, 28, 28), convolve every image with convolution_weights using
  // your Convolve (one call per image, put back together with ember::stack, or one call
  // on the whole batch if your Convolve takes (B, H, W)), flatten the results to (B, 676)
  // and run your layers on them.
  Tensor forward(const Tensor& x) override {
    // YOUR CODE HERE
    throw ember::NotImplemented("q5: DigitConvolutionalModel::forward");
  }

  // The cross-entropy loss of forward(x) against y: (B, 10) one-hot digits. A one-element
  // tensor, the mean over the batch.
  Tensor get_loss(const Tensor& x, const Tensor& y) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q5: DigitConvolutionalModel::get_loss");
  }

  // Trains the model on the dataset's training images (a data::DataLoader over the
  // dataset yields batch.x (B, 784) and batch.label (B, 10)).
  // dataset.get_validation_accuracy(*this) tells you how it is doing.
  // To watch training as it runs (epoch, loss, accuracy, time left) and to get the loss and
  // accuracy curves in the grade report, keep a course::TrainingProgress in your loop
  // (ember_course/progress.h):
  //   course::TrainingProgress progress(epochs, loader.size());     // before the loop
  //   progress.step(loss);                                           // after each batch
  //   progress.end_epoch(dataset.get_validation_accuracy(*this));   // after each epoch
  void train(const course::DigitConvolutionDataset& dataset) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q5: DigitConvolutionalModel::train");
  }

 private:
  // YOUR CODE HERE
};

}  // namespace q5
