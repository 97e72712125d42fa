// optim::AdamW (issue 13) against torch.optim.AdamW's formula worked out by hand in double
// (param *= 1 - lr wd; m, v; param -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)),
// parameter groups, a learning rate changed between steps, and errors.
#include "gradcheck.h"

#include <memory>
#include <vector>

#include "ember/optim/adam.h"
#include "ember/optim/adamw.h"

using namespace ember;
using namespace ember_test;

namespace {

const std::vector<float> kStart = {1.0f, -2.0f, 0.5f};
const std::vector<std::vector<float>> kGrads = {{0.1f, -0.2f, 0.3f}, {0.4f, 0.1f, -0.5f}, {-0.3f, 0.2f, 0.05f}};

Tensor parameter(const std::vector<float>& values = kStart) {
  Tensor p = from_vector(values, {static_cast<int64_t>(values.size())});
  p.set_requires_grad(true);
  return p;
}

// Sets p's gradient to g (through backward of sum(p * g)).
void set_grad(Tensor& p, const std::vector<float>& g) {
  p.zero_grad();
  (p * from_vector(g, p.shape())).sum().backward();
}

}  // namespace

TEST(OptimAdamW, DefaultsArePyTorchs) {
  optim::AdamWOptions options;
  EXPECT_DOUBLE_EQ(options.lr(), 1e-3);
  EXPECT_DOUBLE_EQ(options.betas().first, 0.9);
  EXPECT_DOUBLE_EQ(options.betas().second, 0.999);
  EXPECT_DOUBLE_EQ(options.eps(), 1e-8);
  EXPECT_DOUBLE_EQ(options.weight_decay(), 0.01);
  optim::AdamWOptions chained = optim::AdamWOptions(3e-4).betas({0.9, 0.99}).eps(1e-6).weight_decay(0.1);
  EXPECT_DOUBLE_EQ(chained.lr(), 3e-4);
  EXPECT_DOUBLE_EQ(chained.betas().second, 0.99);
  EXPECT_DOUBLE_EQ(chained.eps(), 1e-6);
  EXPECT_DOUBLE_EQ(chained.weight_decay(), 0.1);
}

TEST(OptimAdamW, ThreeStepsMatchPyTorchsFormula) {
  Tensor p = parameter();
  optim::AdamW optimizer({p}, optim::AdamWOptions(0.1).betas({0.9, 0.99}).weight_decay(0.1));
  for (const auto& g : kGrads) {
    set_grad(p, g);
    optimizer.step();
  }
  EXPECT_TRUE(tensor_near(p, {3}, {0.767263511f, -1.84345429f, 0.433339318f}, 1e-6, 1e-6));
  EXPECT_EQ(optimizer.step_count(0), 3);
}

TEST(OptimAdamW, DefaultOptionsMatchPyTorchsFormula) {
  Tensor p = parameter();
  optim::AdamW optimizer({p});
  for (const auto& g : kGrads) {
    set_grad(p, g);
    optimizer.step();
  }
  EXPECT_TRUE(tensor_near(p, {3}, {0.997908944f, -1.99894638f, 0.49945006f}, 1e-7, 1e-6));
}

TEST(OptimAdamW, LearningRateChangedBetweenSteps) {
  Tensor p = parameter();
  optim::AdamW optimizer({p}, optim::AdamWOptions(0.1).betas({0.9, 0.99}).weight_decay(0.1));
  const double lrs[] = {0.1, 0.05, 0.01};
  for (int step = 0; step < 3; ++step) {
    optimizer.options().lr(lrs[step]);
    set_grad(p, kGrads[static_cast<size_t>(step)]);
    optimizer.step();
  }
  EXPECT_DOUBLE_EQ(optimizer.options().lr(), 0.01);
  EXPECT_TRUE(tensor_near(p, {3}, {0.838813097f, -1.85813472f, 0.408996591f}, 1e-6, 1e-6));
}

TEST(OptimAdamW, WithoutWeightDecayItIsAdamBitForBit) {
  Tensor a = parameter(), b = parameter();
  optim::AdamW adamw({a}, optim::AdamWOptions(0.1).betas({0.9, 0.99}).weight_decay(0.0));
  optim::Adam adam({b}, optim::AdamOptions(0.1).betas({0.9, 0.99}));
  for (const auto& g : kGrads) {
    set_grad(a, g);
    set_grad(b, g);
    adamw.step();
    adam.step();
  }
  EXPECT_TRUE(tensors_near(a, b, 0.0, 0.0));
  EXPECT_TRUE(tensor_near(a, {3}, {0.794091894f, -1.90059959f, 0.446493068f}, 1e-6, 1e-6));
}

TEST(OptimAdamW, DecayIsDecoupledFromTheGradient) {
  // A zero gradient: Adam's L2 decay would move the parameter through m / sqrt(v) (by about
  // lr each step); AdamW's only shrinks it by 1 - lr * wd.
  Tensor p = parameter({2.0f});
  optim::AdamW optimizer({p}, optim::AdamWOptions(0.1).weight_decay(0.5));
  set_grad(p, {0.0f});
  optimizer.step();
  EXPECT_FLOAT_EQ(p.item(), 2.0f * (1.0f - 0.05f));
}

