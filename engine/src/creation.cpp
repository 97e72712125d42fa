// Making tensors from values, constants, ranges and random draws.
#include "ember/creation.h"

#include <cmath>

#include "ember/ops.h"
#include "ember/random.h"
#include "philox.h"
#include "tensor_internal.h"

namespace ember {

Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  EMBER_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
        "from_vector: {} values cannot fill shape {} ({} elements)", values.size(),
        shape_str(shape), shape_numel(shape));
  Tensor result = empty_tensor(shape, device);
  if (!values.empty()) backend_for(device).copy_from_host(values.data(), result.data_ptr(), result.numel());
  return result;
}

namespace {
// Appends the numbers of `values` to `out` in row-major order and returns their shape,
// checking that every list at one depth has the same shape as its siblings.
Shape flatten_nested(const NestedValues& values, std::vector<float>& out) {
  if (!values.is_list()) {
    out.push_back(values.value());
    return {};
  }
  Shape inner_shape;
  for (size_t i = 0; i < values.items().size(); ++i) {
    Shape item_shape = flatten_nested(values.items()[i], out);
    if (i == 0) inner_shape = item_shape;
    EMBER_CHECK(item_shape == inner_shape,
          "tensor: nested lists must be rectangular, but found items of shape {} and {}",
          shape_str(inner_shape), shape_str(item_shape));
  }
  Shape shape{static_cast<int64_t>(values.items().size())};
  shape.insert(shape.end(), inner_shape.begin(), inner_shape.end());
  return shape;
}
}  // namespace

Tensor tensor(const NestedValues& values, Device device) {
  std::vector<float> flat;
  Shape shape = flatten_nested(values, flat);
  return from_vector(flat, shape, device);
}

Tensor empty(const Shape& shape, Device device) { return empty_tensor(shape, device); }

Tensor full(const Shape& shape, float value, Device device) {
  Tensor result = empty_tensor(shape, device);
  backend_for(device).fill(result.data_ptr(), result.numel(), value);
  return result;
}

Tensor zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }
Tensor ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }
Tensor zeros_like(const Tensor& other) { return zeros(other.shape(), other.device()); }
Tensor ones_like(const Tensor& other) { return ones(other.shape(), other.device()); }
Tensor full_like(const Tensor& other, float value) { return full(other.shape(), value, other.device()); }

