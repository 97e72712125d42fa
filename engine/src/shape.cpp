#include "ember/shape.h"

#include <ostream>

#include <fmt/format.h>

#include "ember/error.h"

namespace ember {

void throw_too_many_dims(size_t ndim, const char* what) {
  throw Error(fmt::format("{}: {} dims is more than the {} Ember supports", what, ndim, kMaxDims));
}

std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << shape_str(shape); }

int64_t shape_numel(const Shape& shape) {
  int64_t count = 1;
  for (int64_t size : shape) count *= size;
  return count;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  // A scalar still accepts dim 0 and -1, as PyTorch does.
  int64_t range = ndim == 0 ? 1 : ndim;
  EMBER_CHECK(dim >= -range && dim < range,
        "{}: dim {} is out of range for a tensor with {} dims (expected {} to {})", op, dim,
        ndim, -range, range - 1);
  return dim < 0 ? dim + range : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t ndim = std::max(a.size(), b.size());
  Shape result(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    // Walk both shapes from the right; a missing dim counts as size 1.
    int64_t size_a = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t size_b = i < b.size() ? b[b.size() - 1 - i] : 1;
    EMBER_CHECK(size_a == size_b || size_a == 1 || size_b == 1,
          "{}: shapes {} and {} cannot be broadcast (dim -{}: {} vs {})", op, shape_str(a),
          shape_str(b), i + 1, size_a, size_b);
    result[ndim - 1 - i] = size_a == 1 ? size_b : size_a;
  }
  return result;
}

}  // namespace ember
