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
//
// The split, the DataLoader methods and the accessors are MnistDigits's (mnist_digits.h),
// which q5's dataset shares.
#pragma once

#include <cstdint>

#include <ember/tensor.h>

#include "ember_course/eval_mode.h"  // EvalModeGuard, which graders use through this header
#include "ember_course/mnist.h"
#include "ember_course/mnist_digits.h"
#include "ember_course/model_device.h"

namespace ember::course {

class DigitClassificationDataset : public MnistDigits {
 public:
  // kNumClasses (10) and kPixels (784 = 28 x 28) come from MnistDigits.

  // Reads datasets/mnist/ (a second or so).
  DigitClassificationDataset();
  // From splits already in memory (tests use small ones): train is the training split and
  // t10k is divided into validation (even indices) and test (odd indices).
  DigitClassificationDataset(const MnistSplit& train, const MnistSplit& t10k);
  // The splits given apart. The autograder's runner is made this way, with an empty test
  // split: there, test_x() has no images, because the grader keeps them.
  DigitClassificationDataset(const MnistSplit& train, const MnistSplit& validation, const MnistSplit& test);

  // ---- from MnistDigits, with q3's sizes -------------------------------------------
  //   size() 60,000; get(i): x (784,), label (10,) one-hot; get_batch: (B, 784), (B, 10)
  //   train_x() (60000, 784), train_y() (60000, 10) one-hot, train_labels() (60000,)
  //   validation_x(), test_x() (5000, 784); validation_labels(), test_labels() (5000,)
  //   to(device): every tensor above moves there (dataset.to(Device::cuda())); device()

  // The fraction of validation images whose largest logit from model.run is the right digit.
  // Model is any class with Tensor run(const Tensor& x), x (B, 784) -> logits (B, 10). Runs
  // without recording gradients, in batches; an nn::Module is put in evaluation mode for the
  // count (so Dropout is off) and put back in the mode it was in. The images go to run on
  // the device of the model's parameters (model_device.h), wherever the dataset keeps them.
  template <typename Model>
  float get_validation_accuracy(Model& model) const {
    return accuracy(model, validation_x(), validation_labels());
  }

  // The same count on any images (N, 784) and digits (N,).
  template <typename Model>
  static float accuracy(Model& model, const Tensor& images, const Tensor& labels,
                        int64_t batch_size = 1000) {
    const auto eval_mode = eval_mode_if_module(model);
    return count_accuracy([&model](const Tensor& x) { return model.run(x); }, images, labels,
                          batch_size, {"DigitClassificationDataset", "run", "logits"},
                          model_device(model));
  }
};

}  // namespace ember::course
