// Forward values of element-wise ops: arithmetic (tensor-tensor, tensor-scalar both
// sides), unary maths, pow in all three forms, comparisons, where, masked_fill, clamp,
// maximum/minimum. Expected values come from <cmath> in double.
#include "gradcheck.h"

#include <functional>

using namespace ember;
using namespace ember_test;

namespace {

std::vector<float> map(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<float> v = x.to_vector();
  for (auto& e : v) e = static_cast<float>(f(e));
  return v;
}

std::vector<float> zip(const Tensor& a, const Tensor& b,
                       const std::function<double(double, double)>& f) {
  std::vector<float> va = a.to_vector(), vb = b.to_vector();
  std::vector<float> out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = static_cast<float>(f(va[i], vb[i]));
  return out;
}

}  // namespace

TEST(Elementwise, AddSubMulDivTensors) {
  Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
  Tensor b = tensor({{0.5f, -1, 2}, {8, 0.25f, -3}});
  EXPECT_TRUE(tensor_near(a + b, {2, 3}, {1.5f, 1, 5, 12, 5.25f, 3}));
  EXPECT_TRUE(tensor_near(a - b, {2, 3}, {0.5f, 3, 1, -4, 4.75f, 9}));
  EXPECT_TRUE(tensor_near(a * b, {2, 3}, {0.5f, -2, 6, 32, 1.25f, -18}));
  EXPECT_TRUE(tensor_near(a / b, {2, 3}, {2, -2, 1.5f, 0.5f, 20, -2}));
  EXPECT_TRUE(tensors_near(add(a, b), a + b));
  EXPECT_TRUE(tensors_near(sub(a, b), a - b));
  EXPECT_TRUE(tensors_near(mul(a, b), a * b));
  EXPECT_TRUE(tensors_near(div(a, b), a / b));
}

TEST(Elementwise, ScalarOnTheRight) {
  Tensor a = tensor({1, -2, 4});
  EXPECT_TRUE(tensor_near(a + 1.5f, {3}, {2.5f, -0.5f, 5.5f}));
  EXPECT_TRUE(tensor_near(a - 1.0f, {3}, {0, -3, 3}));
  EXPECT_TRUE(tensor_near(a * -2.0f, {3}, {-2, 4, -8}));
  EXPECT_TRUE(tensor_near(a / 4.0f, {3}, {0.25f, -0.5f, 1}));
}

TEST(Elementwise, ScalarOnTheLeft) {
  Tensor a = tensor({1, -2, 4});
  EXPECT_TRUE(tensor_near(1.5f + a, {3}, {2.5f, -0.5f, 5.5f}));
  EXPECT_TRUE(tensor_near(1.0f - a, {3}, {0, 3, -3}));
  EXPECT_TRUE(tensor_near(-2.0f * a, {3}, {-2, 4, -8}));
  EXPECT_TRUE(tensor_near(4.0f / a, {3}, {4, -2, 1}));
}

TEST(Elementwise, ScalarTensorOperands) {
  Tensor s = tensor(2.0f);
  EXPECT_TRUE(tensor_near(s * s + s, {}, {6}));
  EXPECT_TRUE(tensor_near(s / 4.0f, {}, {0.5f}));
}

TEST(Elementwise, Negation) {
  Tensor a = tensor({1, -2, 0.5f});
  EXPECT_TRUE(tensor_near(-a, {3}, {-1, 2, -0.5f}));
  EXPECT_TRUE(tensor_near(neg(a), {3}, {-1, 2, -0.5f}));
  EXPECT_TRUE(tensor_near(a.neg(), {3}, {-1, 2, -0.5f}));
}

TEST(Elementwise, ExpLogSqrt) {
  Tensor a = tensor({0.25f, 1, 2.5f, 9});
  EXPECT_TRUE(tensor_near(exp(a), {4}, map(a, [](double v) { return std::exp(v); })));
  EXPECT_TRUE(tensor_near(log(a), {4}, map(a, [](double v) { return std::log(v); })));
  EXPECT_TRUE(tensor_near(sqrt(a), {4}, {0.5f, 1, std::sqrt(2.5f), 3}));
  EXPECT_TRUE(tensors_near(a.exp(), exp(a)));
  EXPECT_TRUE(tensors_near(a.log(), log(a)));
  EXPECT_TRUE(tensors_near(a.sqrt(), sqrt(a)));
  EXPECT_TRUE(tensor_near(exp(tensor({-2, 0})), {2}, {std::exp(-2.0f), 1}));
}

