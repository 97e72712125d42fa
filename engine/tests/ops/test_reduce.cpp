// Reductions: sum, mean, max, min, var (unbiased or not), argmax, argmin; whole-tensor and
// along a dim, negative dims, keepdim, non-contiguous inputs.
//   * forward values, against brute force in double;
//   * gradients, by finite differences;
//   * the forms a port from PyTorch reaches for (issue 12): argmin() without a dim, max/min
//     with their indices, sum and mean over several dims, std and logsumexp, each with its
//     forward values (worked out by hand), gradient and errors;
//   * argmax/argmin and NaN, as PyTorch (issue 12): they point at the NaN that max/min
//     report.
// Suite names start with "Reduce", which the reference-backend run selects
// (engine/CMakeLists.txt).
#include "gradcheck.h"

#include <cmath>
#include <functional>

using namespace ember;
using namespace ember_test;

namespace {

enum class Red { Sum, Mean, Max, Min, VarUnbiased, VarBiased, ArgMax, ArgMin };

double reduce_ref(const std::vector<double>& v, Red r) {
  const double n = static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += x;
  switch (r) {
    case Red::Sum: return s;
    case Red::Mean: return s / n;
    case Red::Max: return *std::max_element(v.begin(), v.end());
    case Red::Min: return *std::min_element(v.begin(), v.end());
    case Red::ArgMax: return static_cast<double>(std::max_element(v.begin(), v.end()) - v.begin());
    case Red::ArgMin: return static_cast<double>(std::min_element(v.begin(), v.end()) - v.begin());
    case Red::VarUnbiased:
    case Red::VarBiased: {
      double m = s / n, q = 0;
      for (double x : v) q += (x - m) * (x - m);
      return q / (r == Red::VarUnbiased ? n - 1 : n);
    }
  }
  return 0;
}

// Reference reduction of a 3-D tensor along dim d (0..2); result shape without keepdim.
std::vector<float> reduce_dim_ref(const Tensor& x, int64_t d, Red r) {
  const Shape& s = x.shape();
  std::vector<float> out;
  int64_t a_dims[3][2] = {{1, 2}, {0, 2}, {0, 1}};
  int64_t p = a_dims[d][0], q = a_dims[d][1];
  for (int64_t i = 0; i < s[p]; ++i)
    for (int64_t j = 0; j < s[q]; ++j) {
      std::vector<double> v;
      for (int64_t k = 0; k < s[d]; ++k) {
        std::vector<int64_t> idx(3);
        idx[p] = i;
        idx[q] = j;
        idx[d] = k;
        v.push_back(x.at(idx));
      }
      out.push_back(static_cast<float>(reduce_ref(v, r)));
    }
  return out;
}

Shape drop(const Shape& s, int64_t d) {
  Shape r = s;
  r.erase(r.begin() + d);
  return r;
}

Shape keep(const Shape& s, int64_t d) {
  Shape r = s;
  r[d] = 1;
  return r;
}

std::vector<double> all_values(const Tensor& x) {
  std::vector<float> v = x.to_vector();
  return std::vector<double>(v.begin(), v.end());
}

using DimFn = std::function<Tensor(const Tensor&, int64_t, bool)>;

void check_all_dims(const Tensor& x, Red r, const DimFn& f, double tol = 1e-5) {
  for (int64_t d = 0; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    std::vector<float> ref = reduce_dim_ref(x, d, r);
    EXPECT_TRUE(tensor_near(f(x, d, false), drop(x.shape(), d), ref, tol, tol));
    EXPECT_TRUE(tensor_near(f(x, d - 3, false), drop(x.shape(), d), ref, tol, tol));  // negative
    EXPECT_TRUE(tensor_near(f(x, d, true), keep(x.shape(), d), ref, tol, tol));
  }
}

Tensor x345() { return make_distinct({3, 4, 5}, 0.1f, 41); }

Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }

