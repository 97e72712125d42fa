// The fast CPU backend: every kernel of backend.h, written for speed. The reference backend
// (engine/src/reference/) computes the same things with plain loops, and the parity tests
// hold this one to it.
//
// Loops are written so the compiler can vectorise the inner one; large calls are split
// across cores with the one thread pool (thread_pool.h). Matrix products go to the
// packed, cache-blocked GEMM in gemm.cpp; memory comes from the block cache.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <new>

#include "backend_registry.h"
#include "fast_cpu/activation_kernels.h"
#include "fast_cpu/attention_kernels.h"
#include "fast_cpu/block_cache.h"
#include "fast_cpu/gemm.h"
#include "fast_cpu/layer_norm_kernels.h"
#include "fast_cpu/optimizer_kernels.h"
#include "fast_cpu/softmax_kernels.h"
#include "fast_cpu/strided_loop.h"
#include "fast_cpu/thread_pool.h"
#include "ember/error.h"
#include "formulas.h"
#include "philox.h"

namespace ember {
namespace cpu {
namespace {

// Below this many elements a call runs on one thread: waking a worker costs more.
constexpr int64_t kParallelGrain = 32768;

// Runs fn(begin, end) over [0, count) on every core when count is large.
template <typename Fn>
void parallel_range(int64_t count, int64_t grain, Fn&& fn) {
  if (count <= grain) {
    if (count > 0) fn(int64_t{0}, count);
    return;
  }
  parallel_for(0, count, grain, std::ref(fn));  // std::ref: no copy of fn onto the heap
}

// Runs fn(start, count) over every row of a strided walk, on every core: start holds each
// layout's offset of a row's (or a piece's) first element, count its length. Rows are shared
// out whole, but a row of two grains or more is first cut into pieces of at least kParallelGrain
// elements: the walk merges a dense tensor into a single row, which would otherwise run on one
// thread (the sum of two gradients in backward did).
template <int kCount, typename Fn>
void parallel_rows(const StridedWalk<kCount>& walk, Fn&& fn) {
  const int64_t length = walk.row_length(), rows = walk.row_count();
  // The items of work: each row cut into `pieces` (1 for a row shorter than two grains); short
  // rows are handed out kParallelGrain elements' worth at a time.
  const int64_t pieces = std::max<int64_t>(1, length / kParallelGrain);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(length, 1));
  parallel_range(rows * pieces, grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      std::array<int64_t, kCount> start = walk.row_start(item / pieces);
      const int64_t piece = item % pieces;
      const int64_t first = piece * length / pieces, next = (piece + 1) * length / pieces;
      for (int k = 0; k < kCount; ++k) start[k] += first * walk.inner_stride(k);
      fn(start, next - first);
    }
  });
}

// One loop per op, so each body is a simple expression the compiler can vectorise.
template <typename F>
void unary_loop(const float* in, float* out, int64_t count, F f) {
  parallel_range(count, kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(in[i]);
  });
}

// The formula (formulas.h) of a BinaryOp fixed at compile time: after inlining, the switch
// folds away and each loop below is one expression the compiler can vectorise.
template <BinaryOp op>
inline float apply_binary(float x, float y) {
  return formulas::binary(op, x, y);
}

// The same for a UnaryOp, as a loop over contiguous (count,).
template <UnaryOp op>
void unary_fixed(const float* in, float* out, int64_t count, float a, float b) {
  unary_loop(in, out, count, [a, b](float x) { return formulas::unary(op, x, a, b); });
}

template <BinaryOp op>
void binary_strided(const float* x, const StridedLayout& x_layout, const float* y,
                    const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) {
  StridedWalk<3> walk({&out_layout, &x_layout, &y_layout});
  const int64_t x_step = walk.inner_stride(1), y_step = walk.inner_stride(2);
  parallel_rows(walk, [&](const std::array<int64_t, 3>& start, int64_t length) {
    float* o = out + start[0];
    const float* xs = x + start[1];
    const float* ys = y + start[2];
    // The common cases get their own loops so they vectorise.
    if (x_step == 1 && y_step == 1) {
      for (int64_t i = 0; i < length; ++i) o[i] = apply_binary<op>(xs[i], ys[i]);
    } else if (x_step == 1 && y_step == 0) {
      float yv = ys[0];
      for (int64_t i = 0; i < length; ++i) o[i] = apply_binary<op>(xs[i], yv);
    } else if (x_step == 0 && y_step == 1) {
      float xv = xs[0];
      for (int64_t i = 0; i < length; ++i) o[i] = apply_binary<op>(xv, ys[i]);
    } else {
      for (int64_t i = 0; i < length; ++i) o[i] = apply_binary<op>(xs[i * x_step], ys[i * y_step]);
    }
  });
}

