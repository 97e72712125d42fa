#include "ember_course/convolution_dataset.h"

#include <algorithm>

#include <ember/creation.h>
#include <ember/error.h>
#include <ember/ops.h>

namespace ember::course {

DigitConvolutionDataset::DigitConvolutionDataset()
    : DigitConvolutionDataset(load_mnist_train(), load_mnist_test()) {}

DigitConvolutionDataset::DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k,
                                                 int64_t training_images) {
  check(training_images > 0 && train.size() > 0 && t10k.size() >= 2,
        "DigitConvolutionDataset: needs training images and at least two test images, got {} "
        "(using {}) and {}",
        train.size(), training_images, t10k.size());
  check(train.images.dim() == 2 && train.images.size(1) == kPixels && t10k.images.dim() == 2 &&
            t10k.images.size(1) == kPixels,
        "DigitConvolutionDataset: images must have shape (N, {}), got {} and {}", kPixels,
        shape_str(train.images.shape()), shape_str(t10k.images.shape()));
  const int64_t count = std::min(training_images, train.size());
  // clone(): a slice would keep all 60,000 images (188 MB) alive for the sake of 10,000.
  train_x_ = train.images.slice(0, 0, count).clone();      // (N, 784) -> (count, 784)
  train_labels_ = train.labels.slice(0, 0, count).clone();  // (N,) -> (count,)
  train_y_ = one_hot(train_labels_, kNumClasses);           // (count,) -> (count, 10)
  // Even indices to look at while tuning, odd ones kept for grading, as in q3.
  validation_ = mnist_every(t10k, 0, 2);
  test_ = mnist_every(t10k, 1, 2);
}

int64_t DigitConvolutionDataset::size() const { return train_x_.size(0); }

data::Example DigitConvolutionDataset::get(int64_t i) const {
  check(i >= 0 && i < size(),
        "DigitConvolutionDataset: index {} is out of range for {} training images", i, size());
  return data::Example{train_x_.select(0, i), train_y_.select(0, i)};  // (784,), (10,)
}

data::Example DigitConvolutionDataset::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "DigitConvolutionDataset::get_batch: the list of indices is empty");
  std::vector<float> rows;
  rows.reserve(indices.size());
  for (int64_t i : indices) {
    check(i >= 0 && i < size(),
          "DigitConvolutionDataset: index {} is out of range for {} training images", i, size());
    rows.push_back(static_cast<float>(i));  // exact: far below 2^24
  }
  Tensor index = from_vector(rows, {static_cast<int64_t>(rows.size())});
  return data::Example{index_select(train_x_, index), index_select(train_y_, index)};  // (B, 784), (B, 10)
}

}  // namespace ember::course