// 0, 1, 2, ... in shape s.
Tensor counting(const Shape& s) { return arange(static_cast<float>(numel_of(s))).reshape(s); }

}  // namespace

// ---- forward values ---------------------------------------------------------------------

TEST(Reduce, SumAll) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_TRUE(tensor_near(x.sum(), {}, {21}));
  EXPECT_TRUE(tensor_near(sum(x), {}, {21}));
  Tensor r = make_input({10, 10}, -1, 1, 42);
  EXPECT_TRUE(tensor_near(r.sum(), {}, {static_cast<float>(reduce_ref(all_values(r), Red::Sum))},
                          1e-4, 1e-5));
}

TEST(Reduce, SumDim) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_TRUE(tensor_near(x.sum(0), {3}, {5, 7, 9}));
  EXPECT_TRUE(tensor_near(x.sum(1), {2}, {6, 15}));
  EXPECT_TRUE(tensor_near(x.sum(-1), {2}, {6, 15}));
  EXPECT_TRUE(tensor_near(x.sum(1, true), {2, 1}, {6, 15}));
  EXPECT_TRUE(tensor_near(sum(x, 0, true), {1, 3}, {5, 7, 9}));
  check_all_dims(x345(), Red::Sum, [](const Tensor& t, int64_t d, bool k) { return t.sum(d, k); });
}

TEST(Reduce, MeanAllAndDim) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_TRUE(tensor_near(x.mean(), {}, {3.5f}));
  EXPECT_TRUE(tensor_near(mean(x), {}, {3.5f}));
  EXPECT_TRUE(tensor_near(x.mean(0), {3}, {2.5f, 3.5f, 4.5f}));
  EXPECT_TRUE(tensor_near(mean(x, -1, true), {2, 1}, {2, 5}));
  check_all_dims(x345(), Red::Mean, [](const Tensor& t, int64_t d, bool k) { return t.mean(d, k); });
}

TEST(Reduce, MaxMinAll) {
  Tensor x = tensor({{1, 7, -3}, {4, -5, 6}});
  EXPECT_TRUE(tensor_near(x.max(), {}, {7}));
  EXPECT_TRUE(tensor_near(x.min(), {}, {-5}));
  EXPECT_TRUE(tensor_near(max(x), {}, {7}));
  EXPECT_TRUE(tensor_near(min(x), {}, {-5}));
  EXPECT_TRUE(tensor_near(tensor({-3, -1, -2}).max(), {}, {-1}));  // all negative
}

TEST(Reduce, MaxMinDim) {
  Tensor x = tensor({{1, 7, -3}, {4, -5, 6}});
  EXPECT_TRUE(tensor_near(x.max(0), {3}, {4, 7, 6}));
  EXPECT_TRUE(tensor_near(x.max(1), {2}, {7, 6}));
  EXPECT_TRUE(tensor_near(x.min(1, true), {2, 1}, {-3, -5}));
  EXPECT_TRUE(tensor_near(min(x, -2), {3}, {1, -5, -3}));
  check_all_dims(x345(), Red::Max, [](const Tensor& t, int64_t d, bool k) { return t.max(d, k); });
  check_all_dims(x345(), Red::Min, [](const Tensor& t, int64_t d, bool k) { return t.min(d, k); });
}

TEST(Reduce, MaxWithMinusInfinity) {
  Tensor x = tensor({-INFINITY, -2, -INFINITY});
  EXPECT_TRUE(tensor_near(x.max(), {}, {-2}));
}

TEST(Reduce, VarAll) {
  Tensor x = tensor({1, 2, 3, 4});
  EXPECT_TRUE(tensor_near(x.var(), {}, {5.0f / 3.0f}));  // unbiased by default
  EXPECT_TRUE(tensor_near(x.var(true), {}, {5.0f / 3.0f}));
  EXPECT_TRUE(tensor_near(x.var(false), {}, {1.25f}));
  EXPECT_TRUE(tensor_near(var(x), {}, {5.0f / 3.0f}));
  EXPECT_TRUE(tensor_near(var(x, false), {}, {1.25f}));
}

