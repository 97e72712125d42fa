// Autograd behaviour: requires_grad propagation, leaves, accumulation, zero_grad, detach,
// NoGradGuard, explicit output gradients, shared subexpressions, freed graphs, in-place
// rules, record_op for custom ops, and a self-test that gradcheck can fail.
#include "gradcheck.h"

#include <functional>
#include <memory>
#include <thread>
#include <vector>

using namespace ember;
using namespace ember_test;

namespace {
Tensor leaf(const NestedValues& values) {
  Tensor t = tensor(values);
  t.set_requires_grad(true);
  return t;
}
}  // namespace

TEST(Autograd, RequiresGradPropagates) {
  Tensor a = leaf({1, 2});
  Tensor b = tensor({3, 4});
  EXPECT_TRUE(a.requires_grad());
  EXPECT_FALSE(b.requires_grad());
  EXPECT_TRUE((a * b).requires_grad());
  EXPECT_TRUE((b + a).exp().requires_grad());
  EXPECT_TRUE(a.sum().requires_grad());
  EXPECT_FALSE((b * b).requires_grad());
  EXPECT_EQ((b * b).grad_fn(), nullptr);
  EXPECT_NE((a * b).grad_fn(), nullptr);
}

TEST(Autograd, IsLeaf) {
  Tensor a = leaf({1, 2});
  Tensor b = tensor({1, 2});
  EXPECT_TRUE(a.is_leaf());
  EXPECT_TRUE(b.is_leaf());
  EXPECT_FALSE((a * 2.0f).is_leaf());
  EXPECT_TRUE((b * 2.0f).is_leaf());  // no grad, no history: a leaf as in PyTorch
  EXPECT_EQ(a.grad_fn(), nullptr);
}

TEST(Autograd, SetRequiresGradReturnsSelfAndCanBeTurnedOff) {
  Tensor a = tensor({1, 2});
  Tensor& r = a.set_requires_grad(true);
  EXPECT_EQ(&r, &a);
  EXPECT_TRUE(a.requires_grad());
  a.requires_grad_(false);
  EXPECT_FALSE(a.requires_grad());
  EXPECT_FALSE((a * 2.0f).requires_grad());
}

TEST(Autograd, GradFnNamesTheOp) {
  Tensor a = tensor({{1, 2}, {3, 4}});
  a.set_requires_grad(true);
  Tensor m = matmul(a, a);
  ASSERT_NE(m.grad_fn(), nullptr);
  EXPECT_STREQ(m.grad_fn()->name, "matmul");
  EXPECT_EQ(m.grad_fn()->output_shape, (Shape{2, 2}));
  // Both inputs are the leaf a: each edge leads to it, and to no node.
  ASSERT_EQ(m.grad_fn()->next.size(), 2u);
  for (const Edge& edge : m.grad_fn()->next) {
    EXPECT_EQ(edge.leaf, a.impl());
    EXPECT_EQ(edge.producer, nullptr);
  }
  Tensor e = a.exp();
  ASSERT_NE(e.grad_fn(), nullptr);
  EXPECT_STREQ(e.grad_fn()->name, "exp");
}

TEST(Autograd, SimpleScalarBackward) {
  Tensor x = leaf({3});
  Tensor y = (x * x * x).sum();  // d/dx x^3 = 3 x^2 = 27
  y.backward();
  EXPECT_TRUE(tensor_near(x.grad(), {1}, {27}));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(Autograd, GradAccumulatesAcrossBackwardCalls) {
  Tensor x = leaf({1, 2});
  (x * 3.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {3, 3}));
  (x * x).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {5, 7}));
}

TEST(Autograd, ZeroGradDropsGradient) {
  Tensor x = leaf({1, 2});
  (x * 3.0f).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  (x * 2.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {2, 2}));  // starts afresh
}

TEST(Autograd, SetGrad) {
  Tensor x = leaf({1, 2});
  x.set_grad(tensor({5, 6}));
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {5, 6}));
  (x * 1.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {6, 7}));
}

TEST(Autograd, NonLeafGradIsNotRetained) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0f;
  y.sum().backward();
  EXPECT_FALSE(y.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(Autograd, InputsThatDoNotRequireGradGetNone) {
  Tensor x = leaf({1, 2});
  Tensor c = tensor({3, 4});
  (x * c).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {3, 4}));
  EXPECT_FALSE(c.grad().defined());
}

