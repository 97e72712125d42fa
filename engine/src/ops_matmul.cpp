// Matrix products: matmul (batched, broadcasting), tensordot and dot.
#include <numeric>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {

using Grads = std::vector<Tensor>;

// "64x784": how the shapes of matrices are written in matmul's messages.
std::string matrix_dims(const Shape& shape) { return fmt::format("({})", fmt::join(shape, "x")); }

// How the kernel reads one operand: a batch of row-major matrices, possibly transposed,
// with one stride between consecutive matrices.
struct MatrixOperand {
  Tensor storage_owner;  // keeps the data alive; may be a contiguous copy
  const float* data = nullptr;
  int64_t batch_stride = 0;
  int64_t leading_dim = 0;
  bool transposed = false;
};

// Tries to describe x (batch..., rows, cols) without copying; copies when the layout has
// no single batch stride or neither of its last two dims is dense.
MatrixOperand describe_operand(const Tensor& x) {
  int64_t ndim = x.dim();
  int64_t rows = x.size(-2), cols = x.size(-1);
  const Shape& strides = x.strides();
  int64_t row_stride = strides[ndim - 2], col_stride = strides[ndim - 1];
  MatrixOperand operand;
  bool row_major = col_stride == 1 && row_stride >= cols;
  bool column_major = row_stride == 1 && col_stride >= rows && !row_major;
  // Batch dims must collapse into one stride (or all be broadcast with stride 0).
  bool batch_ok = true;
  int64_t batch_stride = 0;
  bool all_broadcast = true;
  for (int64_t d = 0; d < ndim - 2; ++d) {
    if (x.shape()[d] != 1 && strides[d] != 0) all_broadcast = false;
  }
  if (!all_broadcast) {
    int64_t expected = -1;
    for (int64_t d = ndim - 3; d >= 0; --d) {
      if (x.shape()[d] == 1) continue;
      if (expected == -1) {
        batch_stride = strides[d];
      } else if (strides[d] != expected) {
        batch_ok = false;
      }
      expected = strides[d] * x.shape()[d];
    }
    if (batch_stride == 0) batch_ok = false;
  }
  if ((row_major || column_major) && batch_ok) {
    operand.storage_owner = x;
    operand.data = x.data_ptr();
    operand.batch_stride = batch_stride;
    operand.transposed = column_major;
    operand.leading_dim = column_major ? col_stride : row_stride;
    if (rows == 1 || cols == 1) operand.leading_dim = std::max<int64_t>(operand.leading_dim, 1);
    return operand;
  }
  Tensor dense = x.detach().contiguous();
  operand.storage_owner = dense;
  operand.data = dense.data_ptr();
  operand.batch_stride = all_broadcast ? 0 : rows * cols;
  operand.leading_dim = cols;
  return operand;
}

// True when x's matrices are stored column by column: x is the transpose of a dense
// row-major tensor (w.t(), q.transpose(-1, -2)), so x.transpose(-1, -2) is row-major.
bool is_transposed_view(const Tensor& x) {
  int64_t rows = x.size(-2), cols = x.size(-1);
  const Shape& strides = x.strides();
  int64_t row_stride = strides[x.dim() - 2], col_stride = strides[x.dim() - 1];
  return rows > 1 && cols > 1 && row_stride == 1 && col_stride >= rows;
}

