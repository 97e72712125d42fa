// Making tensors: from values, filled with a constant, ranges, and random draws.
// Every function takes an optional device (default: the CPU); random ones draw from the
// global seeded generator (see random.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "ember/device.h"
#include "ember/shape.h"
#include "ember/tensor.h"

namespace ember {

// A number or a (nested) list of numbers, as written in a call to tensor().
// One recursive type instead of one overload per depth, so that {{0.5}} and
// {{3}, {11}} (column vectors) are not ambiguous.
class NestedValues {
 public:
  NestedValues(float value) : value_(value), is_list_(false) {}  // NOLINT: implicit on purpose
  NestedValues(std::initializer_list<NestedValues> items) : items_(items), is_list_(true) {}

  bool is_list() const { return is_list_; }
  float value() const { return value_; }
  const std::vector<NestedValues>& items() const { return items_; }

 private:
  float value_ = 0.0f;
  std::vector<NestedValues> items_;
  bool is_list_;
};

// Values as torch.tensor writes them: tensor(2.5f) (a scalar), tensor({1, 2, 3}),
// tensor({{2, 3}, {4, 5}}), to any depth. Ragged lists throw.
Tensor tensor(const NestedValues& values, Device device = Device::cpu());
// Values in row-major order with a shape: from_vector({1, 2, 3, 4, 5, 6}, {2, 3}).
Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                   Device device = Device::cpu());

Tensor empty(const Shape& shape, Device device = Device::cpu());  // uninitialised
Tensor zeros(const Shape& shape, Device device = Device::cpu());
Tensor ones(const Shape& shape, Device device = Device::cpu());
Tensor full(const Shape& shape, float value, Device device = Device::cpu());
Tensor zeros_like(const Tensor& other);
Tensor ones_like(const Tensor& other);
Tensor full_like(const Tensor& other, float value);
Tensor eye(int64_t n, Device device = Device::cpu());  // (n, n) identity
// start, start + step, ... below end (as torch.arange).
Tensor arange(float end, Device device = Device::cpu());
Tensor arange(float start, float end, float step = 1.0f, Device device = Device::cpu());
// steps evenly spaced values from start to end, both included.
Tensor linspace(float start, float end, int64_t steps, Device device = Device::cpu());
// The lower triangle (on and below diagonal `diagonal`) of a matrix or batch of
// matrices; other entries become 0. tril(ones({T, T})) is the causal mask.
Tensor tril(const Tensor& input, int64_t diagonal = 0);
// The upper triangle (on and above diagonal `diagonal`), as torch.triu; others become 0.
Tensor triu(const Tensor& input, int64_t diagonal = 0);
// (N,) class indices -> (N, num_classes) rows of 0s with a 1 at the index.
Tensor one_hot(const Tensor& indices, int64_t num_classes);

// Uniform on [0, 1), standard normal, and whole numbers in [low, high).
Tensor rand(const Shape& shape, Device device = Device::cpu());
Tensor randn(const Shape& shape, Device device = Device::cpu());
Tensor randint(int64_t low, int64_t high, const Shape& shape, Device device = Device::cpu());
Tensor uniform(const Shape& shape, float low, float high, Device device = Device::cpu());
Tensor randperm(int64_t n, Device device = Device::cpu());

}  // namespace ember
