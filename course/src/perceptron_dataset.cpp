#include "ember_course/perceptron_dataset.h"

#include <cmath>
#include <utility>
#include <vector>

#include <ember/creation.h>
#include <ember/error.h>

namespace ember::course {
namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

PerceptronDataset::PerceptronDataset(int64_t size) : PerceptronDataset(random_points(size)) {}

PerceptronDataset::PerceptronDataset(Tensor x, Tensor labels)
    : PerceptronDataset(checked(std::move(x), std::move(labels))) {}

PerceptronDataset::PerceptronDataset(Points points)
    : data::TensorDataset(std::move(points.x), std::move(points.labels)) {}

PerceptronDataset::Points PerceptronDataset::random_points(int64_t size) {
  check(size >= 1, "PerceptronDataset: size must be at least 1, got {}", size);
  // The hidden line: unit normal (cos a, sin a) and offset c. A point p is on the +1 side
  // when normal . p > c. |c| <= 0.5 keeps the line well inside the square, so both labels
  // are common.
  const std::vector<float> line = uniform({2}, 0.0f, 1.0f).to_vector();
  const float angle = static_cast<float>(line[0] * 2.0 * kPi);
  const float offset = line[1] - 0.5f;
  const float normal0 = std::cos(angle), normal1 = std::sin(angle);

  std::vector<float> x, labels;
  x.reserve(static_cast<size_t>(size * kDimensions));
  labels.reserve(static_cast<size_t>(size));
  int64_t kept = 0;
  // Rejection sampling: draw candidates in rounds until enough are far enough from the line
  // (at most a third of the square lies within the margin, so rounds of 2 * size suffice).
  while (kept < size) {
    const std::vector<float> candidates = uniform({2 * size, 2}, -1.0f, 1.0f).to_vector();
    for (int64_t i = 0; i < 2 * size && kept < size; ++i) {
      const float p0 = candidates[2 * i], p1 = candidates[2 * i + 1];
      const float distance = normal0 * p0 + normal1 * p1 - offset;  // signed, as |normal| = 1
      if (std::fabs(distance) < kMargin) continue;
      x.insert(x.end(), {p0, p1, 1.0f});
      labels.push_back(distance > 0 ? 1.0f : -1.0f);
      ++kept;
    }
  }
  return Points{from_vector(x, {size, kDimensions}), from_vector(labels, {size, 1})};
}

PerceptronDataset::Points PerceptronDataset::checked(Tensor x, Tensor labels) {
  check(x.defined() && labels.defined(), "PerceptronDataset: x and labels must be defined tensors");
  check(x.dim() == 2 && x.size(0) >= 1 && x.size(1) >= 1,
        "PerceptronDataset: x must have shape (N, d) with N, d >= 1, got {}", shape_str(x.shape()));
  check(labels.dim() == 2 && labels.size(0) == x.size(0) && labels.size(1) == 1,
        "PerceptronDataset: labels must have shape ({}, 1) to match x {}, got {}", x.size(0),
        shape_str(x.shape()), shape_str(labels.shape()));
  const std::vector<float> values = labels.to_vector();
  for (size_t i = 0; i < values.size(); ++i) {
    check(values[i] == 1.0f || values[i] == -1.0f,
          "PerceptronDataset: label {} is {}; labels must be +1 or -1", i, values[i]);
  }
  // Own copies, so that later changes to the caller's tensors do not change the dataset.
  return Points{x.detach().contiguous().clone(), labels.detach().contiguous().clone()};
}

}  // namespace ember::course
