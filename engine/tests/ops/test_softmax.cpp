// softmax / log_softmax on every dim and numerical stability: forward values against
// softmax computed in double, gradients by finite differences, and log_softmax of large
// logits as PyTorch computes it ((x - max) - log(sum), issue 12).
#include "gradcheck.h"

#include <cmath>

using namespace ember;
using namespace ember_test;

namespace {

// Softmax (or log-softmax) of a 3-D tensor along dim d, computed in double.
std::vector<float> softmax_ref(const Tensor& x, int64_t d, bool log_space) {
  const Shape& s = x.shape();
  std::vector<float> out(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        std::vector<int64_t> idx{i, j, k};
        double m = -INFINITY;
        for (int64_t r = 0; r < s[d]; ++r) {
          idx[d] = r;
          m = std::max<double>(m, x.at(idx));
        }
        double z = 0;
        for (int64_t r = 0; r < s[d]; ++r) {
          idx[d] = r;
          z += std::exp(x.at(idx) - m);
        }
        idx = {i, j, k};
        double v = x.at(idx) - m - std::log(z);
        out[(i * s[1] + j) * s[2] + k] = static_cast<float>(log_space ? v : std::exp(v));
      }
  return out;
}

}  // namespace

// ---- forward values ---------------------------------------------------------------------

TEST(Softmax, RowLengthsAroundTheVectorWidth) {
  // The CPU kernel handles 16 columns at a time, and short rows a block of rows at a time;
  // widths on both sides of 16 and 32, and wide value ranges (exp underflows to 0 below -87).
  for (int64_t cols : {1, 7, 8, 15, 16, 17, 33, 100}) {
    SCOPED_TRACE("cols " + std::to_string(cols));
    Tensor x = make_input({3, 5, cols}, -60, 60, 91);
    EXPECT_TRUE(tensor_near(softmax(x, 2), {3, 5, cols}, softmax_ref(x, 2, false), 1e-6, 1e-5));
    EXPECT_TRUE(tensor_near(log_softmax(x, 2), {3, 5, cols}, softmax_ref(x, 2, true), 1e-4, 1e-5));
  }
}

TEST(Softmax, InfinitiesAndNaN) {
  const float inf = INFINITY;
  // A masked entry gets 0, a row of -inf gives NaN (0 / 0, as PyTorch), a NaN spreads to
  // its row, and a gap of 100 leaves exactly 1 and next to nothing: exp(-100) is 3.8e-44, a
  // denormal that the fast CPU backend's exp flushes to 0 and the reference one keeps.
  Tensor x = from_vector({0, -inf, 1, -inf, -inf, -inf, 1, NAN, 2, 0, -100, -inf}, {4, 3});
  std::vector<float> p = softmax(x, 1).to_vector();
  const float e = std::exp(1.0f);
  EXPECT_NEAR(p[0], 1 / (1 + e), 1e-7);
  EXPECT_EQ(p[1], 0.0f);
  EXPECT_NEAR(p[2], e / (1 + e), 1e-7);
  for (int j = 3; j < 9; ++j) EXPECT_TRUE(std::isnan(p[j])) << j;
  EXPECT_EQ(p[9], 1.0f);
  EXPECT_LE(p[10], 4e-44f);
  EXPECT_GE(p[10], 0.0f);
  EXPECT_EQ(p[11], 0.0f);
  std::vector<float> lp = log_softmax(x, 1).to_vector();
  EXPECT_EQ(lp[1], -inf);
  EXPECT_NEAR(lp[10], -100.0f, 1e-5);
}

TEST(Softmax, EveryDimOfThreeDTensor) {
  Tensor x = make_input({2, 3, 4}, -2, 2, 81);
  for (int64_t d = 0; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(tensor_near(softmax(x, d), {2, 3, 4}, softmax_ref(x, d, false), 1e-6, 1e-5));
    EXPECT_TRUE(tensor_near(x.softmax(d - 3), {2, 3, 4}, softmax_ref(x, d, false), 1e-6, 1e-5));
    EXPECT_TRUE(tensor_near(log_softmax(x, d), {2, 3, 4}, softmax_ref(x, d, true), 1e-5, 1e-5));
    EXPECT_TRUE(tensor_near(x.log_softmax(d - 3), {2, 3, 4}, softmax_ref(x, d, true), 1e-5, 1e-5));
  }
}

