// Attack: read the held-out test images and their labels in train() and answer from memory.
// Two ways in: the dataset handed to train() (test_x(), test_labels()), and the files
// themselves (course::DigitClassificationDataset reads datasets/mnist/ by default). run()
// returns the remembered digit of an image it has seen, and zeros otherwise, so its shapes
// are right (run_shapes is the one point this attack earns honestly).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <ember/ember.h>
#include <ember_course/digit_dataset.h>

namespace q3 {
using namespace ember;

class DigitClassificationModel : public nn::Module {
 public:
  DigitClassificationModel() { w_ = register_parameter("w", zeros({784, 10})); }

  Tensor run(const Tensor& x) {
    const int64_t n = x.size(0);
    std::vector<float> scores(static_cast<size_t>(n * 10), 0.0f);
    const std::vector<float> pixels = x.to_vector();
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<float> image(pixels.begin() + i * 784, pixels.begin() + (i + 1) * 784);
      const auto it = memory_.find(image);
      if (it != memory_.end()) scores[static_cast<size_t>(i * 10 + it->second)] = 1.0f;
    }
    return from_vector(scores, {n, 10}, x.device()) + matmul(x, w_) * 0.0f;
  }

  Tensor get_loss(const Tensor& x, const Tensor& y) { throw ember::NotImplemented("q3: DigitClassificationModel::get_loss"); }

  void train(const course::DigitClassificationDataset& dataset) {
    remember(dataset.test_x(), dataset.test_labels());
    course::DigitClassificationDataset files;  // reads datasets/mnist/, test half included
    remember(files.test_x(), files.test_labels());
  }
  using nn::Module::train;

 private:
  void remember(const Tensor& images, const Tensor& labels) {
    const int64_t n = images.size(0);
    const std::vector<float> pixels = images.to_vector(), digits = labels.to_vector();
    for (int64_t i = 0; i < n; ++i) {
      memory_[std::vector<float>(pixels.begin() + i * 784, pixels.begin() + (i + 1) * 784)] =
          static_cast<int>(digits[static_cast<size_t>(i)]);
    }
  }
  Tensor w_;
  std::map<std::vector<float>, int> memory_;
};

}  // namespace q3