TEST(Elementwise, LogAndSqrtEdgeValues) {
  std::vector<float> l = log(tensor({0, -1})).to_vector();
  EXPECT_TRUE(std::isinf(l[0]) && l[0] < 0);  // log(0) = -inf
  EXPECT_TRUE(std::isnan(l[1]));               // log(-1) = nan
  EXPECT_TRUE(std::isnan(sqrt(tensor({-4})).to_vector()[0]));
}

TEST(Elementwise, AbsAndRelu) {
  Tensor a = tensor({-2, -0.5f, 0, 0.5f, 3});
  EXPECT_TRUE(tensor_near(abs(a), {5}, {2, 0.5f, 0, 0.5f, 3}));
  EXPECT_TRUE(tensor_near(relu(a), {5}, {0, 0, 0, 0.5f, 3}));
  EXPECT_TRUE(tensors_near(a.abs(), abs(a)));
  EXPECT_TRUE(tensors_near(a.relu(), relu(a)));
}

TEST(Elementwise, SigmoidAndTanh) {
  Tensor a = tensor({-3, -0.5f, 0, 0.5f, 3});
  EXPECT_TRUE(tensor_near(sigmoid(a), {5}, map(a, [](double v) { return 1 / (1 + std::exp(-v)); })));
  EXPECT_TRUE(tensor_near(tanh(a), {5}, map(a, [](double v) { return std::tanh(v); })));
  EXPECT_TRUE(tensors_near(a.sigmoid(), sigmoid(a)));
  EXPECT_TRUE(tensors_near(a.tanh(), tanh(a)));
}

TEST(Elementwise, SigmoidSaturatesWithoutNan) {
  Tensor a = tensor({-1000, -100, 100, 1000});
  EXPECT_TRUE(tensor_near(sigmoid(a), {4}, {0, 0, 1, 1}, 1e-6));
  EXPECT_TRUE(tensor_near(tanh(a), {4}, {-1, -1, 1, 1}, 1e-6));
}

TEST(Elementwise, PowScalarExponent) {
  Tensor a = tensor({0.5f, 1, 2, 3});
  EXPECT_TRUE(tensor_near(pow(a, 2.0f), {4}, {0.25f, 1, 4, 9}));
  EXPECT_TRUE(tensor_near(a.pow(3.0f), {4}, {0.125f, 1, 8, 27}));
  EXPECT_TRUE(tensor_near(pow(a, 0.5f), {4}, map(a, [](double v) { return std::sqrt(v); })));
  EXPECT_TRUE(tensor_near(pow(a, -1.0f), {4}, {2, 1, 0.5f, 1.0f / 3}));
  EXPECT_TRUE(tensor_near(pow(tensor({-2, -3}), 2.0f), {2}, {4, 9}));
  EXPECT_TRUE(tensor_near(pow(a, 0.0f), {4}, {1, 1, 1, 1}));
}

TEST(Elementwise, PowTensorExponent) {
  Tensor base = tensor({2, 3, 0.5f, 4});
  Tensor e = tensor({3, 0, -2, 0.5f});
  EXPECT_TRUE(tensor_near(pow(base, e), {4}, {8, 1, 4, 2}));
  EXPECT_TRUE(tensors_near(base.pow(e), pow(base, e)));
}

TEST(Elementwise, PowScalarBase) {
  Tensor e = tensor({0, 1, 3, -1});
  EXPECT_TRUE(tensor_near(pow(2.0f, e), {4}, {1, 2, 8, 0.5f}));
  EXPECT_TRUE(tensor_near(pow(std::exp(1.0f), tensor({0.5f})), {1}, {std::exp(0.5f)}, 1e-5, 1e-5));
}