// The graph keeps what backward needs, not every intermediate: the gradients of sum and add
// need only shapes, so x * c is freed once the caller lets it go, whichever of them used it.
TEST(Autograd, GraphDoesNotKeepIntermediatesItsClosuresDoNotNeed) {
  const auto expect_freed_and_gradient = [](const std::function<Tensor(const Tensor&, const Tensor&)>& loss_of,
                                            std::vector<float> expected_grad) {
    Tensor x = leaf({1, 2});
    Tensor product = x * tensor({3, 4});
    const std::weak_ptr<TensorImpl> watched = product.impl();
    Tensor total = loss_of(product, x);
    product = Tensor();
    EXPECT_TRUE(watched.expired());
    total.backward();
    EXPECT_TRUE(tensor_near(x.grad(), {2}, expected_grad));
  };
  expect_freed_and_gradient([](const Tensor& product, const Tensor&) { return product.sum(); }, {3, 4});
  expect_freed_and_gradient([](const Tensor& product, const Tensor& x) { return (product + x).sum(); }, {4, 5});
}

// matmul, mul and div keep an operand only for the other one's gradient: with a frozen weight
// or a constant, the activation that goes in is freed once the caller lets it go (its memory,
// not just its handle).
TEST(Autograd, AnOpWithAConstantOperandDoesNotKeepItsInput) {
  const Tensor frozen = tensor({1, 2, 3, 4, 5, 6}).reshape({3, 2});
  const Tensor constant = tensor({1, 2, 4}).reshape({1, 3});
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> op;
    std::vector<float> expected_grad;  // of sum(op(2x)) for x of shape (6,)
  };
  const Case cases[] = {
      // d/dh = ones(2, 2) @ frozen^T: each row holds frozen's row sums 3, 7, 11; times 2.
      {"matmul", [&](const Tensor& h) { return h.matmul(frozen); }, {6, 14, 22, 6, 14, 22}},
      {"mul", [&](const Tensor& h) { return h * constant; }, {2, 4, 8, 2, 4, 8}},
      {"div", [&](const Tensor& h) { return h / constant; }, {2, 1, 0.5f, 2, 1, 0.5f}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = leaf({1, 2, 3, 4, 5, 6});
    Tensor h = (x * 2.0f).reshape({2, 3});
    const std::weak_ptr<Storage> watched = h.impl()->storage;
    Tensor total = c.op(h).sum();
    h = Tensor();
    EXPECT_TRUE(watched.expired());
    total.backward();
    EXPECT_TRUE(tensor_near(x.grad(), {6}, c.expected_grad));
  }
}

// An edge per input: a leaf, a node, or nothing for an input that needs no gradient.
TEST(Autograd, EdgesLeadToLeavesAndNodes) {
  Tensor x = leaf({1, 2});
  Tensor c = tensor({3, 4});
  Tensor xc = x * c;
  ASSERT_EQ(xc.grad_fn()->next.size(), 2u);
  EXPECT_EQ(xc.grad_fn()->next[0].leaf, x.impl());
  EXPECT_EQ(xc.grad_fn()->next[0].producer, nullptr);
  EXPECT_EQ(xc.grad_fn()->next[1].leaf, nullptr);
  EXPECT_EQ(xc.grad_fn()->next[1].producer, nullptr);
  Tensor e = xc.exp();
  ASSERT_EQ(e.grad_fn()->next.size(), 1u);
  EXPECT_EQ(e.grad_fn()->next[0].producer, xc.grad_fn());
  EXPECT_EQ(e.grad_fn()->next[0].leaf, nullptr);
  // After backward the node is released: no closure, no edges.
  const std::shared_ptr<Node> node = e.grad_fn();
  e.sum().backward();
  EXPECT_TRUE(node->released);
  EXPECT_TRUE(node->next.empty());
}

// As PyTorch: a leaf switched off between the op and backward (a frozen layer) receives nothing.
TEST(Autograd, LeafSwitchedOffAfterUseGetsNoGradient) {
  Tensor w = leaf({1, 2});
  Tensor x = tensor({3, 4});
  Tensor loss = (w + x).sum();  // add passes the gradient to both sides
  w.set_requires_grad(false);
  loss.backward();
  EXPECT_FALSE(w.grad().defined());
}

