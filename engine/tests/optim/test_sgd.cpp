// optim::SGD and the Optimizer base: updates against PyTorch's formula evaluated in
// double, hand-worked values, option validation and skipping parameters without grads.
#include <ember/optim/sgd.h>

#include <cmath>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::tensor_near;
using ember_test::throws_error;
namespace optim = ember::optim;

// torch.optim.SGD for one parameter, in double.
struct SgdReference {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  std::vector<double> buffer;

  void step(std::vector<double>& param, const std::vector<float>& grad) {
    std::vector<double> d(param.size());
    for (size_t i = 0; i < param.size(); ++i) d[i] = grad[i] + weight_decay * param[i];
    if (momentum != 0) {
      if (buffer.empty()) {
        buffer = d;
      } else {
        for (size_t i = 0; i < d.size(); ++i)
          buffer[i] = momentum * buffer[i] + (1 - dampening) * d[i];
      }
      for (size_t i = 0; i < d.size(); ++i) d[i] = nesterov ? d[i] + momentum * buffer[i] : buffer[i];
    }
    for (size_t i = 0; i < param.size(); ++i) param[i] -= lr * d[i];
  }
};

Tensor leaf(const std::vector<float>& values) {
  Tensor t = ember::from_vector(values, {static_cast<int64_t>(values.size())});
  t.set_requires_grad(true);
  return t;
}

// Runs four steps with varied gradients through SGD and through the reference.
void expect_matches_reference(const optim::SGDOptions& options) {
  SCOPED_TRACE(fmt::format("lr {} momentum {} dampening {} weight_decay {} nesterov {}",
                           options.lr(), options.momentum(), options.dampening(),
                           options.weight_decay(), options.nesterov()));
  const std::vector<float> start = {1.0f, -2.0f, 0.5f};
  Tensor param = leaf(start);
  optim::SGD sgd({param}, options);
  SgdReference ref{options.lr(), options.momentum(), options.dampening(), options.weight_decay(),
                   options.nesterov(), {}};
  std::vector<double> expected(start.begin(), start.end());
  const std::vector<std::vector<float>> grads = {
      {0.5f, -1.0f, 2.0f}, {0.25f, 0.5f, -1.0f}, {-0.75f, 1.5f, 0.0f}, {1.0f, 1.0f, 1.0f}};
  for (const auto& g : grads) {
    param.set_grad(ember::from_vector(g, {3}));
    sgd.step();
    ref.step(expected, g);
    std::vector<float> got = param.to_vector();
    for (size_t i = 0; i < got.size(); ++i) {
      // float32 arithmetic on values of order 1: a few ulps, far below 1e-5.
      EXPECT_NEAR(got[i], expected[i], 1e-5) << "element " << i;
    }
  }
}

TEST(OptimSgd, PlainStepByHand) {
  Tensor p = leaf({1.0f, 2.0f});
  optim::SGD sgd({p}, 0.1);
  p.set_grad(ember::tensor({0.5f, -1.0f}));
  sgd.step();
  EXPECT_TRUE(tensor_near(p, {2}, {0.95f, 2.1f}));
}

TEST(OptimSgd, MomentumByHand) {
  // p = 1, g = 0.5 each step, lr 0.1, momentum 0.9:
  //   step 1: buf = 0.5,               p = 1 - 0.05 = 0.95
  //   step 2: buf = 0.45 + 0.5 = 0.95, p = 0.95 - 0.095 = 0.855
  //   step 3: buf = 0.855 + 0.5 = 1.355, p = 0.855 - 0.1355 = 0.7195
  Tensor p = leaf({1.0f});
  optim::SGD sgd({p}, optim::SGDOptions(0.1).momentum(0.9));
  const float expected[] = {0.95f, 0.855f, 0.7195f};
  for (float e : expected) {
    p.set_grad(ember::tensor({0.5f}));
    sgd.step();
    EXPECT_NEAR(p.to_vector()[0], e, 1e-6);
  }
}

