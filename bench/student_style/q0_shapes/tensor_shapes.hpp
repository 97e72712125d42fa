// Lesson q0: tensor shapes, views and a first training loop.
//
// Most bugs in neural-network code are shape bugs. This lesson has you compute shapes by
// hand from the rules the engine follows, move data between layouts with views, and fit a
// tiny model with the loop every later lesson uses:
//   optimizer.zero_grad();  Tensor loss = ...;  loss.backward();  optimizer.step();
//
// The grader compares your broadcast_shape and matmul_shape with the engine's own results
// on many random shapes, including ones the engine refuses (it throws ember::Error there,
// and so must you), checks that split_heads and merge_heads undo each other, and checks
// that fit_linear finds the weights 7, 8 and the bias 3 to within 0.01.
#pragma once

// The same includes and names in every lesson, so code moves between lessons as it is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace q0 {
using namespace ember;
namespace F = ember::nn::functional;

// The shape of a + b (or a * b, ...) for tensors of shapes a and b, by NumPy's
// broadcasting rules: line the shapes up on the right; a missing dim counts as size 1;
// in each position the sizes must be equal or one of them 1, and the result takes the
// larger. Examples: (2, 3) and (3,) -> (2, 3); (4, 1, 5) and (3, 1) -> (4, 3, 5);
// () and (2,) -> (2,). Throws ember::Error naming both shapes when they cannot broadcast,
// e.g. (2, 3) and (4,).
inline Shape broadcast_shape(const Shape& a, const Shape& b) {
  // BEGIN SOLUTION q0 broadcast_shape
  const size_t ndim = std::max(a.size(), b.size());
  Shape result(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    // i counts positions from the right, where the shapes are aligned.
    const int64_t size_a = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t size_b = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (size_a != size_b && size_a != 1 && size_b != 1) {
      throw Error(fmt::format("broadcast_shape: shapes {} and {} cannot be broadcast (dim -{}: {} vs {})",
                              shape_str(a), shape_str(b), i + 1, size_a, size_b));
    }
    result[ndim - 1 - i] = size_a == 1 ? size_b : size_a;
  }
  return result;
  // END SOLUTION
}

// The shape of matmul(a, b), by torch.matmul's rules:
//  - both 1-D, (k,) and (k,): a dot product, shape ().
//  - a 1-D (k,): treated as a (1, k) matrix; the added 1 is dropped from the result.
//  - b 1-D (k,): treated as a (k, 1) matrix; the added 1 is dropped from the result.
//  - otherwise the last two dims are matrices, (..., m, k) @ (..., k, n) -> (..., m, n),
//    and the dims before them (batch dims) broadcast as in broadcast_shape:
//    (5, 2, 3) @ (3, 4) -> (5, 2, 4); (5, 1, 2, 3) @ (7, 3, 4) -> (5, 7, 2, 4).
// Throws ember::Error naming both shapes where the engine does: a 0-dim argument, inner
// sizes that differ (the last dim of a against the second-to-last of b, or the only dim of
// a 1-D b), or batch dims that cannot broadcast.
inline Shape matmul_shape(const Shape& a, const Shape& b) {
  // BEGIN SOLUTION q0 matmul_shape
  if (a.empty() || b.empty()) {
    throw Error(fmt::format("matmul_shape: both arguments need at least one dim, got shapes {} and {}",
                            shape_str(a), shape_str(b)));
  }
  const int64_t k_a = a.back();
  const int64_t k_b = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (k_a != k_b) {
    throw Error(fmt::format("matmul_shape: cannot multiply {} by {} (inner sizes {} and {})",
                            shape_str(a), shape_str(b), k_a, k_b));
  }
  if (a.size() == 1 && b.size() == 1) return {};  // a dot product
  // Promote vectors to matrices, multiply (batch..., m, k) @ (batch..., k, n), then drop
  // the dims that promotion added.
  const Shape a_matrix = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b_matrix = b.size() == 1 ? Shape{b[0], 1} : b;
  Shape result = broadcast_shape(Shape(a_matrix.begin(), a_matrix.end() - 2),
                                 Shape(b_matrix.begin(), b_matrix.end() - 2));
  if (a.size() > 1) result.push_back(a_matrix[a_matrix.size() - 2]);  // m
  if (b.size() > 1) result.push_back(b_matrix.back());                // n
  return result;
  // END SOLUTION
}

