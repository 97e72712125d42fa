// Shapes, strides and the dimension arithmetic every op shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember {

// A shape lists the size of each dimension, outermost first: (B, T, C) is {B, T, C}.
using Shape = std::vector<int64_t>;

// The largest number of dimensions a tensor may have. Kernels keep shapes in fixed
// arrays of this size so that they can be passed by value to a GPU.
constexpr int kMaxDims = 8;

int64_t shape_numel(const Shape& shape);

// Row-major ("C-contiguous") strides: the last dimension moves fastest.
// (2, 3, 4) -> (12, 4, 1)
Shape contiguous_strides(const Shape& shape);

// "(2, 3)", "(5,)" for one dim and "()" for a scalar, as PyTorch prints torch.Size.
std::string shape_str(const Shape& shape);

// Maps a possibly negative dim (-1 is the last) into 0..ndim-1, or throws
// "<op>: dim 3 is out of range for a tensor with 2 dims (expected -2 to 1)".
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy broadcasting: align shapes on the right; sizes must match or be 1.
// Throws "<op>: shapes (2, 3) and (4,) cannot be broadcast (dim -1: 3 vs 4)".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace ember
