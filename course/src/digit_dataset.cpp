#include "ember_course/digit_dataset.h"

#include <ember/creation.h>
#include <ember/error.h>
#include <ember/ops.h>

namespace ember::course {

DigitClassificationDataset::DigitClassificationDataset()
    : DigitClassificationDataset(load_mnist_train(), load_mnist_test()) {}

DigitClassificationDataset::DigitClassificationDataset(const MnistSplit& train, const MnistSplit& t10k) {
  check(train.size() > 0 && t10k.size() >= 2,
        "DigitClassificationDataset: needs training images and at least two test images, got {} "
        "and {}",
        train.size(), t10k.size());
  check(train.images.dim() == 2 && train.images.size(1) == kPixels && t10k.images.dim() == 2 &&
            t10k.images.size(1) == kPixels,
        "DigitClassificationDataset: images must have shape (N, {}), got {} and {}", kPixels,
        shape_str(train.images.shape()), shape_str(t10k.images.shape()));
  train_x_ = train.images;
  train_labels_ = train.labels;
  train_y_ = one_hot(train.labels, kNumClasses);  // (N,) -> (N, 10)
  // Even indices to look at while tuning, odd ones kept for grading: both halves are drawn
  // from the whole t10k file, so they are alike.
  validation_ = mnist_every(t10k, 0, 2);
  test_ = mnist_every(t10k, 1, 2);
}

int64_t DigitClassificationDataset::size() const { return train_x_.size(0); }

data::Example DigitClassificationDataset::get(int64_t i) const {
  check(i >= 0 && i < size(),
        "DigitClassificationDataset: index {} is out of range for {} training images", i, size());
  return data::Example{train_x_.select(0, i), train_y_.select(0, i)};  // (784,), (10,)
}

data::Example DigitClassificationDataset::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "DigitClassificationDataset::get_batch: the list of indices is empty");
  std::vector<float> rows;
  rows.reserve(indices.size());
  for (int64_t i : indices) {
    check(i >= 0 && i < size(),
          "DigitClassificationDataset: index {} is out of range for {} training images", i, size());
    rows.push_back(static_cast<float>(i));  // exact: 60,000 is far below 2^24
  }
  Tensor index = from_vector(rows, {static_cast<int64_t>(rows.size())});
  return data::Example{index_select(train_x_, index), index_select(train_y_, index)};  // (B, 784), (B, 10)
}

}  // namespace ember::course