TEST(Autograd, DetachSharesStorageAndCutsGraph) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0f;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_EQ(d.impl()->storage, y.impl()->storage);
  EXPECT_TRUE(tensor_near(d, {2}, {2, 4}));
  // Detached values act as constants.
  (x * d).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {2, 4}));
  // Writing into the detached tensor is allowed and shows in the original.
  Tensor dx = x.detach();
  dx.fill_(9.0f);
  EXPECT_TRUE(tensor_near(x, {2}, {9, 9}));
}

TEST(Autograd, NoGradGuardStopsRecording) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE(grad_enabled());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(grad_enabled());
    Tensor y = x * 2.0f;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_TRUE(tensor_near(y, {2}, {2, 4}));
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_TRUE((x * 2.0f).requires_grad());
}

TEST(Autograd, NoGradGuardNestsAndRestores) {
  EXPECT_TRUE(grad_enabled());
  {
    NoGradGuard outer;
    EXPECT_FALSE(grad_enabled());
    {
      NoGradGuard inner;
      EXPECT_FALSE(grad_enabled());
    }
    EXPECT_FALSE(grad_enabled());  // still inside outer
  }
  EXPECT_TRUE(grad_enabled());
  set_grad_enabled(false);
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
  }
  EXPECT_FALSE(grad_enabled());  // restores the previous state, not "on"
  set_grad_enabled(true);
  EXPECT_TRUE(grad_enabled());
}

TEST(Autograd, BackwardWithExplicitGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * x;  // non-scalar
  y.backward(tensor({1, 0.5f, -1}));
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {2, 2, -6}));
}

TEST(Autograd, BackwardWithExplicitGradientOnMatrix) {
  Tensor w = tensor({{1, 2}, {3, 4}});
  w.set_requires_grad(true);
  Tensor y = w.t() * 2.0f;
  y.backward(tensor({{1, 2}, {3, 4}}));
  // dL/dw = 2 * g^T
  EXPECT_TRUE(tensor_near(w.grad(), {2, 2}, {2, 6, 4, 8}));
}

TEST(Autograd, ScalarBackwardAcceptsExplicitGradient) {
  Tensor x = leaf({2});
  (x * 3.0f).sum().backward(tensor(2.0f));
  EXPECT_TRUE(tensor_near(x.grad(), {1}, {6}));
}

TEST(Autograd, TensorUsedTwiceGradientsAdd) {
  Tensor x = leaf({2, -1});
  (x + x).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {2, 2}));
  x.zero_grad();
  (x * x).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {4, -2}));
}

TEST(Autograd, GradientHandedToTwoInputsIsNotChangedInPlace) {
  // s = a + b hands one gradient tensor to both a and b. Later contributions are added to
  // each: in place only where the sum is private, or a's would change with b's.
  // loss = sum(1 * (a + b + 5a + 7b)), a = 2x, b = 3x: d/dx = 2 * 6 + 3 * 8 = 36. (The * 1
  // makes the gradient that reaches the adds dense: sum's own is an expanded view, which is
  // never changed in place, and the test would then prove nothing.)
  Tensor x = leaf({1.0f, -2.0f});
  Tensor a = x * 2.0f, b = x * 3.0f;
  Tensor p = a * 5.0f, q = b * 7.0f;
  Tensor s = a + b;
  (((s + p) + q) * 1.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {36, 36}));
}

TEST(Autograd, ViewsOfOneTensorAddIntoOneGradient) {
  // Attention's q, k and v are slices of one tensor: the second and later views add their
  // gradient into the place they looked at (Node::add_into_input_grad). Here three slices, an
  // overlapping strided one, a select and an index of y = x * 1 (a node, not a leaf).
  Tensor x = leaf({{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}});
  // The newest view (row) runs first, through backward(); the others add into its result.
  auto f = [](const Tensor& in) {
    Tensor y = in * 1.0f;
    Tensor corner = y.index({Slice(0, 1), Slice(4, 6)});       // (0, 4) and (0, 5)
    Tensor q = y.slice(1, 0, 2), k = y.slice(1, 2, 4), v = y.slice(1, 4, 6);
    Tensor odd = y.slice(1, 1, 5, 2);                          // columns 1 and 3
    Tensor row = y.select(0, 1);                               // row 1
    return (q + k * 2.0f + v * 3.0f).sum() + (odd * 10.0f).sum() + (row * 100.0f).sum() +
           (corner * corner).sum();
  };
  f(x).backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2, 6},
                          {1, 11, 2, 12, 3 + 2 * 5, 3 + 2 * 6,  //
                           101, 111, 102, 112, 103, 103}));
  EXPECT_TRUE(gradcheck1(f, tensor({{0.5f, -1, 2, 0.25f, -3, 1}, {1, 2, -2, 0.5f, 1.5f, -1}})));
}

