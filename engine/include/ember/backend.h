// The backend interface: the one short list of kernels that every device implements.
//
// Ops (engine/src/ops_*.cpp) decide shapes, check arguments and record autograd; they
// never touch numbers themselves. They call these kernels on the backend of their
// tensors' device. Three backends implement the same list with the same names: the
// reference backend (engine/src/reference/, plain loops: read this one first), the fast CPU
// backend (engine/src/fast_cpu/, the default on the CPU) and the CUDA backend
// (engine/src/cuda/). The other two are tested against the reference op by op, and a new
// backend slots in without touching ops or autograd.
//
// Every pointer is a device pointer of that backend. "Contiguous" buffers are dense
// row-major arrays; a StridedLayout describes a view into a buffer (shape, strides,
// offset), where a stride of 0 repeats an element (broadcasting, expand).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ember/device.h"
#include "ember/shape.h"

namespace ember {

struct StridedLayout {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  int64_t offset = 0;

  StridedLayout() = default;
  StridedLayout(const Shape& shape, const Shape& strides, int64_t offset);
  int64_t numel() const;
  bool is_contiguous() const;
};

// out = f(x), element by element. Scalars a and b parameterise some ops.
enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Abs, Relu, Sigmoid, Tanh,
  AddScalar,     // x + a
  MulScalar,     // x * a
  RsubScalar,    // a - x
  RdivScalar,    // a / x
  PowScalar,     // x ^ a
  RpowScalar,    // a ^ x
  Clamp,         // min(max(x, a), b)
  Sign,          // -1, 0 or +1
  GtScalar, GeScalar, LtScalar, LeScalar, EqScalar, NeScalar,  // 1.0 or 0.0
  InRange,       // 1.0 where a <= x <= b, else 0.0 (clamp's gradient mask)
  Gelu,          // x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
  GeluTanh,      // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
};

// out = f(x, y), element by element, with both inputs broadcast to out's shape.
// GeluBackward and GeluTanhBackward are gelu's gradients: x is the output's gradient, y the
// input of the forward, out = x * d gelu(y) / dy.
enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge,
  GeluBackward, GeluTanhBackward,
};

