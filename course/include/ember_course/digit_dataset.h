// The dataset of lesson q3 (digit classification): MNIST split three ways.
//
//   training    the 60,000 training images; the dataset itself walks them, so
//               data::DataLoader loader(dataset, 100, /*shuffle=*/true) yields
//               batch.x (100, 784) and batch.label (100, 10), one-hot rows
//   validation  the even-indexed t10k images (0, 2, 4, ...; 5,000): look at it while tuning,
//               through get_validation_accuracy(model)
//   test        the odd-indexed t10k images (1, 3, 5, ...; 5,000): the autograder grades on
//               them; a model never trains on them
// Pixels are in [0, 1] (see mnist.h).
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

#include "ember_course/mnist.h"

namespace ember::course {

// Puts a module in evaluation mode for its lifetime, then back in the mode it was in (also
// when an exception passes through).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  nn::Module& module_;
  bool was_training_;
};

class DigitClassificationDataset : public data::Dataset {
 public:
  static constexpr int64_t kNumClasses = 10;
  static constexpr int64_t kPixels = 784;  // 28 x 28

  // Reads datasets/mnist/ (a second or so).
  DigitClassificationDataset();
  // From splits already in memory (tests use small ones): train is the training split and
  // t10k is divided into validation (even indices) and test (odd indices).
  DigitClassificationDataset(const MnistSplit& train, const MnistSplit& t10k);

  // ---- training examples, for data::DataLoader -------------------------------------
  int64_t size() const override;                    // 60,000
  data::Example get(int64_t i) const override;      // x (784,), label (10,) one-hot
  data::Example get_batch(const std::vector<int64_t>& indices) const override;  // (B, 784), (B, 10)

  const Tensor& train_x() const { return train_x_; }            // (60000, 784)
  const Tensor& train_y() const { return train_y_; }            // (60000, 10) one-hot
  const Tensor& train_labels() const { return train_labels_; }  // (60000,) digits as floats

  // ---- held-out examples -------------------------------------------------------------
  const Tensor& validation_x() const { return validation_.images; }       // (5000, 784)
  const Tensor& validation_labels() const { return validation_.labels; }  // (5000,) digits
  const Tensor& test_x() const { return test_.images; }                   // (5000, 784)
  const Tensor& test_labels() const { return test_.labels; }              // (5000,) digits

  // The fraction of validation images whose largest logit from model.run is the right digit.
  // Model is any class with Tensor run(const Tensor& x), x (B, 784) -> logits (B, 10). Runs
  // without recording gradients, in batches; an nn::Module is put in evaluation mode for the
  // count (so Dropout is off) and put back in the mode it was in.
  template <typename Model>
  float get_validation_accuracy(Model& model) const {
    return accuracy(model, validation_x(), validation_labels());
  }

  // The same count on any images (N, 784) and digits (N,).
  template <typename Model>
  static float accuracy(Model& model, const Tensor& images, const Tensor& labels,
                        int64_t batch_size = 1000) {
    NoGradGuard no_grad;
    // Through the base class, because a model's own train(dataset) hides Module::train(bool).
    std::unique_ptr<EvalModeGuard> eval_mode;
    if constexpr (std::is_base_of_v<nn::Module, Model>) {
      eval_mode = std::make_unique<EvalModeGuard>(static_cast<nn::Module&>(model));
    }
    const int64_t n = images.size(0);
    int64_t correct = 0;
    for (int64_t start = 0; start < n; start += batch_size) {
      const int64_t end = start + batch_size < n ? start + batch_size : n;
      Tensor logits = model.run(images.slice(0, start, end));  // (b, 784) -> (b, 10)
      check(logits.dim() == 2 && logits.size(0) == end - start && logits.size(1) == kNumClasses,
            "DigitClassificationDataset::accuracy: run should map ({}, {}) images to ({}, {}) logits, got shape {}",
            end - start, kPixels, end - start, kNumClasses, shape_str(logits.shape()));
      Tensor predicted = logits.argmax(1);                           // (b, 10) -> (b,)
      Tensor right = eq(predicted, labels.slice(0, start, end));     // (b,) of 1s and 0s
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