TEST(Autograd, OnlyViewsAddIntoTheirInputsGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor buffer = zeros({3});
  EXPECT_TRUE(x.slice(0, 1, 3).grad_fn()->add_into_input_grad(buffer, tensor({10, 20})));
  EXPECT_TRUE(tensor_near(buffer, {3}, {0, 10, 20}));
  EXPECT_TRUE(x.index({Slice(0, 1)}).grad_fn()->add_into_input_grad(buffer, tensor({5})));
  EXPECT_TRUE(tensor_near(buffer, {3}, {5, 10, 20}));
  EXPECT_FALSE((x * 2.0f).grad_fn()->add_into_input_grad(buffer, tensor({1, 1, 1})));
  EXPECT_TRUE(tensor_near(buffer, {3}, {5, 10, 20}));
}

TEST(Autograd, AViewNeverWritesIntoTheGradientPassedToBackward) {
  // add hands the caller's own gradient tensor on to y as it is; y's slice must not add into it.
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 1.0f;
  Tensor s = y.slice(0, 0, 1);
  Tensor out = y + s;  // s broadcast over the three elements
  Tensor g = tensor({1, 2, 3});
  out.backward(g);
  EXPECT_TRUE(tensor_near(g, {3}, {1, 2, 3}));
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {7, 2, 3}));
}

TEST(Autograd, AViewDoesNotAddIntoAGradientSharedWithAnotherInput) {
  // out = y + w1 hands one gradient tensor to y and to w1. When y's slice then runs, that
  // tensor is also w1's pending gradient: adding the slice's gradient into it in place would
  // give w the slice's gradient too. (w1 is made before the slice, so it runs after it.)
  Tensor x = leaf({1, 2, 3}), w = leaf({4, 5, 6});
  Tensor y = x * 1.0f, w1 = w * 1.0f;
  Tensor s = y.slice(0, 0, 1);
  Tensor out = y + w1;
  ((out * 1.0f).sum() + (s * 3.0f).sum()).backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {4, 1, 1}));
  EXPECT_TRUE(tensor_near(w.grad(), {3}, {1, 1, 1}));
}

TEST(Autograd, DiamondGraphVisitsSharedNodeOnce) {
  // a = 2x; loss = sum(exp(a) + 3a) -> dloss/dx = 2 exp(2x) + 6
  Tensor x = leaf({0.1f, -0.3f});
  Tensor a = x * 2.0f;
  Tensor loss = (a.exp() + a * 3.0f).sum();
  loss.backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2},
                          {2 * std::exp(0.2f) + 6, 2 * std::exp(-0.6f) + 6}, 1e-5, 1e-5));
}

TEST(Autograd, DeepSharedSubgraph) {
  // Each step uses the previous value twice: y_{k+1} = y_k * 0.5 + y_k * 0.5 = y_k,
  // so dy_n/dx = 1; a wrong traversal doubles (or drops) contributions exponentially.
  Tensor x = leaf({1.5f});
  Tensor y = x;
  for (int i = 0; i < 20; ++i) y = y * 0.5f + y * 0.5f;
  y.sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {1}, {1}, 1e-5, 1e-5));
}

TEST(Autograd, LongChainDoesNotOverflow) {
  Tensor x = leaf({1.0f});
  Tensor y = x;
  for (int i = 0; i < 5000; ++i) y = y + 0.001f;
  y.sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {1}, {1}));
}

TEST(Autograd, SecondBackwardThroughFreedGraphThrows) {
  Tensor x = leaf({1, 2});
  Tensor loss = (x.exp() * x).sum();
  loss.backward();
  EXPECT_TRUE(throws_error_re([&] { loss.backward(); }, "free|already|retain|released"));
}

TEST(Autograd, SecondBackwardThroughSharedPartOfFreedGraphThrows) {
  Tensor x = leaf({1, 2});
  Tensor h = x.exp();
  h.sum().backward();
  EXPECT_TRUE(throws_error_re([&] { (h * 2.0f).sum().backward(); }, "free|already|retain|released"));
}

