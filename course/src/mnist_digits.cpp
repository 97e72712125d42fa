#include "ember_course/mnist_digits.h"

#include <algorithm>
#include <string>
#include <utility>

#include <ember/autograd.h>
#include <ember/creation.h>
#include <ember/error.h>
#include <ember/ops.h>
#include <fmt/format.h>

namespace ember::course {

MnistDigits::MnistDigits(const char* name, const MnistSplit& train, const MnistSplit& t10k,
                         std::optional<int64_t> training_images)
    // Even indices to look at while tuning, odd ones kept for grading: both halves are drawn
    // from the whole t10k file, so they are alike.
    : MnistDigits(name, train, t10k.size() >= 2 ? mnist_every(t10k, 0, 2) : t10k,
                  t10k.size() >= 2 ? mnist_every(t10k, 1, 2) : t10k, training_images) {
  EMBER_CHECK(t10k.size() >= 2, "{}: needs at least two test images, got {}", name, t10k.size());
}

MnistDigits::MnistDigits(const char* name, const MnistSplit& train, MnistSplit validation, MnistSplit test,
                         std::optional<int64_t> training_images)
    : name_(name) {
  // With a count, the message also says how many images were asked for.
  EMBER_CHECK(training_images.value_or(1) > 0 && train.size() > 0 && validation.size() > 0,
              "{}: needs training and validation images, got {}{} and {}", name, train.size(),
              training_images ? fmt::format(" (using {})", *training_images) : std::string(),
              validation.size());
  for (const MnistSplit* split : std::initializer_list<const MnistSplit*>{&train, &validation, &test}) {
    check(split->images.dim() == 2 && split->images.size(1) == kPixels,
          "{}: images must have shape (N, {}), got {}", name, kPixels, shape_str(split->images.shape()));
  }
  const Device device = train.images.device();
  for (const Tensor* t : std::initializer_list<const Tensor*>{&train.labels, &validation.images, &validation.labels,
                                                               &test.images, &test.labels}) {
    check(t->device() == device,
          "{}: the images and labels of every split must be on one device, got {} and {}; move them "
          "with .to(device)",
          name, device.str(), t->device().str());
  }
  if (training_images) {
    const int64_t count = std::min(*training_images, train.size());
    // clone(): a slice would keep all 60,000 images (188 MB) alive for the sake of 10,000.
    train_x_ = train.images.slice(0, 0, count).clone();      // (N, 784) -> (count, 784)
    train_labels_ = train.labels.slice(0, 0, count).clone();  // (N,) -> (count,)
  } else {
    train_x_ = train.images;
    train_labels_ = train.labels;
  }
  train_y_ = one_hot(train_labels_, kNumClasses);  // (N,) -> (N, 10)
  validation_ = std::move(validation);
  test_ = std::move(test);
}

int64_t MnistDigits::size() const { return train_x_.size(0); }

MnistDigits& MnistDigits::to(Device device) {
  // Copy everything first, then swap, so that a failed copy leaves the dataset as it was.
  // A tensor already on device is not copied: on the CPU this keeps every handle.
  Tensor train_x = train_x_.to(device);
  Tensor train_y = train_y_.to(device);
  Tensor train_labels = train_labels_.to(device);
  MnistSplit validation = validation_;
  validation.images = validation_.images.to(device);
  validation.labels = validation_.labels.to(device);
  MnistSplit test = test_;
  test.images = test_.images.to(device);
  test.labels = test_.labels.to(device);
  data::Dataset::to(device);  // the DataLoader's side: batches are delivered on device
  train_x_ = std::move(train_x);
  train_y_ = std::move(train_y);
  train_labels_ = std::move(train_labels);
  validation_ = std::move(validation);
  test_ = std::move(test);
  return *this;
}

data::Example MnistDigits::get(int64_t i) const {
  check(i >= 0 && i < size(), "{}: index {} is out of range for {} training images", name_, i,
        size());
  return data::Example{train_x_.select(0, i), train_y_.select(0, i)};  // (784,), (10,)
}

data::Example MnistDigits::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "{}::get_batch: the list of indices is empty", name_);
  std::vector<float> rows;
  rows.reserve(indices.size());
  for (int64_t i : indices) {
    check(i >= 0 && i < size(), "{}: index {} is out of range for {} training images", name_, i,
          size());
    rows.push_back(static_cast<float>(i));  // exact: 60,000 is far below 2^24
  }
  // The indices go where the images are, so that the gather runs there.
  Tensor index = from_vector(rows, {static_cast<int64_t>(rows.size())}, train_x_.device());
  return data::Example{index_select(train_x_, index), index_select(train_y_, index)};  // (B, 784), (B, 10)
}

float MnistDigits::count_accuracy(const std::function<Tensor(const Tensor&)>& predict,
                                  const Tensor& images, const Tensor& labels, int64_t batch_size,
                                  const PredictionNames& names,
                                  const std::optional<Device>& input_device) {
  NoGradGuard no_grad;
  EMBER_CHECK(images.dim() == 2 && labels.dim() == 1 && images.size(0) == labels.size(0),
              "{}::accuracy: expected images (N, {}) and labels (N,), got {} and {}", names.dataset,
              kPixels, shape_str(images.shape()), shape_str(labels.shape()));
  const int64_t n = images.size(0);
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = start + batch_size < n ? start + batch_size : n;
    Tensor batch = images.slice(0, start, end);  // (b, 784)
    if (input_device && batch.device() != *input_device) batch = batch.to(*input_device);
    Tensor scores = predict(batch);  // (b, 784) -> (b, 10)
    EMBER_CHECK(scores.defined() && scores.dim() == 2 && scores.size(0) == end - start &&
                    scores.size(1) == kNumClasses,
                "{}::accuracy: {} should map ({}, {}) images to ({}, {}) {}, got shape {}",
                names.dataset, names.method, end - start, kPixels, end - start, kNumClasses,
                names.output,
                scores.defined() ? shape_str(scores.shape()) : std::string("(undefined)"));
    // Compared where the scores are (the labels are small to move); item() brings one number back.
    Tensor truth = labels.slice(0, start, end);  // (b,)
    if (truth.device() != scores.device()) truth = truth.to(scores.device());
    Tensor right = eq(scores.argmax(1), truth);  // (b,) of 1s and 0s
    correct += static_cast<int64_t>(right.sum().item() + 0.5f);
  }
  return n == 0 ? 0.0f : static_cast<float>(correct) / static_cast<float>(n);
}

}  // namespace ember::course
