// Tests for float32_matmul_precision (ember/precision.h) and the bfloat16 GEMM behind it
// (engine/src/fast_cpu/gemm_bf16.h): the setting itself, the rounding, and the product against a
// double-precision reference computed from the same rounded inputs, on each unit the CPU has
// (AMX, AVX512-BF16's dot products). Those tests skip, with the reason, on a CPU with neither.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember/precision.h>

#include "fast_cpu/gemm.h"
#include "fast_cpu/gemm_bf16.h"
#include "fast_cpu/thread_pool.h"
#include "internals/random_matrix.h"

namespace ember::cpu {
namespace {

// Sets the precision for one test and puts the old one back.
class Precision {
 public:
  explicit Precision(const char* name) : saved_(get_float32_matmul_precision()) {
    set_float32_matmul_precision(name);
  }
  ~Precision() { set_float32_matmul_precision(saved_); }
  Precision(const Precision&) = delete;
  Precision& operator=(const Precision&) = delete;

 private:
  std::string saved_;
};

// The units this CPU has (AMX, AVX512-BF16's dot products); every bfloat16 test runs on each.
std::vector<Bf16Unit> available_units() {
  std::vector<Bf16Unit> units;
  for (Bf16Unit unit : {Bf16Unit::Amx, Bf16Unit::DotProducts}) {
    if (bf16_unit_available(unit)) units.push_back(unit);
  }
  return units;
}

#define SKIP_WITHOUT_BF16()                                                                     \
  if (!bf16_gemm_available()) {                                                                 \
    GTEST_SKIP() << "this CPU has neither AMX nor AVX512-BF16 (or the OS does not let this "    \
                    "process use them), so precision \"medium\" stays float32 here";            \
  }

struct Case {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad;  // extra columns in every leading dimension
};

// Runs gemm_bf16 on one case and checks every element of C against the reference from the
// rounded inputs. The tolerance is float32's summation error, far below a wrong element's.
// (The kernel reads through masked AVX-512 loads and AMX tile loads, which AddressSanitizer does
// not see; so C sits between guard values, checked afterwards.)
void check_case(Bf16Unit unit, const Case& c, std::mt19937& rng) {
  const int64_t lda = (c.trans_a ? c.M : c.K) + c.pad, ldb = (c.trans_b ? c.K : c.N) + c.pad;
  const int64_t ldc = c.N + c.pad;
  const std::vector<float> A = random_matrix(c.trans_a ? c.K : c.M, c.trans_a ? c.M : c.K, lda, rng);
  const std::vector<float> B = random_matrix(c.trans_b ? c.N : c.K, c.trans_b ? c.K : c.N, ldb, rng);
  // C sits between guard values: kGuard floats before it and kGuard after its last (padded) row.
  constexpr int64_t kGuard = 64;
  std::vector<float> guarded = random_matrix(1, kGuard + c.M * ldc + kGuard, 1, rng);
  const std::vector<float> before = guarded;
  float* C = guarded.data() + kGuard;
  const float* C0 = before.data() + kGuard;
  gemm_bf16_with(unit, c.trans_a, c.trans_b, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb,
                 c.beta, C, ldc);
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double sum = 0.0, size = 0.0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = round_to_bf16(c.trans_a ? A[k * lda + i] : A[i * lda + k]);
        const double b = round_to_bf16(c.trans_b ? B[j * ldb + k] : B[k * ldb + j]);
        sum += a * b;
        size += std::fabs(a * b);
      }
      const double expected = c.alpha * sum + (c.beta != 0.0f ? c.beta * C0[i * ldc + j] : 0.0);
      const double tolerance = 2e-7 * static_cast<double>(c.K + 4) * (std::fabs(c.alpha) * size + 1.0);
      ASSERT_NEAR(C[i * ldc + j], expected, tolerance)
          << "C(" << i << ", " << j << ") of M=" << c.M << " N=" << c.N << " K=" << c.K
          << " trans_a=" << c.trans_a << " trans_b=" << c.trans_b << " pad=" << c.pad << " on "
          << bf16_unit_name(unit);
    }
  }
  // Nothing outside C was written: not between its rows (the padding of ldc), not before it,
  // not after its last row.
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = c.N; j < ldc; ++j) ASSERT_EQ(C[i * ldc + j], C0[i * ldc + j]) << i << ", " << j;
  }
  for (int64_t g = 0; g < kGuard; ++g) {
    ASSERT_EQ(guarded[static_cast<size_t>(g)], before[static_cast<size_t>(g)]);
    const size_t after = static_cast<size_t>(kGuard + c.M * ldc + g);
    ASSERT_EQ(guarded[after], before[after]);
  }
}

TEST(MatmulPrecision, DefaultsToHighestAndRoundTrips) {
  EXPECT_EQ(get_float32_matmul_precision(), "highest");
  for (const char* name : {"high", "medium", "highest"}) {
    set_float32_matmul_precision(name);
    EXPECT_EQ(get_float32_matmul_precision(), name);
  }
}

