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

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_kernel(x, dim, false, "softmax");
  if (!x.requires_grad()) return out;
  Tensor y = out.detach();
  return record_op("softmax", {x}, out, [y, dim](const Tensor& grad) {
    // dx = y * (g - sum(g * y)): the Jacobian diag(y) - y y^T applied to g.
    return Grads{y * (grad - sum(grad * y, dim, true))};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_kernel(x, dim, true, "log_softmax");
  if (!x.requires_grad()) return out;
  Tensor y = out.detach();
  return record_op("log_softmax", {x}, out, [y, dim](const Tensor& grad) {
    // dx = g - softmax(x) * sum(g), with softmax(x) = exp(log_softmax(x)).
    return Grads{grad - exp(y) * sum(grad, dim, true)};
  });
}

}  // namespace ember