TEST(Reduce, VarDim) {
  Tensor x = tensor({{1, 2, 3, 4}, {2, 2, 2, 2}});
  EXPECT_TRUE(tensor_near(x.var(1), {2}, {5.0f / 3.0f, 0}));
  EXPECT_TRUE(tensor_near(x.var(1, false), {2}, {1.25f, 0}));
  EXPECT_TRUE(tensor_near(x.var(-1, true, true), {2, 1}, {5.0f / 3.0f, 0}));
  EXPECT_TRUE(tensor_near(var(x, 0, false), {4}, {0.25f, 0, 0.25f, 1}));
  check_all_dims(x345(), Red::VarUnbiased,
                 [](const Tensor& t, int64_t d, bool k) { return t.var(d, true, k); }, 1e-4);
  check_all_dims(x345(), Red::VarBiased,
                 [](const Tensor& t, int64_t d, bool k) { return t.var(d, false, k); }, 1e-4);
}

TEST(Reduce, VarIsShiftInvariant) {
  // A naive E[x^2] - E[x]^2 loses everything in float32 when the mean is large.
  Tensor x = tensor({10000, 10001, 10002, 10003});
  EXPECT_TRUE(tensor_near(x.var(false), {}, {1.25f}, 1e-3, 1e-3));
}

TEST(Reduce, ArgmaxArgmin) {
  Tensor x = tensor({{1, 7, -3}, {4, -5, 6}});
  EXPECT_TRUE(tensor_near(x.argmax(), {}, {1}));    // flat index
  EXPECT_TRUE(tensor_near(argmax(x), {}, {1}));
  EXPECT_TRUE(tensor_near(tensor({{0, 1}, {9, 2}}).argmax(), {}, {2}));
  EXPECT_TRUE(tensor_near(x.argmax(1), {2}, {1, 2}));
  EXPECT_TRUE(tensor_near(x.argmax(0), {3}, {1, 0, 1}));
  EXPECT_TRUE(tensor_near(x.argmin(1), {2}, {2, 1}));
  EXPECT_TRUE(tensor_near(argmin(x, -2, true), {1, 3}, {0, 1, 0}));
  EXPECT_TRUE(tensor_near(argmax(x, -1, true), {2, 1}, {1, 2}));
  check_all_dims(x345(), Red::ArgMax,
                 [](const Tensor& t, int64_t d, bool k) { return t.argmax(d, k); });
  check_all_dims(x345(), Red::ArgMin,
                 [](const Tensor& t, int64_t d, bool k) { return t.argmin(d, k); });
}

TEST(Reduce, ArgmaxTiesGiveFirstIndex) {
  EXPECT_TRUE(tensor_near(tensor({3, 5, 5, 1}).argmax(), {}, {1}));
  EXPECT_TRUE(tensor_near(tensor({{2, 2}, {1, 1}}).argmin(1), {2}, {0, 0}));
  EXPECT_TRUE(tensor_near(tensor({{2, 2}, {7, 1}}).argmax(1), {2}, {0, 0}));
}

TEST(Reduce, ArgmaxIsNotDifferentiable) {
  Tensor x = tensor({1, 3, 2});
  x.set_requires_grad(true);
  EXPECT_FALSE(x.argmax().requires_grad());
  EXPECT_FALSE(x.argmax(0).requires_grad());
}

TEST(Reduce, NonContiguousInputs) {
  Tensor x = x345();
  Tensor p = x.permute({2, 0, 1});  // (5, 3, 4)
  Tensor pc = p.contiguous();
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(tensors_near(p.sum(d), pc.sum(d)));
    EXPECT_TRUE(tensors_near(p.max(d, true), pc.max(d, true)));
    EXPECT_TRUE(tensors_near(p.argmin(d), pc.argmin(d)));
    EXPECT_TRUE(tensors_near(p.var(d), pc.var(d), 1e-5, 1e-4));
  }
  EXPECT_TRUE(tensor_near(p.sum(), {}, {pc.sum().item()}, 1e-4, 1e-5));
  Tensor e = tensor({1, 2, 3}).expand({4, 3});
  EXPECT_TRUE(tensor_near(e.sum(0), {3}, {4, 8, 12}));
  EXPECT_TRUE(tensor_near(e.mean(), {}, {2}));
}