Tensor eye(int64_t n, Device device) {
  EMBER_CHECK(n >= 0, "eye: size must be non-negative, got {}", n);
  std::vector<float> values(static_cast<size_t>(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i) values[i * n + i] = 1.0f;
  return from_vector(values, {n, n}, device);
}

Tensor arange(float end, Device device) { return arange(0.0f, end, 1.0f, device); }

Tensor arange(float start, float end, float step, Device device) {
  EMBER_CHECK(step != 0.0f, "arange: step must not be zero");
  EMBER_CHECK((end - start) / step >= 0 || start == end,
        "arange: the range from {} to {} never ends with step {}", start, end, step);
  int64_t count = static_cast<int64_t>(std::ceil((end - start) / step));
  std::vector<float> values(static_cast<size_t>(std::max<int64_t>(count, 0)));
  // start + i * step, computed in double so long ranges do not drift.
  for (int64_t i = 0; i < count; ++i) values[i] = static_cast<float>(start + static_cast<double>(i) * step);
  return from_vector(values, {static_cast<int64_t>(values.size())}, device);
}

Tensor linspace(float start, float end, int64_t steps, Device device) {
  EMBER_CHECK(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
  std::vector<float> values(static_cast<size_t>(steps));
  for (int64_t i = 0; i < steps; ++i) {
    double fraction = steps == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(steps - 1);
    values[i] = static_cast<float>(start + (static_cast<double>(end) - start) * fraction);
  }
  return from_vector(values, {steps}, device);
}

Tensor tril(const Tensor& input, int64_t diagonal) {
  EMBER_CHECK(input.dim() >= 2, "tril: expected a matrix or a batch of matrices, got shape {}",
        shape_str(input.shape()));
  int64_t rows = input.size(-2), cols = input.size(-1);
  // keep[i][j] = 1 where j - i <= diagonal: the lower triangle.
  Tensor row_index = arange(0.0f, static_cast<float>(rows), 1.0f, input.device()).unsqueeze(1);
  Tensor col_index = arange(0.0f, static_cast<float>(cols), 1.0f, input.device()).unsqueeze(0);
  Tensor keep = (col_index - row_index) <= static_cast<float>(diagonal);  // (rows, cols)
  return where(keep, input, 0.0f);
}

Tensor triu(const Tensor& input, int64_t diagonal) {
  EMBER_CHECK(input.dim() >= 2, "triu: expected a matrix or a batch of matrices, got shape {}",
        shape_str(input.shape()));
  int64_t rows = input.size(-2), cols = input.size(-1);
  // keep[i][j] = 1 where j - i >= diagonal: the upper triangle.
  Tensor row_index = arange(0.0f, static_cast<float>(rows), 1.0f, input.device()).unsqueeze(1);
  Tensor col_index = arange(0.0f, static_cast<float>(cols), 1.0f, input.device()).unsqueeze(0);
  Tensor keep = (col_index - row_index) >= static_cast<float>(diagonal);  // (rows, cols)
  return where(keep, input, 0.0f);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  EMBER_CHECK(num_classes > 0, "one_hot: num_classes must be positive, got {}", num_classes);
  for (float value : indices.to_vector()) {
    EMBER_CHECK(value >= 0 && value < static_cast<float>(num_classes) && value == std::floor(value),
          "one_hot: index {} is not a class in 0..{}", value, num_classes - 1);
  }
  Tensor classes = arange(0.0f, static_cast<float>(num_classes), 1.0f, indices.device());
  return eq(indices.detach().unsqueeze(-1), classes);  // (..., 1) == (C,) -> (..., C)
}

Tensor uniform(const Shape& shape, float low, float high, Device device) {
  EMBER_CHECK(low <= high, "uniform: low {} is above high {}", low, high);
  Tensor result = empty_tensor(shape, device);
  int64_t count = result.numel();
  uint64_t seed = generator_state().seed;
  uint64_t offset = reserve_random((count + 3) / 4);
  backend_for(device).fill_uniform(result.data_ptr(), count, low, high, seed, offset);
  return result;
}

Tensor rand(const Shape& shape, Device device) { return uniform(shape, 0.0f, 1.0f, device); }

Tensor randn(const Shape& shape, Device device) {
  Tensor result = empty_tensor(shape, device);
  int64_t count = result.numel();
  uint64_t seed = generator_state().seed;
  uint64_t offset = reserve_random((count + 1) / 2);
  backend_for(device).fill_normal(result.data_ptr(), count, 0.0f, 1.0f, seed, offset);
  return result;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Device device) {
  EMBER_CHECK(low < high, "randint: low {} must be below high {}", low, high);
  int64_t count = shape_numel(shape);
  uint64_t seed = generator_state().seed;
  uint64_t offset = reserve_random(count);
  std::vector<float> values(static_cast<size_t>(count));
  uint64_t range = static_cast<uint64_t>(high - low);
  for (int64_t i = 0; i < count; ++i) {
    philox::Block block = philox::generate(seed, offset + static_cast<uint64_t>(i), 4);
    uint64_t draw = (static_cast<uint64_t>(block.word[0]) << 32) | block.word[1];
    values[i] = static_cast<float>(low + static_cast<int64_t>(draw % range));
  }
  return from_vector(values, shape, device);
}

Tensor randperm(int64_t n, Device device) {
  EMBER_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  std::vector<int64_t> order = randperm_indices(n);
  return from_vector(std::vector<float>(order.begin(), order.end()), {n}, device);
}

}  // namespace ember
