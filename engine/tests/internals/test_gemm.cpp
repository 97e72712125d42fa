// Tests for the CPU GEMM (engine/src/fast_cpu/gemm.h): every kernel this CPU can run, against a naive
// double-precision reference, over many shapes, transposes, scalings and leading dimensions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <ember/error.h>

#include "fast_cpu/gemm.h"
#include "fast_cpu/thread_pool.h"
#include "internals/random_matrix.h"

namespace ember::cpu {
namespace {

using detail::GemmKernel;

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// The kernels this CPU can run (the SIMD ones only where supported), plus nullptr standing for
// the public gemm() with its own choice.
std::vector<const GemmKernel*> runnable_kernels() {
  std::vector<const GemmKernel*> kernels = {nullptr, &detail::generic_gemm_kernel()};
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && detail::avx2_gemm_kernel()) kernels.push_back(detail::avx2_gemm_kernel());
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      detail::avx512_gemm_kernel()) {
    kernels.push_back(detail::avx512_gemm_kernel());
  }
#endif
  return kernels;
}

std::string kernel_label(const GemmKernel* k) { return k ? k->name : "gemm()"; }

struct Case {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // leading dimension minus the stored row width
};

std::string describe(const Case& c, const std::string& kernel, int threads) {
  return kernel + " threads=" + std::to_string(threads) + " " + (c.trans_a ? "A^T" : "A") + "@" +
         (c.trans_b ? "B^T" : "B") + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
         " K=" + std::to_string(c.K) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " pads=" + std::to_string(c.pad_a) + "," +
         std::to_string(c.pad_b) + "," + std::to_string(c.pad_c);
}

struct Config {
  const GemmKernel* kernel;  // nullptr: the public gemm()
  int threads;
};

// Runs one case with each configuration and compares every element of C with a double-precision
// reference (computed once per case).
//
// Tolerance. Each C element is a sum of K products formed in float. Whatever order a kernel sums
// in (blocks of K, FMA or separate multiply and add), the standard worst-case bound for
// floating-point dot products is |computed - exact| <= gamma_n * sum_k |a_ik * b_kj| with
// gamma_n ~ n*u, u = 2^-24 and n the number of roundings on any path: at most 2 per product (a
// multiply and an add), plus a few for the alpha and beta scaling and for adding the K blocks.
// So we allow (2K + 16) * u * (|alpha| * sum|a*b| + |beta * c|). This is a guarantee, not a
// statistical estimate, so the test cannot flake; yet a wrong or missing term is off by about
// sum|a*b| / K, far above the bound for the K used here.
void check_case(const Case& c, const std::vector<Config>& configs, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
  const int64_t b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
  const int64_t lda = a_cols + c.pad_a, ldb = b_cols + c.pad_b, ldc = c.N + c.pad_c;
  const std::vector<float> A = random_matrix(a_rows, a_cols, lda, rng);
  const std::vector<float> B = random_matrix(b_rows, b_cols, ldb, rng);
  std::vector<float> C0 = random_matrix(c.M, c.N, ldc, rng);
  // Padding of C between rows must survive untouched.
  const float sentinel = 12345.0f;
  for (int64_t i = 0; i + 1 < c.M; ++i) {
    for (int64_t j = c.N; j < ldc; ++j) C0[static_cast<size_t>(i * ldc + j)] = sentinel;
  }
  if (c.beta == 0.0f) {  // beta == 0: C must not be read, so NaNs in it must not leak out
    for (int64_t i = 0; i < c.M; ++i) {
      for (int64_t j = 0; j < c.N; ++j) {
        C0[static_cast<size_t>(i * ldc + j)] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  }

  // Reference result and error bound per element.
  std::vector<double> expected(static_cast<size_t>(c.M * c.N)), tolerance(expected.size());
  const double u = std::ldexp(1.0, -24);
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double dot = 0.0, magnitude = 0.0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = A[static_cast<size_t>(c.trans_a ? k * lda + i : i * lda + k)];
        const double b = B[static_cast<size_t>(c.trans_b ? j * ldb + k : k * ldb + j)];
        dot += a * b;
        magnitude += std::fabs(a * b);
      }
      double e = c.alpha * dot;
      double scale = std::fabs(c.alpha) * magnitude;
      if (c.beta != 0.0f) {
        const double c0 = C0[static_cast<size_t>(i * ldc + j)];
        e += static_cast<double>(c.beta) * c0;
        scale += std::fabs(static_cast<double>(c.beta) * c0);
      }
      expected[static_cast<size_t>(i * c.N + j)] = e;
      tolerance[static_cast<size_t>(i * c.N + j)] =
          (2.0 * static_cast<double>(c.K) + 16.0) * u * scale +
          std::numeric_limits<float>::denorm_min();
    }
  }

  const float* a_ptr = A.empty() ? nullptr : A.data();
  const float* b_ptr = B.empty() ? nullptr : B.data();
  for (const Config& config : configs) {
    std::vector<float> C = C0;
    float* c_ptr = C.empty() ? nullptr : C.data();
    if (config.kernel == nullptr) {
      const int saved_threads = num_threads();
      if (config.threads != saved_threads) set_num_threads(config.threads);
      gemm(c.trans_a, c.trans_b, c.M, c.N, c.K, c.alpha, a_ptr, lda, b_ptr, ldb, c.beta, c_ptr,
           ldc);
      if (config.threads != saved_threads) set_num_threads(saved_threads);
    } else {
      detail::gemm_with(*config.kernel, config.threads, c.trans_a, c.trans_b, c.M, c.N, c.K,
                        c.alpha, a_ptr, lda, b_ptr, ldb, c.beta, c_ptr, ldc);
    }
    int reported = 0;
    for (int64_t i = 0; i < c.M; ++i) {
      for (int64_t j = 0; j < ldc && (i + 1 < c.M || j < c.N); ++j) {
        const size_t at = static_cast<size_t>(i * ldc + j);
        if (j >= c.N) {
          ASSERT_EQ(C[at], sentinel) << "padding of C overwritten at (" << i << "," << j << ") "
                                     << describe(c, kernel_label(config.kernel), config.threads);
          continue;
        }
        const size_t r = static_cast<size_t>(i * c.N + j);
        const double error = std::fabs(static_cast<double>(C[at]) - expected[r]);
        if (!(error <= tolerance[r])) {  // also catches NaN
          ADD_FAILURE() << "C(" << i << "," << j << ") = " << C[at] << ", expected "
                        << expected[r] << " (tolerance " << tolerance[r] << ") "
                        << describe(c, kernel_label(config.kernel), config.threads);
          if (++reported >= 5) return;
        }
      }
    }
  }
}

