// The dataset of lesson q1 (the perceptron): points in the plane that one straight line
// separates, each labelled +1 or -1 by its side of the line.
//
// Each point (x0, x1) in [-1, 1]^2 is stored with a constant third feature 1, so x is
// (x0, x1, 1) and a model w = (w0, w1, w2) scores it w0*x0 + w1*x1 + w2: the third weight
// plays the part of a bias, and a perceptron without a separate bias can still learn a line
// that misses the origin. Points closer to the line than kMargin are left out, so the
// perceptron is sure to converge, and quickly (its mistake bound is (R / margin)^2).
//
//   course::PerceptronDataset dataset;                       // 500 points, d = 3
//   data::DataLoader loader(dataset, 1, /*shuffle=*/true);
//   for (const data::Batch& batch : loader) { ... }          // batch.x (1, 3), batch.label (1, 1)
#pragma once

#include <cstdint>

#include <ember/data/dataset.h>
#include <ember/tensor.h>

namespace ember::course {

class PerceptronDataset : public data::TensorDataset {
 public:
  static constexpr int64_t kDefaultSize = 500;
  static constexpr int64_t kDimensions = 3;  // x0, x1 and the constant 1
  static constexpr float kMargin = 0.1f;     // the smallest distance of a point from the line

  // `size` points on both sides of a random line, all drawn from Ember's seeded generator
  // (so ember::manual_seed decides them). x is (size, 3), labels (size, 1) of +1 and -1.
  explicit PerceptronDataset(int64_t size = kDefaultSize);

  // Given points, for tests and the autograder: x (N, d) and labels (N, 1), every label
  // +1 or -1. Throws ember::Error for other shapes or labels.
  PerceptronDataset(Tensor x, Tensor labels);

  int64_t dimensions() const { return x().size(1); }

 private:
  struct Points {
    Tensor x;
    Tensor labels;
  };
  explicit PerceptronDataset(Points points);
  static Points random_points(int64_t size);
  static Points checked(Tensor x, Tensor labels);
};

}  // namespace ember::course