TEST(Reduce, ReduceOverSizeOneDimAndOneDimTensor) {
  Tensor x = tensor({{1, 2, 3}});
  EXPECT_TRUE(tensor_near(x.sum(0), {3}, {1, 2, 3}));
  EXPECT_TRUE(tensor_near(x.max(0, true), {1, 3}, {1, 2, 3}));
  Tensor v = tensor({4, 1, 9});
  EXPECT_TRUE(tensor_near(v.sum(0), {}, {14}));
  EXPECT_TRUE(tensor_near(v.max(-1), {}, {9}));
  EXPECT_TRUE(tensor_near(v.argmin(0), {}, {1}));
  EXPECT_TRUE(tensor_near(v.mean(0, true), {1}, {14.0f / 3.0f}));
}

TEST(Reduce, LargeSumAccuracy) {
  // 1e6 ones: a float accumulator that adds one at a time still reaches exactly 1e6
  // (below 2^24), but mean of 0.1s shows accumulated error if summation is naive.
  EXPECT_TRUE(tensor_near(ones({1000, 1000}).sum(), {}, {1e6f}));
  EXPECT_TRUE(tensor_near(full({1000000}, 0.1f).mean(), {}, {0.1f}, 1e-4, 1e-3));
}

TEST(Reduce, EmptyTensors) {
  EXPECT_TRUE(tensor_near(zeros({0}).sum(), {}, {0}));
  EXPECT_TRUE(tensor_near(zeros({0, 3}).sum(0), {3}, {0, 0, 0}));
  EXPECT_EQ(zeros({0, 3}).sum(1).shape(), (Shape{0}));
  EXPECT_TRUE(throws_error([] { zeros({0}).max(); }, "max"));  // no identity, as PyTorch
}

// ---- gradients --------------------------------------------------------------------------

TEST(ReduceGrad, SumAllAndDims) {
  Tensor x = in({2, 3, 4}, 101);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.sum(); }, x));
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return t.sum(d); }, x));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return sum(t, d, true).exp(); }, x));
  }
}

TEST(ReduceGrad, MeanAllAndDims) {
  Tensor x = in({2, 3, 4}, 102);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.mean(); }, x));
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return t.mean(d, d % 2 == 0); }, x));
  }
  Tensor y = ones({2, 4});
  y.set_requires_grad(true);
  y.mean().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2, 4}, std::vector<float>(8, 0.125f)));
}

TEST(ReduceGrad, MaxMinAllAndDims) {
  Tensor x = make_distinct({2, 3, 4}, 0.1f, 103);  // no near-ties
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.max(); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.min(); }, x));
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return t.max(d); }, x));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return t.min(d, true) * 2.0f; }, x));
  }
  Tensor y = tensor({{1, 5, 2}, {7, 0, 3}});
  y.set_requires_grad(true);
  y.max(1).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2, 3}, {0, 1, 0, 1, 0, 0}));
}

TEST(ReduceGrad, VarAllAndDims) {
  Tensor x = in({2, 3, 4}, 104);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.var(); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.var(false); }, x));
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return t.var(d); }, x));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return var(t, d, false, true); }, x));
  }
}

TEST(ReduceGrad, NonContiguousInput) {
  Tensor x = in({3, 4}, 105);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.t().sum(1); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.slice(1, 0, 4, 2).var(0); }, x));
}

// ---- ports from PyTorch: argmin(), max/min with indices, dim lists, std, logsumexp ------

