// The fast CPU backend against the reference backend, kernel by kernel: both run on the same
// host buffers and must agree, bit for bit where the kernels compute the same formula in the
// same order (element-wise, copies, random fills, optimizer updates, max/min, arg*), and within
// a tolerance where the fast one sums in another order (sums, matmul, softmax). The CUDA
// backend is held to the reference one by test_cuda_parity.cpp, run with
// EMBER_BACKEND=reference (engine/CMakeLists.txt).
#include "gradcheck.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend_registry.h"
#include "ember/backend.h"

using namespace ember;
using namespace ember_test;

namespace {

using Buffer = std::vector<float>;

Backend& fast() { return fast_cpu_backend(); }
Backend& reference() { return reference_backend(); }

// Exact, NaN-aware: NaN matches NaN, and -0 differs from +0.
::testing::AssertionResult same_bits(const Buffer& got, const Buffer& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    bool both_nan = std::isnan(got[i]) && std::isnan(expected[i]);
    if (!both_nan && std::memcmp(&got[i], &expected[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure()
             << "[" << i << "] fast " << got[i] << ", reference " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult near(const Buffer& got, const Buffer& expected, double tolerance) {
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::isnan(got[i]) && std::isnan(expected[i])) continue;
    if (!close(got[i], expected[i], tolerance, tolerance)) {
      return ::testing::AssertionFailure()
             << "[" << i << "] fast " << got[i] << ", reference " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Values with the awkward cases mixed in: zeros of both signs, infinities, NaN.
Buffer awkward_values(int64_t n, uint32_t seed) {
  Buffer values = host_uniform(n, -3.0f, 3.0f, seed);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), 1.0f, -1.0f};
  for (size_t i = 0; i < values.size(); i += 11) values[i] = specials[(i / 11) % 7];
  return values;
}

TEST(BackendParity, NamesSayWhichBackend) {
  EXPECT_STREQ(fast().name(), "fast");
  EXPECT_STREQ(reference().name(), "reference");
}

// Run a second time with EMBER_BACKEND=reference (engine/CMakeLists.txt), where CPU tensors
// must live on the reference backend.
TEST(BackendChoice, FollowsEmberBackend) {
  const char* choice = std::getenv("EMBER_BACKEND");
  const bool want_reference = choice != nullptr && std::string(choice) == "reference";
  EXPECT_STREQ(backend_for(Device::cpu()).name(), want_reference ? "reference" : "fast");
}

TEST(BackendParity, UnaryEveryOp) {
  const Buffer x = awkward_values(1000, 1);
  for (int op = 0; op <= static_cast<int>(UnaryOp::InRange); ++op) {
    Buffer got(x.size()), expected(x.size());
    fast().unary(static_cast<UnaryOp>(op), x.data(), got.data(), 1000, 0.5f, 2.0f);
    reference().unary(static_cast<UnaryOp>(op), x.data(), expected.data(), 1000, 0.5f, 2.0f);
    EXPECT_TRUE(same_bits(got, expected)) << "unary op " << op;
  }
}

TEST(BackendParity, BinaryEveryOpWithBroadcasting) {
  // x (4, 1, 5) and y (3, 5) broadcast to out (4, 3, 5): x repeats along dim 1, y along dim 0.
  const Buffer x = awkward_values(20, 2), y = awkward_values(15, 3);
  const StridedLayout x_layout(Shape{4, 3, 5}, Shape{5, 0, 1}, 0);
  const StridedLayout y_layout(Shape{4, 3, 5}, Shape{0, 5, 1}, 0);
  const StridedLayout out_layout(Shape{4, 3, 5}, Shape{15, 5, 1}, 0);
  for (int op = 0; op <= static_cast<int>(BinaryOp::Ge); ++op) {
    Buffer got(60), expected(60);
    fast().binary(static_cast<BinaryOp>(op), x.data(), x_layout, y.data(), y_layout, got.data(),
                  out_layout);
    reference().binary(static_cast<BinaryOp>(op), x.data(), x_layout, y.data(), y_layout,
                       expected.data(), out_layout);
    EXPECT_TRUE(same_bits(got, expected)) << "binary op " << op;
  }
}

TEST(BackendParity, WhereAndStridedCopy) {
  const Buffer condition = host_uniform(12, -1.0f, 1.0f, 4), x = awkward_values(12, 5);
  Buffer zero_one(12);
  for (size_t i = 0; i < 12; ++i) zero_one[i] = condition[i] > 0.0f ? 1.0f : 0.0f;
  const StridedLayout dense(Shape{3, 4}, Shape{4, 1}, 0);
  const StridedLayout transposed(Shape{3, 4}, Shape{1, 3}, 0);  // a (4, 3) buffer read as .t()
  const StridedLayout scalar(Shape{3, 4}, Shape{0, 0}, 5);       // x[5] everywhere
  Buffer got(12), expected(12);
  fast().where(zero_one.data(), dense, x.data(), transposed, x.data(), scalar, got.data(), dense);
  reference().where(zero_one.data(), dense, x.data(), transposed, x.data(), scalar, expected.data(),
                    dense);
  EXPECT_TRUE(same_bits(got, expected));
  fast().copy(x.data(), transposed, got.data(), dense);
  reference().copy(x.data(), transposed, expected.data(), dense);
  EXPECT_TRUE(same_bits(got, expected));
  fast().fill(got.data(), 12, -0.0f);
  reference().fill(expected.data(), 12, -0.0f);
  EXPECT_TRUE(same_bits(got, expected));
}

// Rows longer than the fast backend's parallel grain are cut into pieces and shared between
// threads (parallel_rows): a dense tensor is one such row. Lengths that are not a multiple of a
// piece, inner strides of 1, 2 and 0, and several long rows.
TEST(BackendParity, LongRowsCutIntoPiecesGiveTheSameBits) {
  const int64_t length = 100003;
  const Buffer x = awkward_values(2 * 3 * length, 6), y = awkward_values(3 * length, 7);
  Buffer condition(3 * length);
  for (size_t i = 0; i < condition.size(); ++i) condition[i] = y[i] > 0.0f ? 1.0f : 0.0f;
  const StridedLayout dense(Shape{3, length}, Shape{length, 1}, 0);
  const StridedLayout every_other(Shape{3, length}, Shape{2 * length, 2}, 1);  // x[1::2] by rows
  const StridedLayout one_per_row(Shape{3, length}, Shape{length, 0}, 4);     // broadcast along rows
  const StridedLayout one_row(Shape{1, length}, Shape{length, 1}, 0);
  Buffer got(3 * length), expected(3 * length);
  const std::pair<const char*, const StridedLayout*> x_layouts[] = {
      {"dense", &dense}, {"every other", &every_other}, {"one per row", &one_per_row}};
  for (const auto& [name, x_layout] : x_layouts) {
    fast().binary(BinaryOp::Add, x.data(), *x_layout, y.data(), dense, got.data(), dense);
    reference().binary(BinaryOp::Add, x.data(), *x_layout, y.data(), dense, expected.data(), dense);
    EXPECT_TRUE(same_bits(got, expected)) << "add, x " << name;
    fast().copy(x.data(), *x_layout, got.data(), dense);
    reference().copy(x.data(), *x_layout, expected.data(), dense);
    EXPECT_TRUE(same_bits(got, expected)) << "copy, x " << name;
    fast().where(condition.data(), dense, x.data(), *x_layout, y.data(), dense, got.data(), dense);
    reference().where(condition.data(), dense, x.data(), *x_layout, y.data(), dense, expected.data(), dense);
    EXPECT_TRUE(same_bits(got, expected)) << "where, x " << name;
  }
  fast().binary(BinaryOp::Mul, x.data(), one_row, y.data(), one_row, got.data(), one_row);
  reference().binary(BinaryOp::Mul, x.data(), one_row, y.data(), one_row, expected.data(), one_row);
  EXPECT_TRUE(same_bits(Buffer(got.begin(), got.begin() + length), Buffer(expected.begin(), expected.begin() + length)));
}

TEST(BackendParity, ReduceEveryOpAndLayout) {
  // (outer, n, inner): a row sum, a column sum (the bias gradient), a tall block, a long row.
  const int64_t shapes[][3] = {{1, 1000, 1}, {7, 33, 1}, {1, 300, 70}, {5, 9, 40}, {2, 1, 3}};
  for (const auto& s : shapes) {
    const int64_t outer = s[0], n = s[1], inner = s[2];
    Buffer x = host_uniform(outer * n * inner, -2.0f, 2.0f, 6);
    for (int op = 0; op <= static_cast<int>(ReduceOp::ArgMin); ++op) {
      Buffer got(static_cast<size_t>(outer * inner)), expected(got.size());
      fast().reduce(static_cast<ReduceOp>(op), x.data(), got.data(), outer, n, inner);
      reference().reduce(static_cast<ReduceOp>(op), x.data(), expected.data(), outer, n, inner);
      if (static_cast<ReduceOp>(op) == ReduceOp::Sum) {
        EXPECT_TRUE(near(got, expected, 1e-4)) << "sum of (" << outer << ", " << n << ", " << inner << ")";
      } else {
        EXPECT_TRUE(same_bits(got, expected)) << "reduce op " << op;
      }
    }
  }
}

TEST(BackendParity, MatmulTransposesAndBatches) {
  // Sizes around the GEMM's blocking, both transposes, a shared (stride 0) left operand.
  const int64_t sizes[][4] = {{1, 1, 1, 1}, {3, 5, 7, 2}, {65, 33, 129, 1}, {8, 40, 17, 3}};
  for (const auto& s : sizes) {
    const int64_t m = s[0], n = s[1], k = s[2], batch = s[3];
    for (int flags = 0; flags < 4; ++flags) {
      const bool ta = flags & 1, tb = flags & 2;
      const Buffer a = host_uniform(m * k, -1.0f, 1.0f, 7);               // one A for every b
      const Buffer b = host_uniform(batch * k * n, -1.0f, 1.0f, 8);       // (batch, k, n)
      const int64_t lda = ta ? m : k, ldb = tb ? k : n;
      Buffer got(static_cast<size_t>(batch * m * n)), expected(got.size());
      fast().matmul(a.data(), 0, lda, ta, b.data(), k * n, ldb, tb, got.data(), batch, m, n, k);
      reference().matmul(a.data(), 0, lda, ta, b.data(), k * n, ldb, tb, expected.data(), batch,
                         m, n, k);
      EXPECT_TRUE(near(got, expected, 1e-4)) << m << "x" << k << " @ " << k << "x" << n
                                             << " transposes " << ta << tb << " batch " << batch;
    }
  }
}

TEST(BackendParity, SoftmaxAndItsGradient) {
  for (bool log : {false, true}) {
    Buffer x = host_uniform(6 * 300, -8.0f, 8.0f, 9), g = host_uniform(6 * 300, -1.0f, 1.0f, 10);
    for (int j = 0; j < 300; ++j) x[300 + j] = -std::numeric_limits<float>::infinity();  // row 1
    x[0] = std::numeric_limits<float>::infinity();  // row 0 holds +inf: NaNs on both sides
    Buffer got(x.size()), expected(x.size());
    fast().softmax(x.data(), got.data(), 6, 300, log);
    reference().softmax(x.data(), expected.data(), 6, 300, log);
    EXPECT_TRUE(near(got, expected, 1e-5)) << (log ? "log_softmax" : "softmax");
    Buffer y = expected, dx_fast(x.size()), dx_reference(x.size());
    fast().softmax_backward(y.data(), g.data(), dx_fast.data(), 6, 300, log);
    reference().softmax_backward(y.data(), g.data(), dx_reference.data(), 6, 300, log);
    EXPECT_TRUE(near(dx_fast, dx_reference, 1e-5)) << (log ? "log_softmax" : "softmax") << " backward";
  }
}

TEST(BackendParity, GatherAndScatterRows) {
  const Buffer table = host_uniform(10 * 4, -1.0f, 1.0f, 11);  // (10, 4)
  const Buffer indices = {3, 0, 3, 9, 3};                      // repeats add up in scatter
  Buffer got(5 * 4), expected(5 * 4);
  fast().gather_rows(table.data(), 4, indices.data(), 5, got.data());
  reference().gather_rows(table.data(), 4, indices.data(), 5, expected.data());
  EXPECT_TRUE(same_bits(got, expected));
  Buffer table_fast = table, table_reference = table;
  fast().scatter_add_rows(got.data(), 4, indices.data(), 5, table_fast.data());
  reference().scatter_add_rows(got.data(), 4, indices.data(), 5, table_reference.data());
  EXPECT_TRUE(same_bits(table_fast, table_reference));
}

TEST(BackendParity, RandomFillsDrawTheSameNumbers) {
  // More than the fast backend's parallel grain, so that it fills from several threads.
  Buffer got(100000), expected(100000);
  fast().fill_uniform(got.data(), 100000, -2.0f, 3.0f, 42, 1234);
  reference().fill_uniform(expected.data(), 100000, -2.0f, 3.0f, 42, 1234);
  EXPECT_TRUE(same_bits(got, expected));
  fast().fill_normal(got.data(), 100000, 0.5f, 2.0f, 7, 99);
  reference().fill_normal(expected.data(), 100000, 0.5f, 2.0f, 7, 99);
  EXPECT_TRUE(same_bits(got, expected));
}

TEST(BackendParity, OptimizerStepsGiveTheSameBits) {
  const int64_t count = 40000;  // past the fast backend's grain: threaded and vectorised
  const Buffer param = host_uniform(count, -1.0f, 1.0f, 12), grad = host_uniform(count, -1.0f, 1.0f, 13);
  for (float momentum : {0.0f, 0.9f}) {
    for (bool nesterov : {false, true}) {
      Buffer p_fast = param, p_reference = param, b_fast(count, 0.0f), b_reference(count, 0.0f);
      for (int step = 0; step < 3; ++step) {
        fast().sgd_step(p_fast.data(), grad.data(), b_fast.data(), count, 0.1f, momentum, 0.1f,
                        0.01f, nesterov && momentum != 0.0f, step == 0);
        reference().sgd_step(p_reference.data(), grad.data(), b_reference.data(), count, 0.1f,
                             momentum, 0.1f, 0.01f, nesterov && momentum != 0.0f, step == 0);
      }
      EXPECT_TRUE(same_bits(p_fast, p_reference)) << "sgd momentum " << momentum;
      EXPECT_TRUE(same_bits(b_fast, b_reference)) << "sgd buffer, momentum " << momentum;
    }
  }
  Buffer p_fast = param, p_reference = param;
  Buffer m_fast(count, 0.0f), m_reference(count, 0.0f), v_fast(count, 0.0f), v_reference(count, 0.0f);
  for (int64_t step = 1; step <= 3; ++step) {
    fast().adam_step(p_fast.data(), grad.data(), m_fast.data(), v_fast.data(), count, 1e-3f, 0.9f,
                     0.999f, 1e-8f, 0.01f, step);
    reference().adam_step(p_reference.data(), grad.data(), m_reference.data(), v_reference.data(),
                          count, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
  }
  EXPECT_TRUE(same_bits(p_fast, p_reference));
  EXPECT_TRUE(same_bits(m_fast, m_reference));
  EXPECT_TRUE(same_bits(v_fast, v_reference));
}

}  // namespace
