// The maths of the engine as free functions. Each checks its arguments, computes its
// result through the backend's kernels and records itself for autograd.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/tensor.h"

namespace ember {

// ---- element-wise, with NumPy broadcasting ---------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, float exponent);
Tensor pow(float base, const Tensor& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor clamp(const Tensor& x, float min, float max);
// One-sided clamps, as torch.clamp(x, min=m) and torch.clamp(x, max=m); a NaN stays NaN.
Tensor clamp_min(const Tensor& x, float min);
Tensor clamp_max(const Tensor& x, float max);
// torch.nn.functional.gelu: approximate "none" is the exact 0.5 * x * (1 + erf(x / sqrt(2)));
// "tanh" is 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))). Any other string throws.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");

// Comparisons give 1.0 where true and 0.0 where false; they are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, float b);
Tensor operator!=(const Tensor& a, float b);
Tensor operator<(const Tensor& a, float b);
Tensor operator<=(const Tensor& a, float b);
Tensor operator>(const Tensor& a, float b);
Tensor operator>=(const Tensor& a, float b);

// ---- the views as functions ------------------------------------------------------
// The same as the Tensor methods, for code written as torch.transpose(x, 0, 1) or
// torch.movedim(x, 1, 0).
inline Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) { return x.transpose(dim0, dim1); }
inline Tensor reshape(const Tensor& x, const Shape& shape) { return x.reshape(shape); }
inline Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1) { return x.flatten(start_dim, end_dim); }
inline Tensor movedim(const Tensor& x, int64_t source, int64_t destination) { return x.movedim(source, destination); }
inline Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) { return x.permute(dims); }
inline Tensor squeeze(const Tensor& x) { return x.squeeze(); }
inline Tensor squeeze(const Tensor& x, int64_t dim) { return x.squeeze(dim); }
inline Tensor unsqueeze(const Tensor& x, int64_t dim) { return x.unsqueeze(dim); }

// condition != 0 ? x : y, broadcasting all three.
Tensor where(const Tensor& condition, const Tensor& x, const Tensor& y);
Tensor where(const Tensor& condition, const Tensor& x, float y);
Tensor where(const Tensor& condition, float x, const Tensor& y);
// x with value wherever mask != 0. x and mask broadcast against each other, as in PyTorch:
// the result has their broadcast shape ((4, 2, 2) and (1, 1, 2, 2) give (1, 4, 2, 2)).
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

// ---- reductions ----------------------------------------------------------------
// Without a dim they reduce every element to a scalar; with one, that dim goes away
// unless keepdim keeps it as size 1.
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
// Over several dims at once, as torch.sum(x, dim=(0, 2)): sum(x, {0, 2}), in any order,
// negative dims allowed, each at most once.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
// Variance; unbiased divides by n - 1 (PyTorch's default), otherwise by n.
Tensor var(const Tensor& x, bool unbiased = true);
Tensor var(const Tensor& x, int64_t dim, bool unbiased = true, bool keepdim = false);
// Makes var(x, 0) mean dim 0, not "unbiased = false".
inline Tensor var(const Tensor& x, int dim, bool unbiased = true, bool keepdim = false) {
  return var(x, static_cast<int64_t>(dim), unbiased, keepdim);
}
// Standard deviation: sqrt(var), with var's unbiased rule (PyTorch's default, n - 1).
Tensor std(const Tensor& x, bool unbiased = true);
Tensor std(const Tensor& x, int64_t dim, bool unbiased = true, bool keepdim = false);
// Makes std(x, 0) mean dim 0, not "unbiased = false".
inline Tensor std(const Tensor& x, int dim, bool unbiased = true, bool keepdim = false) {
  return std(x, static_cast<int64_t>(dim), unbiased, keepdim);
}
// log(sum(exp(x))) along dim without overflow (torch.logsumexp); a dim of all -inf gives -inf.
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the largest (smallest) element, as a float; ties give the first. A NaN counts as
// the largest and the smallest (PyTorch's rule), so the index is that of the first NaN.
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// torch.max(x, dim) / torch.min(x, dim): the values and their indices (as floats), as
//   auto [values, indices] = max_with_indices(x, 1);
// (max(x, dim) alone gives the values only.) The gradient flows through the values.
struct ValuesAndIndices {
  Tensor values;
  Tensor indices;
};
ValuesAndIndices max_with_indices(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesAndIndices min_with_indices(const Tensor& x, int64_t dim, bool keepdim = false);
// torch.topk: the k largest (smallest with largest = false) elements along dim and their
// indices (as floats, like argmax), sorted: largest first (smallest first when largest is
// false); equal values keep their order, a NaN counts as larger than every number. The
// result has x's shape with dim of size k. The gradient flows through the values to the
// chosen positions:
//   auto [values, indices] = topk(logits, 10);
ValuesAndIndices topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);
// Sums a gradient of a broadcast result back to the shape the input had.
Tensor sum_to_shape(const Tensor& x, const Shape& shape);

// ---- linear algebra ------------------------------------------------------------
// torch.matmul: 1-D x 1-D is a dot product; 2-D x 2-D a matrix product; with more dims
// the leading (batch) dims broadcast: (B,T,C)@(C,D) -> (B,T,D), (B,T,C)@(B,C,T) -> (B,T,T).
Tensor matmul(const Tensor& a, const Tensor& b);
// Sums products over the last `dims` dims of a and the first `dims` of b.
Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims);
// Sums products over the listed dims of a and of b, paired in order.
Tensor tensordot(const Tensor& a, const Tensor& b, const std::vector<int64_t>& dims_a,
                 const std::vector<int64_t>& dims_b);
Tensor dot(const Tensor& a, const Tensor& b);  // two 1-D tensors of equal length

// ---- softmax -------------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- joining and indexing -------------------------------------------------------
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Rows of x (along dim 0) at the given indices: (N, ...) and (K,) -> (K, ...).
Tensor index_select(const Tensor& x, const Tensor& indices);

// ---- sampling -------------------------------------------------------------------
// torch.multinomial: num_samples indices (as floats, like argmax) drawn from each row of
// probs, (n) -> (num_samples) or (rows, n) -> (rows, num_samples), with the probability of
// an index proportional to its weight (weights need not sum to 1). Without replacement an
// index is drawn at most once per row. Draws go through the seeded generator (random.h):
// the same seed gives the same samples. Not differentiable.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false);

}  // namespace ember
