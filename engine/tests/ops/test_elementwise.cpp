// Element-wise ops: arithmetic (tensor-tensor, tensor-scalar both sides), unary maths, pow
// in all three forms, comparisons, where, masked_fill, clamp, maximum/minimum.
//   * forward values, against <cmath> in double;
//   * gradients, by finite differences, including broadcasting (the gradient of a broadcast
//     input must be summed back to the input's shape), scalar forms and non-contiguous
//     operands;
//   * the forms a port from PyTorch reaches for (issue 12): masked_fill broadcasting both
//     ways, where with a scalar branch, one-sided clamp;
//   * relu and NaN, as PyTorch (issue 12).
// Suite names start with "Elementwise", which the reference-backend run selects
// (engine/CMakeLists.txt).
#include "gradcheck.h"

#include <cmath>
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

using V = std::vector<Tensor>;
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }
Tensor positive(const Shape& s, uint32_t seed) { return make_input(s, 0.5f, 2.0f, seed); }

// 0, 1, 2, ... in shape s.
Tensor counting(const Shape& s) { return arange(static_cast<float>(numel_of(s))).reshape(s); }

}  // namespace

// ---- forward values ---------------------------------------------------------------------

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

// ---- gradients --------------------------------------------------------------------------

TEST(ElementwiseGrad, AddSubMulDivSameShape) {
  V xs{in({2, 3}, 1), positive({2, 3}, 2)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] + v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] - v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] / v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return add(v[0], v[1]) * sub(v[0], v[1]); }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return div(mul(v[0], v[1]), v[1] + 1.0f); }, xs));
}

TEST(ElementwiseGrad, BroadcastColumnAndRow) {
  V xs{in({3, 1}, 3), positive({1, 4}, 4)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] + v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] - v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] / v[1]; }, xs));
}

TEST(ElementwiseGrad, BroadcastMatrixAndVector) {
  V xs{in({2, 3}, 5), positive({3}, 6)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[1] / v[0].exp(); }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] / v[1] - v[1]; }, xs));
}

TEST(ElementwiseGrad, BroadcastScalarTensor) {
  V xs{positive({}, 7), in({2, 3}, 8)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1] + v[0]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[1] / v[0]; }, xs));
}

TEST(ElementwiseGrad, BroadcastThreeDims) {
  V xs{in({2, 1, 4}, 9), positive({3, 1}, 10)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1]; }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] / v[1]; }, xs));
}

TEST(ElementwiseGrad, BroadcastGradientHasInputShapeAndSums) {
  Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
  Tensor b = tensor({10, 20, 30});
  Tensor c = tensor(2.0f);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  c.set_requires_grad(true);
  (a * b + c).sum().backward();
  EXPECT_TRUE(tensor_near(a.grad(), {2, 3}, {10, 20, 30, 10, 20, 30}));
  EXPECT_TRUE(tensor_near(b.grad(), {3}, {5, 7, 9}));
  EXPECT_TRUE(tensor_near(c.grad(), {}, {6}));
}

TEST(ElementwiseGrad, ScalarForms) {
  Tensor x = positive({2, 3}, 11);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t + 2.0f; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t - 2.0f; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t * -3.0f; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t / 4.0f; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return 2.0f + t; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return 2.0f - t; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return -3.0f * t; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return 1.5f / t; }, x));
}

TEST(ElementwiseGrad, NegExpLogSqrt) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return -t; }, in({2, 3}, 12)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return neg(t); }, in({2, 3}, 12)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return exp(t); }, in({2, 3}, 13)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return log(t); }, positive({2, 3}, 14)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sqrt(t); }, positive({2, 3}, 15)));
}

TEST(ElementwiseGrad, AbsAndReluAwayFromZero) {
  Tensor x = make_away_from_zero({3, 4}, 0.1f, 1.5f, 16);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return abs(t); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return relu(t); }, x));
  // Hand check of relu's mask.
  Tensor y = tensor({-1, 2, -3, 4});
  y.set_requires_grad(true);
  relu(y).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {4}, {0, 1, 0, 1}));
}

TEST(ElementwiseGrad, SigmoidTanh) {
  Tensor x = make_input({3, 4}, -2.0f, 2.0f, 17);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sigmoid(t); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return tanh(t); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.sigmoid() * t.tanh(); }, x));
}

