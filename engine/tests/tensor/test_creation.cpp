// Making tensors: nested tensor({...}), from_vector, constant fills, *_like, eye, arange,
// linspace, tril, triu and one_hot.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }

// 0, 1, 2, ... in shape s.
Tensor counting(const Shape& s) { return arange(static_cast<float>(numel_of(s))).reshape(s); }
}  // namespace

TEST(Creation, TensorFromScalar) {
  Tensor s = tensor(-1.25f);
  EXPECT_TRUE(tensor_near(s, {}, {-1.25f}));
}

TEST(Creation, TensorOneLevel) {
  EXPECT_TRUE(tensor_near(tensor({1, 2, 3}), {3}, {1, 2, 3}));
  EXPECT_TRUE(tensor_near(tensor({4.5f}), {1}, {4.5f}));
}

TEST(Creation, TensorTwoLevels) {
  EXPECT_TRUE(tensor_near(tensor({{2, 3}, {4, 5}, {6, 7}}), {3, 2}, {2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(tensor_near(tensor({{2, 3}}), {1, 2}, {2, 3}));
}

TEST(Creation, TensorThreeLevels) {
  Tensor x = tensor({{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12}}});
  EXPECT_TRUE(tensor_near(x, {2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_FLOAT_EQ(x.at({1, 0, 2}), 9.0f);
}

TEST(Creation, TensorFourLevels) {
  Tensor x = tensor({{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}, {{9, 10}, {11, 12}}}});
  EXPECT_TRUE(tensor_near(x, {1, 3, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_FLOAT_EQ(x.at({0, 2, 1, 0}), 11.0f);
}

TEST(Creation, TensorIsAContiguousLeafWithoutGrad) {
  Tensor x = tensor({{1, 2}, {3, 4}});
  EXPECT_TRUE(x.is_contiguous());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(x.requires_grad());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Creation, RaggedTwoLevelsThrows) {
  EXPECT_TRUE(throws_error([] { tensor({{1, 2, 3}, {4, 5}}); }, "tensor"));
}

TEST(Creation, RaggedThreeLevelsThrows) {
  EXPECT_TRUE(throws_error([] { tensor({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8, 9}}}); }, "tensor"));
  EXPECT_TRUE(throws_error([] { tensor({{{1, 2}, {3, 4}}, {{5, 6}}}); }, "tensor"));
}

TEST(Creation, RaggedFourLevelsThrows) {
  EXPECT_TRUE(throws_error([] { tensor({{{{1, 2}}, {{3, 4}}}, {{{5, 6}}, {{7, 8, 9}}}}); },
                           "tensor"));
}

TEST(Creation, FromVectorWithShape) {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(tensor_near(from_vector({1, 2, 3, 4, 5, 6}, {3, 1, 2}), {3, 1, 2},
                          {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(tensor_near(from_vector({9}, {}), {}, {9}));
}

TEST(Creation, FromVectorCountMismatchThrows) {
  EXPECT_TRUE(throws_error_all([] { from_vector({1, 2, 3, 4, 5}, {2, 3}); }, {"from_vector", "(2, 3)"}));
}

TEST(Creation, FromVectorCopiesValues) {
  std::vector<float> v{1, 2, 3};
  Tensor x = from_vector(v, {3});
  v[0] = 100;
  EXPECT_FLOAT_EQ(x.at({0}), 1.0f);
}

TEST(Creation, ZerosOnesFull) {
  EXPECT_TRUE(tensor_near(zeros({2, 3}), {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(tensor_near(ones({3}), {3}, {1, 1, 1}));
  EXPECT_TRUE(tensor_near(full({2, 2}, -0.5f), {2, 2}, {-0.5f, -0.5f, -0.5f, -0.5f}));
  EXPECT_TRUE(tensor_near(zeros({}), {}, {0}));
  EXPECT_TRUE(tensor_near(full({}, 3.0f), {}, {3}));
}

TEST(Creation, EmptyHasShape) {
  Tensor x = empty({4, 5});
  EXPECT_EQ(x.shape(), (Shape{4, 5}));
  EXPECT_EQ(x.numel(), 20);
  EXPECT_TRUE(x.is_contiguous());
}

TEST(Creation, ZeroSizedTensor) {
  Tensor x = zeros({0, 3});
  EXPECT_EQ(x.numel(), 0);
  EXPECT_EQ(x.shape(), (Shape{0, 3}));
  EXPECT_TRUE(x.to_vector().empty());
}

TEST(Creation, LikeFunctionsCopyShapeNotValues) {
  Tensor base = tensor({{1, 2, 3}, {4, 5, 6}}).t();  // (3, 2), non-contiguous
  Tensor z = zeros_like(base);
  Tensor o = ones_like(base);
  Tensor f = full_like(base, 2.5f);
  EXPECT_TRUE(tensor_near(z, {3, 2}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(tensor_near(o, {3, 2}, {1, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(tensor_near(f, {3, 2}, {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f}));
  EXPECT_FALSE(z.requires_grad());
}

TEST(Creation, LikeOfRequiresGradTensorDoesNotRequireGrad) {
  Tensor w = ones({2});
  w.set_requires_grad(true);
  EXPECT_FALSE(zeros_like(w).requires_grad());
  EXPECT_FALSE(ones_like(w).requires_grad());
}

TEST(Creation, Eye) {
  EXPECT_TRUE(tensor_near(eye(3), {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(tensor_near(eye(1), {1, 1}, {1}));
}

TEST(Creation, ArangeEnd) {
  EXPECT_TRUE(tensor_near(arange(5.0f), {5}, {0, 1, 2, 3, 4}));
  EXPECT_TRUE(tensor_near(arange(1.0f), {1}, {0}));
  EXPECT_TRUE(tensor_near(arange(2.5f), {3}, {0, 1, 2}));
}

TEST(Creation, ArangeStartEndStep) {
  EXPECT_TRUE(tensor_near(arange(2.0f, 5.0f), {3}, {2, 3, 4}));
  EXPECT_TRUE(tensor_near(arange(0.0f, 10.0f, 3.0f), {4}, {0, 3, 6, 9}));
  EXPECT_TRUE(tensor_near(arange(0.0f, 1.0f, 0.25f), {4}, {0, 0.25f, 0.5f, 0.75f}));
  EXPECT_TRUE(tensor_near(arange(1.5f, 4.0f), {3}, {1.5f, 2.5f, 3.5f}));
  EXPECT_TRUE(tensor_near(arange(-2.0f, 1.0f), {3}, {-2, -1, 0}));
}

TEST(Creation, ArangeNegativeStep) {
  EXPECT_TRUE(tensor_near(arange(5.0f, 0.0f, -1.0f), {5}, {5, 4, 3, 2, 1}));
  EXPECT_TRUE(tensor_near(arange(1.0f, -1.0f, -0.5f), {4}, {1, 0.5f, 0, -0.5f}));
}

TEST(Creation, ArangeZeroStepThrows) {
  EXPECT_TRUE(throws_error([] { arange(0.0f, 1.0f, 0.0f); }, "arange"));
}

TEST(Creation, Linspace) {
  EXPECT_TRUE(tensor_near(linspace(0.0f, 1.0f, 5), {5}, {0, 0.25f, 0.5f, 0.75f, 1}));
  EXPECT_TRUE(tensor_near(linspace(-1.0f, 1.0f, 3), {3}, {-1, 0, 1}));
  EXPECT_TRUE(tensor_near(linspace(3.0f, -3.0f, 4), {4}, {3, 1, -1, -3}));
  EXPECT_TRUE(tensor_near(linspace(3.0f, 7.0f, 1), {1}, {3}));
}

TEST(Creation, LinspaceEndpointsExact) {
  Tensor x = linspace(0.1f, 0.7f, 7);
  std::vector<float> v = x.to_vector();
  ASSERT_EQ(v.size(), 7u);
  EXPECT_FLOAT_EQ(v.front(), 0.1f);
  EXPECT_FLOAT_EQ(v.back(), 0.7f);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(v[i], 0.1f + 0.1f * i, 1e-6);
}

TEST(Creation, TrilSquare) {
  EXPECT_TRUE(tensor_near(tril(ones({3, 3})), {3, 3}, {1, 0, 0, 1, 1, 0, 1, 1, 1}));
}

TEST(Creation, TrilKeepsValues) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
  EXPECT_TRUE(tensor_near(tril(x), {3, 3}, {1, 0, 0, 4, 5, 0, 7, 8, 9}));
  EXPECT_TRUE(tensor_near(x, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));  // input untouched
}

TEST(Creation, TrilWithDiagonal) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
  EXPECT_TRUE(tensor_near(tril(x, 1), {3, 3}, {1, 2, 0, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(tensor_near(tril(x, -1), {3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0}));
  EXPECT_TRUE(tensor_near(tril(x, 5), {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(tensor_near(tril(x, -3), {3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Creation, TrilNonSquare) {
  Tensor x = tensor({{1, 2, 3, 4}, {5, 6, 7, 8}});
  EXPECT_TRUE(tensor_near(tril(x), {2, 4}, {1, 0, 0, 0, 5, 6, 0, 0}));
  EXPECT_TRUE(tensor_near(tril(x.t()), {4, 2}, {1, 0, 2, 6, 3, 7, 4, 8}));
}

TEST(Creation, TrilBatched) {
  Tensor x = arange(1.0f, 19.0f).view({2, 3, 3});
  EXPECT_TRUE(tensor_near(tril(x), {2, 3, 3},
                          {1, 0, 0, 4, 5, 0, 7, 8, 9, 10, 0, 0, 13, 14, 0, 16, 17, 18}));
  EXPECT_TRUE(tensor_near(tril(ones({2, 1, 2, 2}), 0), {2, 1, 2, 2}, {1, 0, 1, 1, 1, 0, 1, 1}));
}

TEST(Creation, OneHot) {
  Tensor idx = tensor({0, 2, 1, 2});
  EXPECT_TRUE(tensor_near(one_hot(idx, 3), {4, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(tensor_near(one_hot(tensor({4}), 5), {1, 5}, {0, 0, 0, 0, 1}));
}

TEST(Creation, OneHotOutOfRangeThrows) {
  EXPECT_TRUE(throws_error([] { one_hot(tensor({0, 3}), 3); }, "one_hot"));
  EXPECT_TRUE(throws_error([] { one_hot(tensor({-1}), 3); }, "one_hot"));
}

TEST(Creation, ArangeFractionalStepCount) {
  Tensor x = arange(0.0f, 1.0f, 0.1f);  // as torch.arange: 10 values, 0.0 .. 0.9
  ASSERT_EQ(x.numel(), 10);
  EXPECT_NEAR(x.to_vector().back(), 0.9f, 1e-6);
}

TEST(Creation, SingletonInnerListsAreColumns) {
  EXPECT_TRUE(tensor_near(tensor({{3}, {11}}), {2, 1}, {3, 11}));
  EXPECT_TRUE(tensor_near(tensor({{0.5f}}), {1, 1}, {0.5f}));
}

// ---- triu, which a port from PyTorch needs (issue 12) -----------------------------------

TEST(CreationTriu, UpperTriangleOnEveryDiagonal) {
  Tensor x = counting({3, 3}) + 1.0f;  // 1..9
  EXPECT_TRUE(tensor_near(triu(x), {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9}));
  EXPECT_TRUE(tensor_near(triu(x, 1), {3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_TRUE(tensor_near(triu(x, -1), {3, 3}, {1, 2, 3, 4, 5, 6, 0, 8, 9}));
  // A batch of non-square matrices: each (2, 3) gets its own triangle.
  EXPECT_TRUE(tensor_near(triu(ones({2, 2, 3})), {2, 2, 3}, {1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1}));
  // triu(ones, 1) marks the future: the mask PyTorch code often builds for attention.
  EXPECT_TRUE(tensors_near(triu(ones({4, 4}), 1), 1.0f - tril(ones({4, 4}))));
}

TEST(CreationTriu, GradientAndErrors) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return triu(t, 1); }, in({2, 3, 3}, 42)));
  EXPECT_TRUE(throws_error_all([] { triu(ones({3})); }, {"triu", "(3,)"}));
}
