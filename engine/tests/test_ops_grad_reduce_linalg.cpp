// Finite-difference gradient checks for reductions, matmul (every shape case), tensordot,
// dot, softmax/log_softmax, cat, stack and index_select.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
using V = std::vector<Tensor>;
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }
}  // namespace

// ---- reductions ------------------------------------------------------------------------

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

TEST(ReduceGrad, SumToShape) {
  Tensor x = in({2, 3, 4}, 106);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum_to_shape(t, {3, 1}); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum_to_shape(t.exp(), {2, 1, 4}); }, x));
}

// ---- matmul ----------------------------------------------------------------------------

TEST(MatmulGrad, TwoDimensional) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({4, 2}, 107), in({2, 1}, 108)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0].matmul(v[1]); }, {in({3, 5}, 109), in({5, 4}, 110)}));
}

TEST(MatmulGrad, BatchedTimesMatrix) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({2, 3, 4}, 111), in({4, 5}, 112)}));
}

TEST(MatmulGrad, BatchedTimesBatchedTransposed) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1].transpose(1, 2)); },
                        {in({2, 3, 4}, 113), in({2, 3, 4}, 114)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); },
                        {in({2, 3, 4}, 115), in({2, 4, 3}, 116)}));
}

TEST(MatmulGrad, BatchBroadcasting) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({1, 3, 4}, 117), in({2, 4, 5}, 118)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({3, 4}, 119), in({2, 4, 2}, 120)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); },
                        {in({2, 1, 2, 3}, 121), in({3, 3, 2}, 122)}));
}

TEST(MatmulGrad, OneDimensionalCases) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({4}, 123), in({4}, 124)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({3}, 125), in({3, 2}, 126)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({2, 3}, 127), in({3}, 128)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({2, 2, 3}, 129), in({3}, 130)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[1]); }, {in({2}, 131), in({3, 2, 4}, 132)}));
}

TEST(MatmulGrad, TransposedAndSlicedOperands) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0].t(), v[1].t()); }, {in({3, 2}, 133), in({4, 3}, 134)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0].slice(1, 0, 4, 2), v[1].permute({1, 0})); },
                        {in({3, 4}, 135), in({5, 2}, 136)}));
  // Transposed batched operands, with a broadcast batch dim: matmul computes their gradients
  // as transposes of dense products.
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0].transpose(1, 2), v[1].transpose(1, 2)); },
                        {in({2, 4, 3}, 139), in({1, 5, 4}, 140)}));
}

TEST(MatmulGrad, SameTensorBothSides) {
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[0]); }, {in({3, 3}, 137)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return matmul(v[0], v[0].t()); }, {in({3, 2}, 138)}));
}

TEST(MatmulGrad, HandComputed) {
  Tensor a = tensor({{1, 2}, {3, 4}});
  Tensor b = tensor({{5, 6}, {7, 8}});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  matmul(a, b).sum().backward();
  // dL/dA = 1 @ B^T: row sums of B; dL/dB = A^T @ 1: column sums of A.
  EXPECT_TRUE(tensor_near(a.grad(), {2, 2}, {11, 15, 11, 15}));
  EXPECT_TRUE(tensor_near(b.grad(), {2, 2}, {4, 4, 6, 6}));
}

TEST(TensordotGrad, IntDims) {
  EXPECT_TRUE(gradcheck([](const V& v) { return tensordot(v[0], v[1], 2); }, {in({2, 3, 4}, 139), in({3, 4, 2}, 140)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return tensordot(v[0], v[1], 1); }, {in({2, 3}, 141), in({3, 2, 2}, 142)}));
}

TEST(TensordotGrad, DimLists) {
  EXPECT_TRUE(gradcheck([](const V& v) { return tensordot(v[0], v[1], {0, 1}, {1, 0}); },
                        {in({3, 2, 2}, 143), in({2, 3, 3}, 144)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return tensordot(v[0], v[1], {2}, {0}); },
                        {in({2, 2, 3}, 145), in({3, 2}, 146)}));
}

TEST(DotGrad, Vectors) {
  EXPECT_TRUE(gradcheck([](const V& v) { return dot(v[0], v[1]); }, {in({5}, 147), in({5}, 148)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return v[0].dot(v[0]); }, {in({4}, 149)}));
}

// ---- softmax ---------------------------------------------------------------------------

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

// ---- joining and indexing --------------------------------------------------------------

TEST(JoinGrad, Cat) {
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0], v[1]}, 0); }, {in({2, 3}, 152), in({1, 3}, 153)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0], v[1], v[0]}, 1).exp(); },
                        {in({2, 3}, 154), in({2, 1}, 155)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0].t(), v[1]}, -1); }, {in({2, 3}, 156), in({3, 2}, 157)}));
}

TEST(JoinGrad, Stack) {
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck([d](const V& v) { return stack({v[0], v[1] * v[0]}, d); },
                          {in({2, 3}, 158), in({2, 3}, 159)}));
  }
}

TEST(JoinGrad, IndexSelectWithRepeats) {
  Tensor idx = tensor({2, 0, 2, 3, 2});
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t, idx); }, in({4, 3}, 160)));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t, idx).tanh(); }, in({4}, 161)));
  // Repeated rows add up: row 2 is picked three times.
  Tensor table = zeros({4, 2});
  table.set_requires_grad(true);
  index_select(table, idx).sum().backward();
  EXPECT_TRUE(tensor_near(table.grad(), {4, 2}, {1, 1, 0, 0, 3, 3, 1, 1}));
}

TEST(JoinGrad, IndexSelectOfNonContiguousTable) {
  Tensor idx = tensor({1, 0});
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t.t(), idx); }, in({3, 2}, 162)));
}
