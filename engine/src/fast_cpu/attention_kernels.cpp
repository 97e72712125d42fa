// Scaled dot-product attention on the CPU (see attention_kernels.h and backend.h).
//
// Written as ops (q6's composition), causal attention over (B, H, T, hs) is two batched
// products, a scale, a mask, a softmax and the copies that make q, k and v dense for the
// products, each a pass over memory with a result of its own, and about twice that backward.
// Here each (batch, head) pair is done start to end by one thread, its (T, T) scores never
// leaving that thread's caches:
//
//   forward   scores = scale * q k^T, then row by row: softmax over the keys the query may
//             see (the rest 0), then out = probs v
//   backward  grad_probs = grad_out v^T, grad_scores = probs * (grad_probs - rowsum), then
//             grad_q = scale * grad_scores k, grad_k = scale * grad_scores^T q,
//             grad_v = probs^T grad_out
//
// The products run on the engine's GEMM (single-threaded inside a pair: the pairs are the
// parallel work). q, k, v and the gradients are read and written in place through their row
// strides whenever their rows are dense, so the slices of one Linear(C, 3C) that a GPT cuts
// into q, k and v are never copied; other layouts go through a per-thread copy.
//
// Causal attention skips the blocks of the products that only meet hidden keys: queries are
// taken kBlock at a time, and a block of queries ending at row i1 reads keys 0..i1-1 only
// (backward, a block of keys starting at j0 meets queries j0.. only). With T = 64 and
// kBlock = 32 that is 3/4 of the work of the full products.
#include "fast_cpu/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "fast_cpu/gemm.h"
#include "fast_cpu/softmax_kernels.h"
#include "fast_cpu/thread_pool.h"
#include "formulas.h"

namespace ember::cpu {
namespace {

constexpr int64_t kBlock = 32;  // queries (keys, backward) per block of the causal products

// One (batch, head) pair's matrix of a 4-D layout: where row 0 starts and the distance
// between rows.
struct Matrix {
  float* data;
  int64_t ld;
};

// The (b, h) matrix of layout (rows, cols) = (shape[2], shape[3]) over base. Rows that are
// dense (stride 1 along the last dim, and rows apart by at least a row) are used in place;
// otherwise the matrix is copied into scratch (copy_in: read it; else the caller fills
// scratch and calls write_back).
Matrix matrix_of(const float* base, const StridedLayout& layout, int64_t b, int64_t h, bool copy_in,
                 std::vector<float>& scratch) {
  const int64_t rows = layout.shape[2], cols = layout.shape[3];
  const int64_t start = layout.offset + b * layout.strides[0] + h * layout.strides[1];
  const int64_t row_stride = layout.strides[2], col_stride = layout.strides[3];
  if ((col_stride == 1 || cols == 1) && (row_stride >= cols || rows == 1)) {
    return {const_cast<float*>(base) + start, std::max<int64_t>(rows == 1 ? cols : row_stride, 1)};
  }
  scratch.resize(static_cast<size_t>(std::max<int64_t>(rows * cols, 1)));
  if (copy_in) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) scratch[i * cols + j] = base[start + i * row_stride + j * col_stride];
    }
  }
  return {scratch.data(), std::max<int64_t>(cols, 1)};
}

// Copies a matrix computed in scratch (m.data is not in place) to the (b, h) matrix of layout.
void write_back(const Matrix& m, float* base, const StridedLayout& layout, int64_t b, int64_t h) {
  const int64_t rows = layout.shape[2], cols = layout.shape[3];
  const int64_t start = layout.offset + b * layout.strides[0] + h * layout.strides[1];
  if (m.data == base + start) return;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) base[start + i * layout.strides[2] + j * layout.strides[3]] = m.data[i * m.ld + j];
  }
}

// How many keys query i may see: all S, or with causal keys 0..i.
inline int64_t visible_keys(bool causal, int64_t i, int64_t S) { return causal ? std::min(i + 1, S) : S; }

// Softmax over the visible keys of rows i0..i0+rows-1 of the (L, S) scores P, whose first
// `keys` columns the product filled: hidden keys of those columns become -inf first (so exp
// gives 0), and the columns past `keys` are 0.
void softmax_block(float* P, int64_t i0, int64_t rows, int64_t keys, int64_t S, bool causal) {
  for (int64_t i = i0; i < i0 + rows; ++i) {
    float* row = P + i * S;
    std::fill(row + std::min(visible_keys(causal, i, S), keys), row + keys, -std::numeric_limits<float>::infinity());
  }
  softmax_rows_in_place(P + i0 * S, rows, keys, S);
  for (int64_t i = i0; i < i0 + rows; ++i) std::fill(P + i * S + keys, P + (i + 1) * S, 0.0f);
}

