// The CPU backend: the reference implementation of every kernel in backend.h.
//
// Loops are written so the compiler can vectorise the inner one; large calls are split
// across cores with the one thread pool (thread_pool.h). Matrix products go to the
// packed, cache-blocked GEMM in gemm.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "backend_registry.h"
#include "cpu/block_cache.h"
#include "cpu/gemm.h"
#include "cpu/strided_loop.h"
#include "cpu/thread_pool.h"
#include "ember/error.h"
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
  parallel_for(0, count, grain, fn);
}

float apply_unary(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Relu: return x > 0.0f ? x : 0.0f;
    case UnaryOp::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::RsubScalar: return a - x;
    case UnaryOp::RdivScalar: return a / x;
    case UnaryOp::PowScalar: return std::pow(x, a);
    case UnaryOp::RpowScalar: return std::pow(a, x);
    case UnaryOp::Clamp: return std::min(std::max(x, a), b);
    case UnaryOp::Sign: return static_cast<float>((x > 0.0f) - (x < 0.0f));
    case UnaryOp::GtScalar: return x > a ? 1.0f : 0.0f;
    case UnaryOp::GeScalar: return x >= a ? 1.0f : 0.0f;
    case UnaryOp::LtScalar: return x < a ? 1.0f : 0.0f;
    case UnaryOp::LeScalar: return x <= a ? 1.0f : 0.0f;
    case UnaryOp::EqScalar: return x == a ? 1.0f : 0.0f;
    case UnaryOp::NeScalar: return x != a ? 1.0f : 0.0f;
    case UnaryOp::InRange: return (x >= a && x <= b) ? 1.0f : 0.0f;
  }
  return 0.0f;
}

// One loop per op, so each body is a simple expression the compiler can vectorise.
template <typename F>
void unary_loop(const float* in, float* out, int64_t count, F f) {
  parallel_range(count, kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(in[i]);
  });
}

template <BinaryOp op>
inline float apply_binary(float x, float y) {
  if constexpr (op == BinaryOp::Add) return x + y;
  if constexpr (op == BinaryOp::Sub) return x - y;
  if constexpr (op == BinaryOp::Mul) return x * y;
  if constexpr (op == BinaryOp::Div) return x / y;
  if constexpr (op == BinaryOp::Pow) return std::pow(x, y);
  if constexpr (op == BinaryOp::Maximum) return x > y ? x : (x < y ? y : (std::isnan(x) ? x : y));
  if constexpr (op == BinaryOp::Minimum) return x < y ? x : (x > y ? y : (std::isnan(x) ? x : y));
  if constexpr (op == BinaryOp::Eq) return x == y ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Ne) return x != y ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Lt) return x < y ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Le) return x <= y ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Gt) return x > y ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Ge) return x >= y ? 1.0f : 0.0f;
  return 0.0f;
}

