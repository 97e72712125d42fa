// The reference backend: every kernel of backend.h as the plainest loop that computes it.
//
// No threads, no intrinsics, no caches, no special cases for speed: one loop per kernel, to
// be read in one sitting. It is what the other backends are tested against (the parity
// tests), and what runs on the CPU when EMBER_BACKEND=reference is set. Its files mirror
// the CUDA backend's, kernel for kernel:
//
//   reference_backend.cpp  memory, fill, copy
//   elementwise.cpp        unary, binary, where
//   reduce.cpp             reduce
//   matmul.cpp             matmul (the textbook triple loop)
//   softmax.cpp            softmax, softmax_backward
//   layer_norm.cpp         layer_norm, layer_norm_backward
//   attention.cpp          attention, attention_backward
//   indexing.cpp           gather_rows, scatter_add_rows
//   random.cpp             fill_uniform, fill_normal
//   optimizer.cpp          sgd_step, adam_step, adamw_step
#pragma once

#include "ember/backend.h"

namespace ember::reference {

// Where element i (counted row-major over layout's shape) sits in its buffer.
//   shape (2, 3), strides (1, 2), offset 0: element 4 is index (1, 1), at 1*1 + 1*2 = 3.
inline int64_t position_of(const StridedLayout& layout, int64_t i) {
  int64_t position = layout.offset;
  for (int d = layout.ndim - 1; d >= 0; --d) {
    position += (i % layout.shape[d]) * layout.strides[d];
    i /= layout.shape[d];
  }
  return position;
}

class ReferenceBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }
  const char* name() const override { return "reference"; }

  // reference_backend.cpp
  float* allocate(int64_t count) override;
  void deallocate(float* data) override;
  void copy_from_host(const float* host, float* data, int64_t count) override;
  void copy_to_host(const float* data, float* host, int64_t count) override;
  void fill(float* out, int64_t count, float value) override;
  void copy(const float* in, const StridedLayout& in_layout, float* out,
            const StridedLayout& out_layout) override;

  // elementwise.cpp
  void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) override;
  void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
              const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) override;
  void where(const float* condition, const StridedLayout& condition_layout, const float* x,
             const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout,
             float* out, const StridedLayout& out_layout) override;

  // reduce.cpp
  void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
              int64_t inner) override;

  // matmul.cpp
  void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
              const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c,
              int64_t batch, int64_t m, int64_t n, int64_t k) override;

  // softmax.cpp
  void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) override;
  void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                        int64_t cols, bool log) override;

  // layer_norm.cpp
  void layer_norm(const float* in, const float* weight, const float* bias, float* out,
                  float* mean, float* rstd, int64_t rows, int64_t cols, float eps) override;
  void layer_norm_backward(const float* grad, const float* in, const float* weight,
                           const float* mean, const float* rstd, float* grad_in,
                           float* grad_weight, float* grad_bias, int64_t rows,
                           int64_t cols) override;

  // attention.cpp
  void attention(const float* q, const StridedLayout& q_layout, const float* k,
                 const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                 float* out, const StridedLayout& out_layout, float* probs, float scale,
                 bool causal) override;
  void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                          const StridedLayout& k_layout, const float* v,
                          const StridedLayout& v_layout, const float* probs,
                          const float* grad_out, const StridedLayout& grad_out_layout,
                          float* grad_q, const StridedLayout& grad_q_layout, float* grad_k,
                          const StridedLayout& grad_k_layout, float* grad_v,
                          const StridedLayout& grad_v_layout, float scale, bool causal) override;

  // indexing.cpp
  void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                   float* out) override;
  void scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                        int64_t count, float* table) override;

  // random.cpp
  void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                    uint64_t offset) override;
  void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                   uint64_t offset) override;

  // optimizer.cpp
  void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count,
                float lr, float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step) override;
  void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                 int64_t count, float lr, float beta1, float beta2, float eps,
                 float weight_decay, int64_t step) override;
  void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                  int64_t count, float lr, float beta1, float beta2, float eps,
                  float weight_decay, int64_t step) override;
};

}  // namespace ember::reference
