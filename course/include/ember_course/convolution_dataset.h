// The dataset of lesson q5 (digit classification with a convolution): MNIST split three ways.
//
//   training    the FIRST 1,000 of the 60,000 training images. A convolution written with
//               tensor slices (one slice per output pixel, as CS188's handout suggests)
//               makes thousands of small operations per image, so q5 learns from few
//               images; a small model still reaches well over 80% on digits it never saw
//               (docs/grading-margins.md). The dataset itself walks them, so
//               data::DataLoader loader(dataset, 64, /*shuffle=*/true) yields
//               batch.x (64, 784) and batch.label (64, 10), one-hot rows
//   validation  500 t10k images (indices 0, 20, 40, ..., 9980), for tuning, through
//               get_validation_accuracy(model)
//   test        1,000 other t10k images (indices 1, 11, 21, ..., 9991): the autograder
//               grades on them. They come from the separate t10k file, so the
//               model never saw them in training. (CS188's original graded q5 on images
//               from its training set.)
// The validation / test split of t10k is q3's (digit_dataset.h), cut short: both classes
// are MnistDigits (mnist_digits.h). Pixels are in [0, 1]; each row of 784 is a 28 x 28 image
// in row-major order, so x.view({-1, 28, 28}) gives the images.
#pragma once

#include <cstdint>

#include <ember/tensor.h>

#include "ember_course/eval_mode.h"
#include "ember_course/mnist.h"
#include "ember_course/mnist_digits.h"
#include "ember_course/model_device.h"

namespace ember::course {

class DigitConvolutionDataset : public MnistDigits {
 public:
  // kNumClasses (10), kImageSize (28) and kPixels (784) come from MnistDigits.
  static constexpr int64_t kTrainingImages = 1000;
  static constexpr int64_t kValidationImages = 500;
  static constexpr int64_t kTestImages = 1000;

  // Reads datasets/mnist/ (a second or so) and keeps the sizes above.
  DigitConvolutionDataset();
  // From splits already in memory (tests use small ones): the first training_images of train
  // (all of them when there are fewer) are the training examples, and t10k is divided into
  // validation (even indices) and test (odd indices).
  DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k,
                          int64_t training_images = kTrainingImages);
  // The splits given apart (the autograder's runner: an empty test split, kept by the grader).
  DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& validation, const MnistSplit& test,
                          int64_t training_images);

 private:
  struct CourseSizes {};  // the sizes above, cut from the whole files
  DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k, CourseSizes);

 public:

  // ---- from MnistDigits, with q5's sizes ------------------------------------------
  //   size() 1,000; get(i): x (784,), label (10,) one-hot; get_batch: (B, 784), (B, 10)
  //   train_x() (1000, 784), train_y() (1000, 10) one-hot, train_labels() (1000,)
  //   validation_x() (500, 784), test_x() (1000, 784); validation_labels(), test_labels()
  //   to(device): every tensor above moves there (dataset.to(Device::cuda())); device()

  // The fraction of validation images whose largest score from model.forward is the right
  // digit. Model is any class with Tensor forward(const Tensor& x), x (B, 784) -> (B, 10).
  // Runs without recording gradients, in batches; an nn::Module is put in evaluation mode
  // for the count and put back in the mode it was in. The images go to forward on the device
  // of the model's parameters (model_device.h), wherever the dataset keeps them.
  template <typename Model>
  float get_validation_accuracy(Model& model) const {
    return accuracy(model, validation_x(), validation_labels());
  }

  // The same count on any images (N, 784) and digits (N,).
  template <typename Model>
  static float accuracy(Model& model, const Tensor& images, const Tensor& labels,
                        int64_t batch_size = 1000) {
    const auto eval_mode = eval_mode_if_module(model);
    return count_accuracy([&model](const Tensor& x) { return model.forward(x); }, images,
                          labels, batch_size, {"DigitConvolutionDataset", "forward", "scores"},
                          model_device(model));
  }
};

}  // namespace ember::course