TEST(Autograd, BackwardOnNonScalarWithoutGradientThrows) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE(throws_error_re([&] { (x * 2.0f).backward(); }, "backward.*(scalar|one element|gradient)"));
}

TEST(Autograd, BackwardOnTensorWithoutGradThrows) {
  Tensor x = tensor({1, 2});
  EXPECT_TRUE(throws_error_re([&] { x.sum().backward(); }, "backward.*require"));
}

TEST(Autograd, BackwardWithWrongGradientShapeThrows) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2.0f;
  EXPECT_TRUE(throws_error_all([&] { y.backward(tensor({1, 2})); }, {"backward", "(3,)", "(2,)"}));
}

TEST(Autograd, InPlaceOnLeafRequiringGradThrows) {
  Tensor w = leaf({1, 2});
  EXPECT_TRUE(throws_error_re([&] { w += tensor({1, 1}); }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w -= 1.0f; }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w *= 2.0f; }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w /= 2.0f; }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w.fill_(0.0f); }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w.zero_(); }, "requires grad|require"));
  EXPECT_TRUE(throws_error_re([&] { w.copy_(tensor({3, 4})); }, "requires grad|require"));
  EXPECT_TRUE(tensor_near(w, {2}, {1, 2}));  // nothing was written
}

TEST(Autograd, InPlaceOnViewOfLeafRequiringGradThrows) {
  Tensor w = leaf({1, 2, 3});
  EXPECT_TRUE(throws_error_re([&] { w.slice(0, 0, 2).fill_(0.0f); }, "grad"));
  EXPECT_TRUE(tensor_near(w, {3}, {1, 2, 3}));
}

TEST(Autograd, InPlaceUnderNoGradGuardIsAllowed) {
  Tensor w = leaf({1, 2});
  (w * w).sum().backward();
  {
    NoGradGuard no_grad;
    w -= w.grad() * 0.5f;  // an SGD step
    w *= 2.0f;
  }
  EXPECT_TRUE(tensor_near(w, {2}, {0, 0}));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  {
    NoGradGuard no_grad;
    w.fill_(3.0f);
    w.slice(0, 0, 1).copy_(tensor({1}));
  }
  EXPECT_TRUE(tensor_near(w, {2}, {1, 3}));
}

TEST(Autograd, SetRequiresGradOnNonLeafThrows) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0f;
  EXPECT_TRUE(throws_error_re([&] { y.set_requires_grad(false); }, "leaf|leaves"));
}

TEST(Autograd, BackwardLeavesGradModeOn) {
  Tensor x = leaf({1, 2});
  (x * x).sum().backward();
  EXPECT_TRUE(grad_enabled());
}

// ---- record_op: the extension point ops use ---------------------------------------------

namespace {
// y = 3x with a configurable (possibly wrong) backward.
Tensor triple(const Tensor& x, float backward_factor) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x * 3.0f;
  }
  return record_op("triple", {x}, out, [backward_factor](const Tensor& g) {
    return std::vector<Tensor>{g * backward_factor};
  });
}
}  // namespace

TEST(Autograd, RecordOpAttachesNodeAndRunsBackward) {
  Tensor x = leaf({1, 2});
  Tensor y = triple(x, 3.0f);
  EXPECT_TRUE(y.requires_grad());
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_STREQ(y.grad_fn()->name, "triple");
  (y * y).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {18, 36}));  // d(9x^2)/dx = 18x
}

TEST(Autograd, RecordOpDoesNothingWithoutGrad) {
  Tensor y = triple(tensor({1, 2}), 3.0f);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  NoGradGuard no_grad;
  Tensor z = triple(leaf({1}), 3.0f);
  EXPECT_FALSE(z.requires_grad());
}

TEST(Autograd, RunBackwardMatchesMethod) {
  Tensor x = leaf({1, 2});
  run_backward((x * x).sum(), Tensor());
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {2, 4}));
}

TEST(Gradcheck, PassesCorrectCustomOp) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return triple(t, 3.0f); }, make_input({2, 3})));
}

TEST(Gradcheck, DetectsWrongCustomOpGradient) {
  // The checker itself must be able to fail: a backward that is off by a factor.
  EXPECT_FALSE(gradcheck1([](const Tensor& t) { return triple(t, 2.0f); }, make_input({2, 3})));
  EXPECT_FALSE(gradcheck1([](const Tensor& t) { return triple(t, -3.0f); }, make_input({2, 3})));
}

