// What the digit datasets of q3 (digit_dataset.h) and q5 (convolution_dataset.h) have in
// common: MNIST split three ways, and the accuracy count on held-out images.
//
//   training    the first images of the 60,000 training images (q3 keeps all of them, q5
//               the first 1,000); the dataset itself walks them, so
//               data::DataLoader loader(dataset, B, /*shuffle=*/true) yields
//               batch.x (B, 784) and batch.label (B, 10), one-hot rows
//   validation  t10k images for tuning: in q3 the even-indexed ones (0, 2, 4, ...; 5,000),
//               in q5 every twentieth (0, 20, 40, ..., 9980; 500)
//   test        t10k images the autograder grades on: in q3 the odd-indexed ones (1, 3, 5,
//               ...; 5,000), in q5 every tenth from 1 (1, 11, 21, ..., 9991; 1,000). They
//               come from the separate t10k file, so a model never trains on them
// Pixels are in [0, 1] (see mnist.h); each row of 784 is a 28 x 28 image in row-major order.
//
// Devices: everything starts on the device of the splits it is made from (the CPU for the
// files). dataset.to(Device::cuda()) moves the training, validation and test tensors to the
// GPU; after it, get/get_batch, a data::DataLoader's batches, the accessors below and the
// accuracy counts all work there. A model's inputs are always handed to it on the device of
// its parameters; the model itself is never moved.
//
// The two lessons' classes differ only in how many training images they keep and in the
// model method their accuracy calls (run in q3, forward in q5), so this class holds the rest
// once. Lessons use the two classes, not this one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <ember/data/dataset.h>
#include <ember/device.h>
#include <ember/tensor.h>

#include "ember_course/mnist.h"

namespace ember::course {

class MnistDigits : public data::Dataset {
 public:
  static constexpr int64_t kNumClasses = 10;
  static constexpr int64_t kImageSize = 28;
  static constexpr int64_t kPixels = kImageSize * kImageSize;  // 784

  // ---- training examples, for data::DataLoader -------------------------------------
  int64_t size() const override;                // N, the training images kept
  data::Example get(int64_t i) const override;  // x (784,), label (10,) one-hot
  data::Example get_batch(const std::vector<int64_t>& indices) const override;  // (B, 784), (B, 10)

  const Tensor& train_x() const { return train_x_; }            // (N, 784)
  const Tensor& train_y() const { return train_y_; }            // (N, 10) one-hot
  const Tensor& train_labels() const { return train_labels_; }  // (N,) digits as floats

  // ---- held-out examples -------------------------------------------------------------
  // V and T: 5,000 each in q3; 500 and 1,000 in q5.
  const Tensor& validation_x() const { return validation_.images; }       // (V, 784)
  const Tensor& validation_labels() const { return validation_.labels; }  // (V,) digits
  const Tensor& test_x() const { return test_.images; }                   // (T, 784)
  const Tensor& test_labels() const { return test_.labels; }              // (T,) digits

  // ---- devices -------------------------------------------------------------------------
  // Moves the training, validation and test tensors to device (new handles: tensors taken
  // from the accessors before stay where they were) and makes a DataLoader deliver batches
  // there (data::Dataset::to). Nothing is copied when they are already there, so on the CPU
  // it changes nothing. Throws ember::Error, leaving the dataset as it was, when the device
  // cannot be used ("no CUDA device", "built without CUDA").
  MnistDigits& to(Device device) override;
  // Where the tensors are: where the splits it was made from were (the CPU for the files),
  // until to() moves them.
  Device device() const { return train_x_.device(); }

 protected:
  // name: the lesson's class, for error messages. training_images: how many of train's
  // first images to keep (all of them when train has fewer), or std::nullopt for all of
  // train as it is (no copy). t10k is divided into validation (even indices) and test (odd).
  // The four tensors of the two splits must be on one device, where the dataset starts.
  MnistDigits(const char* name, const MnistSplit& train, const MnistSplit& t10k,
              std::optional<int64_t> training_images);
  // The same with the validation and test splits given apart. The autograder's runner gives
  // an empty test split (0 images): the test images stay with the checker.
  MnistDigits(const char* name, const MnistSplit& train, MnistSplit validation, MnistSplit test,
              std::optional<int64_t> training_images);

  // How an accuracy error names the model's method: "run" and its "logits" in q3,
  // "forward" and its "scores" in q5.
  struct PredictionNames {
    const char* dataset;  // "DigitClassificationDataset"
    const char* method;   // "run"
    const char* output;   // "logits"
  };

  // The fraction of images (N, 784) whose largest score from predict, (b, 784) -> (b, 10),
  // is the right digit in labels (N,). Counts batch_size images at a time, without recording
  // gradients. The lessons' accuracy templates wrap model.run or model.forward in predict
  // (and put an nn::Module in evaluation mode around the call). input_device: where predict
  // wants its images (the model's device, model_device.h); each batch is moved there when it
  // is elsewhere, and given as it is when input_device is empty. The scores are compared with
  // the labels on the device the scores come back on.
  static float count_accuracy(const std::function<Tensor(const Tensor&)>& predict,
                              const Tensor& images, const Tensor& labels, int64_t batch_size,
                              const PredictionNames& names,
                              const std::optional<Device>& input_device = std::nullopt);

 private:
  const char* name_;
  Tensor train_x_;
  Tensor train_y_;
  Tensor train_labels_;
  MnistSplit validation_;
  MnistSplit test_;
};

}  // namespace ember::course
