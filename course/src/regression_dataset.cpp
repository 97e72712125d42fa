#include "ember_course/regression_dataset.h"

#include <cmath>
#include <utility>
#include <vector>

#include <ember/creation.h>
#include <ember/error.h>
#include <ember/random.h>

namespace ember::course {

RegressionDataset::RegressionDataset(int64_t size) : RegressionDataset(make_samples(size)) {}

RegressionDataset::RegressionDataset(Tensor x, Tensor y) : RegressionDataset(Samples{std::move(x), std::move(y)}) {}

RegressionDataset::RegressionDataset(Samples samples)
    : data::TensorDataset(std::move(samples.x), std::move(samples.y)) {}

RegressionDataset::Samples RegressionDataset::make_samples(int64_t size) {
  check(size >= 2, "RegressionDataset: size must be at least 2, got {}", size);
  // The grid in double precision, so that both ends are exactly +-2 pi rounded once.
  std::vector<double> grid(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    grid[static_cast<size_t>(i)] = kLow + (kHigh - kLow) * static_cast<double>(i) / static_cast<double>(size - 1);
  }
  // A fixed order, independent of the program's seed; the caller's generator is left as it was.
  const GeneratorState saved = generator_state();
  manual_seed(kShuffleSeed);
  const std::vector<int64_t> order = randperm_indices(size);
  set_generator_state(saved);

  std::vector<float> x(grid.size()), y(grid.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const double value = grid[static_cast<size_t>(order[i])];
    x[i] = static_cast<float>(value);
    y[i] = static_cast<float>(std::sin(value));
  }
  return Samples{from_vector(x, {size, 1}), from_vector(y, {size, 1})};  // (size, 1) each
}

}  // namespace ember::course
