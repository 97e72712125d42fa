// Larger inputs, so that kernels take their blocked / multi-threaded paths: element-wise
// with broadcasting and strides, reductions along each dim, softmax over long rows,
// matmul, index_select, and a few closed-form gradients. References use to_vector() and
// plain loops in double.
#include "fast_cpu/thread_pool.h"
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = a.size() == b.size() ? 0.0 : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}
}  // namespace

TEST(LargeOps, BroadcastBinary) {
  const int64_t R = 300, C = 1000;
  Tensor a = make_input({R, C}, -1, 1, 301);
  Tensor b = make_input({C}, 0.5f, 2, 302);
  std::vector<float> va = a.to_vector(), vb = b.to_vector();
  std::vector<double> ref(R * C);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) ref[i * C + j] = static_cast<double>(va[i * C + j]) / vb[j];
  Tensor out = a / b;
  ASSERT_EQ(out.shape(), (Shape{R, C}));
  EXPECT_LT(max_abs_diff(out.to_vector(), ref), 1e-5);
}

TEST(LargeOps, TransposedUnaryAndBinary) {
  const int64_t N = 700;
  Tensor a = make_input({N, N}, -2, 2, 303);
  std::vector<float> va = a.to_vector();
  std::vector<double> ref(N * N), ref2(N * N);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < N; ++j) {
      ref[i * N + j] = std::exp(static_cast<double>(va[j * N + i]));
      ref2[i * N + j] = static_cast<double>(va[j * N + i]) + va[i * N + j];
    }
  Tensor e = exp(a.t());
  std::vector<float> ve = e.to_vector();
  double worst = 0;
  for (size_t k = 0; k < ve.size(); ++k) worst = std::max(worst, std::fabs(ve[k] - ref[k]) / ref[k]);
  EXPECT_LT(worst, 1e-6);
  EXPECT_LT(max_abs_diff((a.t() + a).to_vector(), ref2), 1e-6);
}

TEST(LargeOps, ReductionsAlongEachDim) {
  const int64_t R = 512, C = 2048;
  Tensor x = make_input({R, C}, -1, 1, 304);
  std::vector<float> v = x.to_vector();
  std::vector<double> rs(R, 0), cs(C, 0), rmax(R, -INFINITY);
  std::vector<float> rarg(R, 0);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      double e = v[i * C + j];
      rs[i] += e;
      cs[j] += e;
      if (e > rmax[i]) {
        rmax[i] = e;
        rarg[i] = static_cast<float>(j);
      }
    }
  EXPECT_LT(max_abs_diff(x.sum(1).to_vector(), rs), 1e-3);
  EXPECT_LT(max_abs_diff(x.sum(0).to_vector(), cs), 1e-4);
  EXPECT_LT(max_abs_diff(x.max(1).to_vector(), rmax), 1e-7);
  EXPECT_EQ(x.argmax(1).to_vector(), rarg);
  double total = 0;
  for (double s : rs) total += s;
  EXPECT_NEAR(x.sum().item(), total, 1e-2);
  EXPECT_NEAR(x.mean().item(), total / (R * C), 1e-6);
  std::vector<double> colmean(C);
  for (int64_t j = 0; j < C; ++j) colmean[j] = cs[j] / R;
  EXPECT_LT(max_abs_diff(x.mean(0).to_vector(), colmean), 1e-6);
}

TEST(LargeOps, ColumnReductionsOfATallBlock) {
  // A bias gradient's shape: many rows, few columns. The CPU kernel shares the columns out
  // between threads in bands of 32 (here 32, 32, 32 and 4); the result must not depend on
  // the thread count.
  const int64_t R = 3000, C = 100;
  Tensor x = make_input({R, C}, -1, 1, 309);
  std::vector<float> v = x.to_vector();
  std::vector<double> cs(C, 0), cmax(C, -INFINITY);
  std::vector<float> carg(C, 0);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      cs[j] += v[i * C + j];
      if (v[i * C + j] > cmax[j]) {
        cmax[j] = v[i * C + j];
        carg[j] = static_cast<float>(i);
      }
    }
  const int saved = cpu::num_threads();
  std::vector<std::vector<float>> sums;
  for (int threads : {1, 2}) {
    cpu::set_num_threads(threads);
    sums.push_back(x.sum(0).to_vector());
    EXPECT_LT(max_abs_diff(sums.back(), cs), 1e-3);
    EXPECT_LT(max_abs_diff(x.max(0).to_vector(), cmax), 1e-7);
    EXPECT_EQ(x.argmax(0).to_vector(), carg);
  }
  cpu::set_num_threads(saved);
  EXPECT_EQ(sums[0], sums[1]);
}