// The scratch buffers of one thread.
struct Scratch {
  std::vector<float> q, k, v, out, grad_out, grad_q, grad_k, grad_v, grad_scores;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Runs fn(pair) for every (batch, head) pair, pairs shared out between threads (each pair's
// products then run on one thread), unless there are too few pairs to share: then one after
// another, and the GEMM inside shares each product instead.
template <typename Fn>
void for_each_pair(int64_t pairs, Fn&& fn) {
  auto range = [&](int64_t begin, int64_t end) {
    for (int64_t pair = begin; pair < end; ++pair) fn(pair);
  };
  if (pairs >= 2 * num_threads()) {
    parallel_for(0, pairs, 1, std::ref(range));
  } else {
    range(0, pairs);
  }
}

}  // namespace

void attention_forward(const float* q, const StridedLayout& q_layout, const float* k,
                       const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                       float* out, const StridedLayout& out_layout, float* probs, float scale,
                       bool causal) {
  const int64_t B = q_layout.shape[0], H = q_layout.shape[1], L = q_layout.shape[2];
  const int64_t E = q_layout.shape[3], S = k_layout.shape[2], Ev = v_layout.shape[3];
  if (B * H * L == 0) return;
  const int64_t block = causal ? kBlock : L;
  for_each_pair(B * H, [&](int64_t pair) {
    const int64_t b = pair / H, h = pair % H;
    Scratch& s = scratch();
    const Matrix Q = matrix_of(q, q_layout, b, h, true, s.q);
    const Matrix K = matrix_of(k, k_layout, b, h, true, s.k);
    const Matrix V = matrix_of(v, v_layout, b, h, true, s.v);
    const Matrix O = matrix_of(out, out_layout, b, h, false, s.out);
    float* P = probs + pair * L * S;  // (L, S)
    for (int64_t i0 = 0; i0 < L; i0 += block) {
      const int64_t rows = std::min(block, L - i0);
      const int64_t keys = causal ? std::min(S, i0 + rows) : S;  // the last query's keys
      gemm(false, true, rows, keys, E, scale, Q.data + i0 * Q.ld, Q.ld, K.data, K.ld, 0.0f, P + i0 * S, S);
      softmax_block(P, i0, rows, keys, S, causal);
      gemm(false, false, rows, Ev, keys, 1.0f, P + i0 * S, S, V.data, V.ld, 0.0f, O.data + i0 * O.ld, O.ld);
    }
    write_back(O, out, out_layout, b, h);
  });
}

void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                        const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                        const float* probs, const float* grad_out,
                        const StridedLayout& grad_out_layout, float* grad_q,
                        const StridedLayout& grad_q_layout, float* grad_k,
                        const StridedLayout& grad_k_layout, float* grad_v,
                        const StridedLayout& grad_v_layout, float scale, bool causal) {
  const int64_t B = q_layout.shape[0], H = q_layout.shape[1], L = q_layout.shape[2];
  const int64_t E = q_layout.shape[3], S = k_layout.shape[2], Ev = v_layout.shape[3];
  if (B * H == 0) return;
  const int64_t block = causal ? kBlock : std::max<int64_t>(std::max(L, S), 1);
  for_each_pair(B * H, [&](int64_t pair) {
    const int64_t b = pair / H, h = pair % H;
    Scratch& s = scratch();
    const Matrix Q = matrix_of(q, q_layout, b, h, true, s.q);
    const Matrix K = matrix_of(k, k_layout, b, h, true, s.k);
    const Matrix V = matrix_of(v, v_layout, b, h, true, s.v);
    const Matrix dO = matrix_of(grad_out, grad_out_layout, b, h, true, s.grad_out);
    const Matrix dQ = matrix_of(grad_q, grad_q_layout, b, h, false, s.grad_q);
    const Matrix dK = matrix_of(grad_k, grad_k_layout, b, h, false, s.grad_k);
    const Matrix dV = matrix_of(grad_v, grad_v_layout, b, h, false, s.grad_v);
    const float* P = probs + pair * L * S;  // (L, S)
    s.grad_scores.resize(static_cast<size_t>(std::max<int64_t>(L * S, 1)));
    float* dS = s.grad_scores.data();  // (L, S)

    // Query blocks: grad_probs, then grad_scores (in place), then grad_q.
    for (int64_t i0 = 0; i0 < L; i0 += block) {
      const int64_t rows = std::min(block, L - i0);
      const int64_t keys = causal ? std::min(S, i0 + rows) : S;
      gemm(false, true, rows, keys, Ev, 1.0f, dO.data + i0 * dO.ld, dO.ld, V.data, V.ld, 0.0f, dS + i0 * S, S);
      // Hidden keys have probability 0, so their gradient comes out 0; past `keys` set it.
      softmax_backward_rows_in_place(P + i0 * S, S, dS + i0 * S, S, rows, keys);
      for (int64_t i = i0; i < i0 + rows; ++i) std::fill(dS + i * S + keys, dS + (i + 1) * S, 0.0f);
      gemm(false, false, rows, E, keys, scale, dS + i0 * S, S, K.data, K.ld, 0.0f, dQ.data + i0 * dQ.ld, dQ.ld);
    }
    // Key blocks: grad_v = probs^T grad_out and grad_k = scale * grad_scores^T q, over the
    // queries that see the block (all, or with causal queries j0..L-1).
    for (int64_t j0 = 0; j0 < S; j0 += block) {
      const int64_t cols = std::min(block, S - j0);
      const int64_t first = causal ? std::min(j0, L) : 0;
      gemm(true, false, cols, Ev, L - first, 1.0f, P + first * S + j0, S, dO.data + first * dO.ld, dO.ld, 0.0f,
           dV.data + j0 * dV.ld, dV.ld);
      gemm(true, false, cols, E, L - first, scale, dS + first * S + j0, S, Q.data + first * Q.ld, Q.ld, 0.0f,
           dK.data + j0 * dK.ld, dK.ld);
    }
    write_back(dQ, grad_q, grad_q_layout, b, h);
    write_back(dK, grad_k, grad_k_layout, b, h);
    write_back(dV, grad_v, grad_v_layout, b, h);
  });
}

}  // namespace ember::cpu
