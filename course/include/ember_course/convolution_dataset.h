// The dataset of lesson q5 (digit classification with a convolution): MNIST split three ways.
//
//   training    the FIRST 10,000 of the 60,000 training images. A convolution written with
//               tensor slices is slower than one matrix product, so q5 learns from a sixth
//               of the training set; that is still plenty for a small model to reach well
//               over 90%. The dataset itself walks them, so
//               data::DataLoader loader(dataset, 64, /*shuffle=*/true) yields
//               batch.x (64, 784) and batch.label (64, 10), one-hot rows
//   validation  the even-indexed t10k images (0, 2, 4, ...; 5,000), for tuning, through
//               get_validation_accuracy(model)
//   test        the odd-indexed t10k images (1, 3, 5, ...; 5,000): the autograder grades on
//               them. They come from the separate t10k file, so the model never saw them in
//               training. (CS188's original graded q5 on images from its training set.)
// The validation / test split of t10k is the same as in q3 (digit_dataset.h). Pixels are in
// [0, 1]; each row of 784 is a 28 x 28 image in row-major order, so x.view({-1, 28, 28})
// gives the images.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include <ember/autograd.h>
#include <ember/data/dataset.h>
#include <ember/error.h>
#include <ember/nn/module.h>
#include <ember/ops.h>
#include <ember/tensor.h>

#include "ember_course/digit_dataset.h"  // EvalModeGuard
#include "ember_course/mnist.h"

namespace ember::course {

class DigitConvolutionDataset : public data::Dataset {
 public:
  static constexpr int64_t kNumClasses = 10;
  static constexpr int64_t kImageSize = 28;
  static constexpr int64_t kPixels = kImageSize * kImageSize;
  static constexpr int64_t kTrainingImages = 10000;

  // Reads datasets/mnist/ (a second or so) and keeps the first kTrainingImages training images.
  DigitConvolutionDataset();
  // From splits already in memory (tests use small ones): the first training_images of train
  // (all of them when there are fewer) are the training examples, and t10k is divided into
  // validation (even indices) and test (odd indices).
  DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k,
                          int64_t training_images = kTrainingImages);

  // ---- training examples, for data::DataLoader ------------------------------------------
  int64_t size() const override;                // 10,000
  data::Example get(int64_t i) const override;  // x (784,), label (10,) one-hot
  data::Example get_batch(const std::vector<int64_t>& indices) const override;  // (B, 784), (B, 10)

  const Tensor& train_x() const { return train_x_; }            // (10000, 784)
  const Tensor& train_y() const { return train_y_; }            // (10000, 10) one-hot
  const Tensor& train_labels() const { return train_labels_; }  // (10000,) digits as floats

  // ---- held-out examples ------------------------------------------------------------------
  const Tensor& validation_x() const { return validation_.images; }       // (5000, 784)
  const Tensor& validation_labels() const { return validation_.labels; }  // (5000,) digits
  const Tensor& test_x() const { return test_.images; }                   // (5000, 784)
  const Tensor& test_labels() const { return test_.labels; }              // (5000,) digits

  // The fraction of validation images whose largest score from model.forward is the right
  // digit. Model is any class with Tensor forward(const Tensor& x), x (B, 784) -> (B, 10).
  // Runs without recording gradients, in batches; an nn::Module is put in evaluation mode
  // for the count and put back in the mode it was in.
  template <typename Model>
  float get_validation_accuracy(Model& model) const {
    return accuracy(model, validation_x(), validation_labels());
  }

  // The same count on any images (N, 784) and digits (N,).
  template <typename Model>
  static float accuracy(Model& model, const Tensor& images, const Tensor& labels,
                        int64_t batch_size = 1000) {
    NoGradGuard no_grad;
    std::unique_ptr<EvalModeGuard> eval_mode;
    if constexpr (std::is_base_of_v<nn::Module, Model>) {
      // Through the base class, because a model's own train(dataset) hides Module::train(bool).
      eval_mode = std::make_unique<EvalModeGuard>(static_cast<nn::Module&>(model));
    }
    check(images.dim() == 2 && labels.dim() == 1 && images.size(0) == labels.size(0),
          "DigitConvolutionDataset::accuracy: expected images (N, {}) and labels (N,), got {} and {}",
          kPixels, shape_str(images.shape()), shape_str(labels.shape()));
    const int64_t n = images.size(0);
    int64_t correct = 0;
    for (int64_t start = 0; start < n; start += batch_size) {
      const int64_t end = start + batch_size < n ? start + batch_size : n;
      Tensor scores = model.forward(images.slice(0, start, end));  // (b, 784) -> (b, 10)
      check(scores.defined() && scores.dim() == 2 && scores.size(0) == end - start &&
                scores.size(1) == kNumClasses,
            "DigitConvolutionDataset::accuracy: forward should map ({}, {}) images to ({}, {}) "
            "scores, got shape {}",
            end - start, kPixels, end - start, kNumClasses,
            scores.defined() ? shape_str(scores.shape()) : std::string("(undefined)"));
      Tensor right = eq(scores.argmax(1), labels.slice(0, start, end));  // (b,) of 1s and 0s
      correct += static_cast<int64_t>(right.sum().item() + 0.5f);
    }
    return n == 0 ? 0.0f : static_cast<float>(correct) / static_cast<float>(n);
  }

 private:
  Tensor train_x_;
  Tensor train_y_;
  Tensor train_labels_;
  MnistSplit validation_;
  MnistSplit test_;
};

}  // namespace ember::course