TEST(ElementwiseGrad, PowScalarExponent) {
  Tensor x = positive({2, 3}, 18);
  for (float e : {2.0f, 3.0f, 0.5f, -1.0f, -2.5f, 1.0f}) {
    SCOPED_TRACE("exponent " + std::to_string(e));
    EXPECT_TRUE(gradcheck1([e](const Tensor& t) { return pow(t, e); }, x));
  }
  // Integer exponents on negative bases.
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.pow(3.0f); }, in({2, 3}, 19)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.pow(2.0f); }, in({2, 3}, 19)));
}

TEST(ElementwiseGrad, PowTensorExponent) {
  V xs{positive({2, 3}, 20), in({2, 3}, 21)};
  EXPECT_TRUE(gradcheck([](const V& v) { return pow(v[0], v[1]); }, xs));
  V bs{positive({2, 3}, 22), in({3}, 23)};  // broadcast exponent
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0].pow(v[1]); }, bs));
}

TEST(ElementwiseGrad, PowScalarBase) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return pow(2.0f, t); }, in({2, 3}, 24)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return pow(0.5f, t); }, in({2, 3}, 25)));
}

TEST(ElementwiseGrad, WhereRoutesGradient) {
  Tensor cond = tensor({{1, 0, 1}, {0, 0, 1}});
  V xs{in({2, 3}, 26), in({2, 3}, 27)};
  EXPECT_TRUE(gradcheck([&](const V& v) { return where(cond, v[0], v[1]); }, xs));
  EXPECT_TRUE(gradcheck([&](const V& v) { return where(cond, v[0] * v[1], 3.0f); }, xs));
  V bs{in({3}, 28), in({2, 1}, 29)};  // broadcast x and y
  EXPECT_TRUE(gradcheck([&](const V& v) { return where(cond, v[0], v[1]); }, bs));
  Tensor x = ones({3}), y = ones({3});
  x.set_requires_grad(true);
  y.set_requires_grad(true);
  where(tensor({1, 0, 1}), x, y).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {1, 0, 1}));
  EXPECT_TRUE(tensor_near(y.grad(), {3}, {0, 1, 0}));
}

TEST(ElementwiseGrad, MaskedFill) {
  Tensor mask = tensor({{0, 1, 0}, {1, 0, 0}});
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return masked_fill(t, mask, -2.0f).exp(); },
                         in({2, 3}, 30)));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return t.masked_fill(tensor({1, 0, 0}), 0.0f); },
                         in({2, 3}, 31)));
  // Through softmax with -inf, as in causal attention: no NaN reaches the gradient.
  Tensor causal = tril(ones({3, 3}));
  EXPECT_TRUE(gradcheck1(
      [&](const Tensor& t) { return t.masked_fill(causal == 0.0f, -INFINITY).softmax(-1); },
      in({2, 3, 3}, 32)));
}

TEST(ElementwiseGrad, ClampInsideAndOutsideBounds) {
  // Values at least 0.1 from the bounds -0.5 and 0.5.
  Tensor x = tensor({{-1.2f, -0.7f, -0.3f}, {0.0f, 0.35f, 0.9f}});
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return clamp(t, -0.5f, 0.5f); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.clamp(-0.5f, 0.5f) * t; }, x));
  Tensor y = x.clone();
  y.set_requires_grad(true);
  y.clamp(-0.5f, 0.5f).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2, 3}, {0, 0, 1, 1, 1, 0}));
}

TEST(ElementwiseGrad, MaximumMinimumWithoutTies) {
  Tensor a = tensor({{-1, 0.5f, 2}, {0.3f, -0.4f, 1}});
  Tensor b = tensor({{0, 1, 1}, {-0.5f, 0.4f, 0.2f}});
  EXPECT_TRUE(gradcheck([](const V& v) { return maximum(v[0], v[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& v) { return minimum(v[0], v[1]); }, {a, b}));
  // Broadcast operand.
  EXPECT_TRUE(gradcheck([](const V& v) { return maximum(v[0], v[1]); }, {a, tensor({0.0f, 0.0f, 0.0f})}));
  EXPECT_TRUE(gradcheck([](const V& v) { return minimum(v[0], v[1]); }, {a, tensor(0.1f)}));
}

TEST(ElementwiseGrad, NonContiguousOperands) {
  V xs{in({3, 4}, 33), positive({4, 3}, 34)};
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0] * v[1].t(); }, xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0].slice(1, 0, 4, 2) / v[1].slice(0, 1, 3).t(); },
                        xs));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0].t().exp() + v[1]; }, xs));
}

