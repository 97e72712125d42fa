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
  // BEGIN SOLUTION q5 Convolve
  // Two ways to write this with tensor ops:
  //  (a) one output pixel at a time: output[y][x] = (input.slice(0, y, y + h).slice(1, x, x + w)
  //      * weight).sum(), then stack the pixels. Direct, but (H - h + 1) * (W - w + 1)
  //      slices and products: 676 of each for a 28 x 28 image.
  //  (b) one kernel entry at a time (below): weight[i][j] multiplies the window of the input
  //      shifted by (i, j), which is a whole (out_h, out_w) slice, so the output is the sum
  //      of h * w scaled slices. Same numbers, 9 slices for a 3 x 3 kernel.
  // Working on the last two dims lets the same code convolve a batch (..., H, W) at once.
  check(input.dim() >= 2 && weight.dim() == 2,
        "Convolve: expected an input (H, W) (or (..., H, W)) and a weight (h, w), got {} and {}",
        shape_str(input.shape()), shape_str(weight.shape()));
  const int64_t h = weight.size(0), w = weight.size(1);
  const int64_t out_h = input.size(-2) - h + 1, out_w = input.size(-1) - w + 1;
  check(h >= 1 && w >= 1 && out_h >= 1 && out_w >= 1,
        "Convolve: the weight {} must fit inside the input {}", shape_str(weight.shape()),
        shape_str(input.shape()));
  Tensor output;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      // (..., H, W) -> (..., out_h, out_w): the pixels that weight[i][j] meets.
      Tensor window = input.slice(-2, i, i + out_h).slice(-1, j, j + out_w);
      Tensor term = window * weight.index({i, j});  // times a one-element tensor
      output = output.defined() ? output + term : term;
    }
  }
  return output;
  // END SOLUTION
}

class DigitConvolutionalModel : public nn::Module {
 public:
  // The 3 x 3 kernel, registered as the parameter "convolution_weights". (Given.)
  Tensor convolution_weights;

  // Add the layers that classify the convolved (26 x 26 = 676 numbers per image) digits.
  DigitConvolutionalModel() {
    // Starts as all ones (a blur); training shapes it.
    convolution_weights = register_parameter("convolution_weights", ones({3, 3}));
    // BEGIN SOLUTION
    layers_ = register_module("layers", std::make_shared<nn::Sequential>(
                                            std::make_shared<nn::Linear>(676, kHidden),
                                            std::make_shared<nn::ReLU>(),
                                            std::make_shared<nn::Linear>(kHidden, 10)));
    // END SOLUTION
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
    // BEGIN SOLUTION q5 DigitConvolutionalModel::forward
    Tensor images = x.reshape({x.size(0), 28, 28});             // (B, 784) -> (B, 28, 28)
    // Convolve works on the last two dims, so the whole batch goes in one call; calling
    // it per image and stacking the results gives the same numbers B times more slowly.
    Tensor convolved = Convolve(images, convolution_weights);  // (B, 28, 28) -> (B, 26, 26)
    return layers_->forward(convolved.flatten(1));             // (B, 676) -> (B, 10)
    // END SOLUTION
  }

  // The cross-entropy loss of forward(x) against y: (B, 10) one-hot digits. A one-element
  // tensor, the mean over the batch.
  Tensor get_loss(const Tensor& x, const Tensor& y) {
    // BEGIN SOLUTION q5 DigitConvolutionalModel::get_loss
    return nn::functional::cross_entropy(forward(x), y);  // (B, 10), (B, 10) -> ()
    // END SOLUTION
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
    // BEGIN SOLUTION q5 DigitConvolutionalModel::train
    optim::Adam optimizer(parameters(), optim::AdamOptions(kLearningRate));
    data::DataLoader loader(dataset, kBatchSize, /*shuffle=*/true);
    course::TrainingProgress progress(kEpochs, loader.size());
    for (int epoch = 0; epoch < kEpochs; ++epoch) {
      for (const data::Batch& batch : loader) {
        optimizer.zero_grad();
        Tensor loss = get_loss(batch.x, batch.label);
        loss.backward();
        optimizer.step();
        progress.step(loss);
      }
      progress.end_epoch(dataset.get_validation_accuracy(*this));
    }
    // END SOLUTION
  }

 private:
  // BEGIN SOLUTION
  static constexpr int64_t kHidden = 128;
  static constexpr int64_t kBatchSize = 64;
  static constexpr double kLearningRate = 1e-3;
  static constexpr int kEpochs = 5;

  std::shared_ptr<nn::Sequential> layers_;
  // END SOLUTION
};

}  // namespace q5