template <BinaryOp op>
void binary_strided(const float* x, const StridedLayout& x_layout, const float* y,
                    const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) {
  StridedWalk<3> walk({&out_layout, &x_layout, &y_layout});
  int64_t length = walk.row_length();
  int64_t x_step = walk.inner_stride(1), y_step = walk.inner_stride(2);
  int64_t rows = walk.row_count();
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(length, 1));
  parallel_range(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      auto start = walk.row_start(row);
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
    }
  });
}

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }
  const char* name() const override { return "cpu"; }

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
    int64_t length = walk.row_length();
    int64_t out_step = walk.inner_stride(0), in_step = walk.inner_stride(1);
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(length, 1));
    parallel_range(walk.row_count(), grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        auto start = walk.row_start(row);
        float* o = out + start[0];
        const float* s = in + start[1];
        if (out_step == 1 && in_step == 1) {
          std::memcpy(o, s, static_cast<size_t>(length) * sizeof(float));
        } else {
          for (int64_t i = 0; i < length; ++i) o[i * out_step] = s[i * in_step];
        }
      }
    });
  }

  void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) override {
    switch (op) {
      case UnaryOp::AddScalar: return unary_loop(in, out, count, [a](float x) { return x + a; });
      case UnaryOp::MulScalar: return unary_loop(in, out, count, [a](float x) { return x * a; });
      case UnaryOp::RsubScalar: return unary_loop(in, out, count, [a](float x) { return a - x; });
      case UnaryOp::Neg: return unary_loop(in, out, count, [](float x) { return -x; });
      case UnaryOp::Relu: return unary_loop(in, out, count, [](float x) { return x > 0.0f ? x : 0.0f; });
      case UnaryOp::GtScalar: return unary_loop(in, out, count, [a](float x) { return x > a ? 1.0f : 0.0f; });
      default:
        return unary_loop(in, out, count, [op, a, b](float x) { return apply_unary(op, x, a, b); });
    }
  }

  void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
              const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) override {
    if (out_layout.numel() == 0) return;
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
    }
  }

  void where(const float* condition, const StridedLayout& condition_layout, const float* x,
             const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout, float* out,
             const StridedLayout& out_layout) override {
    if (out_layout.numel() == 0) return;
    StridedWalk<4> walk({&out_layout, &condition_layout, &x_layout, &y_layout});
    int64_t length = walk.row_length();
    int64_t c_step = walk.inner_stride(1), x_step = walk.inner_stride(2), y_step = walk.inner_stride(3);
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(length, 1));
    parallel_range(walk.row_count(), grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        auto start = walk.row_start(row);
        for (int64_t i = 0; i < length; ++i) {
          bool take_x = condition[start[1] + i * c_step] != 0.0f;
          out[start[0] + i] = take_x ? x[start[2] + i * x_step] : y[start[3] + i * y_step];
        }
      }
    });
  }

  void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
              int64_t inner) override {
    int64_t work_per_outer = std::max<int64_t>(n * inner, 1);
    int64_t grain = std::max<int64_t>(1, kParallelGrain / work_per_outer);
    parallel_range(outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const float* block = in + o * n * inner;  // (n, inner)
        float* result = out + o * inner;          // (inner,)
        if (inner == 1) {
          result[0] = reduce_contiguous(op, block, n);
        } else {
          reduce_columns(op, block, result, n, inner);
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
    // Many small products (attention heads) are spread over cores one per task; a large
    // product parallelises inside gemm instead.
    if (batch > 1 && m * n * k < (1 << 18)) {
      parallel_range(batch, std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(m * n * k, 1)),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t i = begin; i < end; ++i) one_product(i);
                     });
    } else {
      for (int64_t i = 0; i < batch; ++i) one_product(i);
    }
  }

  void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) override {
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1));
    parallel_range(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* x = in + r * cols;
        float* y = out + r * cols;
        // Subtracting the row's max keeps exp() from overflowing; the result is unchanged.
        float largest = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < cols; ++j) largest = std::max(largest, x[j]);
        if (std::isinf(largest) && largest < 0) largest = 0.0f;  // a row of -inf
        float total = 0.0f;
        for (int64_t j = 0; j < cols; ++j) {
          y[j] = std::exp(x[j] - largest);
          total += y[j];
        }
        if (log) {
          float log_total = std::log(total) + largest;
          for (int64_t j = 0; j < cols; ++j) y[j] = x[j] - log_total;
        } else {
          float scale = 1.0f / total;
          for (int64_t j = 0; j < cols; ++j) y[j] *= scale;
        }
      }
    });
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
    for (int64_t i = 0; i < count; ++i) {
      float g = grad[i] + weight_decay * param[i];
      if (momentum != 0.0f) {
        float buffer = first_step ? g : momentum * momentum_buffer[i] + (1.0f - dampening) * g;
        momentum_buffer[i] = buffer;
        g = nesterov ? g + momentum * buffer : buffer;
      }
      param[i] -= lr * g;
    }
  }

  void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t count,
                 float lr, float beta1, float beta2, float eps, float weight_decay,
                 int64_t step) override {
    // Bias corrections in double, as PyTorch computes them in Python floats.
    double correction1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
    double correction2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
    float step_size = static_cast<float>(lr / correction1);
    float correction2_sqrt = static_cast<float>(std::sqrt(correction2));
    for (int64_t i = 0; i < count; ++i) {
      float g = grad[i] + weight_decay * param[i];
      exp_avg[i] = beta1 * exp_avg[i] + (1.0f - beta1) * g;
      exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
      float denominator = std::sqrt(exp_avg_sq[i]) / correction2_sqrt + eps;
      param[i] -= step_size * exp_avg[i] / denominator;
    }
  }

 private:
  BlockCache blocks_;

  static float reduce_contiguous(ReduceOp op, const float* x, int64_t n) {
    switch (op) {
      case ReduceOp::Sum: {
        // Eight partial sums: vectorisable, and more accurate than one running sum.
        float partial[8] = {};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
          for (int j = 0; j < 8; ++j) partial[j] += x[i + j];
        }
        float total = 0.0f;
        for (; i < n; ++i) total += x[i];
        for (float p : partial) total += p;
        return total;
      }
      case ReduceOp::Max: {
        float best = x[0];
        for (int64_t i = 1; i < n; ++i) best = (x[i] > best || std::isnan(x[i])) ? x[i] : best;
        return best;
      }
      case ReduceOp::Min: {
        float best = x[0];
        for (int64_t i = 1; i < n; ++i) best = (x[i] < best || std::isnan(x[i])) ? x[i] : best;
        return best;
      }
      case ReduceOp::ArgMax: {
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) if (x[i] > x[best]) best = i;
        return static_cast<float>(best);
      }
      case ReduceOp::ArgMin: {
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) if (x[i] < x[best]) best = i;
        return static_cast<float>(best);
      }
    }
    return 0.0f;
  }

  // Reduces (n, inner) over n, walking rows so the inner loop is contiguous.
  static void reduce_columns(ReduceOp op, const float* block, float* result, int64_t n, int64_t inner) {
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
      for (int64_t j = 0; j < inner; ++j) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) {
          float value = block[i * inner + j], current = block[best * inner + j];
          if (op == ReduceOp::ArgMax ? value > current : value < current) best = i;
        }
        result[j] = static_cast<float>(best);
      }
      return;
    }
    if (n == 0) {
      std::fill(result, result + inner, 0.0f);
      return;
    }
    std::memcpy(result, block, static_cast<size_t>(inner) * sizeof(float));
    for (int64_t i = 1; i < n; ++i) {
      const float* row = block + i * inner;
      if (op == ReduceOp::Sum) {
        for (int64_t j = 0; j < inner; ++j) result[j] += row[j];
      } else if (op == ReduceOp::Max) {
        for (int64_t j = 0; j < inner; ++j) result[j] = row[j] > result[j] || std::isnan(row[j]) ? row[j] : result[j];
      } else {
        for (int64_t j = 0; j < inner; ++j) result[j] = row[j] < result[j] || std::isnan(row[j]) ? row[j] : result[j];
      }
    }
  }
};

}  // namespace
}  // namespace cpu

Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

}  // namespace ember