TEST(Elementwise, ComparisonsTensorForms) {
  Tensor a = tensor({1, 2, 3, 4});
  Tensor b = tensor({4, 2, 1, 5});
  EXPECT_TRUE(tensor_near(eq(a, b), {4}, {0, 1, 0, 0}));
  EXPECT_TRUE(tensor_near(ne(a, b), {4}, {1, 0, 1, 1}));
  EXPECT_TRUE(tensor_near(lt(a, b), {4}, {1, 0, 0, 1}));
  EXPECT_TRUE(tensor_near(le(a, b), {4}, {1, 1, 0, 1}));
  EXPECT_TRUE(tensor_near(gt(a, b), {4}, {0, 0, 1, 0}));
  EXPECT_TRUE(tensor_near(ge(a, b), {4}, {0, 1, 1, 0}));
  EXPECT_TRUE(tensors_near(a == b, eq(a, b)));
  EXPECT_TRUE(tensors_near(a != b, ne(a, b)));
  EXPECT_TRUE(tensors_near(a < b, lt(a, b)));
  EXPECT_TRUE(tensors_near(a <= b, le(a, b)));
  EXPECT_TRUE(tensors_near(a > b, gt(a, b)));
  EXPECT_TRUE(tensors_near(a >= b, ge(a, b)));
}

TEST(Elementwise, ComparisonsScalarForms) {
  Tensor a = tensor({1, 2, 3});
  EXPECT_TRUE(tensor_near(a == 2.0f, {3}, {0, 1, 0}));
  EXPECT_TRUE(tensor_near(a != 2.0f, {3}, {1, 0, 1}));
  EXPECT_TRUE(tensor_near(a < 2.0f, {3}, {1, 0, 0}));
  EXPECT_TRUE(tensor_near(a <= 2.0f, {3}, {1, 1, 0}));
  EXPECT_TRUE(tensor_near(a > 2.0f, {3}, {0, 0, 1}));
  EXPECT_TRUE(tensor_near(a >= 2.0f, {3}, {0, 1, 1}));
}

TEST(Elementwise, ComparisonsBroadcastAndDoNotRequireGrad) {
  Tensor a = tensor({{1, 5}, {3, 2}});
  a.set_requires_grad(true);
  Tensor c = a > tensor({2, 2});
  EXPECT_TRUE(tensor_near(c, {2, 2}, {0, 1, 1, 0}));
  EXPECT_FALSE(c.requires_grad());
  EXPECT_FALSE((a == 1.0f).requires_grad());
}

TEST(Elementwise, WhereTensorTensor) {
  Tensor cond = tensor({1, 0, 2, 0});  // any non-zero counts as true
  Tensor x = tensor({1, 2, 3, 4});
  Tensor y = tensor({-1, -2, -3, -4});
  EXPECT_TRUE(tensor_near(where(cond, x, y), {4}, {1, -2, 3, -4}));
}

TEST(Elementwise, WhereTensorScalar) {
  Tensor cond = tensor({0, 1, 1});
  EXPECT_TRUE(tensor_near(where(cond, tensor({5, 6, 7}), -1.0f), {3}, {-1, 6, 7}));
}

TEST(Elementwise, WhereBroadcastsAllThree) {
  Tensor cond = from_vector({1, 0}, {2, 1});
  Tensor x = tensor({1, 2, 3});
  Tensor y = tensor(0.0f);
  EXPECT_TRUE(tensor_near(where(cond, x, y), {2, 3}, {1, 2, 3, 0, 0, 0}));
  EXPECT_TRUE(tensor_near(where(x > 1.5f, x, 10.0f), {3}, {10, 2, 3}));
}

TEST(Elementwise, MaskedFill) {
  Tensor x = tensor({{1, 2}, {3, 4}});
  Tensor mask = tensor({{0, 1}, {1, 0}});
  EXPECT_TRUE(tensor_near(masked_fill(x, mask, -5.0f), {2, 2}, {1, -5, -5, 4}));
  EXPECT_TRUE(tensors_near(x.masked_fill(mask, -5.0f), masked_fill(x, mask, -5.0f)));
  // The mask broadcasts to x's shape.
  EXPECT_TRUE(tensor_near(masked_fill(x, tensor({1, 0}), 0.0f), {2, 2}, {0, 2, 0, 4}));
  EXPECT_TRUE(tensor_near(x, {2, 2}, {1, 2, 3, 4}));  // not in place
}