// Every runnable kernel, each with the given thread counts.
std::vector<Config> all_configs(std::initializer_list<int> thread_counts) {
  std::vector<Config> configs;
  for (const GemmKernel* kernel : runnable_kernels()) {
    for (int threads : thread_counts) configs.push_back({kernel, threads});
  }
  return configs;
}

// Exhaustive-ish sweep of small shapes around the tile sizes (4x16 generic, 6x16 AVX2, 14x32
// AVX-512), including 0 and 1, over all four transpose combinations.
TEST(Gemm, SmallShapesAllTransposes) {
  const std::vector<int64_t> ms = {0, 1, 2, 3, 5, 7, 13, 14, 15, 17, 29, 33};
  const std::vector<int64_t> ns = {0, 1, 5, 8, 16, 17, 31, 32, 33, 47, 65};
  const std::vector<int64_t> ks = {0, 1, 2, 7, 16, 37};
  const std::vector<Config> configs = all_configs({1});
  uint32_t seed = 1;
  for (int t = 0; t < 4; ++t) {
    for (int64_t m : ms) {
      for (int64_t n : ns) {
        for (int64_t k : ks) {
          check_case({(t & 1) != 0, (t & 2) != 0, m, n, k, 1.0f, 0.0f}, configs, seed++);
          if (HasFailure()) return;
        }
      }
    }
  }
}

// Named shapes: primes, the course's layer sizes, several K blocks (K > kc), several M and N
// blocks (M > mc, N > nc), and mid-size products that are split across threads.
TEST(Gemm, LargerShapesScalingsAndLeadingDimensions) {
  struct Shape {
    int64_t M, N, K;
  };
  const std::vector<Shape> shapes = {
      {17, 33, 65},  {300, 257, 129}, {1, 256, 47}, {64, 256, 1},   {8, 8, 8},    {64, 256, 784},
      {64, 10, 128}, {784, 256, 64},  {37, 45, 600}, {150, 101, 70}, {13, 1000, 90}, {9, 700, 200},
      {400, 2100, 9}, {131, 67, 1031}};
  struct Scaling {
    float alpha, beta;
  };
  const std::vector<Scaling> scalings = {{1.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 0.75f}, {2.0f, -1.0f}};
  ThreadCount tc(2);
  const std::vector<Config> configs = all_configs({1, 2});
  uint32_t seed = 1000;
  for (const Shape& s : shapes) {
    for (int t = 0; t < 4; ++t) {
      const Scaling& sc = scalings[static_cast<size_t>(t + s.M) % scalings.size()];
      const int64_t pad = (s.M + t) % 3 == 0 ? 0 : 3 + t;
      check_case({(t & 1) != 0, (t & 2) != 0, s.M, s.N, s.K, sc.alpha, sc.beta, pad, 2 * pad,
                  pad + 1},
                 configs, seed++);
      if (HasFailure()) return;
    }
  }
}