TEST(ReducePort, ArgminWithoutADimIsAFlatIndex) {
  Tensor x = from_vector({4, 2, 9, 1, 7, 1}, {2, 3});  // the smallest, 1, first at flat index 3
  EXPECT_EQ(argmin(x).item(), 3.0f);
  EXPECT_EQ(x.argmin().shape(), Shape{});
  EXPECT_EQ(x.argmax().item(), 2.0f);
  EXPECT_TRUE(throws_error_all([] { argmin(ones({0})); }, {"argmin", "(0,)"}));
}

TEST(ReducePort, MaxAndMinWithIndices) {
  Tensor x = from_vector({4, 2, 9, 1, 7, 1}, {2, 3});
  auto [values, indices] = max_with_indices(x, 1);
  EXPECT_TRUE(tensor_near(values, {2}, {9, 7}));
  EXPECT_TRUE(tensor_near(indices, {2}, {2, 1}));
  auto [low, where_low] = min_with_indices(x, 0, true);
  EXPECT_TRUE(tensor_near(low, {1, 3}, {1, 2, 1}));
  EXPECT_TRUE(tensor_near(where_low, {1, 3}, {1, 0, 1}));
  // The gradient flows through the values only: to the winners.
  Tensor leaf = x.clone().requires_grad_(true);
  max_with_indices(leaf, 1).values.sum().backward();
  EXPECT_TRUE(tensor_near(leaf.grad(), {2, 3}, {0, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return min_with_indices(t, -1).values; },
                         make_distinct({3, 4})));
  EXPECT_TRUE(throws_error_all([&] { max_with_indices(x, 2); }, {"max", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([&] { min_with_indices(x, -3); }, {"min", "dim -3", "(2, 3)"}));
}

TEST(ReducePort, SumAndMeanOverSeveralDims) {
  Tensor x = counting({2, 3, 4});  // x[i][j][k] = 12 i + 4 j + k
  // Over i and k: sum_i sum_k (12 i + 4 j + k) = 8 * 4 j + (12 * 4 + 2 * 6) = 32 j + 60.
  EXPECT_TRUE(tensor_near(sum(x, {0, 2}), {3}, {60, 92, 124}));
  EXPECT_TRUE(tensor_near(x.sum({2, 0}, true), {1, 3, 1}, {60, 92, 124}));  // any order
  EXPECT_TRUE(tensor_near(mean(x, {-1, 0}), {3}, {7.5f, 11.5f, 15.5f}));    // negative dims
  EXPECT_TRUE(tensor_near(x.mean({0, 1, 2}), {}, {11.5f}));
}

TEST(ReduceGradPort, SumAndMeanOverSeveralDims) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum(t, {0, 2}) * sum(t, {1}, true).sum(); },
                         in({2, 3, 4}, 44)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return mean(t * t, {-1, 1}, true); },
                         in({2, 3, 4}, 45)));
}

TEST(ReducePort, SeveralDimsErrors) {
  Tensor x = ones({2, 3, 4});
  EXPECT_TRUE(throws_error_all([&] { sum(x, {0, 3}); }, {"sum", "dim 3", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([&] { sum(x, {1, -2}); }, {"sum", "twice", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([&] { mean(x, std::vector<int64_t>{}); }, {"mean", "empty", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([] { mean(ones({2, 0}), {0, 1}); }, {"mean", "(2, 0)"}));
}

TEST(ReducePort, StdUnbiasedAndNot) {
  // [1, 2, 3, 4]: squared deviations sum to 5; unbiased sqrt(5/3), biased sqrt(5/4).
  Tensor x = from_vector({1, 2, 3, 4}, {4});
  EXPECT_NEAR(ember::std(x).item(), 1.2909944f, 1e-6);
  EXPECT_NEAR(x.std(false).item(), 1.1180340f, 1e-6);
  // Along a dim: rows [1, 3] and [2, 6] -> sqrt(2) and sqrt(8).
  Tensor m = from_vector({1, 3, 2, 6}, {2, 2});
  EXPECT_TRUE(tensor_near(m.std(1), {2}, {1.4142136f, 2.8284271f}));
  EXPECT_TRUE(tensor_near(ember::std(m, 0, false, true), {1, 2}, {0.5f, 1.5f}));
}

TEST(ReduceGradPort, Std) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return ember::std(t); }, in({5}, 46)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.std(0, false); }, in({4, 3}, 47)));
}

TEST(ReducePort, StdErrors) {
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({2, 3}), 2); }, {"std", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({1, 3}), 0); }, {"std", "at least 2", "(1, 3)"}));
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({1})); }, {"std", "(1,)"}));
}

