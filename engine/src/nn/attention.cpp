// F::scaled_dot_product_attention: softmax(q k^T * scale, causal) v as one op, with its own
// gradient (backend.h: attention, attention_backward).
//
// It computes exactly what q6 teaches with four ops, for each batch and head:
//   att = q.matmul(k.transpose(-2, -1)) * scale;             (L, S)
//   att = att.masked_fill(tril(ones({L, S})) == 0, -inf);    only with is_causal
//   att = att.softmax(-1);
//   y = att.matmul(v);                                       (L, Ev)
// but in one pass per (batch, head) pair: no (B, H, L, S) score tensors to write and read
// back, no copies to make the slices of a Linear(C, 3C) dense, and one node in the graph
// instead of five. The softmax's result is kept for the backward.
//
// The result is a (B, H, L, Ev) view of memory laid out (B, L, H, Ev), as PyTorch's fused
// kernels return it: merging the heads back with y.transpose(1, 2).contiguous() then copies
// nothing. The gradients of q, k and v are laid out the same way, for the same reason.
#include <cmath>
#include <optional>

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/error.h"
#include "ember/nn/functional.h"
#include "ember/shape.h"
#include "tensor_internal.h"

namespace ember::nn::functional {
namespace {

// The kernels read (B, H, rows, cols): a 3-D (B, rows, cols) tensor is one head.
StridedLayout layout_4d(const Tensor& t) {
  if (t.dim() == 4) return layout_of(t);
  return StridedLayout(Shape{t.size(0), 1, t.size(1), t.size(2)},
                       Shape{t.strides()[0], 0, t.strides()[1], t.strides()[2]}, t.offset());
}

// A new tensor of shape (B, H, rows, cols) whose memory is (B, rows, H, cols), or a plain
// (B, rows, cols) one.
Tensor heads_interleaved(const Shape& shape, Device device) {
  if (shape.size() == 3) return empty(shape, device);
  const int64_t B = shape[0], H = shape[1], rows = shape[2], cols = shape[3];
  Tensor dense = empty({B, rows, H, cols}, device);
  return make_view(dense, shape, Shape{rows * H * cols, cols, H * cols, 1}, 0);
}

std::string shapes_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  return fmt::format("query {}, key {}, value {}", shape_str(q.shape()), shape_str(k.shape()),
                     shape_str(v.shape()));
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    bool is_causal, std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  check(q.defined() && k.defined() && v.defined(), "{}: query, key or value is an undefined tensor", op);
  EMBER_CHECK(q.device() == k.device() && q.device() == v.device(),
              "{}: query, key and value must be on one device, got {}, {} and {}", op,
              q.device().str(), k.device().str(), v.device().str());
  EMBER_CHECK((q.dim() == 3 || q.dim() == 4) && k.dim() == q.dim() && v.dim() == q.dim(),
              "{}: expected query, key and value all (B, H, L, E) or all (B, L, E), got {}", op,
              shapes_of(q, k, v));
  const int64_t n = q.dim();
  for (int64_t d = 0; d < n - 2; ++d) {
    EMBER_CHECK(k.size(d) == q.size(d) && v.size(d) == q.size(d),
                "{}: the batch dims (all but the last two) must be equal, got {}", op,
                shapes_of(q, k, v));
  }
  const int64_t L = q.size(-2), E = q.size(-1), S = k.size(-2), Ev = v.size(-1);
  EMBER_CHECK(k.size(-1) == E,
              "{}: query and key must have the same last dim (E), got {}", op, shapes_of(q, k, v));
  EMBER_CHECK(v.size(-2) == S,
              "{}: key and value must have the same number of positions (S, dim -2), got {}", op,
              shapes_of(q, k, v));
  EMBER_CHECK(E > 0, "{}: query and key have no features (E = 0), got {}", op, shapes_of(q, k, v));
  EMBER_CHECK(S > 0 || L == 0, "{}: there are no keys to attend to (S = 0), got {}", op,
              shapes_of(q, k, v));
  const double scale_value = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(E));
  EMBER_CHECK(std::isfinite(scale_value), "{}: scale must be finite, got {}", op, scale_value);
  const float factor = static_cast<float>(scale_value);

  Shape out_shape = q.shape();
  out_shape[n - 1] = Ev;
  Tensor out = heads_interleaved(out_shape, q.device());
  const int64_t pairs = q.size(0) * (n == 4 ? q.size(1) : 1);
  Tensor probs = empty({pairs, L, S}, q.device());  // softmax(scores), for the backward
  Backend& backend = backend_for(q.device());
  if (pairs * L > 0) {
    backend.attention(storage_data(q), layout_4d(q), storage_data(k), layout_4d(k), storage_data(v),
                      layout_4d(v), out.impl()->storage->data(), layout_4d(out), probs.data_ptr(),
                      factor, is_causal);
  }
  const Tensor query = q.detach(), key = k.detach(), value = v.detach();
  return record_op(op, {q, k, v}, out, [query, key, value, probs, factor, is_causal](const Tensor& grad) {
    Tensor grad_q = heads_interleaved(query.shape(), query.device());
    Tensor grad_k = heads_interleaved(key.shape(), key.device());
    Tensor grad_v = heads_interleaved(value.shape(), value.device());
    if (grad_q.numel() + grad_k.numel() + grad_v.numel() > 0) {
      backend_for(query.device())
          .attention_backward(storage_data(query), layout_4d(query), storage_data(key), layout_4d(key),
                              storage_data(value), layout_4d(value), probs.data_ptr(), storage_data(grad),
                              layout_4d(grad), grad_q.impl()->storage->data(), layout_4d(grad_q),
                              grad_k.impl()->storage->data(), layout_4d(grad_k),
                              grad_v.impl()->storage->data(), layout_4d(grad_v), factor, is_causal);
    }
    return std::vector<Tensor>{grad_q, grad_k, grad_v};
  });
}

}  // namespace ember::nn::functional