TEST(ElementwiseGrad, ComposedExpression) {
  // A small "layer": tanh(x * w + b) squared, with broadcasting everywhere.
  V xs{in({4, 3}, 35), in({3}, 36), in({1, 3}, 37)};
  EXPECT_TRUE(
      gradcheck([](const V& v) { return (v[0] * v[1] + v[2]).tanh().pow(2.0f) + v[0].sigmoid(); }, xs));
}

// ---- ports from PyTorch: masked_fill, where with a scalar, clamp_min/max ----------------

TEST(ElementwisePort, MaskedFillBroadcastsTensorAndMaskAgainstEachOther) {
  // The notes' attention line: M (B=4, T, T), mask (1, 1, T, T) (a causal buffer sliced to T),
  //   M = M.masked_fill(mask[:, :, :T, :T] == 0, float('-inf'))[0]
  // The result is (1, 4, T, T); [0] gives (4, T, T) with the future hidden.
  const int64_t T = 2;
  Tensor buffer = tril(ones({1, 1, 3, 3}));  // register_buffer'd for a block size of 3
  Tensor mask = buffer.index({Slice(0, 1), Slice(0, 1), Slice(0, T), Slice(0, T)});
  Tensor M = counting({4, T, T});
  Tensor filled = M.masked_fill(mask == 0.0f, -INFINITY);
  EXPECT_EQ(filled.shape(), (Shape{1, 4, T, T}));
  const float inf = INFINITY;
  EXPECT_TRUE(tensor_near(filled[0], {4, T, T},
                          {0, -inf, 2, 3, 4, -inf, 6, 7, 8, -inf, 10, 11, 12, -inf, 14, 15}));
}

TEST(ElementwisePort, MaskedFillWithAMaskLargerThanTheTensor) {
  // x (3,) and mask (2, 3) give (2, 3): each row of x, filled where its row of mask says.
  Tensor mask = from_vector({1, 0, 0, 0, 1, 0}, {2, 3});
  EXPECT_TRUE(tensor_near(masked_fill(from_vector({7, 8, 9}, {3}), mask, -2.0f), {2, 3},
                          {-2, 8, 9, 7, -2, 9}));
}

TEST(ElementwisePort, MaskedFillInPlace) {
  // Raschka's attn_scores.masked_fill_(mask_bool, -torch.inf), on a tensor without grad.
  Tensor scores = counting({2, 2, 2});
  Tensor mask = triu(ones({2, 2}), 1);  // (2, 2) broadcasts over the batch
  Tensor& same = scores.masked_fill_(mask, -1.0f);
  EXPECT_EQ(&same, &scores);
  EXPECT_TRUE(tensor_near(scores, {2, 2, 2}, {0, -1, 2, 3, 4, -1, 6, 7}));
}

TEST(ElementwisePort, MaskedFillInPlaceErrorsSayWhatToWrite) {
  Tensor scores = counting({2, 2}).set_requires_grad(true) * 1.0f;  // a result that requires grad
  EXPECT_TRUE(throws_error([&] { scores.masked_fill_(eye(2), 0.0f); },
                           "write x = x.masked_fill(mask, value) instead"));
  Tensor plain = counting({2});
  EXPECT_TRUE(throws_error([&] { plain.masked_fill_(ones({3, 2}), 0.0f); },
                           "masked_fill_: a mask of shape (3, 2) would make the result (3, 2), but the "
                           "tensor changed in place has shape (2,)"));
  {
    NoGradGuard no_grad;  // outside recording it is allowed, as every in-place op
    scores.masked_fill_(eye(2), 0.0f);
  }
  EXPECT_TRUE(tensor_near(scores.detach(), {2, 2}, {0, 1, 2, 0}));
}