TEST(ReducePort, Logsumexp) {
  // [1, 2, 3]: 3 + log(1 + e^-1 + e^-2) = 3.4076059.
  Tensor x = from_vector({1, 2, 3, 1000, 1000, -INFINITY, -INFINITY, -INFINITY, -INFINITY}, {3, 3});
  std::vector<float> y = logsumexp(x, 1).to_vector();
  EXPECT_NEAR(y[0], 3.4076059f, 1e-6);
  EXPECT_NEAR(y[1], 1000.6931f, 1e-3);  // 1000 + log 2; exp(1000) alone overflows
  EXPECT_EQ(y[2], -INFINITY);           // every element -inf: log 0, not NaN
  EXPECT_EQ(x.logsumexp(0, true).shape(), (Shape{1, 3}));
  EXPECT_NEAR(logsumexp(from_vector({0.5f}, {}), 0).item(), 0.5f, 1e-7);  // a scalar
}

TEST(ReduceGradPort, Logsumexp) {
  // Its gradient is softmax along the dim.
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return logsumexp(t * 3.0f, 1); }, in({3, 4}, 48)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.logsumexp(-1, true) * t; }, in({2, 3}, 49)));
}

TEST(ReducePort, LogsumexpErrors) {
  EXPECT_TRUE(throws_error_all([] { logsumexp(ones({2, 3}), 2); }, {"logsumexp", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([] { logsumexp(ones({2, 0}), 1); }, {"logsumexp", "(2, 0)"}));
}

// ---- argmax/argmin and NaN --------------------------------------------------------------

TEST(ReduceNaN, ArgmaxAndArgminPointAtTheNaNMaxReports) {
  Tensor x = from_vector({1, NAN, 3, NAN}, {4});
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_EQ(argmax(x).item(), 1.0f);  // the first NaN, as torch.argmax
  EXPECT_EQ(argmax(x, 0).item(), 1.0f);
  EXPECT_EQ(argmin(x, 0).item(), 1.0f);  // torch.argmin: NaN counts as the minimum too
}

TEST(ReduceNaN, AlongRowsAndColumns) {
  // Rows (the reduced dim is contiguous): [[1, NaN, 3], [NaN, 0, NaN]] -> [1, 0].
  Tensor rows = from_vector({1, NAN, 3, NAN, 0, NAN}, {2, 3});
  EXPECT_TRUE(tensor_near(argmax(rows, 1), {2}, {1, 0}, 0, 0));
  EXPECT_TRUE(tensor_near(argmin(rows, 1), {2}, {1, 0}, 0, 0));
  // Columns (the reduced dim is strided): [[1, 5], [NaN, 2], [3, NaN]] along dim 0 -> [1, 2].
  Tensor columns = from_vector({1, 5, NAN, 2, 3, NAN}, {3, 2});
  EXPECT_TRUE(tensor_near(argmax(columns, 0), {2}, {1, 2}, 0, 0));
  EXPECT_TRUE(tensor_near(argmin(columns, 0), {2}, {1, 2}, 0, 0));
  // Without a NaN nothing changes: ties still go to the first index.
  Tensor ties = from_vector({2, 7, 7, 0, 0}, {5});
  EXPECT_EQ(argmax(ties).item(), 1.0f);
  EXPECT_EQ(argmin(ties, 0).item(), 3.0f);
}
