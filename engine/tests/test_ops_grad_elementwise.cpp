// Finite-difference gradient checks for element-wise ops, including broadcasting (the
// gradient of a broadcast input must be summed back to the input's shape), scalar forms,
// where/masked_fill/clamp/maximum/minimum, and non-contiguous operands.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
using V = std::vector<Tensor>;
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }
Tensor positive(const Shape& s, uint32_t seed) { return make_input(s, 0.5f, 2.0f, seed); }
}  // namespace

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
