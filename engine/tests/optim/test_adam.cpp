// optim::Adam: hand-worked steps, PyTorch's formula in double (bias correction at steps
// 1, 2, 3, ...), weight decay, eps placement and option validation.
#include <ember/optim/adam.h>

#include <cmath>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::throws_error;
namespace optim = ember::optim;

// torch.optim.Adam for one parameter, in double.
struct AdamReference {
  double lr, beta1, beta2, eps, weight_decay;
  std::vector<double> m, v;
  int step = 0;

  void update(std::vector<double>& param, const std::vector<float>& grad) {
    if (m.empty()) m.assign(param.size(), 0.0), v.assign(param.size(), 0.0);
    ++step;
    const double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
    for (size_t i = 0; i < param.size(); ++i) {
      const double g = grad[i] + weight_decay * param[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      param[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
    }
  }
};

Tensor leaf(const std::vector<float>& values) {
  Tensor t = ember::from_vector(values, {static_cast<int64_t>(values.size())});
  t.set_requires_grad(true);
  return t;
}

TEST(OptimAdam, ConstantGradientMovesByLrEachStep) {
  // With a constant gradient g, the bias-corrected m-hat is g and v-hat is g^2 at every
  // step (1 - b^t cancels exactly), so each step moves by lr * g / (|g| + eps) ~ lr:
  //   step 1: m = 0.05, v = 0.00025; m / (1 - 0.9) = 0.5; v / (1 - 0.999) = 0.25 -> p = 0.9
  //   step 2: m = 0.095, v = 0.00049975; 0.095 / 0.19 = 0.5; 0.00049975 / 0.001999 = 0.25
  Tensor p = leaf({1.0f});
  optim::Adam adam({p}, optim::AdamOptions(0.1));
  const float expected[] = {0.9f, 0.8f, 0.7f};
  for (float e : expected) {
    p.set_grad(ember::tensor({0.5f}));
    adam.step();
    EXPECT_NEAR(p.to_vector()[0], e, 2e-6);
  }
  EXPECT_EQ(adam.step_count(0), 3);
}

TEST(OptimAdam, BiasCorrectionAtSteps1To3ByHand) {
  // Gradients 1, then 0, then 0 (lr 1, betas (0.5, 0.75), eps 0):
  //   step 1: m = 0.5,  v = 0.25;      m-hat = 0.5/0.5 = 1,        v-hat = 0.25/0.25 = 1 -> -1
  //   step 2: m = 0.25, v = 0.1875;    m-hat = 0.25/0.75 = 1/3,    v-hat = 0.1875/0.4375 = 3/7
  //           update = (1/3) / sqrt(3/7) = 0.509175...
  //   step 3: m = 0.125, v = 0.140625; m-hat = 0.125/0.875 = 1/7,  v-hat = 0.140625/0.578125
  //           update = (1/7) / sqrt(0.243243...) = 0.289657...
  Tensor p = leaf({0.0f});
  optim::Adam adam({p}, optim::AdamOptions(1.0).betas({0.5, 0.75}).eps(0));
  p.set_grad(ember::tensor({1.0f}));
  adam.step();
  EXPECT_NEAR(p.to_vector()[0], -1.0, 1e-6);
  p.set_grad(ember::tensor({0.0f}));
  adam.step();
  const double step2 = (1.0 / 3.0) / std::sqrt(3.0 / 7.0);
  EXPECT_NEAR(p.to_vector()[0], -1.0 - step2, 1e-5);
  p.set_grad(ember::tensor({0.0f}));
  adam.step();
  const double step3 = (1.0 / 7.0) / std::sqrt(0.140625 / 0.578125);
  EXPECT_NEAR(p.to_vector()[0], -1.0 - step2 - step3, 1e-5);
}

void expect_matches_reference(const optim::AdamOptions& options) {
  SCOPED_TRACE(fmt::format("lr {} betas ({}, {}) eps {} weight_decay {}", options.lr(),
                           options.betas().first, options.betas().second, options.eps(),
                           options.weight_decay()));
  const std::vector<float> start = {1.0f, -2.0f, 0.5f, 0.0f};
  Tensor param = leaf(start);
  optim::Adam adam({param}, options);
  AdamReference ref{options.lr(), options.betas().first, options.betas().second, options.eps(),
                    options.weight_decay(), {}, {}, 0};
  std::vector<double> expected(start.begin(), start.end());
  const std::vector<std::vector<float>> grads = {{0.5f, -1.0f, 2.0f, 0.1f},
                                                 {0.25f, 0.5f, -1.0f, 0.0f},
                                                 {-0.75f, 1.5f, 0.0f, -0.3f},
                                                 {1.0f, 1.0f, 1.0f, 1.0f},
                                                 {0.1f, -0.2f, 0.3f, -0.4f}};
  for (const auto& g : grads) {
    param.set_grad(ember::from_vector(g, {4}));
    adam.step();
    ref.update(expected, g);
    std::vector<float> got = param.to_vector();
    for (size_t i = 0; i < got.size(); ++i) {
      // float32 state and arithmetic; updates are of size ~lr, values of order 1.
      EXPECT_NEAR(got[i], expected[i], 2e-5) << "element " << i << " at step " << ref.step;
    }
  }
}

TEST(OptimAdam, MatchesPyTorchFormula) {
  expect_matches_reference(optim::AdamOptions());
  expect_matches_reference(optim::AdamOptions(0.1));
  expect_matches_reference(optim::AdamOptions(0.05).betas({0.8, 0.9}));
  expect_matches_reference(optim::AdamOptions(0.05).weight_decay(0.1));
  // A large eps makes its place in the denominator visible: it is added to
  // sqrt(v) / sqrt(1 - beta2^t), not to sqrt(v-hat) before or after other corrections.
  expect_matches_reference(optim::AdamOptions(0.1).eps(0.5));
  expect_matches_reference(optim::AdamOptions(0.02).betas({0.0, 0.5}).eps(1e-3).weight_decay(0.5));
}

TEST(OptimAdam, StepCountsArePerParameter) {
  Tensor a = leaf({1.0f});
  Tensor b = leaf({1.0f});
  optim::Adam adam({a, b}, 0.1);
  a.set_grad(ember::tensor({0.5f}));
  adam.step();
  adam.step();
  EXPECT_EQ(adam.step_count(0), 2);
  EXPECT_EQ(adam.step_count(1), 0);
  EXPECT_EQ(b.to_vector()[0], 1.0f);
  // b's first step is a first step (full bias correction): it moves by lr.
  b.set_grad(ember::tensor({-3.0f}));
  adam.step();
  EXPECT_NEAR(b.to_vector()[0], 1.1f, 1e-6);
  EXPECT_TRUE(throws_error([&] { adam.step_count(2); }, "Adam::step_count: parameter 2"));
}

TEST(OptimAdam, ValidatesOptions) {
  Tensor p = leaf({1.0f});
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, -1e-3); },
                           "Adam: the learning rate must be >= 0, got -0.001"));
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, optim::AdamOptions().betas({1.0, 0.999})); },
                           "Adam: beta1 must be in [0, 1), got 1"));
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, optim::AdamOptions().betas({0.9, -0.1})); },
                           "Adam: beta2 must be in [0, 1), got -0.1"));
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, optim::AdamOptions().eps(-1)); },
                           "Adam: eps must be >= 0"));
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, optim::AdamOptions().weight_decay(-1)); },
                           "Adam: weight_decay must be >= 0"));
  EXPECT_TRUE(throws_error([&] { optim::Adam({p}, optim::AdamOptions(std::nan(""))); },
                           "learning rate must be >= 0, got nan"));
}

}  // namespace