TEST(MatmulPrecision, UnknownNameIsRefusedWithTheChoices) {
  try {
    set_float32_matmul_precision("bf16");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("\"bf16\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"medium\""), std::string::npos) << message;
  }
  EXPECT_EQ(get_float32_matmul_precision(), "highest");  // unchanged
}

TEST(MatmulPrecision, RoundToBf16IsNearestEven) {
  EXPECT_EQ(round_to_bf16(1.0f), 1.0f);
  EXPECT_EQ(round_to_bf16(-2.5f), -2.5f);
  // bfloat16 keeps 7 bits after the point: at 1.0 a step is 2^-7, half a step 2^-8.
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f), 1.0f);                      // tie: to the even 1.0
  EXPECT_EQ(round_to_bf16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);        // tie: to the even 1+2^-6
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);  // above half: up
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_bf16(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  const float subnormal = std::numeric_limits<float>::denorm_min() * 3;
  EXPECT_EQ(round_to_bf16(subnormal), 0.0f);
  EXPECT_TRUE(std::signbit(round_to_bf16(-subnormal)));
}

TEST(MatmulPrecision, HardwareRoundsAsRoundToBf16) {
  SKIP_WITHOUT_BF16();
  // With K = 1 every element of C is one product of two bfloat16, exact in float32, so C shows
  // exactly how the unit rounded each input.
  std::vector<float> a(16), b(16);
  const float values[16] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -1.0f - 0x1p-8f - 0x1p-20f, 3.14159265f,
                            1e-3f, -7e5f, 0.1f, 2.0f / 3.0f, 1e-38f, 65504.0f, -0.0f, 1.5f,
                            123.456f, -9.87654e-7f, 0.33333334f, 1.0f};
  for (int i = 0; i < 16; ++i) {
    a[i] = values[i];
    b[i] = values[15 - i];
  }
  for (Bf16Unit unit : available_units()) {
    std::vector<float> C(16 * 16);
    gemm_bf16_with(unit, true, false, 16, 16, 1, 1.0f, a.data(), 16, b.data(), 16, 0.0f, C.data(),
                   16);
    for (int i = 0; i < 16; ++i) {
      for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(C[i * 16 + j], round_to_bf16(a[i]) * round_to_bf16(b[j]))
            << "i=" << i << " j=" << j << " on " << bf16_unit_name(unit);
      }
    }
  }
}

TEST(MatmulPrecision, Bf16ProductMatchesTheReferenceOverShapesAndTransposes) {
  SKIP_WITHOUT_BF16();
  std::mt19937 rng(7);
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // Exact tiles, one short of and one past a tile (16) or a K step (32), and sizes of the
      // course (768 tokens by 128 channels, the MLP's 512).
      for (const Case& shape : {Case{ta, tb, 16, 16, 32, 1.0f, 0.0f, 0},
                                Case{ta, tb, 17, 33, 31, 1.0f, 0.0f, 3},
                                Case{ta, tb, 31, 15, 65, 0.5f, 1.0f, 0},
                                Case{ta, tb, 48, 47, 1, 1.0f, -2.0f, 5},
                                Case{ta, tb, 100, 70, 130, -1.5f, 0.0f, 1},
                                // Whole blocks stored by the tiles straight into a C whose
                                // rows are longer than N (beta 0, then beta 1: C loaded first)
                                Case{ta, tb, 48, 48, 64, 1.0f, 0.0f, 5},
                                Case{ta, tb, 40, 72, 64, 1.0f, 1.0f, 3},
                                Case{ta, tb, 768, 128, 512, 1.0f, 0.0f, 0},
                                Case{ta, tb, 128, 512, 768, 1.0f, 1.0f, 0}}) {
        for (Bf16Unit unit : available_units()) check_case(unit, shape, rng);
      }
    }
  }
}

TEST(MatmulPrecision, Bf16ProductIsTheSameForAnyThreadCount) {
  SKIP_WITHOUT_BF16();
  std::mt19937 rng(11);
  const int saved = num_threads();
  // The threads share out block rows (M > N) or block columns (N > M), with edges in both.
  struct Size { int64_t M, N, K; };
  for (const Size& size : {Size{300, 200, 260}, Size{150, 330, 260}}) {  // (both large enough for 3 parts)
    const auto [M, N, K] = size;
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        const std::vector<float> A = random_matrix(ta ? K : M, ta ? M : K, lda, rng);
        const std::vector<float> B = random_matrix(tb ? N : K, tb ? K : N, ldb, rng);
        for (Bf16Unit unit : available_units()) {
          std::vector<float> one(M * N);
          set_num_threads(1);
          gemm_bf16_with(unit, ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, one.data(), N);
          for (int threads : {2, 3}) {
            std::vector<float> many(M * N);
            set_num_threads(threads);
            gemm_bf16_with(unit, ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, many.data(), N);
            EXPECT_EQ(one, many) << bf16_unit_name(unit) << " " << M << "x" << N << "x" << K << " ta=" << ta
                                 << " tb=" << tb << " on " << threads << " threads";
          }
        }
      }
    }
  }
  set_num_threads(saved);
}