// Reductions of the middle axis of a contiguous (outer, n, inner) block.
enum class ReduceOp { Sum, Max, Min, ArgMax, ArgMin };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual const char* name() const = 0;

  // --- memory -------------------------------------------------------------
  virtual float* allocate(int64_t count) = 0;  // count floats; never returns null
  virtual void deallocate(float* data) = 0;
  virtual void copy_from_host(const float* host, float* device_data, int64_t count) = 0;
  virtual void copy_to_host(const float* device_data, float* host, int64_t count) = 0;

  // --- fill and copy --------------------------------------------------------
  virtual void fill(float* out, int64_t count, float value) = 0;
  // out[out_layout] = in[in_layout] for every index of their (identical) shape. With a
  // contiguous out this is the "compact" kernel behind contiguous().
  virtual void copy(const float* in, const StridedLayout& in_layout, float* out,
                    const StridedLayout& out_layout) = 0;

  // --- element-wise -------------------------------------------------------
  // in and out are contiguous with count elements.
  virtual void unary(UnaryOp op, const float* in, float* out, int64_t count, float a,
                     float b) = 0;
  // out is contiguous with out_layout's shape; x and y are read through their layouts,
  // which already have the out shape (broadcast dims have stride 0).
  virtual void binary(BinaryOp op, const float* x, const StridedLayout& x_layout,
                      const float* y, const StridedLayout& y_layout, float* out,
                      const StridedLayout& out_layout) = 0;
  // out = condition != 0 ? x : y, all three read through layouts of out's shape.
  virtual void where(const float* condition, const StridedLayout& condition_layout,
                     const float* x, const StridedLayout& x_layout, const float* y,
                     const StridedLayout& y_layout, float* out,
                     const StridedLayout& out_layout) = 0;

  // --- reductions ---------------------------------------------------------
  // in is contiguous (outer, n, inner); out is contiguous (outer, inner).
  // ArgMax/ArgMin write the index (0..n-1) as a float; ties go to the first index.
  virtual void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
                      int64_t inner) = 0;

  // --- matrix multiply ----------------------------------------------------
  // For each b in 0..batch-1: C_b (M x N) = op(A_b) @ op(B_b), row-major, where A_b starts
  // at a + b * a_batch_stride (a_batch_stride 0 shares one A across the batch) and op()
  // transposes when asked. lda/ldb are the row strides of A and B as stored; C is dense.
  virtual void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
                      const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b,
                      float* c, int64_t batch, int64_t m, int64_t n, int64_t k) = 0;

  // --- softmax ------------------------------------------------------------
  // Row-wise over contiguous (rows, cols): softmax, or log_softmax when log is true.
  virtual void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) = 0;
  // Its gradient, row by row, from the forward's output y and the output's gradient g (all
  // contiguous (rows, cols)): softmax dx = y * (g - sum(g * y)); log_softmax (y the log
  // probabilities) dx = g - exp(y) * sum(g). One pass per row instead of four ops.
  virtual void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                                int64_t cols, bool log) = 0;

  // --- layer normalisation (F::layer_norm) ---------------------------------
  // Each row r of the contiguous (rows, cols) in is normalised: mean[r] = sum_j in[r, j] / cols,
  // rstd[r] = 1 / sqrt(sum_j (in[r, j] - mean[r])^2 / cols + eps) (the biased variance, as
  // PyTorch), both written to (rows,) buffers for the backward, and
  //   out[r, j] = (in[r, j] - mean[r]) * rstd[r] * weight[j] + bias[j]
  // (formulas::layer_norm_element). A null weight counts as ones, a null bias as zeros.
  virtual void layer_norm(const float* in, const float* weight, const float* bias, float* out,
                          float* mean, float* rstd, int64_t rows, int64_t cols, float eps) = 0;
  // Its gradient, from grad (rows, cols), the forward's in, weight (null: ones), mean and rstd.
  // With xhat = (in - mean) * rstd and gw = grad * weight, row by row:
  //   grad_in = rstd * (gw - mean_j(gw) - xhat * mean_j(gw * xhat))
  // (formulas::layer_norm_grad_element), and over the rows, in row order:
  //   grad_weight[j] = sum_r grad[r, j] * xhat[r, j],  grad_bias[j] = sum_r grad[r, j].
  // grad_weight and grad_bias may be null (not wanted).
  virtual void layer_norm_backward(const float* grad, const float* in, const float* weight,
                                   const float* mean, const float* rstd, float* grad_in,
                                   float* grad_weight, float* grad_bias, int64_t rows,
                                   int64_t cols) = 0;

  // --- attention (F::scaled_dot_product_attention) --------------------------
  // For every (batch, head) pair b, h of the 4-D layouts q (B, H, L, E), k (B, H, S, E),
  // v (B, H, S, Ev) and out (B, H, L, Ev), read and written through their strides:
  //   scores = scale * q k^T                       (L, S)
  //   scores[i, j] = -inf where causal and j > i   (key j comes after query i)
  //   probs = softmax(scores) row by row           (L, S)
  //   out = probs v                                (L, Ev)
  // probs is B * H * L * S floats of workspace that keeps the probabilities for this backend's
  // attention_backward: the reference and CUDA backends store them (B, H, L, S), the fast CPU
  // backend each pair's transpose (S, L). S >= 1 (the op checks it): row i always sees key 0.
  virtual void attention(const float* q, const StridedLayout& q_layout, const float* k,
                         const StridedLayout& k_layout, const float* v,
                         const StridedLayout& v_layout, float* out,
                         const StridedLayout& out_layout, float* probs, float scale,
                         bool causal) = 0;
  // Its gradient, from the forward's q, k, v and probs (as attention left it) and the output's
  // gradient grad_out
  // (B, H, L, Ev); the three gradients are written through their layouts:
  //   grad_v = probs^T grad_out                                  (S, Ev)
  //   grad_probs = grad_out v^T                                  (L, S)
  //   grad_scores = probs * (grad_probs - rowsum(grad_probs * probs))
  //                 (softmax's gradient; 0 where probs is 0, so above the diagonal)
  //   grad_q = scale * grad_scores k,  grad_k = scale * grad_scores^T q.
  virtual void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                                  const StridedLayout& k_layout, const float* v,
                                  const StridedLayout& v_layout, const float* probs,
                                  const float* grad_out, const StridedLayout& grad_out_layout,
                                  float* grad_q, const StridedLayout& grad_q_layout,
                                  float* grad_k, const StridedLayout& grad_k_layout,
                                  float* grad_v, const StridedLayout& grad_v_layout, float scale,
                                  bool causal) = 0;

  // --- indexing -----------------------------------------------------------
  // out (count, row_size) = table[indices[i]] row by row; indices hold whole numbers as
  // floats and are checked by the op before the call.
  virtual void gather_rows(const float* table, int64_t row_size, const float* indices,
                           int64_t count, float* out) = 0;
  // table[indices[i]] += rows[i]; the gradient of gather_rows. Repeated indices add up.
  virtual void scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                                int64_t count, float* table) = 0;

  // --- random fills -------------------------------------------------------
  // Counter-based (Philox 4x32-10): value i of a fill depends only on (seed, offset, i),
  // so the CPU and the GPU draw the same numbers and threads can fill in any order.
  virtual void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                            uint64_t offset) = 0;
  virtual void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                           uint64_t offset) = 0;

  // --- optimizer updates (all buffers contiguous, count elements) ----------
  // A momentum buffer (after the first step) or Adam's m that would become subnormal (below
  // ~1.2e-38) is stored as 0: on Intel cores such floats take a slow path (formulas.h,
  // flush_subnormal says why).
  // PyTorch's SGD: g = grad + weight_decay * param; with momentum the buffer becomes g on
  // the first step and momentum * buf + (1 - dampening) * g afterwards; g = buf (or
  // g + momentum * buf with Nesterov); param -= lr * g.
  virtual void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count,
                        float lr, float momentum, float dampening, float weight_decay,
                        bool nesterov, bool first_step) = 0;
  // PyTorch's Adam (step counts from 1): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // param -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
  virtual void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                         int64_t count, float lr, float beta1, float beta2, float eps,
                         float weight_decay, int64_t step) = 0;
  // PyTorch's AdamW: the same update with decoupled weight decay and the plain gradient:
  // param *= 1 - lr * weight_decay (the factor computed in double, then rounded to float);
  // then Adam's moments and step with g = grad.
  virtual void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                          int64_t count, float lr, float beta1, float beta2, float eps,
                          float weight_decay, int64_t step) = 0;
};

// The backend for a device; throws ember::Error for a CUDA device in a build without
// CUDA ("built without CUDA") or when no such device exists. On the CPU it is the fast
// backend, or the reference one when the environment says EMBER_BACKEND=reference.
Backend& backend_for(Device device);

}  // namespace ember