// Both at least 2-D with matching inner dims; batch dims broadcast.
Tensor matmul_batched(const Tensor& a, const Tensor& b) {
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  int64_t batch_count = shape_numel(batch);

  Shape a_target = batch, b_target = batch, out_shape = batch;
  a_target.push_back(m);
  a_target.push_back(k);
  b_target.push_back(k);
  b_target.push_back(n);
  out_shape.push_back(m);
  out_shape.push_back(n);

  MatrixOperand left = describe_operand(a.detach().expand(a_target));
  MatrixOperand right = describe_operand(b.detach().expand(b_target));
  Tensor out = empty_tensor(out_shape, a.device());
  if (out.numel() > 0) {
    backend_of(a).matmul(left.data, left.batch_stride, left.leading_dim, left.transposed, right.data,
                         right.batch_stride, right.leading_dim, right.transposed, out.data_ptr(),
                         batch_count, m, n, k);
  }
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const bool a_transposed = is_transposed_view(a), b_transposed = is_transposed_view(b);
  // The closure keeps an operand only if the other one's gradient needs it (a batch of data
  // with frozen weights keeps neither weight nor data alive any longer than it must).
  const Tensor a_for_grad_b = need_b ? a : Tensor(), b_for_grad_a = need_a ? b : Tensor();
  const Shape a_shape = a.shape(), b_shape = b.shape();
  return record_op("matmul", {a, b}, out, [=](const Tensor& grad) {
    // C = A B: dA = dC B^T and dB = A^T dC, summed over broadcast batch dims.
    //
    // Each gradient comes out in its operand's layout. For an operand that is a transposed
    // view, as Q in K @ Q.transpose(1, 2), the GEMM computes the transpose of the gradient,
    // dB^T = dC^T A, as a dense (..., n, k) result, and the gradient is its transposed view.
    // The transpose node behind the operand then turns it back into a dense tensor for Q,
    // instead of handing Q a strided view that the next op would have to copy.
    Grads grads(2);
    if (need_a) {
      Tensor grad_a = a_transposed
                          ? matmul(b_for_grad_a, grad.transpose(-1, -2)).transpose(-1, -2)  // (..., k, m)^T
                          : matmul(grad, b_for_grad_a.transpose(-1, -2));                   // (..., m, k)
      grads[0] = sum_to_shape(grad_a, a_shape);
    }
    if (need_b) {
      Tensor grad_b = b_transposed
                          ? matmul(grad.transpose(-1, -2), a_for_grad_b).transpose(-1, -2)  // (..., n, k)^T
                          : matmul(a_for_grad_b.transpose(-1, -2), grad);                   // (..., k, n)
      grads[1] = sum_to_shape(grad_b, b_shape);
    }
    return grads;
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul");
  check_defined(b, "matmul");
  check_same_device(a, b, "matmul");
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1,
        "matmul: both arguments need at least one dim, got shapes {} and {}", shape_str(a.shape()),
        shape_str(b.shape()));
  int64_t k_a = a.size(-1), k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
  EMBER_CHECK(k_a == k_b, "matmul: cannot multiply {} by {}", matrix_dims(a.shape()), matrix_dims(b.shape()));
  // Vectors become matrices for the product and lose the added dim afterwards.
  if (a.dim() == 1 && b.dim() == 1) return matmul_batched(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(-1)).squeeze(-1);
  // (B, T, C) @ (C, D) is one big (B*T, C) @ (C, D) product.
  if (b.dim() == 2 && a.dim() > 2 && a.is_contiguous()) {
    Shape out_shape(a.shape().begin(), a.shape().end() - 1);
    out_shape.push_back(b.size(1));
    return matmul_batched(a.reshape({-1, k_a}), b).reshape(out_shape);  // (B*T, C) -> (B, T, D)
  }
  return matmul_batched(a, b);
}

Tensor tensordot(const Tensor& a, const Tensor& b, const std::vector<int64_t>& dims_a_in,
                 const std::vector<int64_t>& dims_b_in) {
  check_defined(a, "tensordot");
  check_defined(b, "tensordot");
  EMBER_CHECK(dims_a_in.size() == dims_b_in.size(),
        "tensordot: {} dims of a paired with {} dims of b; the lists must have equal length",
        dims_a_in.size(), dims_b_in.size());
  std::vector<int64_t> dims_a, dims_b;
  std::vector<bool> contracted_a(a.dim(), false), contracted_b(b.dim(), false);
  int64_t contracted_size = 1;
  for (size_t i = 0; i < dims_a_in.size(); ++i) {
    int64_t da = normalize_dim(dims_a_in[i], a.dim(), "tensordot");
    int64_t db = normalize_dim(dims_b_in[i], b.dim(), "tensordot");
    EMBER_CHECK(a.size(da) == b.size(db),
          "tensordot: dim {} of a (size {}) does not match dim {} of b (size {}); shapes {} and {}",
          da, a.size(da), db, b.size(db), shape_str(a.shape()), shape_str(b.shape()));
    EMBER_CHECK(!contracted_a[da] && !contracted_b[db], "tensordot: a dim is listed twice");
    contracted_a[da] = contracted_b[db] = true;
    dims_a.push_back(da);
    dims_b.push_back(db);
    contracted_size *= a.size(da);
  }
  // a -> (free_a..., contracted...) and b -> (contracted..., free_b...), then one matmul.
  std::vector<int64_t> order_a, order_b = dims_b;
  Shape out_shape;
  int64_t free_a = 1, free_b = 1;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (!contracted_a[d]) {
      order_a.push_back(d);
      out_shape.push_back(a.size(d));
      free_a *= a.size(d);
    }
  }
  order_a.insert(order_a.end(), dims_a.begin(), dims_a.end());
  for (int64_t d = 0; d < b.dim(); ++d) {
    if (!contracted_b[d]) {
      order_b.push_back(d);
      out_shape.push_back(b.size(d));
      free_b *= b.size(d);
    }
  }
  Tensor left = a.permute(order_a).reshape({free_a, contracted_size});
  Tensor right = b.permute(order_b).reshape({contracted_size, free_b});
  return matmul(left, right).reshape(out_shape);
}

Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims) {
  check_defined(a, "tensordot");
  check_defined(b, "tensordot");
  EMBER_CHECK(dims >= 0 && dims <= a.dim() && dims <= b.dim(),
        "tensordot: cannot contract {} dims of shapes {} and {}", dims, shape_str(a.shape()),
        shape_str(b.shape()));
  std::vector<int64_t> dims_a, dims_b;
  for (int64_t i = 0; i < dims; ++i) {
    dims_a.push_back(a.dim() - dims + i);
    dims_b.push_back(i);
  }
  return tensordot(a, b, dims_a, dims_b);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_defined(a, "dot");
  check_defined(b, "dot");
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0),
        "dot: expected two 1-D tensors of the same length, got shapes {} and {}",
        shape_str(a.shape()), shape_str(b.shape()));
  return matmul(a, b);
}

}  // namespace ember
