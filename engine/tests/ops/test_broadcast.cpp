// NumPy broadcasting in element-wise ops, including non-contiguous operands, and
// sum_to_shape (the reduction that undoes a broadcast): its values and its gradient. The
// gradients of broadcast element-wise ops are in test_elementwise.cpp.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {

// Reference broadcast binary op computed through at() on explicitly expanded operands.
std::vector<float> reference(const Tensor& a, const Tensor& b, const Shape& out,
                             float (*f)(float, float)) {
  Tensor ea = a.expand(out), eb = b.expand(out);
  std::vector<float> va = ea.to_vector(), vb = eb.to_vector();
  std::vector<float> r(va.size());
  for (size_t i = 0; i < va.size(); ++i) r[i] = f(va[i], vb[i]);
  return r;
}

float f_add(float x, float y) { return x + y; }
float f_sub(float x, float y) { return x - y; }
float f_mul(float x, float y) { return x * y; }
float f_div(float x, float y) { return x / y; }

Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }

}  // namespace

TEST(Broadcast, ColumnPlusRow) {
  Tensor col = from_vector({1, 2, 3}, {3, 1});
  Tensor row = tensor({{10, 20, 30, 40}});
  EXPECT_TRUE(tensor_near(col + row, {3, 4}, {11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
  EXPECT_TRUE(tensor_near(row + col, {3, 4}, {11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
  EXPECT_TRUE(tensor_near(col * row, {3, 4}, {10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120}));
}

TEST(Broadcast, MatrixPlusVector) {
  Tensor m = tensor({{1, 2, 3}, {4, 5, 6}});
  Tensor v = tensor({10, 20, 30});
  EXPECT_TRUE(tensor_near(m + v, {2, 3}, {11, 22, 33, 14, 25, 36}));
  EXPECT_TRUE(tensor_near(v - m, {2, 3}, {9, 18, 27, 6, 15, 24}));
  EXPECT_TRUE(tensor_near(m / v, {2, 3}, {0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f}));
}

TEST(Broadcast, ScalarTensorPlusMatrix) {
  Tensor s = tensor(2.0f);
  Tensor m = tensor({{1, 2}, {3, 4}});
  EXPECT_TRUE(tensor_near(s + m, {2, 2}, {3, 4, 5, 6}));
  EXPECT_TRUE(tensor_near(m * s, {2, 2}, {2, 4, 6, 8}));
  EXPECT_TRUE(tensor_near(s - m, {2, 2}, {1, 0, -1, -2}));
  EXPECT_TRUE(tensor_near(tensor({5.0f}) * m, {2, 2}, {5, 10, 15, 20}));
}

TEST(Broadcast, ThreeDimensionalCases) {
  Tensor a = make_input({2, 1, 4}, -1, 1, 31);
  Tensor b = make_input({3, 1}, 0.5f, 2, 32);
  const Shape out{2, 3, 4};
  EXPECT_TRUE(tensor_near(a + b, out, reference(a, b, out, f_add)));
  EXPECT_TRUE(tensor_near(a - b, out, reference(a, b, out, f_sub)));
  EXPECT_TRUE(tensor_near(a * b, out, reference(a, b, out, f_mul)));
  EXPECT_TRUE(tensor_near(a / b, out, reference(a, b, out, f_div)));
  Tensor c = make_input({5, 1, 1, 3}, -1, 1, 33);
  Tensor d = make_input({2, 1}, -1, 1, 34);
  EXPECT_TRUE(tensor_near(c * d, {5, 1, 2, 3}, reference(c, d, {5, 1, 2, 3}, f_mul)));
}

TEST(Broadcast, TransposedOperand) {
  Tensor a = make_input({4, 3}, -1, 1, 35);
  Tensor at = a.t();  // (3, 4), non-contiguous
  Tensor b = make_input({3, 4}, -1, 1, 36);
  EXPECT_TRUE(tensors_near(at + b, at.contiguous() + b));
  EXPECT_TRUE(tensors_near(b * at, b * at.contiguous()));
  Tensor v = make_input({4}, -1, 1, 37);
  EXPECT_TRUE(tensor_near(at - v, {3, 4}, reference(at, v, {3, 4}, f_sub)));
}

TEST(Broadcast, SlicedOperand) {
  Tensor base = make_input({6, 8}, -1, 1, 38);
  Tensor s = base.slice(0, 1, 6, 2).slice(1, 0, 8, 3);  // (3, 3), strided in both dims
  Tensor row = make_input({1, 3}, -1, 1, 39);
  EXPECT_TRUE(tensor_near(s * row, {3, 3}, reference(s, row, {3, 3}, f_mul)));
  EXPECT_TRUE(tensors_near(s + s, s.contiguous() * 2.0f));
}

TEST(Broadcast, ExpandedOperands) {
  Tensor e = tensor({1, 2, 3}).expand({2, 3});
  Tensor f = from_vector({10, 20}, {2, 1}).expand({2, 3});
  EXPECT_TRUE(tensor_near(e + f, {2, 3}, {11, 12, 13, 21, 22, 23}));
  EXPECT_TRUE(tensor_near(e.unsqueeze(0) * tensor({1, -1}).view({2, 1, 1}), {2, 2, 3},
                          {1, 2, 3, 1, 2, 3, -1, -2, -3, -1, -2, -3}));
}

TEST(Broadcast, BroadcastingPowMaximumWhere) {
  Tensor base = from_vector({1, 2, 3}, {3, 1});
  Tensor e = tensor({0, 1, 2});
  EXPECT_TRUE(tensor_near(pow(base, e), {3, 3}, {1, 1, 1, 1, 2, 4, 1, 3, 9}));
  EXPECT_TRUE(tensor_near(maximum(base, e), {3, 3}, {1, 1, 2, 2, 2, 2, 3, 3, 3}));
  EXPECT_TRUE(tensor_near(minimum(base, e), {3, 3}, {0, 1, 1, 0, 1, 2, 0, 1, 2}));
}

TEST(Broadcast, ResultShapeFollowsBothInputs) {
  EXPECT_EQ((zeros({1, 4}) + zeros({3, 1})).shape(), (Shape{3, 4}));
  EXPECT_EQ((zeros({2, 1, 5}) * zeros({7, 1})).shape(), (Shape{2, 7, 5}));
  EXPECT_EQ((zeros({}) - zeros({2})).shape(), (Shape{2}));
  EXPECT_EQ((zeros({6}) / ones({1})).shape(), (Shape{6}));
}

TEST(Broadcast, IncompatibleShapesThrow) {
  EXPECT_TRUE(throws_error_all([] { zeros({2, 3}) + zeros({4}); }, {"(2, 3)", "(4,)"}));
  EXPECT_TRUE(throws_error_all([] { zeros({3, 2}) * zeros({2, 3}); }, {"(3, 2)", "(2, 3)"}));
}

TEST(SumToShape, ReducesBroadcastDims) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {3}), {3}, {5, 7, 9}));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {1, 3}), {1, 3}, {5, 7, 9}));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {2, 1}), {2, 1}, {6, 15}));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {1, 1}), {1, 1}, {21}));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {}), {}, {21}));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {2, 3}), {2, 3}, {1, 2, 3, 4, 5, 6}));
}

TEST(SumToShape, ThreeDims) {
  Tensor x = arange(24.0f).view({2, 3, 4});
  // Sum over dim 0 and dim 2 (kept as size 1): entries are sums of 8 numbers.
  std::vector<float> expected(3, 0.0f);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) expected[j] += x.at({i, j, k});
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {3, 1}), {3, 1}, expected));
  EXPECT_TRUE(tensor_near(sum_to_shape(x, {1, 3, 1}), {1, 3, 1}, expected));
  EXPECT_TRUE(tensor_near(sum_to_shape(x.transpose(0, 1), {1, 2, 4}), {1, 2, 4},
                          sum(x, 1).to_vector()));
}

// ---- the gradient of sum_to_shape -------------------------------------------------------

TEST(ReduceGrad, SumToShape) {
  Tensor x = in({2, 3, 4}, 106);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum_to_shape(t, {3, 1}); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum_to_shape(t.exp(), {2, 1, 4}); }, x));
}
