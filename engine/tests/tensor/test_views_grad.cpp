// Gradients of every view op (and contiguous/clone), by finite differences and, for a
// few, against hand-computed values. Each function ends in a non-linear op in some tests
// so that the view's backward has to route a non-uniform gradient.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
Tensor x234() { return make_input({2, 3, 4}, -1.0f, 1.0f, 21); }
}

TEST(ViewGrad, View) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.view({4, 6}); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.view({-1}).exp(); }, x234()));
}

TEST(ViewGrad, Reshape) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.reshape({3, -1}); }, x234()));
  // Reshape of a non-contiguous tensor (the copying path).
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.transpose(0, 2).reshape({4, 6}) * 2.0f; },
                         x234()));
}

TEST(ViewGrad, TransposeAndT) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.transpose(0, 2); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.transpose(-1, 1).sigmoid(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.t().tanh(); }, make_input({3, 5})));
}

TEST(ViewGrad, Permute) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.permute({2, 0, 1}); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.permute({1, 2, 0}).exp(); }, x234()));
}

TEST(ViewGrad, Movedim) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.movedim(0, 2).exp(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.movedim(-1, 0); }, x234()));
}

TEST(ViewGrad, UnsqueezeSqueeze) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.unsqueeze(1).exp(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.squeeze(); }, make_input({1, 3, 1, 2})));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.squeeze(2).exp(); },
                         make_input({1, 3, 1, 2})));
}

TEST(ViewGrad, Flatten) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.flatten(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.flatten(1).exp(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.t().flatten(); }, make_input({3, 4})));
}

TEST(ViewGrad, ExpandSumsOverExpandedDims) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.expand({4, 3}).exp(); }, make_input({3})));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.expand({2, -1, 5}); },
                         make_input({3, 1})));
  // Hand check: d/dx sum(expand(x, (4, 3))) = 4 for each element.
  Tensor x = tensor({1, 2, 3});
  x.set_requires_grad(true);
  x.expand({4, 3}).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {4, 4, 4}));
}

TEST(ViewGrad, ExpandAs) {
  Tensor target = zeros({2, 4, 3});
  EXPECT_TRUE(gradcheck1([&](const Tensor& x) { return x.expand_as(target) * 1.5f; },
                         make_input({4, 1})));
}

TEST(ViewGrad, SliceScattersIntoZeros) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.slice(1, 1, 3).exp(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.slice(2, 0, 4, 3); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.slice(-1, -2, 100); }, x234()));
  Tensor x = zeros({6});
  x.set_requires_grad(true);
  x.slice(0, 1, 6, 2).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {6}, {0, 1, 0, 1, 0, 1}));
}

TEST(ViewGrad, SelectAndOperatorIndex) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.select(1, 2).exp(); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.select(-1, -1); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x[1] * x[0]; }, x234()));
  Tensor x = zeros({2, 2});
  x.set_requires_grad(true);
  (x[1][0] * 3.0f).backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2, 2}, {0, 0, 3, 0}));
}

TEST(ViewGrad, Index) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.index({Slice(0, 2), Slice(1, 4)}).exp(); },
                         make_input({3, 5})));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.index({1, Slice(0, 3, 2)}); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.index({Slice(), -1, 2}); }, x234()));
  // Down to one element (a 0-d result), and no entries at all (the whole tensor, one node).
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.index({1, -1, 2}); }, x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.index({}); }, x234()));
}

// index({...}) is one view and one node, whatever the number of entries.
TEST(ViewGrad, IndexRecordsOneNodeOnItsInput) {
  Tensor x = make_input({3, 5}).set_requires_grad(true);
  Tensor patch = x.index({Slice(0, 2), 1});
  ASSERT_NE(patch.grad_fn(), nullptr);
  EXPECT_STREQ(patch.grad_fn()->name, "index");
  ASSERT_EQ(patch.grad_fn()->next.size(), 1u);
  EXPECT_EQ(patch.grad_fn()->next[0].leaf, x.impl());
  EXPECT_EQ(patch.shape(), (Shape{2}));
}

TEST(ViewGrad, OverlappingSlicesAccumulate) {
  EXPECT_TRUE(gradcheck1(
      [](const Tensor& x) { return x.slice(0, 0, 3) * x.slice(0, 1, 4) + x.slice(0, 2, 5); },
      make_input({5})));
}

TEST(ViewGrad, Contiguous) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.transpose(0, 1).contiguous().exp(); },
                         x234()));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.contiguous() * x; }, x234()));
}

TEST(ViewGrad, Clone) {
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return x.clone().exp(); }, x234()));
  Tensor x = tensor({1, 2});
  x.set_requires_grad(true);
  Tensor c = x.clone();
  EXPECT_TRUE(c.requires_grad());
  EXPECT_FALSE(c.is_leaf());
  (c * c).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {2, 4}));
}

TEST(ViewGrad, ChainOfViews) {
  EXPECT_TRUE(gradcheck1(
      [](const Tensor& x) {
        return x.permute({2, 0, 1}).slice(0, 1, 4).flatten(1).unsqueeze(0).expand({2, 3, 6}).exp();
      },
      x234()));
}

TEST(ViewGrad, ViewsRequireGradAndAreNotLeaves) {
  Tensor x = make_input({2, 3});
  x.set_requires_grad(true);
  for (const Tensor& v : {x.view({6}), x.t(), x.slice(0, 0, 1), x[0], x.expand({2, 2, 3}),
                          x.unsqueeze(0), x.reshape({3, 2}), x.permute({1, 0})}) {
    EXPECT_TRUE(v.requires_grad());
    EXPECT_FALSE(v.is_leaf());
    EXPECT_NE(v.grad_fn(), nullptr);
  }
}
