// matmul in all of torch.matmul's shape cases, tensordot and dot: forward values against
// products computed with at() in double, and gradients by finite differences.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {

// Plain (M, K) @ (K, N) through at(), for any layout.
std::vector<float> mm_ref(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<float> out;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += static_cast<double>(a.at({i, p})) * b.at({p, j});
      out.push_back(static_cast<float>(s));
    }
  return out;
}

using V = std::vector<Tensor>;
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }

}  // namespace

// ---- forward values ---------------------------------------------------------------------

TEST(Matmul, SmallHandComputed) {
  Tensor a = tensor({{1, 2}, {3, 4}, {5, 6}, {7, 8}});  // (4, 2)
  Tensor b = from_vector({1, -1}, {2, 1});              // (2, 1)
  EXPECT_TRUE(tensor_near(matmul(a, b), {4, 1}, {-1, -1, -1, -1}));
  Tensor c = tensor({{1, 2}, {3, 4}});
  EXPECT_TRUE(tensor_near(matmul(c, c), {2, 2}, {7, 10, 15, 22}));
  EXPECT_TRUE(tensor_near(c.matmul(eye(2)), {2, 2}, {1, 2, 3, 4}));
}

TEST(Matmul, RandomTwoDimensional) {
  Tensor a = make_input({5, 7}, -1, 1, 51);
  Tensor b = make_input({7, 3}, -1, 1, 52);
  EXPECT_TRUE(tensor_near(matmul(a, b), {5, 3}, mm_ref(a, b), 1e-5, 1e-5));
}

TEST(Matmul, LargerThanOneBlock) {
  // Sizes that are not multiples of typical tile sizes.
  Tensor a = make_input({67, 131}, -1, 1, 53);
  Tensor b = make_input({131, 45}, -1, 1, 54);
  EXPECT_TRUE(tensor_near(matmul(a, b), {67, 45}, mm_ref(a, b), 1e-4, 1e-4));
}

TEST(Matmul, BatchedTimesMatrix) {
  // (B, T, C) @ (C, D) -> (B, T, D)
  Tensor x = make_input({2, 3, 4}, -1, 1, 55);
  Tensor w = make_input({4, 5}, -1, 1, 56);
  Tensor y = matmul(x, w);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 5}));
  for (int64_t b = 0; b < 2; ++b)
    EXPECT_TRUE(tensor_near(y[b], {3, 5}, mm_ref(x[b], w), 1e-5, 1e-5)) << "batch " << b;
}

TEST(Matmul, BatchedTimesBatched) {
  // (B, T, C) @ (B, C, T) -> (B, T, T), as attention scores q @ k^T.
  Tensor q = make_input({3, 4, 6}, -1, 1, 57);
  Tensor k = make_input({3, 4, 6}, -1, 1, 58);
  Tensor s = matmul(q, k.transpose(1, 2));
  ASSERT_EQ(s.shape(), (Shape{3, 4, 4}));
  for (int64_t b = 0; b < 3; ++b)
    EXPECT_TRUE(tensor_near(s[b], {4, 4}, mm_ref(q[b], k[b].t()), 1e-5, 1e-5)) << "batch " << b;
}

TEST(Matmul, BatchBroadcasting) {
  // (1, 3, 4) @ (2, 4, 5) -> (2, 3, 5)
  Tensor a = make_input({1, 3, 4}, -1, 1, 59);
  Tensor b = make_input({2, 4, 5}, -1, 1, 60);
  Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 5}));
  for (int64_t i = 0; i < 2; ++i)
    EXPECT_TRUE(tensor_near(c[i], {3, 5}, mm_ref(a[0], b[i]), 1e-5, 1e-5)) << "batch " << i;
  // (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2)
  Tensor d = make_input({2, 1, 3, 4}, -1, 1, 61);
  Tensor e = make_input({5, 4, 2}, -1, 1, 62);
  Tensor f = matmul(d, e);
  ASSERT_EQ(f.shape(), (Shape{2, 5, 3, 2}));
  EXPECT_TRUE(tensor_near(f[1][3], {3, 2}, mm_ref(d[1][0], e[3]), 1e-5, 1e-5));
  // Matrix @ batch: (3, 4) @ (2, 4, 5) -> (2, 3, 5)
  Tensor g = matmul(a[0], b);
  ASSERT_EQ(g.shape(), (Shape{2, 3, 5}));
  EXPECT_TRUE(tensor_near(g[1], {3, 5}, mm_ref(a[0], b[1]), 1e-5, 1e-5));
}

TEST(Matmul, OneDimensionalCases) {
  Tensor v = tensor({1, 2, 3});
  Tensor m = tensor({{1, 0}, {0, 1}, {1, 1}});  // (3, 2)
  EXPECT_TRUE(tensor_near(matmul(v, v), {}, {14}));               // dot
  EXPECT_TRUE(tensor_near(matmul(v, m), {2}, {4, 5}));            // (3,) @ (3, 2) -> (2,)
  EXPECT_TRUE(tensor_near(matmul(m.t(), v), {2}, {4, 5}));        // (2, 3) @ (3,) -> (2,)
  Tensor batch = make_input({2, 4, 3}, -1, 1, 63);
  Tensor bv = matmul(batch, v);                                    // (2, 4, 3) @ (3,) -> (2, 4)
  ASSERT_EQ(bv.shape(), (Shape{2, 4}));
  EXPECT_TRUE(tensor_near(bv[1], {4}, mm_ref(batch[1], v.view({3, 1})), 1e-5, 1e-5));
  Tensor vb = matmul(tensor({1, 2, 3, 4}), batch);                 // (4,) @ (2, 4, 3) -> (2, 3)
  ASSERT_EQ(vb.shape(), (Shape{2, 3}));
  EXPECT_TRUE(tensor_near(vb[0], {3}, mm_ref(tensor({{1, 2, 3, 4}}), batch[0]), 1e-5, 1e-5));
}