TEST(Gradcheck, DetectsWrongGradientShape) {
  auto bad = [](const Tensor& x) {
    Tensor out;
    {
      NoGradGuard no_grad;
      out = x.sum();
    }
    // Returns a (2,) gradient for a (3,) input: the engine should refuse, or gradcheck flags it.
    return record_op("bad_sum", {x}, out, [](const Tensor& g) {
      return std::vector<Tensor>{g.reshape({1}).expand({2}).contiguous()};
    });
  };
  bool flagged = false;
  try {
    flagged = !gradcheck1(bad, make_input({3}));
  } catch (const Error&) {
    flagged = true;  // the engine caught the shape mismatch itself
  }
  EXPECT_TRUE(flagged);
}

// ---- more graph shapes -----------------------------------------------------------------

TEST(Autograd, BackwardOnLeafScalar) {
  Tensor x = tensor(2.0f);
  x.set_requires_grad(true);
  x.backward();
  EXPECT_TRUE(tensor_near(x.grad(), {}, {1}));
}

TEST(Autograd, DetachThenRequiresGradIsANewLeaf) {
  Tensor x = leaf({1, 2});
  Tensor y = (x * 3.0f).detach();
  y.set_requires_grad(true);
  EXPECT_TRUE(y.is_leaf());
  (y * y).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2}, {6, 12}));
  EXPECT_FALSE(x.grad().defined());  // the graph was cut
}

TEST(Autograd, ViewAndDirectUseAccumulate) {
  Tensor x = tensor({{1, 2}, {3, 4}});
  x.set_requires_grad(true);
  (x.t() * x).sum().backward();  // d/dx_ij of sum_ij x_ji x_ij = 2 x_ji
  EXPECT_TRUE(tensor_near(x.grad(), {2, 2}, {2, 6, 4, 8}));
}

TEST(Autograd, BackwardFromAnElementOfANonScalar) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * x;
  y[1].backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {0, 4, 0}));
}

TEST(Autograd, UnusedLeafGetsNoGradient) {
  Tensor x = leaf({1, 2});
  Tensor unused = leaf({3});
  (x * 2.0f).sum().backward();
  EXPECT_FALSE(unused.grad().defined());
}

TEST(Autograd, GradModeIsPerThread) {
  NoGradGuard no_grad;
  bool other_thread_enabled = false;
  bool other_thread_recorded = false;
  std::thread worker([&] {
    other_thread_enabled = grad_enabled();
    Tensor x = leaf({1});
    other_thread_recorded = (x * 2.0f).requires_grad();
  });
  worker.join();
  EXPECT_TRUE(other_thread_enabled);
  EXPECT_TRUE(other_thread_recorded);
  EXPECT_FALSE(grad_enabled());
}

TEST(Autograd, GradientsFlowThroughManyOpsAtOnce) {
  // A two-layer MLP with a softmax cross-entropy, checked end to end.
  Tensor x = make_input({4, 3}, -1, 1, 201);
  Tensor target = one_hot(tensor({0, 2, 1, 2}), 3);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& p) {
        Tensor h = (matmul(x, p[0]) + p[1]).tanh();  // smooth: no kinks for the differences
        Tensor logits = matmul(h, p[2]);
        return -(logits.log_softmax(-1) * target).sum(-1).mean();
      },
      {make_input({3, 5}, -1, 1, 202), make_input({5}, 0.3f, 0.6f, 203),
       make_input({5, 3}, -1, 1, 204)}));
}

// ---- in-place and subgradient conventions ------------------------------------------------

TEST(Autograd, InPlaceOnNonLeafRequiringGradThrows) {
  // exp's backward reuses its output; changing it in place would corrupt the gradient.
  Tensor x = leaf({0.5f, 1});
  Tensor y = x.exp();
  EXPECT_TRUE(throws_error_re([&] { y += 1.0f; }, "grad"));
  EXPECT_TRUE(throws_error_re([&] { y.fill_(0.0f); }, "grad"));
}

TEST(Autograd, PowZeroExponentAtZeroBaseHasZeroGradient) {
  // As PyTorch: d/dx x^0 = 0 everywhere, including x = 0 (not 0 * inf = nan).
  Tensor x = leaf({0, 2});
  pow(x, 0.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {0, 0}));
  Tensor y = leaf({0, 3});
  pow(y, 2.0f).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2}, {0, 6}));
}

