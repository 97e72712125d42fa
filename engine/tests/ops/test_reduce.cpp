// Reductions: sum, mean, max, min, var (unbiased or not), argmax, argmin; whole-tensor and
// along a dim, negative dims, keepdim, non-contiguous inputs. Reference values are
// computed by brute force in double.
#include "gradcheck.h"

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

}  // namespace

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
