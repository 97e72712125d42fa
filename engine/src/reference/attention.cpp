// Scaled dot-product attention, one (batch, head) pair at a time: the composition q6 teaches
// (scores = q k^T * scale, -inf above the diagonal when causal, softmax, then a weighted sum
// of the values), written as loops; and its gradient, the same steps backwards.
#include <cmath>
#include <limits>
#include <vector>

#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {
namespace {

// Where element (b, h, i, j) of a 4-D layout sits in its buffer.
int64_t at(const StridedLayout& layout, int64_t b, int64_t h, int64_t i, int64_t j) {
  return layout.offset + b * layout.strides[0] + h * layout.strides[1] + i * layout.strides[2] +
         j * layout.strides[3];
}

}  // namespace

void ReferenceBackend::attention(const float* q, const StridedLayout& q_layout, const float* k,
                                 const StridedLayout& k_layout, const float* v,
                                 const StridedLayout& v_layout, float* out,
                                 const StridedLayout& out_layout, float* probs, float scale,
                                 bool causal) {
  const int64_t B = q_layout.shape[0], H = q_layout.shape[1], L = q_layout.shape[2];
  const int64_t E = q_layout.shape[3], S = k_layout.shape[2], Ev = v_layout.shape[3];
  const float minus_inf = -std::numeric_limits<float>::infinity();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      float* p = probs + (b * H + h) * L * S;  // (L, S)
      for (int64_t i = 0; i < L; ++i) {
        float* row = p + i * S;  // (S,)
        // scores = q k^T * scale, -inf where query i may not see key j
        for (int64_t j = 0; j < S; ++j) {
          float dot = 0.0f;
          for (int64_t e = 0; e < E; ++e) dot += q[at(q_layout, b, h, i, e)] * k[at(k_layout, b, h, j, e)];
          row[j] = formulas::attention_visible(causal, i, j) ? dot * scale : minus_inf;
        }
        // softmax over the row (key 0 is always visible, so the largest score is finite
        // unless a score is -inf or NaN itself)
        float largest = minus_inf;
        for (int64_t j = 0; j < S; ++j) largest = std::fmax(largest, row[j]);
        if (std::isinf(largest) && largest < 0) largest = 0.0f;
        float total = 0.0f;
        for (int64_t j = 0; j < S; ++j) total += std::exp(row[j] - largest);
        for (int64_t j = 0; j < S; ++j) row[j] = std::exp(row[j] - largest) / total;
        // out = probs v
        for (int64_t e = 0; e < Ev; ++e) {
          float sum = 0.0f;
          for (int64_t j = 0; j < S; ++j) sum += row[j] * v[at(v_layout, b, h, j, e)];
          out[at(out_layout, b, h, i, e)] = sum;
        }
      }
    }
  }
}

void ReferenceBackend::attention_backward(const float* q, const StridedLayout& q_layout,
                                          const float* k, const StridedLayout& k_layout,
                                          const float* v, const StridedLayout& v_layout,
                                          const float* probs, const float* grad_out,
                                          const StridedLayout& grad_out_layout, float* grad_q,
                                          const StridedLayout& grad_q_layout, float* grad_k,
                                          const StridedLayout& grad_k_layout, float* grad_v,
                                          const StridedLayout& grad_v_layout, float scale,
                                          bool /*causal: probs is 0 where a key was hidden*/) {
  const int64_t B = q_layout.shape[0], H = q_layout.shape[1], L = q_layout.shape[2];
  const int64_t E = q_layout.shape[3], S = k_layout.shape[2], Ev = v_layout.shape[3];
  std::vector<float> grad_scores(static_cast<size_t>(L * S));  // (L, S) of one pair
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      const float* p = probs + (b * H + h) * L * S;  // (L, S)
      // grad_v = probs^T grad_out
      for (int64_t j = 0; j < S; ++j) {
        for (int64_t e = 0; e < Ev; ++e) {
          float sum = 0.0f;
          for (int64_t i = 0; i < L; ++i) sum += p[i * S + j] * grad_out[at(grad_out_layout, b, h, i, e)];
          grad_v[at(grad_v_layout, b, h, j, e)] = sum;
        }
      }
      // grad_probs = grad_out v^T, then softmax's gradient, row by row
      for (int64_t i = 0; i < L; ++i) {
        float* ds = grad_scores.data() + i * S;  // (S,)
        float row_dot = 0.0f;
        for (int64_t j = 0; j < S; ++j) {
          float dp = 0.0f;
          for (int64_t e = 0; e < Ev; ++e) dp += grad_out[at(grad_out_layout, b, h, i, e)] * v[at(v_layout, b, h, j, e)];
          ds[j] = dp;
          row_dot += dp * p[i * S + j];
        }
        for (int64_t j = 0; j < S; ++j) ds[j] = formulas::attention_score_grad(p[i * S + j], ds[j], row_dot);
      }
      // grad_q = scale * grad_scores k;  grad_k = scale * grad_scores^T q
      for (int64_t i = 0; i < L; ++i) {
        for (int64_t e = 0; e < E; ++e) {
          float sum = 0.0f;
          for (int64_t j = 0; j < S; ++j) sum += grad_scores[i * S + j] * k[at(k_layout, b, h, j, e)];
          grad_q[at(grad_q_layout, b, h, i, e)] = scale * sum;
        }
      }
      for (int64_t j = 0; j < S; ++j) {
        for (int64_t e = 0; e < E; ++e) {
          float sum = 0.0f;
          for (int64_t i = 0; i < L; ++i) sum += grad_scores[i * S + j] * q[at(q_layout, b, h, i, e)];
          grad_k[at(grad_k_layout, b, h, j, e)] = scale * sum;
        }
      }
    }
  }
}

}  // namespace ember::reference