TEST(OptimAdamW, ParameterGroupsDecayEachAsTold) {
  Tensor decayed = parameter(), not_decayed = parameter(), alone = parameter();
  optim::AdamW optimizer({{{decayed}, 0.1}, {{not_decayed}, 0.0}},
                         optim::AdamWOptions(0.1).betas({0.9, 0.99}).weight_decay(0.5));
  optim::AdamW reference({alone}, optim::AdamWOptions(0.1).betas({0.9, 0.99}).weight_decay(0.1));
  ASSERT_EQ(optimizer.parameters().size(), 2u);
  EXPECT_DOUBLE_EQ(optimizer.weight_decay_of(0), 0.1);
  EXPECT_DOUBLE_EQ(optimizer.weight_decay_of(1), 0.0);
  for (const auto& g : kGrads) {
    set_grad(decayed, g);
    set_grad(not_decayed, g);
    set_grad(alone, g);
    optimizer.step();
    reference.step();
  }
  EXPECT_TRUE(tensors_near(decayed, alone, 0.0, 0.0));
  EXPECT_TRUE(tensor_near(decayed, {3}, {0.767263511f, -1.84345429f, 0.433339318f}, 1e-6, 1e-6));
  EXPECT_TRUE(tensor_near(not_decayed, {3}, {0.794091894f, -1.90059959f, 0.446493068f}, 1e-6, 1e-6));
}

TEST(OptimAdamW, GroupsFromVectorsAsNanoGptBuildsThem) {
  // Matrices decay, vectors (biases, LayerNorm weights) do not; an empty group is allowed.
  std::vector<Tensor> decay, no_decay;
  Tensor w = parameter({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2}).detach();
  w.set_requires_grad(true);
  Tensor b = parameter({0.5f, -0.5f});
  for (const Tensor& t : {w, b}) (t.dim() >= 2 ? decay : no_decay).push_back(t);
  optim::AdamW optimizer({{decay, 0.1}, {no_decay, 0.0}, {{}, 0.3}}, optim::AdamWOptions(1e-2));
  EXPECT_EQ(optimizer.parameters().size(), 2u);
  EXPECT_TRUE(optimizer.parameters()[0].same_impl(w));
  EXPECT_TRUE(optimizer.parameters()[1].same_impl(b));
  // Only w has a gradient: b is skipped and keeps its step count at 0.
  (w * w).sum().backward();
  optimizer.step();
  EXPECT_EQ(optimizer.step_count(0), 1);
  EXPECT_EQ(optimizer.step_count(1), 0);
  EXPECT_TRUE(tensor_near(b, {2}, {0.5f, -0.5f}, 0.0, 0.0));
}

TEST(OptimAdamW, WeightDecayOptionCanChangeBetweenSteps) {
  Tensor p = parameter({2.0f});
  optim::AdamW optimizer({p}, optim::AdamWOptions(0.1).weight_decay(0.0));
  set_grad(p, {0.0f});
  optimizer.step();
  EXPECT_FLOAT_EQ(p.item(), 2.0f);
  optimizer.options().weight_decay(1.0);
  EXPECT_DOUBLE_EQ(optimizer.weight_decay_of(0), 1.0);
  optimizer.step();
  EXPECT_FLOAT_EQ(p.item(), 2.0f * 0.9f);
}

TEST(OptimAdamW, ErrorsNameTheProblem) {
  Tensor p = parameter();
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({p}, optim::AdamWOptions(-1.0)); },
                               {"AdamW", "learning rate", "-1"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({p}, optim::AdamWOptions().betas({0.9, 1.0})); },
                               {"AdamW", "beta2", "1"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({p}, optim::AdamWOptions().betas({-0.1, 0.9})); },
                               {"AdamW", "beta1"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({p}, optim::AdamWOptions().eps(-1e-8)); },
                               {"AdamW", "eps"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({p}, optim::AdamWOptions().weight_decay(-0.1)); },
                               {"AdamW", "weight_decay", "-0.1"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({{{p}, 0.1}, {{p}, 0.0}}); },
                               {"AdamW", "group 0", "group 1", "(3,)"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({{{p}, -0.1}}); },
                               {"AdamW", "weight_decay of group 0", "-0.1"}));
  EXPECT_TRUE(throws_error_all([&] { optim::AdamW o({{{Tensor()}, 0.1}}); },
                               {"AdamW", "undefined"}));
  EXPECT_TRUE(throws_error([&] { optim::AdamW o(std::vector<optim::ParamGroup>{{{}, 0.1}}); },
                           "empty parameter list"));
  optim::AdamW ok({p});
  ok.options().lr(-0.5);
  set_grad(p, {1.0f, 1.0f, 1.0f});
  EXPECT_TRUE(throws_error_all([&] { ok.step(); }, {"AdamW", "learning rate", "-0.5"}));
  EXPECT_TRUE(throws_error_all([&] { ok.step_count(3); }, {"AdamW", "3"}));
  EXPECT_TRUE(throws_error_all([&] { ok.weight_decay_of(7); }, {"AdamW", "7"}));
  // A duplicate inside one group is kept once, as the plain list does.
  optim::AdamW once({{{p, p}, 0.1}});
  EXPECT_EQ(once.parameters().size(), 1u);
}

TEST(OptimAdamW, TrainsALinearFit) {
  // y = 3x - 1 from 32 points: AdamW gets the loss far down in 300 steps.
  manual_seed(7);
  Tensor x = rand({32, 1}) * 2.0f - 1.0f;
  Tensor y = x * 3.0f - 1.0f;
  Tensor w = zeros({1, 1}), b = zeros({1});
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  optim::AdamW optimizer({{{w}, 0.01}, {{b}, 0.0}}, optim::AdamWOptions(0.1));
  float loss_value = 0.0f;
  for (int step = 0; step < 300; ++step) {
    optimizer.zero_grad();
    Tensor diff = x.matmul(w) + b - y;
    Tensor loss = (diff * diff).mean();
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
  }
  EXPECT_LT(loss_value, 1e-2f);
  EXPECT_NEAR(w.item(), 3.0f, 0.1f);
}