TEST(LargeOps, VarianceOfLargeSample) {
  manual_seed(305);
  Tensor x = randn({400000}) * 3.0f + 100.0f;
  EXPECT_NEAR(x.var().item(), 9.0, 0.1);
  EXPECT_NEAR(x.mean().item(), 100.0, 0.05);
}

TEST(LargeOps, SoftmaxLongRows) {
  const int64_t R = 64, C = 5000;
  Tensor x = make_input({R, C}, -5, 5, 306);
  Tensor p = softmax(x, 1);
  EXPECT_LT(max_abs_diff(p.sum(1).to_vector(), std::vector<double>(R, 1.0)), 1e-4);
  std::vector<float> v = x.to_vector(), pv = p.to_vector();
  for (int64_t i : {0, 31, 63}) {
    double m = -INFINITY, z = 0;
    for (int64_t j = 0; j < C; ++j) m = std::max<double>(m, v[i * C + j]);
    for (int64_t j = 0; j < C; ++j) z += std::exp(v[i * C + j] - m);
    for (int64_t j : {0, 1234, 4999})
      EXPECT_NEAR(pv[i * C + j], std::exp(v[i * C + j] - m) / z, 1e-7) << i << "," << j;
  }
  Tensor q = softmax(x, 0);  // along the long-stride dim
  EXPECT_LT(max_abs_diff(q.sum(0).to_vector(), std::vector<double>(C, 1.0)), 1e-5);
}

TEST(LargeOps, MatmulMediumSizes) {
  const int64_t M = 130, K = 257, N = 190;
  Tensor a = make_input({M, K}, -1, 1, 307);
  Tensor b = make_input({N, K}, -1, 1, 308);  // used transposed
  std::vector<float> va = a.to_vector(), vb = b.to_vector();
  std::vector<double> ref(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t p = 0; p < K; ++p) s += static_cast<double>(va[i * K + p]) * vb[j * K + p];
      ref[i * N + j] = s;
    }
  EXPECT_LT(max_abs_diff(matmul(a, b.t()).to_vector(), ref), 1e-4);
  // The same product as a batch of 2 identical matrices with a shared right operand.
  Tensor batched = matmul(stack({a, a}), b.t());
  ASSERT_EQ(batched.shape(), (Shape{2, M, N}));
  EXPECT_LT(max_abs_diff(batched[1].to_vector(), ref), 1e-4);
}

TEST(LargeOps, IndexSelectManyRows) {
  const int64_t V = 1000, D = 64, K = 5000;
  Tensor table = make_input({V, D}, -1, 1, 309);
  std::vector<float> idx(K);
  for (int64_t k = 0; k < K; ++k) idx[k] = static_cast<float>((k * 7919) % V);
  Tensor rows = index_select(table, from_vector(idx, {K}));
  ASSERT_EQ(rows.shape(), (Shape{K, D}));
  std::vector<float> tv = table.to_vector(), rv = rows.to_vector();
  for (int64_t k = 0; k < K; k += 97)
    for (int64_t d = 0; d < D; ++d)
      ASSERT_EQ(rv[k * D + d], tv[static_cast<int64_t>(idx[k]) * D + d]);
}

TEST(LargeOps, ClosedFormGradients) {
  Tensor x = make_input({1000, 1000}, -1, 1, 310);
  x.set_requires_grad(true);
  (x * x).sum().backward();
  std::vector<float> xv = x.to_vector(), g = x.grad().to_vector();
  ASSERT_EQ(g.size(), xv.size());
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) worst = std::max<double>(worst, std::fabs(g[i] - 2 * xv[i]));
  EXPECT_LT(worst, 1e-6);

  // Softmax rows: d(sum_j w_j p_j)/dx_k = p_k (w_k - sum_j w_j p_j).
  Tensor y = make_input({8, 3000}, -3, 3, 311);
  Tensor w = make_input({8, 3000}, -1, 1, 312);
  y.set_requires_grad(true);
  Tensor p = softmax(y, 1);
  (p * w).sum().backward();
  std::vector<float> pv = p.detach().to_vector(), wv = w.to_vector(), gy = y.grad().to_vector();
  for (int64_t i = 0; i < 8; ++i) {
    double dotp = 0;
    for (int64_t j = 0; j < 3000; ++j) dotp += static_cast<double>(pv[i * 3000 + j]) * wv[i * 3000 + j];
    for (int64_t j = 0; j < 3000; j += 131)
      ASSERT_NEAR(gy[i * 3000 + j], pv[i * 3000 + j] * (wv[i * 3000 + j] - dotp), 1e-7);
  }
}