// GELU's gradient on strided buffers (rare: gelu's backward passes dense ones). Kept out of
// line: its formula calls fmaf, a libm call in this file's baseline x86-64 code, and inlined
// into binary() those calls made the entry of every binary op heavier (a one-element add 3-6%
// slower).
template <BinaryOp op>
[[gnu::noinline]] void gelu_backward_strided(const float* x, const StridedLayout& x_layout,
                                             const float* y, const StridedLayout& y_layout,
                                             float* out, const StridedLayout& out_layout) {
  binary_strided<op>(x, x_layout, y, y_layout, out, out_layout);
}

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }
  const char* name() const override { return "fast"; }

  float* allocate(int64_t count) override {
    // At least one element, so that data is never null.
    size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(float);
    return static_cast<float*>(blocks_.allocate(bytes));
  }
  void deallocate(float* data) override { blocks_.deallocate(data); }

  void copy_from_host(const float* host, float* data, int64_t count) override {
    if (count > 0) std::memcpy(data, host, static_cast<size_t>(count) * sizeof(float));
  }
  void copy_to_host(const float* data, float* host, int64_t count) override {
    if (count > 0) std::memcpy(host, data, static_cast<size_t>(count) * sizeof(float));
  }

  void fill(float* out, int64_t count, float value) override {
    parallel_range(count, kParallelGrain, [&](int64_t begin, int64_t end) {
      std::fill(out + begin, out + end, value);
    });
  }

  void copy(const float* in, const StridedLayout& in_layout, float* out,
            const StridedLayout& out_layout) override {
    if (in_layout.numel() == 0) return;
    StridedWalk<2> walk({&out_layout, &in_layout});
    const int64_t out_step = walk.inner_stride(0), in_step = walk.inner_stride(1);
    parallel_rows(walk, [&](const std::array<int64_t, 2>& start, int64_t length) {
      float* o = out + start[0];
      const float* s = in + start[1];
      if (out_step == 1 && in_step == 1) {
        std::memcpy(o, s, static_cast<size_t>(length) * sizeof(float));
      } else if (out_step == 1 && in_step == 0) {  // an expanded value (the gradient of a sum)
        std::fill(o, o + length, s[0]);
      } else {
        for (int64_t i = 0; i < length; ++i) o[i * out_step] = s[i * in_step];
      }
    });
  }

  void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) override {
    switch (op) {
      // The ops that training runs most often get a loop of their own, which vectorises.
      case UnaryOp::AddScalar: return unary_fixed<UnaryOp::AddScalar>(in, out, count, a, b);
      case UnaryOp::MulScalar: return unary_fixed<UnaryOp::MulScalar>(in, out, count, a, b);
      case UnaryOp::RsubScalar: return unary_fixed<UnaryOp::RsubScalar>(in, out, count, a, b);
      case UnaryOp::Neg: return unary_fixed<UnaryOp::Neg>(in, out, count, a, b);
      case UnaryOp::Relu: return unary_fixed<UnaryOp::Relu>(in, out, count, a, b);
      case UnaryOp::GtScalar: return unary_fixed<UnaryOp::GtScalar>(in, out, count, a, b);
      case UnaryOp::GeScalar: return unary_fixed<UnaryOp::GeScalar>(in, out, count, a, b);
      case UnaryOp::LtScalar: return unary_fixed<UnaryOp::LtScalar>(in, out, count, a, b);
      case UnaryOp::LeScalar: return unary_fixed<UnaryOp::LeScalar>(in, out, count, a, b);  // relu's gradient
      case UnaryOp::EqScalar: return unary_fixed<UnaryOp::EqScalar>(in, out, count, a, b);
      case UnaryOp::NeScalar: return unary_fixed<UnaryOp::NeScalar>(in, out, count, a, b);
      case UnaryOp::Clamp: return unary_fixed<UnaryOp::Clamp>(in, out, count, a, b);
      case UnaryOp::InRange: return unary_fixed<UnaryOp::InRange>(in, out, count, a, b);
      case UnaryOp::Abs: return unary_fixed<UnaryOp::Abs>(in, out, count, a, b);
      case UnaryOp::Sqrt: return unary_fixed<UnaryOp::Sqrt>(in, out, count, a, b);
      // GELU: vectorised for every x86 width and threaded (activation_kernels.cpp).
      case UnaryOp::Gelu: return gelu_forward(false, in, out, count);
      case UnaryOp::GeluTanh: return gelu_forward(true, in, out, count);
      default:
        return unary_loop(in, out, count, [op, a, b](float x) { return formulas::unary(op, x, a, b); });
    }
  }

  void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
              const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) override {
    if (out_layout.numel() == 0) return;
    if ((op == BinaryOp::GeluBackward || op == BinaryOp::GeluTanhBackward) &&
        x_layout.is_contiguous() && y_layout.is_contiguous() && out_layout.is_contiguous()) {
      // GELU's gradient on dense buffers, as it always comes from gelu's backward.
      return gelu_backward(op == BinaryOp::GeluTanhBackward, x + x_layout.offset,
                           y + y_layout.offset, out + out_layout.offset, out_layout.numel());
    }
    switch (op) {
      case BinaryOp::Add: return binary_strided<BinaryOp::Add>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Sub: return binary_strided<BinaryOp::Sub>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Mul: return binary_strided<BinaryOp::Mul>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Div: return binary_strided<BinaryOp::Div>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Pow: return binary_strided<BinaryOp::Pow>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Maximum: return binary_strided<BinaryOp::Maximum>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Minimum: return binary_strided<BinaryOp::Minimum>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Eq: return binary_strided<BinaryOp::Eq>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Ne: return binary_strided<BinaryOp::Ne>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Lt: return binary_strided<BinaryOp::Lt>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Le: return binary_strided<BinaryOp::Le>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Gt: return binary_strided<BinaryOp::Gt>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::Ge: return binary_strided<BinaryOp::Ge>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::GeluBackward:
        return gelu_backward_strided<BinaryOp::GeluBackward>(x, x_layout, y, y_layout, out, out_layout);
      case BinaryOp::GeluTanhBackward:
        return gelu_backward_strided<BinaryOp::GeluTanhBackward>(x, x_layout, y, y_layout, out, out_layout);
    }
  }

  void where(const float* condition, const StridedLayout& condition_layout, const float* x,
             const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout, float* out,
             const StridedLayout& out_layout) override {
    if (out_layout.numel() == 0) return;
    StridedWalk<4> walk({&out_layout, &condition_layout, &x_layout, &y_layout});
    const int64_t c_step = walk.inner_stride(1), x_step = walk.inner_stride(2), y_step = walk.inner_stride(3);
    parallel_rows(walk, [&](const std::array<int64_t, 4>& start, int64_t length) {
      float* o = out + start[0];
      const float* cs = condition + start[1];
      const float* xs = x + start[2];
      const float* ys = y + start[3];
      // masked_fill (a dense condition, one fill value) and its gradient get loops of their
      // own, which vectorise: both values are read first, so that picking one is a select
      // instead of a branch. The general loop reads through the strides.
      if (c_step == 1 && x_step == 0 && y_step == 1) {
        const float xv = xs[0];
        for (int64_t i = 0; i < length; ++i) {
          const float yv = ys[i];
          o[i] = cs[i] != 0.0f ? xv : yv;
        }
      } else if (c_step == 1 && x_step == 1 && y_step == 0) {
        const float yv = ys[0];
        for (int64_t i = 0; i < length; ++i) {
          const float xv = xs[i];
          o[i] = cs[i] != 0.0f ? xv : yv;
        }
      } else {
        for (int64_t i = 0; i < length; ++i) {
          o[i] = cs[i * c_step] != 0.0f ? xs[i * x_step] : ys[i * y_step];
        }
      }
    });
  }

  void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
              int64_t inner) override {
    // Tasks are (outer index, band of up to kBand columns): a single tall block, like the
    // (B*T, C) gradient a bias sums over its rows, is then shared between cores by columns.
    // Each output is still reduced by one thread, over n in order, so the result does not
    // depend on the thread count.
    constexpr int64_t kBand = 32;  // columns: two cache lines of each row
    const int64_t bands = inner == 1 ? 1 : (inner + kBand - 1) / kBand;
    const int64_t work_per_task = std::max<int64_t>(n * std::min(inner, kBand), 1);
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / work_per_task);
    parallel_range(outer * bands, grain, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / bands, j0 = task % bands * kBand;
        const float* block = in + o * n * inner;  // (n, inner)
        float* result = out + o * inner;          // (inner,)
        if (inner == 1) {
          result[0] = reduce_contiguous(op, block, n);
        } else {
          reduce_columns(op, block + j0, inner, result + j0, n, std::min(kBand, inner - j0));
        }
      }
    });
  }

  void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a, const float* b,
              int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c, int64_t batch,
              int64_t m, int64_t n, int64_t k) override {
    auto one_product = [&](int64_t index) {
      gemm(transpose_a, transpose_b, m, n, k, 1.0f, a + index * a_batch_stride, lda,
           b + index * b_batch_stride, ldb, 0.0f, c + index * m * n, n);
    };
    // A batch of products (attention's per-sequence (T, C) @ (C, T)) is shared out whole:
    // each thread computes some of the products from start to end. That needs one fork-join
    // for the batch instead of two per product, and each product is summed by one thread in
    // one order, so the result does not depend on the thread count. Splitting inside each
    // product is for a single product, or a batch too short to keep every thread busy.
    // Below ~1 MFLOP in all, waking a thread costs more than it saves; a product counts as at
    // least 64K flops, about what its packing and set-up cost (attention at T = 8 multiplies
    // 32 pairs of 8 x 128 matrices: 16K flops each, 0.3 us each on one core).
    const double flops_each = std::max(2.0 * static_cast<double>(m) * static_cast<double>(n) *
                                           static_cast<double>(k),
                                       65536.0);
    if (batch > 1 && batch >= num_threads() && static_cast<double>(batch) * flops_each >= 1.0e6) {
      parallel_range(batch, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) one_product(i);
      });
    } else {
      for (int64_t i = 0; i < batch; ++i) one_product(i);
    }
  }

  void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) override {
    softmax_rows(in, out, rows, cols, log);
  }

  void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                        int64_t cols, bool log) override {
    softmax_backward_rows(y, grad, grad_in, rows, cols, log);
  }

  void layer_norm(const float* in, const float* weight, const float* bias, float* out, float* mean,
                  float* rstd, int64_t rows, int64_t cols, float eps) override {
    layer_norm_rows(in, weight, bias, out, mean, rstd, rows, cols, eps);
  }

  void layer_norm_backward(const float* grad, const float* in, const float* weight, const float* mean,
                           const float* rstd, float* grad_in, float* grad_weight, float* grad_bias,
                           int64_t rows, int64_t cols) override {
    layer_norm_backward_rows(grad, in, weight, mean, rstd, grad_in, grad_weight, grad_bias, rows, cols);
  }

  void attention(const float* q, const StridedLayout& q_layout, const float* k,
                 const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                 float* out, const StridedLayout& out_layout, float* probs, float scale,
                 bool causal) override {
    attention_forward(q, q_layout, k, k_layout, v, v_layout, out, out_layout, probs, scale, causal);
  }

  void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                          const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                          const float* probs, const float* grad_out,
                          const StridedLayout& grad_out_layout, float* grad_q,
                          const StridedLayout& grad_q_layout, float* grad_k,
                          const StridedLayout& grad_k_layout, float* grad_v,
                          const StridedLayout& grad_v_layout, float scale, bool causal) override {
    cpu::attention_backward(q, q_layout, k, k_layout, v, v_layout, probs, grad_out, grad_out_layout,
                            grad_q, grad_q_layout, grad_k, grad_k_layout, grad_v, grad_v_layout, scale,
                            causal);
  }

  void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                   float* out) override {
    for (int64_t i = 0; i < count; ++i) {
      const float* row = table + static_cast<int64_t>(indices[i]) * row_size;
      std::memcpy(out + i * row_size, row, static_cast<size_t>(row_size) * sizeof(float));
    }
  }

  void scatter_add_rows(const float* rows, int64_t row_size, const float* indices, int64_t count,
                        float* table) override {
    for (int64_t i = 0; i < count; ++i) {
      float* target = table + static_cast<int64_t>(indices[i]) * row_size;
      const float* source = rows + i * row_size;
      for (int64_t j = 0; j < row_size; ++j) target[j] += source[j];
    }
  }

  void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                    uint64_t offset) override {
    float range = high - low;
    parallel_range(count, kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = low + range * philox::uniform_at(seed, offset, i);
    });
  }

  void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                   uint64_t offset) override {
    parallel_range(count, kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = mean + std * philox::normal_at(seed, offset, i);
    });
  }

  void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count, float lr,
                float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step) override {
    sgd_update(param, grad, momentum_buffer, count, lr, momentum, dampening, weight_decay,
               nesterov, first_step);
  }

  void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t count,
                 float lr, float beta1, float beta2, float eps, float weight_decay,
                 int64_t step) override {
    adam_update(param, grad, exp_avg, exp_avg_sq, count, lr, beta1, beta2, eps, weight_decay, step);
  }

  void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t count,
                  float lr, float beta1, float beta2, float eps, float weight_decay,
                  int64_t step) override {
    adamw_update(param, grad, exp_avg, exp_avg_sq, count, lr, beta1, beta2, eps, weight_decay,
                 step);
  }

 private:
  BlockCache blocks_;

  // Whether x replaces best in a Max (Min): larger (smaller), or a NaN, or +0 over -0
  // (-0 over +0). The zeros rule makes the result independent of the order of the
  // elements, which the GPU's tree of threads needs to give the same bits.
  static bool max_wins(float x, float best) {
    return x > best || std::isnan(x) || (x == best && std::signbit(best) && !std::signbit(x));
  }
  static bool min_wins(float x, float best) {
    return x < best || std::isnan(x) || (x == best && std::signbit(x) && !std::signbit(best));
  }

  static float reduce_contiguous(ReduceOp op, const float* x, int64_t n) {
    switch (op) {
      case ReduceOp::Sum: {
        // Eight partial sums: vectorisable, and more accurate than one running sum. They
        // start from -0, the identity of IEEE addition (-0 + x is x even for x = +0), so a
        // sum of -0s is -0, as a column sum is and as on the GPU; an empty sum is +0.
        if (n == 0) return 0.0f;
        float partial[8] = {-0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
          for (int j = 0; j < 8; ++j) partial[j] += x[i + j];
        }
        float total = -0.0f;
        for (; i < n; ++i) total += x[i];
        for (float p : partial) total += p;
        return total;
      }
      case ReduceOp::Max: {
        float best = x[0];
        for (int64_t i = 1; i < n; ++i) best = max_wins(x[i], best) ? x[i] : best;
        return best;
      }
      case ReduceOp::Min: {
        float best = x[0];
        for (int64_t i = 1; i < n; ++i) best = min_wins(x[i], best) ? x[i] : best;
        return best;
      }
      case ReduceOp::ArgMax:
      case ReduceOp::ArgMin: {
        int64_t best = 0;  // ties go to the first index; a NaN wins (formulas.h)
        for (int64_t i = 1; i < n; ++i) {
          if (formulas::arg_wins(op == ReduceOp::ArgMax, x[i], x[best])) best = i;
        }
        return static_cast<float>(best);
      }
    }
    return 0.0f;
  }

  // Reduces (n, width) over n, walking rows so the inner loop is contiguous; row i starts
  // at block + i * stride.
  static void reduce_columns(ReduceOp op, const float* block, int64_t stride, float* result,
                             int64_t n, int64_t width) {
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
      for (int64_t j = 0; j < width; ++j) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) {
          const float value = block[i * stride + j], current = block[best * stride + j];
          if (formulas::arg_wins(op == ReduceOp::ArgMax, value, current)) best = i;
        }
        result[j] = static_cast<float>(best);
      }
      return;
    }
    if (n == 0) {
      std::fill(result, result + width, 0.0f);
      return;
    }
    std::memcpy(result, block, static_cast<size_t>(width) * sizeof(float));
    for (int64_t i = 1; i < n; ++i) {
      const float* row = block + i * stride;
      if (op == ReduceOp::Sum) {
        for (int64_t j = 0; j < width; ++j) result[j] += row[j];
      } else if (op == ReduceOp::Max) {
        for (int64_t j = 0; j < width; ++j) result[j] = max_wins(row[j], result[j]) ? row[j] : result[j];
      } else {
        for (int64_t j = 0; j < width; ++j) result[j] = min_wins(row[j], result[j]) ? row[j] : result[j];
      }
    }
  }
};

}  // namespace
}  // namespace cpu

Backend& fast_cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

}  // namespace ember