TEST(Matmul, TransposedOperands) {
  Tensor a = make_input({6, 4}, -1, 1, 64);
  Tensor b = make_input({5, 6}, -1, 1, 65);
  EXPECT_TRUE(tensor_near(matmul(a.t(), b.t()), {4, 5}, mm_ref(a.t(), b.t()), 1e-5, 1e-5));
  Tensor c = make_input({6, 5}, -1, 1, 66);
  EXPECT_TRUE(tensor_near(matmul(a.t(), c.t().t()), {4, 5}, mm_ref(a.t(), c), 1e-5, 1e-5));
  EXPECT_TRUE(tensor_near(matmul(a.t(), c), {4, 5}, mm_ref(a.t(), c), 1e-5, 1e-5));
  EXPECT_TRUE(tensor_near(matmul(b, a), {5, 4}, mm_ref(b, a), 1e-5, 1e-5));
}

TEST(Matmul, SlicedAndExpandedOperands) {
  Tensor big = make_input({8, 10}, -1, 1, 67);
  Tensor a = big.slice(0, 1, 7, 2).slice(1, 2, 6);  // (3, 4), strided rows and offset
  Tensor b = make_input({4, 2}, -1, 1, 68);
  EXPECT_TRUE(tensor_near(matmul(a, b), {3, 2}, mm_ref(a, b), 1e-5, 1e-5));
  Tensor e = tensor({1, 2, 3, 4}).expand({3, 4});  // stride 0 rows
  EXPECT_TRUE(tensor_near(matmul(e, b), {3, 2}, mm_ref(e, b), 1e-5, 1e-5));
  Tensor perm = make_input({4, 2, 3}, -1, 1, 69).permute({1, 2, 0});  // (2, 3, 4)
  Tensor w = make_input({4, 5}, -1, 1, 70);
  Tensor y = matmul(perm, w);
  EXPECT_TRUE(tensor_near(y[1], {3, 5}, mm_ref(perm[1], w), 1e-5, 1e-5));
}

TEST(Matmul, MethodMatchesFreeFunction) {
  Tensor a = make_input({3, 4}, -1, 1, 71), b = make_input({4, 2}, -1, 1, 72);
  EXPECT_TRUE(tensors_near(a.matmul(b), matmul(a, b)));
}

TEST(Tensordot, IntDims) {
  Tensor a = make_input({2, 3, 4}, -1, 1, 73);
  Tensor b = make_input({3, 4, 5}, -1, 1, 74);
  Tensor c = tensordot(a, b, 2);
  ASSERT_EQ(c.shape(), (Shape{2, 5}));
  EXPECT_TRUE(tensor_near(c, {2, 5}, mm_ref(a.reshape({2, 12}), b.reshape({12, 5})), 1e-5, 1e-5));
  Tensor d = tensordot(a, make_input({4, 6}, -1, 1, 75), 1);
  EXPECT_EQ(d.shape(), (Shape{2, 3, 6}));
  EXPECT_TRUE(tensors_near(d, matmul(a, make_input({4, 6}, -1, 1, 75)), 1e-5, 1e-5));
}

TEST(Tensordot, ZeroDimsIsOuterProduct) {
  Tensor c = tensordot(tensor({1, 2}), tensor({3, 4, 5}), 0);
  EXPECT_TRUE(tensor_near(c, {2, 3}, {3, 4, 5, 6, 8, 10}));
}

TEST(Tensordot, DimLists) {
  // Contract a's dims {0, 1} with b's dims {1, 0}.
  Tensor a = make_input({3, 4, 2}, -1, 1, 76);
  Tensor b = make_input({4, 3, 5}, -1, 1, 77);
  Tensor c = tensordot(a, b, {0, 1}, {1, 0});
  ASSERT_EQ(c.shape(), (Shape{2, 5}));
  std::vector<float> ref;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      double s = 0;
      for (int64_t p = 0; p < 3; ++p)
        for (int64_t q = 0; q < 4; ++q) s += static_cast<double>(a.at({p, q, i})) * b.at({q, p, j});
      ref.push_back(static_cast<float>(s));
    }
  EXPECT_TRUE(tensor_near(c, {2, 5}, ref, 1e-5, 1e-5));
  // Single pair, negative dims allowed as in PyTorch: a's last with b's first.
  Tensor d = tensordot(a, make_input({2, 6}, -1, 1, 78), {-1}, {0});
  EXPECT_TRUE(tensors_near(d, matmul(a, make_input({2, 6}, -1, 1, 78)), 1e-5, 1e-5));
}

TEST(Dot, OneDimensional) {
  EXPECT_TRUE(tensor_near(dot(tensor({1, 2, 3}), tensor({4, -5, 6})), {}, {12}));
  EXPECT_TRUE(tensor_near(tensor({2, 2}).dot(tensor({0.5f, 1.5f})), {}, {4}));
  Tensor m = tensor({{1, 2}, {3, 4}});
  EXPECT_TRUE(tensor_near(dot(m.select(1, 0), m.select(1, 1)), {}, {14}));  // strided columns
}

// ---- gradients --------------------------------------------------------------------------

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