TEST(Gemm, AlphaBetaVariants) {
  const std::vector<std::pair<float, float>> scalings = {
      {1.0f, 0.0f}, {2.5f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 0.75f}, {0.0f, 2.0f}, {0.0f, 0.0f},
      {1.0f, -1.0f}, {3.0f, 0.5f}};
  const std::vector<Config> configs = all_configs({1});
  uint32_t seed = 5000;
  for (auto [alpha, beta] : scalings) {
    for (int t = 0; t < 4; ++t) {
      check_case({(t & 1) != 0, (t & 2) != 0, 23, 41, 19, alpha, beta, 1, 5, 2}, configs, seed++);
      // M <= tile rows: B is read in place; K = 300 spans several K blocks.
      check_case({(t & 1) != 0, (t & 2) != 0, 5, 50, 300, alpha, beta, 0, 0, 7}, configs, seed++);
      if (HasFailure()) return;
    }
  }
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
  for (int64_t K : {0, 1, 64, 300}) {
    std::vector<float> A(static_cast<size_t>(20 * std::max<int64_t>(K, 1)), 1.0f);
    std::vector<float> B(static_cast<size_t>(std::max<int64_t>(K, 1) * 30), 2.0f);
    std::vector<float> C(20 * 30, std::numeric_limits<float>::quiet_NaN());
    gemm(false, false, 20, 30, K, 1.0f, A.data(), std::max<int64_t>(K, 1), B.data(), 30, 0.0f,
         C.data(), 30);
    for (float x : C) ASSERT_EQ(x, 2.0f * static_cast<float>(K)) << "K=" << K;
  }
  // alpha == 0 and beta == 0: C becomes zero without reading A, B or C.
  std::vector<float> C(12, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> A(12, std::numeric_limits<float>::infinity());
  gemm(false, false, 3, 4, 3, 0.0f, A.data(), 3, A.data(), 4, 0.0f, C.data(), 4);
  for (float x : C) EXPECT_EQ(x, 0.0f);
}

TEST(Gemm, KZeroScalesC) {
  std::vector<float> C = {1, 2, 3, 4, 5, 6};
  gemm(false, false, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.5f, C.data(), 3);
  EXPECT_EQ(C, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
  gemm(true, true, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 1.0f, C.data(), 3);
  EXPECT_EQ(C, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
}

TEST(Gemm, EmptyResultTouchesNothing) {
  EXPECT_NO_THROW(gemm(false, false, 0, 5, 7, 1.0f, nullptr, 7, nullptr, 5, 0.0f, nullptr, 5));
  EXPECT_NO_THROW(gemm(true, false, 4, 0, 7, 1.0f, nullptr, 4, nullptr, 0, 0.0f, nullptr, 0));
}

TEST(Gemm, NaNAndInfinityInInputsPropagate) {
  // A NaN in row 1 of A poisons all of row 1 of C (NaN * 0 is NaN), and nothing else.
  std::vector<float> A = {1, 2, std::numeric_limits<float>::quiet_NaN(), 4};  // 2x2
  std::vector<float> B = {1, 0, 0, 1};
  std::vector<float> C(4, 0.0f);
  gemm(false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_EQ(C[0], 1.0f);
  EXPECT_EQ(C[1], 2.0f);
  EXPECT_TRUE(std::isnan(C[2]));
  EXPECT_TRUE(std::isnan(C[3]));
  // An infinity gives infinities (or NaN where it meets a zero).
  A = {std::numeric_limits<float>::infinity(), 1, 1, 1};
  gemm(false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_EQ(C[0], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(C[1]));
  EXPECT_EQ(C[2], 1.0f);
  EXPECT_EQ(C[3], 1.0f);
}

TEST(Gemm, RejectsBadArguments) {
  std::vector<float> buf(64, 1.0f);
  float* p = buf.data();
  EXPECT_THROW(gemm(false, false, -1, 2, 2, 1.0f, p, 2, p, 2, 0.0f, p, 2), Error);
  EXPECT_THROW(gemm(false, false, 2, 2, -2, 1.0f, p, 2, p, 2, 0.0f, p, 2), Error);
  EXPECT_THROW(gemm(false, false, 2, 3, 4, 1.0f, p, 3, p, 3, 0.0f, p, 3), Error);  // lda < K
  EXPECT_THROW(gemm(true, false, 5, 3, 4, 1.0f, p, 4, p, 3, 0.0f, p, 3), Error);   // lda < M
  EXPECT_THROW(gemm(false, false, 2, 3, 4, 1.0f, p, 4, p, 2, 0.0f, p, 3), Error);  // ldb < N
  EXPECT_THROW(gemm(false, true, 2, 3, 4, 1.0f, p, 4, p, 3, 0.0f, p, 3), Error);   // ldb < K
  EXPECT_THROW(gemm(false, false, 2, 3, 4, 1.0f, p, 4, p, 3, 0.0f, p, 2), Error);  // ldc < N
  EXPECT_THROW(gemm(false, false, 2, 3, 4, 1.0f, nullptr, 4, p, 3, 0.0f, p, 3), Error);
  EXPECT_THROW(gemm(false, false, 2, 3, 4, 1.0f, p, 4, p, 3, 0.0f, nullptr, 3), Error);
}

TEST(Gemm, KernelNameIsKnown) {
  const std::string name = gemm_kernel_name();
  EXPECT_TRUE(name == "avx512" || name == "avx2" || name == "generic") << name;
  EXPECT_EQ(name, detail::active_gemm_kernel().name);
}

// Runs gemm on fixed random inputs and returns C.
std::vector<float> product(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta) {
  std::mt19937 rng(42);
  std::vector<float> A = random_matrix(M, K, K, rng);  // square-ish storage works for both layouts
  std::vector<float> At = random_matrix(K, M, M, rng);
  std::vector<float> B = random_matrix(K, N, N, rng);
  std::vector<float> Bt = random_matrix(N, K, K, rng);
  std::vector<float> C = random_matrix(M, N, N, rng);
  gemm(ta, tb, M, N, K, 0.75f, ta ? At.data() : A.data(), ta ? M : K, tb ? Bt.data() : B.data(),
       tb ? K : N, beta, C.data(), N);
  return C;
}

// The same inputs must give the same bits on every run and for every thread count: threads split
// C into rectangles, never the K sum, so each element is always computed the same way. The shapes
// cover a split by rows (300x257), by columns (64x784), several row blocks per thread (513x300),
// the unpacked-B path split by columns (7x3000) and a tall, narrow product (1000x40).
TEST(Gemm, DeterministicAcrossRunsAndThreadCounts) {
  struct Shape {
    int64_t M, N, K;
  };
  for (const Shape& s : std::vector<Shape>{{300, 257, 129}, {64, 784, 256}, {513, 300, 700},
                                           {7, 3000, 300}, {1000, 40, 500}}) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
      std::vector<float> reference;
      {
        ThreadCount tc(1);
        reference = product(ta, tb, s.M, s.N, s.K, 0.5f);
      }
      for (int threads : {1, 2, 3}) {
        ThreadCount tc(threads);
        for (int run = 0; run < (threads == 2 ? 2 : 1); ++run) {
          std::vector<float> C = product(ta, tb, s.M, s.N, s.K, 0.5f);
          ASSERT_EQ(std::memcmp(C.data(), reference.data(), C.size() * sizeof(float)), 0)
              << "threads=" << threads << " run=" << run << " M=" << s.M << " N=" << s.N
              << " K=" << s.K << " ta=" << ta << " tb=" << tb;
        }
      }
    }
  }
}

// gemm called from inside parallel_for tasks (as a batched op would) runs single-threaded there
// and still gives the right, identical answers.
TEST(Gemm, InsideParallelFor) {
  ThreadCount tc(2);
  const int64_t M = 100, N = 90, K = 80;
  std::mt19937 rng(7);
  std::vector<float> A = random_matrix(M, K, K, rng), B = random_matrix(K, N, N, rng);
  std::vector<float> expected(M * N);
  gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, expected.data(), N);
  std::vector<std::vector<float>> results(8, std::vector<float>(M * N));
  parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f,
           results[static_cast<size_t>(b)].data(), N);
    }
  });
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

}  // namespace
}  // namespace ember::cpu