TEST(ElementwiseGradPort, MaskedFillBroadcastGradientSumsBack) {
  // x (3,) used by both rows: the gradient of sum() is how many rows left it unfilled.
  Tensor mask = from_vector({1, 0, 0, 0, 1, 0}, {2, 3});
  Tensor x = from_vector({7, 8, 9}, {3}).requires_grad_(true);
  masked_fill(x, mask, -2.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {1, 1, 2}));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return masked_fill(t, mask, -2.0f).exp(); },
                         in({3}, 40)));
  // And the attention shape: (4, 2, 2) against (1, 1, 2, 2), through softmax.
  Tensor causal = tril(ones({1, 1, 2, 2}));
  EXPECT_TRUE(gradcheck1(
      [&](const Tensor& t) { return t.masked_fill(causal == 0.0f, -INFINITY).softmax(-1); },
      in({4, 2, 2}, 41)));
}

TEST(ElementwisePort, MaskedFillErrorNamesBothShapes) {
  EXPECT_TRUE(throws_error_all([] { masked_fill(ones({4, 2}), ones({3, 2}), 0.0f); },
                               {"masked_fill", "(4, 2)", "(3, 2)"}));
}

TEST(ElementwisePort, WhereWithAScalarEitherSide) {
  Tensor cond = from_vector({1, 0}, {2, 1});  // broadcasts against (3,): (2, 3)
  Tensor y = from_vector({1, 2, 3}, {3});
  EXPECT_TRUE(tensor_near(where(cond, 5.0f, y), {2, 3}, {5, 5, 5, 1, 2, 3}));
  EXPECT_TRUE(tensor_near(where(cond, y, 5.0f), {2, 3}, {1, 2, 3, 5, 5, 5}));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return where(cond, -1.0f, t) * t; }, in({3}, 43)));
  EXPECT_TRUE(throws_error_all([&] { where(ones({2}), 1.0f, ones({3})); }, {"where", "(2,)", "(3,)"}));
}

TEST(ElementwisePort, ClampMinAndClampMax) {
  Tensor x = from_vector({-3, -0.5f, 0.5f, 3, NAN}, {5});
  std::vector<float> low = clamp_min(x, 0.0f).to_vector();
  std::vector<float> high = x.clamp_max(1.0f).to_vector();
  EXPECT_EQ(std::vector<float>(low.begin(), low.end() - 1), (std::vector<float>{0, 0, 0.5f, 3}));
  EXPECT_EQ(std::vector<float>(high.begin(), high.end() - 1),
            (std::vector<float>{-3, -0.5f, 0.5f, 1}));
  EXPECT_TRUE(std::isnan(low.back()));  // a NaN stays NaN, as torch.clamp
  EXPECT_TRUE(std::isnan(high.back()));
}

TEST(ElementwiseGradPort, ClampMinAndClampMax) {
  // Values at least 0.1 from the bound 0.2.
  Tensor x = from_vector({-1.2f, -0.3f, 0.0f, 0.35f, 0.9f, 1.4f}, {2, 3});
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return clamp_min(t, 0.2f) * t; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.clamp_max(0.2f) * t; }, x));
  Tensor y = x.clone().requires_grad_(true);
  clamp_min(y, 0.2f).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2, 3}, {0, 0, 0, 1, 1, 1}));
  EXPECT_TRUE(throws_error([] { clamp_min(ones({2}), NAN); }, "clamp_min"));
  EXPECT_TRUE(throws_error([] { clamp_max(ones({2}), NAN); }, "clamp_max"));
}

// ---- relu and NaN (threshold_backward's rule) -------------------------------------------

TEST(ElementwiseReluNaN, ForwardKeepsNaN) {
  std::vector<float> y = relu(from_vector({-1, 0, 2, NAN}, {4})).to_vector();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
  EXPECT_TRUE(std::isnan(y[3]));
}

TEST(ElementwiseReluNaN, BackwardPassesTheGradientOfANaN) {
  // PyTorch: relu's backward is threshold_backward(grad, result, 0) = result <= 0 ? 0 : grad,
  // and NaN <= 0 is false, so x.grad = [0, 0, 1, 1] for x = [-1, 0, 2, NaN].
  Tensor x = from_vector({-1, 0, 2, NAN}, {4}).requires_grad_(true);
  relu(x).sum().backward();
  std::vector<float> g = x.grad().to_vector();
  EXPECT_EQ(g, (std::vector<float>{0, 0, 1, 1}));
}
