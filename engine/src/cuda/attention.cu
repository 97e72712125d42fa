// Scaled dot-product attention and its gradient (backend.h: attention, attention_backward).
//
// The plainest GPU version: one thread per query row of a (batch, head) pair, which works
// through its row as the reference backend's loop does (scores, softmax, weighted sum of the
// values). The backward is two kernels: one thread per query row for grad_probs, the
// softmax's gradient (kept in a scratch (B, H, L, S) buffer) and grad_q; then one thread per
// key for grad_k and grad_v, summing over the queries in order. Every element of q, k, v and
// the gradients is addressed through its layout's strides.
#include <math_constants.h>

#include <cstdint>

#include "cuda/caching_allocator.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/cuda_common.cuh"
#include "formulas.h"

namespace ember::cuda {
namespace {

// Element (b, h, i, j) of a 4-D layout.
__device__ inline int64_t at(const StridedLayout& layout, int64_t b, int64_t h, int64_t i, int64_t j) {
  return layout.offset + b * layout.strides[0] + h * layout.strides[1] + i * layout.strides[2] +
         j * layout.strides[3];
}

// One thread per (pair, i): the row's scores, softmax (into probs) and out row.
__global__ void attention_kernel(const float* q, StridedLayout ql, const float* k, StridedLayout kl,
                                 const float* v, StridedLayout vl, float* out, StridedLayout ol,
                                 float* probs, float scale, bool causal) {
  const int64_t H = ql.shape[1], L = ql.shape[2], E = ql.shape[3], S = kl.shape[2], Ev = vl.shape[3];
  const int64_t rows = ql.shape[0] * H * L;
  for (int64_t index = first_index(); index < rows; index += index_stride()) {
    const int64_t i = index % L, pair = index / L, b = pair / H, h = pair % H;
    float* row = probs + index * S;  // (pair * L + i) * S
    float largest = -CUDART_INF_F;
    for (int64_t j = 0; j < S; ++j) {
      float dot = 0.0f;
      for (int64_t e = 0; e < E; ++e) dot += q[at(ql, b, h, i, e)] * k[at(kl, b, h, j, e)];
      row[j] = formulas::attention_visible(causal, i, j) ? dot * scale : -CUDART_INF_F;
      largest = fmaxf(largest, row[j]);  // fmaxf passes over NaN, as the CPU's loop
    }
    if (isinf(largest) && largest < 0) largest = 0.0f;
    float total = 0.0f;
    for (int64_t j = 0; j < S; ++j) total += expf(row[j] - largest);
    for (int64_t j = 0; j < S; ++j) row[j] = expf(row[j] - largest) / total;
    for (int64_t e = 0; e < Ev; ++e) {
      float sum = 0.0f;
      for (int64_t j = 0; j < S; ++j) sum += row[j] * v[at(vl, b, h, j, e)];
      out[at(ol, b, h, i, e)] = sum;
    }
  }
}

// One thread per (pair, i): grad_scores row (into scratch) and grad_q row.
__global__ void attention_query_grads_kernel(const float* k, StridedLayout kl, const float* v, StridedLayout vl,
                                             const float* probs, const float* grad_out, StridedLayout gol,
                                             float* grad_scores, float* grad_q, StridedLayout gql, int64_t B,
                                             float scale) {
  const int64_t H = gql.shape[1], L = gql.shape[2], E = gql.shape[3], S = kl.shape[2], Ev = vl.shape[3];
  const int64_t rows = B * H * L;
  for (int64_t index = first_index(); index < rows; index += index_stride()) {
    const int64_t i = index % L, pair = index / L, b = pair / H, h = pair % H;
    const float* p = probs + index * S;
    float* ds = grad_scores + index * S;
    float row_dot = 0.0f;
    for (int64_t j = 0; j < S; ++j) {
      float dp = 0.0f;
      for (int64_t e = 0; e < Ev; ++e) dp += grad_out[at(gol, b, h, i, e)] * v[at(vl, b, h, j, e)];
      ds[j] = dp;
      row_dot += dp * p[j];
    }
    for (int64_t j = 0; j < S; ++j) ds[j] = formulas::attention_score_grad(p[j], ds[j], row_dot);
    for (int64_t e = 0; e < E; ++e) {
      float sum = 0.0f;
      for (int64_t j = 0; j < S; ++j) sum += ds[j] * k[at(kl, b, h, j, e)];
      grad_q[at(gql, b, h, i, e)] = scale * sum;
    }
  }
}

// One thread per (pair, j): grad_k and grad_v rows, summed over the queries in order.
__global__ void attention_key_grads_kernel(const float* q, StridedLayout ql, const float* probs,
                                           const float* grad_out, StridedLayout gol, const float* grad_scores,
                                           float* grad_k, StridedLayout gkl, float* grad_v, StridedLayout gvl,
                                           float scale) {
  const int64_t H = ql.shape[1], L = ql.shape[2], E = ql.shape[3], S = gkl.shape[2], Ev = gvl.shape[3];
  const int64_t keys = ql.shape[0] * H * S;
  for (int64_t index = first_index(); index < keys; index += index_stride()) {
    const int64_t j = index % S, pair = index / S, b = pair / H, h = pair % H;
    const float* p = probs + pair * L * S;
    const float* ds = grad_scores + pair * L * S;
    for (int64_t e = 0; e < Ev; ++e) {
      float sum = 0.0f;
      for (int64_t i = 0; i < L; ++i) sum += p[i * S + j] * grad_out[at(gol, b, h, i, e)];
      grad_v[at(gvl, b, h, j, e)] = sum;
    }
    for (int64_t e = 0; e < E; ++e) {
      float sum = 0.0f;
      for (int64_t i = 0; i < L; ++i) sum += ds[i * S + j] * q[at(ql, b, h, i, e)];
      grad_k[at(gkl, b, h, j, e)] = scale * sum;
    }
  }
}

}  // namespace

void CudaBackend::attention(const float* q, const StridedLayout& q_layout, const float* k,
                            const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                            float* out, const StridedLayout& out_layout, float* probs, float scale,
                            bool causal) {
  DeviceGuard guard(index_, "attention");
  const int64_t rows = q_layout.shape[0] * q_layout.shape[1] * q_layout.shape[2];
  if (rows == 0) return;
  attention_kernel<<<blocks_for(rows), kThreadsPerBlock>>>(q, q_layout, k, k_layout, v, v_layout, out,
                                                           out_layout, probs, scale, causal);
  check_launch("attention");
}

void CudaBackend::attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                                     const StridedLayout& k_layout, const float* v,
                                     const StridedLayout& v_layout, const float* probs,
                                     const float* grad_out, const StridedLayout& grad_out_layout,
                                     float* grad_q, const StridedLayout& grad_q_layout, float* grad_k,
                                     const StridedLayout& grad_k_layout, float* grad_v,
                                     const StridedLayout& grad_v_layout, float scale,
                                     bool /*causal: probs is 0 where a key was hidden*/) {
  DeviceGuard guard(index_, "attention_backward");
  const int64_t B = q_layout.shape[0], H = q_layout.shape[1], L = q_layout.shape[2], S = k_layout.shape[2];
  if (B * H == 0) return;
  ScratchBuffer grad_scores(allocator_, static_cast<size_t>(std::max<int64_t>(B * H * L * S, 1)) * sizeof(float));
  if (L > 0) {
    attention_query_grads_kernel<<<blocks_for(B * H * L), kThreadsPerBlock>>>(
        k, k_layout, v, v_layout, probs, grad_out, grad_out_layout, grad_scores.as<float>(), grad_q, grad_q_layout,
        B, scale);
    check_launch("attention_backward");
  }
  if (S > 0) {
    attention_key_grads_kernel<<<blocks_for(B * H * S), kThreadsPerBlock>>>(
        q, q_layout, probs, grad_out, grad_out_layout, grad_scores.as<float>(), grad_k, grad_k_layout, grad_v,
        grad_v_layout, scale);
    check_launch("attention_backward");
  }
}

}  // namespace ember::cuda