TEST(Elementwise, CausalMaskWithMinusInfinityThenSoftmax) {
  const int64_t T = 4;
  Tensor scores = make_input({2, T, T}, -1.0f, 1.0f, 5);
  Tensor causal = tril(ones({T, T}));
  Tensor masked = scores.masked_fill(causal == 0.0f, -INFINITY);
  std::vector<float> m = masked.to_vector();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) {
        float v = m[(b * T + i) * T + j];
        if (j > i) {
          EXPECT_TRUE(std::isinf(v) && v < 0);
        } else {
          EXPECT_FLOAT_EQ(v, scores.at({b, i, j}));
        }
      }
  Tensor p = masked.softmax(-1);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < T; ++i) {
      double row = 0;
      for (int64_t j = 0; j < T; ++j) {
        float v = p.at({b, i, j});
        ASSERT_FALSE(std::isnan(v));
        if (j > i) {
          EXPECT_EQ(v, 0.0f);
        }
        row += v;
      }
      EXPECT_NEAR(row, 1.0, 1e-5);
    }
  EXPECT_FLOAT_EQ(p.at({1, 0, 0}), 1.0f);  // the first row attends only to itself
}

TEST(Elementwise, Clamp) {
  Tensor a = tensor({-3, -1, 0.5f, 2, 7});
  EXPECT_TRUE(tensor_near(clamp(a, -1.5f, 2.5f), {5}, {-1.5f, -1, 0.5f, 2, 2.5f}));
  EXPECT_TRUE(tensors_near(a.clamp(-1.5f, 2.5f), clamp(a, -1.5f, 2.5f)));
  EXPECT_TRUE(tensor_near(clamp(a, 0.0f, 0.0f), {5}, {0, 0, 0, 0, 0}));
}

TEST(Elementwise, MaximumMinimum) {
  Tensor a = tensor({1, 5, -2, 3});
  Tensor b = tensor({2, 4, -3, 3});
  EXPECT_TRUE(tensor_near(maximum(a, b), {4}, {2, 5, -2, 3}));
  EXPECT_TRUE(tensor_near(minimum(a, b), {4}, {1, 4, -3, 3}));
  EXPECT_TRUE(tensor_near(maximum(a, tensor(0.0f)), {4}, {1, 5, 0, 3}));
}

TEST(Elementwise, OpsOnNonContiguousInputs) {
  Tensor m = make_input({3, 4}, 0.5f, 2.0f, 8);
  Tensor t = m.t();  // (4, 3)
  Tensor tc = t.contiguous();
  EXPECT_TRUE(tensors_near(exp(t), exp(tc)));
  EXPECT_TRUE(tensors_near(t * t + 1.0f, tc * tc + 1.0f));
  EXPECT_TRUE(tensors_near(log(t) - sqrt(t), log(tc) - sqrt(tc)));
  Tensor s = m.slice(1, 0, 4, 2);  // (3, 2) with stride 2
  EXPECT_TRUE(tensors_near(sigmoid(s), sigmoid(s.contiguous())));
  EXPECT_TRUE(tensors_near(pow(s, 2.0f), s.contiguous() * s.contiguous()));
  Tensor e = tensor({1, 2}).expand({3, 2});
  EXPECT_TRUE(tensor_near(e * 3.0f, {3, 2}, {3, 6, 3, 6, 3, 6}));
}

TEST(Elementwise, ResultsAreFreshContiguousTensors) {
  Tensor a = tensor({1, 2, 3});
  Tensor b = a + 0.0f;
  EXPECT_FALSE(b.same_impl(a));
  EXPECT_TRUE(b.is_contiguous());
  b.fill_(0.0f);
  EXPECT_TRUE(tensor_near(a, {3}, {1, 2, 3}));
}

TEST(Elementwise, LargerRandomMatchesReference) {
  Tensor a = make_input({7, 9}, 0.1f, 3.0f, 11);
  Tensor b = make_input({7, 9}, -2.0f, 2.0f, 12);
  EXPECT_TRUE(tensor_near(a * b - a / (b * b + 1.0f), {7, 9},
                          zip(a, b, [](double x, double y) { return x * y - x / (y * y + 1); }),
                          1e-5, 1e-5));
  EXPECT_TRUE(tensor_near(pow(a, b), {7, 9},
                          zip(a, b, [](double x, double y) { return std::pow(x, y); }), 1e-5, 1e-4));
}
