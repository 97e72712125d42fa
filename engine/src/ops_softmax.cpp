// softmax and log_softmax along any dim.
#include "ember/autograd.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {

using Grads = std::vector<Tensor>;

// The kernel works on rows of a contiguous matrix, so the dim moves last first.
Tensor softmax_kernel(const Tensor& x, int64_t dim, bool log, const char* name) {
  check_defined(x, name);
  int64_t d = normalize_dim(dim, x.dim(), name);
  if (x.dim() == 0) return softmax_kernel(x.reshape({1}), 0, log, name).reshape({});
  Tensor moved = x.detach().movedim(d, -1).contiguous();  // (..., n) with n = size of dim
  Tensor out = empty_tensor(moved.shape(), x.device());
  int64_t cols = moved.size(-1);
  int64_t rows = cols == 0 ? 0 : moved.numel() / cols;
  if (moved.numel() > 0) backend_of(x).softmax(moved.data_ptr(), out.data_ptr(), rows, cols, log);
  return out.movedim(-1, d);
}

// The gradient of softmax_kernel's result y = out, from the gradient of y, in one kernel
// per row (the formulas are in backend.h). y came out of softmax_kernel, so moving dim
// last again gives its dense rows back without a copy; grad is copied only if it is not
// dense in that order (an expanded gradient of a sum, say).
Tensor softmax_backward_kernel(const Tensor& y, const Tensor& grad, int64_t dim, bool log) {
  if (y.dim() == 0) {
    return softmax_backward_kernel(y.reshape({1}), grad.reshape({1}), 0, log).reshape({});
  }
  int64_t d = normalize_dim(dim, y.dim(), "softmax backward");
  Tensor y_rows = y.movedim(d, -1).contiguous();        // (..., n)
  Tensor grad_rows = grad.movedim(d, -1).contiguous();  // (..., n)
  Tensor grad_in = empty_tensor(y_rows.shape(), y.device());
  int64_t cols = y_rows.size(-1);
  int64_t rows = cols == 0 ? 0 : y_rows.numel() / cols;
  if (y_rows.numel() > 0) {
    backend_of(y).softmax_backward(y_rows.data_ptr(), grad_rows.data_ptr(), grad_in.data_ptr(),
                                   rows, cols, log);
  }
  return grad_in.movedim(-1, d);
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_kernel(x, dim, false, "softmax");
  Tensor y = out.detach();  // the node must not own its own output
  return record_op("softmax", {x}, out, [y, dim](const Tensor& grad) {
    // dx = y * (g - sum(g * y)): the Jacobian diag(y) - y y^T applied to g.
    return Grads{softmax_backward_kernel(y, grad, dim, false)};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_kernel(x, dim, true, "log_softmax");
  Tensor y = out.detach();  // the node must not own its own output
  return record_op("log_softmax", {x}, out, [y, dim](const Tensor& grad) {
    // dx = g - softmax(x) * sum(g), with softmax(x) = exp(log_softmax(x)).
    return Grads{softmax_backward_kernel(y, grad, dim, true)};
  });
}

}  // namespace ember