TEST(Autograd, PowTensorExponentAtZeroBaseIsFinite) {
  // As PyTorch: where base == 0 (and exponent >= 0) the exponent's gradient is 0, not nan.
  Tensor base = leaf({0, 2});
  Tensor e = leaf({2, 3});
  pow(base, e).sum().backward();
  EXPECT_TRUE(tensor_near(e.grad(), {2}, {0, 8 * std::log(2.0f)}, 1e-5, 1e-5));
  EXPECT_TRUE(tensor_near(base.grad(), {2}, {0, 12}, 1e-5, 1e-5));
}

TEST(Autograd, KinkGradientsMatchPyTorch) {
  Tensor r = leaf({0, -1, 1});
  relu(r).sum().backward();
  EXPECT_TRUE(tensor_near(r.grad(), {3}, {0, 0, 1}));  // relu'(0) = 0
  Tensor a = leaf({0, -2, 2});
  abs(a).sum().backward();
  EXPECT_TRUE(tensor_near(a.grad(), {3}, {0, -1, 1}));  // sign(0) = 0
  Tensor c = leaf({-1, 0, 1, 2});
  clamp(c, -1.0f, 1.0f).sum().backward();
  EXPECT_TRUE(tensor_near(c.grad(), {4}, {1, 1, 1, 0}));  // bounds are inside
}

TEST(Autograd, TieGradientsSumToOne) {
  // Whatever the convention (split or first index), ties must not drop or duplicate it.
  Tensor a = leaf({1, 2});
  Tensor b = leaf({1, 3});
  maximum(a, b).sum().backward();
  std::vector<float> ga = a.grad().to_vector(), gb = b.grad().to_vector();
  EXPECT_NEAR(ga[0] + gb[0], 1.0f, 1e-6);
  EXPECT_TRUE(tensor_near(a.grad().slice(0, 1, 2), {1}, {0}));
  EXPECT_TRUE(tensor_near(b.grad().slice(0, 1, 2), {1}, {1}));
  Tensor m = leaf({3, 1, 3});
  m.max().backward();
  std::vector<float> gm = m.grad().to_vector();
  EXPECT_NEAR(gm[0] + gm[2], 1.0f, 1e-6);
  EXPECT_EQ(gm[1], 0.0f);
  Tensor n = tensor({{2, 2}, {1, 5}});
  n.set_requires_grad(true);
  n.max(1).sum().backward();
  std::vector<float> gn = n.grad().to_vector();
  EXPECT_NEAR(gn[0] + gn[1], 1.0f, 1e-6);
  EXPECT_EQ(gn[2], 0.0f);
  EXPECT_EQ(gn[3], 1.0f);
}

TEST(Autograd, CatWithMixedRequiresGrad) {
  Tensor a = leaf({1, 2});
  Tensor b = tensor({3});
  (cat({a, b}) * tensor({1, 2, 3})).sum().backward();
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {1, 2}));
  EXPECT_FALSE(b.grad().defined());
}

// A user-defined op whose backward throws: the error reaches the caller, and nothing of
// that pass leaks into the next one (pending gradients live in the nodes).
TEST(Autograd, ThrowingClosureLeavesNoStaleGradients) {
  Tensor x = leaf({1, 2});
  Tensor shared = x * 2.0f;  // a node both losses reach
  Tensor broken = record_op("broken", {shared}, shared.detach() * 1.0f,
                            [](const Tensor&) -> std::vector<Tensor> { throw Error("broken: no backward"); });
  Tensor loss = (broken + shared).sum();
  EXPECT_TRUE(throws_error([&] { loss.backward(); }, "broken: no backward"));
  // "shared" got a partial gradient from "+" before "broken" threw; a new pass through it
  // must start from zero: d(sum(3 * shared))/dx = 6.
  x.zero_grad();
  (shared * 3.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2}, {6, 6}));
}

TEST(Autograd, GradFnNamesWhatWasWritten) {
  Tensor x = leaf({1, 2});
  EXPECT_STREQ((x - 1.0f).grad_fn()->name, "sub");
  EXPECT_STREQ((x / 2.0f).grad_fn()->name, "div");
  EXPECT_STREQ((x + 1.0f).grad_fn()->name, "add");
  EXPECT_STREQ((x * 2.0f).grad_fn()->name, "mul");
  EXPECT_STREQ(relu(x).grad_fn()->name, "relu");
}