TEST(MatmulPrecision, Bf16UnitsAgreeAndAMissingUnitIsRefused) {
  SKIP_WITHOUT_BF16();
  // Both units sum each element's products in float32 from the same rounded inputs; only the
  // order of the additions inside one instruction may differ, so they agree to float32's
  // summation error (checked against the reference by the test above) and mostly exactly.
  std::mt19937 rng(13);
  const int64_t M = 96, N = 80, K = 200;
  const std::vector<float> A = random_matrix(M, K, K, rng), B = random_matrix(K, N, N, rng);
  std::vector<float> amx(M * N), dot(M * N);
  gemm_bf16_with(Bf16Unit::DotProducts, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f,
                 dot.data(), N);
  if (bf16_unit_available(Bf16Unit::Amx)) {
    gemm_bf16_with(Bf16Unit::Amx, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f,
                   amx.data(), N);
    for (int64_t e = 0; e < M * N; ++e) {
      ASSERT_NEAR(amx[e], dot[e], 1e-4f * (1.0f + std::fabs(dot[e]))) << e;
    }
    EXPECT_STREQ(bf16_gemm_name(), "AMX");
  } else {
    EXPECT_STREQ(bf16_gemm_name(), "AVX512-BF16");
    try {
      gemm_bf16_with(Bf16Unit::Amx, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f,
                     amx.data(), N);
      FAIL() << "expected ember::Error: this CPU has no AMX";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("AMX"), std::string::npos) << e.what();
    }
  }
}

TEST(MatmulPrecision, Bf16BetaZeroIgnoresNaNInCAndInputNaNPropagates) {
  SKIP_WITHOUT_BF16();
  std::mt19937 rng(3);
  const int64_t M = 40, N = 40, K = 40;
  const std::vector<float> A = random_matrix(M, K, K, rng);
  const std::vector<float> B = random_matrix(K, N, N, rng);
  for (Bf16Unit unit : available_units()) {
    std::vector<float> C(M * N, std::numeric_limits<float>::quiet_NaN());
    gemm_bf16_with(unit, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
    for (float x : C) ASSERT_FALSE(std::isnan(x)) << bf16_unit_name(unit);
    std::vector<float> A_nan = A;
    A_nan[5 * K + 7] = std::numeric_limits<float>::quiet_NaN();  // row 5 of A
    gemm_bf16_with(unit, false, false, M, N, K, 1.0f, A_nan.data(), K, B.data(), N, 0.0f, C.data(),
                   N);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        EXPECT_EQ(std::isnan(C[i * N + j]), i == 5)
            << i << ", " << j << " on " << bf16_unit_name(unit);
      }
    }
  }
}

TEST(MatmulPrecision, GemmUsesBf16OnlyWhenMediumIsSet) {
  SKIP_WITHOUT_BF16();
  std::mt19937 rng(5);
  const int64_t M = 64, N = 96, K = 128;
  const std::vector<float> A = random_matrix(M, K, K, rng), B = random_matrix(N, K, K, rng);
  std::vector<float> fp32(M * N), medium(M * N), bf16(M * N);
  gemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, fp32.data(), N);
  gemm_bf16(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, bf16.data(), N);
  {
    Precision precision("medium");
    gemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, medium.data(), N);
  }
  EXPECT_EQ(medium, bf16);
  EXPECT_NE(medium, fp32);  // rounding the inputs changes the result
  std::vector<float> again(M * N);
  gemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, again.data(), N);
  EXPECT_EQ(again, fp32);  // and "highest" is back to float32
}

// The largest |a - b| over two tensors of the same shape.
float max_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector(), y = b.to_vector();
  float worst = 0.0f;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  return worst;
}

TEST(MatmulPrecision, MatmulAndItsGradientsStayCloseUnderMedium) {
  // On any CPU and backend: under "medium" a product and its gradients agree with float32 to
  // bfloat16's precision (exactly on a CPU with neither bfloat16 unit, or on the reference
  // backend).
  manual_seed(0);
  Tensor x = randn({64, 128});
  Tensor w = randn({128, 96});
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  const Tensor y32 = matmul(x, w);
  y32.sum().backward();
  const Tensor gx32 = x.grad(), gw32 = w.grad();
  x.zero_grad();
  w.zero_grad();
  Precision precision("medium");
  const Tensor y16 = matmul(x, w);
  y16.sum().backward();
  // An element sums 128 to 96 products of inputs about 1 in size (the gradient of a sum is all
  // ones): bfloat16's relative rounding of 2^-9 on both inputs gives errors near
  // sqrt(128) * 2 * 2^-9 ~ 0.05; a wrong element would be off by about 10.
  EXPECT_LT(max_difference(y16, y32), 0.25f);
  EXPECT_LT(max_difference(x.grad(), gx32), 0.25f);
  EXPECT_LT(max_difference(w.grad(), gw32), 0.25f);
  // The fast CPU backend rounds to bfloat16 where it can; the reference backend never does.
  if (bf16_gemm_available() && std::string(backend_for(Device::cpu()).name()) != "reference") {
    EXPECT_GT(max_difference(y16, y32), 0.0f);
  }
}

}  // namespace
}  // namespace ember::cpu