TEST(OptimSgd, MatchesPyTorchFormula) {
  expect_matches_reference(optim::SGDOptions(0.1));
  expect_matches_reference(optim::SGDOptions(0.05).momentum(0.9));
  expect_matches_reference(optim::SGDOptions(0.05).momentum(0.9).dampening(0.3));
  expect_matches_reference(optim::SGDOptions(0.05).momentum(0.8).nesterov(true));
  expect_matches_reference(optim::SGDOptions(0.1).weight_decay(0.01));
  expect_matches_reference(
      optim::SGDOptions(0.02).momentum(0.5).dampening(0.1).weight_decay(0.2));
  expect_matches_reference(optim::SGDOptions(0.02).momentum(0.7).weight_decay(0.1).nesterov(true));
}

TEST(OptimSgd, SkipsParametersWithoutGradients) {
  Tensor a = leaf({1.0f});
  Tensor b = leaf({2.0f});
  optim::SGD sgd({a, b}, optim::SGDOptions(0.1).momentum(0.9));
  a.set_grad(ember::tensor({1.0f}));
  sgd.step();
  EXPECT_NEAR(a.to_vector()[0], 0.9f, 1e-6);
  EXPECT_EQ(b.to_vector()[0], 2.0f);
  // b's first update later still starts its own momentum buffer from its gradient.
  b.set_grad(ember::tensor({1.0f}));
  sgd.step();
  EXPECT_NEAR(b.to_vector()[0], 1.9f, 1e-6);
  EXPECT_NEAR(a.to_vector()[0], 0.9f - 0.1f * 1.9f, 1e-6);  // buf 0.9 * 1 + 1
}

TEST(OptimSgd, ZeroGradAndDuplicates) {
  Tensor p = leaf({1.0f});
  optim::SGD sgd({p, p}, 1.0);  // listed twice, updated once
  EXPECT_EQ(sgd.parameters().size(), 1u);
  p.set_grad(ember::tensor({1.0f}));
  sgd.step();
  EXPECT_NEAR(p.to_vector()[0], 0.0f, 1e-6);
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

TEST(OptimSgd, StepDoesNotRecordTheGraph) {
  Tensor p = leaf({1.0f});
  optim::SGD sgd({p}, 0.1);
  (p * p).sum().backward();
  sgd.step();
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_NEAR(p.to_vector()[0], 0.8f, 1e-6);
}

TEST(OptimSgd, ValidatesOptions) {
  Tensor p = leaf({1.0f});
  EXPECT_TRUE(throws_error([&] { optim::SGD({p}, -0.1); },
                           "SGD: the learning rate must be >= 0, got -0.1"));
  EXPECT_TRUE(throws_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).momentum(-1)); },
                           "SGD: momentum must be >= 0, got -1"));
  EXPECT_TRUE(throws_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).weight_decay(-1)); },
                           "SGD: weight_decay must be >= 0"));
  EXPECT_TRUE(throws_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).nesterov(true)); },
                           "SGD: Nesterov momentum needs momentum > 0 and dampening 0, got "
                           "momentum 0 and dampening 0"));
  EXPECT_TRUE(throws_error(
      [&] { optim::SGD({p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); },
      "got momentum 0.9 and dampening 0.1"));
  // Options changed after construction are checked at the next step.
  optim::SGD sgd({p}, 0.1);
  sgd.options().lr(-1);
  p.set_grad(ember::tensor({1.0f}));
  EXPECT_TRUE(throws_error([&] { sgd.step(); }, "learning rate must be >= 0"));
}

TEST(OptimSgd, ValidatesParameters) {
  EXPECT_TRUE(throws_error([] { optim::SGD({}, 0.1); }, "optimizer: got an empty parameter list"));
  EXPECT_TRUE(throws_error([] { optim::SGD({Tensor()}, 0.1); },
                           "optimizer: parameter 0 is an undefined tensor"));
  Tensor p = leaf({1.0f, 2.0f});
  Tensor computed = p * 2.0f;
  EXPECT_TRUE(throws_error([&] { optim::SGD({p, computed}, 0.1); },
                           "optimizer: parameter 1 (shape (2,)) is computed by an op"));
}

}  // namespace
