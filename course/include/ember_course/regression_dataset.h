// The dataset of lesson q2 (non-linear regression): samples of sin(x) on [-2 pi, 2 pi].
//
// x holds `size` evenly spaced points from -2 pi to 2 pi (both ends included) in a shuffled
// order, and y = sin(x); both have shape (size, 1), one example per row.
//
//   course::RegressionDataset dataset;                          // 200 points
//   data::DataLoader loader(dataset, 20, /*shuffle=*/true);
//   for (const data::Batch& batch : loader) { ... }             // batch.x, batch.label: (20, 1)
//   dataset.x(); dataset.y();                                   // all of it: (200, 1) each
//
// The order comes from Ember's generator seeded with the fixed kShuffleSeed, with the
// generator's state saved and put back around it: the dataset is the same whatever seed
// the program runs with, and making one does not change the random numbers drawn after it.
#pragma once

#include <cstdint>

#include <ember/data/dataset.h>
#include <ember/tensor.h>

namespace ember::course {

class RegressionDataset : public data::TensorDataset {
 public:
  static constexpr int64_t kDefaultSize = 200;
  static constexpr uint64_t kShuffleSeed = 188;
  static constexpr double kLow = -2.0 * 3.14159265358979323846;  // -2 pi
  static constexpr double kHigh = 2.0 * 3.14159265358979323846;  //  2 pi

  // Throws ember::Error for size < 2.
  explicit RegressionDataset(int64_t size = kDefaultSize);
  // Given points x (N, 1) and y (N, 1) (the autograder's runner gets them from the checker).
  RegressionDataset(Tensor x, Tensor y);

  const Tensor& y() const { return labels(); }  // (size, 1), sin of x()

 private:
  struct Samples {
    Tensor x;
    Tensor y;
  };
  explicit RegressionDataset(Samples samples);
  static Samples make_samples(int64_t size);
};

}  // namespace ember::course
