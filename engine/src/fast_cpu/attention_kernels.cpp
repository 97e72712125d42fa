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
// Each pair keeps its scores transposed, (S, L): a key's scores for every query in one row.
// The softmax of a query then runs down a column, and the max and sums of 16 queries at a time
// are plain vector operations (rows of 32 or 64 scores are too short to pay for reducing each
// across a vector register, which is what took the time with the scores row-major). The
// products take the transposes as they come (the GEMM reads either layout). That (S, L) is
// what this backend keeps in `probs` for the backward.
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
#include "fast_cpu/target_clones.h"
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

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__)
// EMBER_TARGET_CLONES plus no-trapping-math, so that exp_poly's clamps become vector blends,
// and AVX2 with FMA for exp_poly's fmaf (EMBER_AVX2_FMA_CLONE, as activation_kernels.cpp).
#define EMBER_ATTENTION_CLONES                                          \
  __attribute__((target_clones("avx512f", EMBER_AVX2_FMA_CLONE, "default"), \
                 optimize("fp-contract=off", "no-trapping-math")))
#else
#define EMBER_ATTENTION_CLONES
#endif

// Softmax down the columns i0..i0+rows-1 of the transposed scores Pt (S, L), row j at
// Pt + j * L: query i's scores are Pt[0..keys)[i], of which keys j <= i are visible when
// causal. Hidden and uncomputed (j >= keys) entries become 0. largest and total: scratch of
// `rows` floats. The loops over i are the vector ones; the max passes over a NaN (as
// std::fmax in the reference), which exp then spreads to its query's probabilities.
EMBER_ATTENTION_CLONES
void softmax_columns(float* __restrict Pt, int64_t L, int64_t i0, int64_t rows, int64_t keys, int64_t S,
                     bool causal, float* __restrict largest, float* __restrict total) {
  const float minus_inf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < rows; ++i) largest[i] = minus_inf;
  for (int64_t j = 0; j < keys; ++j) {
    const float* row = Pt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) {
      const float v = (!causal || j <= i0 + i) ? row[i] : minus_inf;
      largest[i] = v > largest[i] ? v : largest[i];
    }
  }
  for (int64_t i = 0; i < rows; ++i) {
    largest[i] = largest[i] == minus_inf ? 0.0f : largest[i];  // no visible key: exp(-inf) = 0
    total[i] = 0.0f;
  }
  for (int64_t j = 0; j < keys; ++j) {
    float* row = Pt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) {
      const float e = (!causal || j <= i0 + i) ? formulas::exp_poly(row[i] - largest[i]) : 0.0f;
      row[i] = e;
      total[i] += e;
    }
  }
  for (int64_t i = 0; i < rows; ++i) total[i] = 1.0f / total[i];
  for (int64_t j = 0; j < keys; ++j) {
    float* row = Pt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) row[i] *= total[i];
  }
  for (int64_t j = keys; j < S; ++j) {
    float* row = Pt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) row[i] = 0.0f;
  }
}

// Softmax's gradient down the columns i0..i0+rows-1, in place: dSt (S, L) holds grad_probs
// transposed for keys 0..keys-1 and becomes grad_scores = p * (dp - sum_j dp p) there, 0 below
// (Pt is 0 where a key is hidden, so those come out 0 too). dot: scratch of `rows` floats.
EMBER_ATTENTION_CLONES
void softmax_grad_columns(const float* __restrict Pt, float* __restrict dSt, int64_t L, int64_t i0, int64_t rows,
                          int64_t keys, int64_t S, float* __restrict dot) {
  for (int64_t i = 0; i < rows; ++i) dot[i] = 0.0f;
  for (int64_t j = 0; j < keys; ++j) {
    const float* p = Pt + j * L + i0;
    const float* dp = dSt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) dot[i] += dp[i] * p[i];
  }
  for (int64_t j = 0; j < keys; ++j) {
    const float* p = Pt + j * L + i0;
    float* ds = dSt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) ds[i] = formulas::attention_score_grad(p[i], ds[i], dot[i]);
  }
  for (int64_t j = keys; j < S; ++j) {
    float* ds = dSt + j * L + i0;
    for (int64_t i = 0; i < rows; ++i) ds[i] = 0.0f;
  }
}

// The scratch buffers of one thread.
struct Scratch {
  std::vector<float> q, k, v, out, grad_out, grad_q, grad_k, grad_v, grad_scores, columns;
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
    float* Pt = probs + pair * L * S;  // (S, L): the transposed probabilities
    s.columns.resize(static_cast<size_t>(2 * std::max<int64_t>(block, 1)));
    for (int64_t i0 = 0; i0 < L; i0 += block) {
      const int64_t rows = std::min(block, L - i0);
      const int64_t keys = causal ? std::min(S, i0 + rows) : S;  // the last query's keys
      // scores^T = scale * k q^T for these queries: Pt[0..keys)[i0..i0+rows)
      gemm(false, true, keys, rows, E, scale, K.data, K.ld, Q.data + i0 * Q.ld, Q.ld, 0.0f, Pt + i0, L);
      softmax_columns(Pt, L, i0, rows, keys, S, causal, s.columns.data(), s.columns.data() + block);
      // out = probs v = (probs^T)^T v
      gemm(true, false, rows, Ev, keys, 1.0f, Pt + i0, L, V.data, V.ld, 0.0f, O.data + i0 * O.ld, O.ld);
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
    const float* Pt = probs + pair * L * S;  // (S, L), as the forward left it
    s.grad_scores.resize(static_cast<size_t>(std::max<int64_t>(L * S, 1)));
    float* dSt = s.grad_scores.data();  // (S, L): grad_probs^T, then grad_scores^T
    s.columns.resize(static_cast<size_t>(std::max<int64_t>(block, 1)));

    // Query blocks: grad_probs^T = v grad_out^T, then grad_scores (in place), then grad_q.
    for (int64_t i0 = 0; i0 < L; i0 += block) {
      const int64_t rows = std::min(block, L - i0);
      const int64_t keys = causal ? std::min(S, i0 + rows) : S;
      gemm(false, true, keys, rows, Ev, 1.0f, V.data, V.ld, dO.data + i0 * dO.ld, dO.ld, 0.0f, dSt + i0, L);
      softmax_grad_columns(Pt, dSt, L, i0, rows, keys, S, s.columns.data());
      gemm(true, false, rows, E, keys, scale, dSt + i0, L, K.data, K.ld, 0.0f, dQ.data + i0 * dQ.ld, dQ.ld);
    }
    // Key blocks: grad_v = probs^T grad_out and grad_k = scale * grad_scores^T q, over the
    // queries that see the block (all, or with causal queries j0..L-1).
    for (int64_t j0 = 0; j0 < S; j0 += block) {
      const int64_t cols = std::min(block, S - j0);
      const int64_t first = causal ? std::min(j0, L) : 0;
      gemm(false, false, cols, Ev, L - first, 1.0f, Pt + j0 * L + first, L, dO.data + first * dO.ld, dO.ld, 0.0f,
           dV.data + j0 * dV.ld, dV.ld);
      gemm(false, false, cols, E, L - first, scale, dSt + j0 * L + first, L, Q.data + first * Q.ld, Q.ld, 0.0f,
           dK.data + j0 * dK.ld, dK.ld);
    }
    write_back(dQ, grad_q, grad_q_layout, b, h);
    write_back(dK, grad_k, grad_k_layout, b, h);
    write_back(dV, grad_v, grad_v_layout, b, h);
  });
}

}  // namespace ember::cpu