TEST(Softmax, RowsSumToOne) {
  Tensor x = make_input({5, 7}, -3, 3, 82);
  Tensor p = softmax(x, 1);
  EXPECT_TRUE(tensor_near(p.sum(1), {5}, {1, 1, 1, 1, 1}, 1e-5));
  Tensor q = softmax(x, 0);
  EXPECT_TRUE(tensor_near(q.sum(0), {7}, std::vector<float>(7, 1.0f), 1e-5));
  for (float v : p.to_vector()) {
    EXPECT_GT(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(Softmax, HandComputed) {
  Tensor x = tensor({{0, std::log(3.0f)}});  // probabilities 1/4, 3/4
  EXPECT_TRUE(tensor_near(softmax(x, -1), {1, 2}, {0.25f, 0.75f}, 1e-6));
  EXPECT_TRUE(tensor_near(log_softmax(x, -1), {1, 2}, {std::log(0.25f), std::log(0.75f)}, 1e-6));
}

TEST(Softmax, StableWithLargeInputs) {
  Tensor x = tensor({{1000, 1000}, {1000, 0}, {-1000, -1000}});
  Tensor p = softmax(x, 1);
  EXPECT_TRUE(tensor_near(p, {3, 2}, {0.5f, 0.5f, 1, 0, 0.5f, 0.5f}, 1e-6));
  Tensor lp = log_softmax(x, 1);
  // One float32 ulp at 1000 is 6.1e-5, so an implementation that forms max + log(sum)
  // before subtracting is entitled to that much absolute error here.
  EXPECT_TRUE(tensor_near(lp, {3, 2}, {-std::log(2.0f), -std::log(2.0f), 0, -1000,
                                       -std::log(2.0f), -std::log(2.0f)},
                          1.5e-4, 1e-6));
  for (float v : lp.to_vector()) EXPECT_TRUE(std::isfinite(v));
  Tensor y = tensor({1000, 1001, 1002});
  EXPECT_TRUE(tensors_near(softmax(y, 0), softmax(y - 1000.0f, 0), 1e-6));
}

TEST(Softmax, NonContiguousInput) {
  Tensor x = make_input({4, 3}, -2, 2, 83);
  EXPECT_TRUE(tensors_near(softmax(x.t(), 1), softmax(x.t().contiguous(), 1)));
  EXPECT_TRUE(tensors_near(log_softmax(x.t(), 0), log_softmax(x.t().contiguous(), 0)));
  EXPECT_TRUE(tensors_near(softmax(x.t(), 1), softmax(x, 0).t()));
}

TEST(Softmax, OneDimensionalInput) {
  EXPECT_TRUE(tensor_near(softmax(tensor({1, 1, 1, 1}), 0), {4}, {0.25f, 0.25f, 0.25f, 0.25f}));
}

// ---- gradients --------------------------------------------------------------------------

TEST(SoftmaxGrad, EveryDim) {
  Tensor x = make_input({2, 3, 4}, -2.0f, 2.0f, 150);
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return softmax(t, d); }, x));
    EXPECT_TRUE(gradcheck1([d](const Tensor& t) { return log_softmax(t, d); }, x));
  }
}

TEST(SoftmaxGrad, NonContiguousAndComposed) {
  Tensor x = make_input({3, 4}, -2.0f, 2.0f, 151);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.t().softmax(1); }, x));
  // Cross-entropy as students write it: -mean(log_softmax(x)[target]).
  Tensor target = one_hot(tensor({1, 3, 0}), 4);
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return -(t.log_softmax(1) * target).sum(1).mean(); }, x));
}

TEST(SoftmaxGrad, LargeInputsGiveFiniteGradients) {
  Tensor x = tensor({{1000, 999, 0}});
  x.set_requires_grad(true);
  (log_softmax(x, 1) * tensor({{1, 0, 0}})).sum().backward();
  for (float g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
}

// ---- log_softmax of large logits keeps their digits -------------------------------------

TEST(SoftmaxPrecision, LogSoftmaxOfLargeEqualLogitsIsMinusLogTwo) {
  // Two equal logits: each has probability 1/2, log 1/2 = -0.69314718 whatever their size.
  // x - (log(sum) + max) rounds log 2 + 10000 to a float spaced 2^-10 apart: -0.693359.
  std::vector<float> y = log_softmax(from_vector({-10000, -10000}, {1, 2}), 1).to_vector();
  EXPECT_NEAR(y[0], -0.69314718f, 1e-6);
  EXPECT_NEAR(y[1], -0.69314718f, 1e-6);
}

TEST(SoftmaxPrecision, LogSoftmaxOfLargeLogitsKeepsTheirDifference) {
  // [10000, 10001]: log_softmax = [-1, 0] - log(1 + e^-1) = [-1.3132617, -0.3132617]. Along
  // dim 0 too, so the kernel's moved (non-last) dim is covered.
  Tensor x = from_vector({10000, 10001}, {2});
  EXPECT_TRUE(tensor_near(log_softmax(x, 0), {2}, {-1.3132617f, -0.3132617f}, 1e-6, 0));
  Tensor column = from_vector({10000, 10001}, {2, 1});
  EXPECT_TRUE(tensor_near(log_softmax(column, 0), {2, 1}, {-1.3132617f, -0.3132617f}, 1e-6, 0));
}