// Splits the channels of x into n_head groups ("heads"), as multi-head attention does:
// (B, T, C) -> (B, n_head, T, C / n_head), where out[b][h][t][d] = x[b][t][h * (C / n_head) + d].
// Use a view (to (B, T, n_head, C / n_head)) and a transpose: both only change how the same
// numbers are read, so nothing is copied and the result shares x's storage.
// x must be 3-D and contiguous; throws ember::Error when C is not a multiple of n_head.
inline Tensor split_heads(const Tensor& x, int64_t n_head) {
  // BEGIN SOLUTION q0 split_heads
  check(x.dim() == 3, "split_heads: expected x of shape (B, T, C), got {}", shape_str(x.shape()));
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  check(n_head >= 1 && C % n_head == 0,
        "split_heads: C = {} is not a multiple of n_head = {} (x has shape {})", C, n_head,
        shape_str(x.shape()));
  return x.view({B, T, n_head, C / n_head})  // (B, T, C) -> (B, T, n_head, head_size)
      .transpose(1, 2);                       // -> (B, n_head, T, head_size)
  // END SOLUTION
}

// The inverse of split_heads: (B, n_head, T, head_size) -> (B, T, n_head * head_size), with
// out[b][t][h * head_size + d] = x[b][h][t][d]. After the transpose the numbers are no longer
// in row-major order, so they must be copied (contiguous(), or reshape) before the view.
inline Tensor merge_heads(const Tensor& x) {
  // BEGIN SOLUTION q0 merge_heads
  check(x.dim() == 4, "merge_heads: expected x of shape (B, n_head, T, head_size), got {}",
        shape_str(x.shape()));
  const int64_t B = x.size(0), n_head = x.size(1), T = x.size(2), head_size = x.size(3);
  return x.transpose(1, 2)                       // (B, n_head, T, head_size) -> (B, T, n_head, head_size)
      .contiguous()                              // copy into row-major order
      .view({B, T, n_head * head_size});         // -> (B, T, C)
  // END SOLUTION
}

// The result of fit_linear: y = x.matmul(weight) + bias.
struct LinearFit {
  Tensor weight;  // (2, 1)
  Tensor bias;    // (1,)
};

// Learns y = 7 * x0 + 8 * x1 + 3 from four examples with gradient descent.
// Make weight (2, 1) and bias (1,) parameters (nn::Parameter) with small random starting
// values (ember::randn), an optimizer over them (optim::SGD), and repeat the four-line loop
//   optimizer.zero_grad(); Tensor loss = ...; loss.backward(); optimizer.step();
// with the mean squared error of x.matmul(weight) + bias against y as the loss, until the
// parameters are within 0.01 of 7, 8 and 3. Return them.
// Why random starting values and not zeros: in a network with a hidden layer, units whose
// weights start equal compute the same thing, get the same gradient and so stay equal for
// ever; random starts break that symmetry. This one-layer model would still learn from zeros
// (its loss is a bowl with a single bottom), but start it the way every model must start.
inline LinearFit fit_linear() {
  const Tensor x = tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}});  // (4, 2): one example per row
  const Tensor y = tensor({{3}, {11}, {10}, {18}});           // (4, 1)
  // BEGIN SOLUTION q0 fit_linear
  // Small random starting values, not zeros (see above): the habit every deeper model needs.
  Tensor weight = nn::Parameter(randn({2, 1}) * 0.1f);  // (2, 1)
  Tensor bias = nn::Parameter(randn({1}) * 0.1f);       // (1,)
  optim::SGD optimizer({weight, bias}, optim::SGDOptions(0.2));
  // The loss is quadratic, so each step shrinks the error by a constant factor (about
  // 0.94 at this learning rate in the slowest direction): 500 steps reach float precision.
  for (int step = 0; step < 500; ++step) {
    optimizer.zero_grad();
    Tensor loss = F::mse_loss(x.matmul(weight) + bias, y);  // (4, 2) @ (2, 1) + (1,) -> (4, 1) -> ()
    loss.backward();
    optimizer.step();
  }
  return LinearFit{weight, bias};
  // END SOLUTION
}

}  // namespace q0
