// Layers: Linear, activations, Flatten, Dropout, LayerNorm, Embedding — forward values,
// shapes, initialisation and error messages. Gradients are in test_gradcheck.cpp.
#include <ember/nn/activation.h>
#include <ember/nn/dropout.h>
#include <ember/nn/embedding.h>
#include <ember/nn/flatten.h>
#include <ember/nn/layer_norm.h>
#include <ember/nn/linear.h>

#include <cmath>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::tensor_near;
using ember_test::tensors_near;
using ember_test::throws_error;
namespace nn = ember::nn;

// ---- Linear -----------------------------------------------------------------------------

TEST(NnLinear, ShapesAndRegisteredParameters) {
  nn::Linear fc(4, 3);
  EXPECT_EQ(fc.weight.shape(), (ember::Shape{3, 4}));
  EXPECT_EQ(fc.bias.shape(), (ember::Shape{3}));
  ASSERT_EQ(fc.named_parameters().size(), 2u);
  EXPECT_EQ(fc.named_parameters()[0].first, "weight");
  EXPECT_EQ(fc.named_parameters()[1].first, "bias");
  EXPECT_EQ(fc.forward(ember::ones({4})).shape(), (ember::Shape{3}));
  EXPECT_EQ(fc.forward(ember::ones({5, 4})).shape(), (ember::Shape{5, 3}));
  EXPECT_EQ(fc.forward(ember::ones({2, 5, 4})).shape(), (ember::Shape{2, 5, 3}));

  nn::Linear no_bias(4, 3, false);
  EXPECT_FALSE(no_bias.bias.defined());
  EXPECT_FALSE(no_bias.has_bias());
  EXPECT_EQ(no_bias.parameters().size(), 1u);
}

TEST(NnLinear, ForwardComputesXWtPlusB) {
  nn::Linear fc(2, 3);
  {
    ember::NoGradGuard no_grad;
    fc.weight.copy_(ember::tensor({{1, 2}, {3, 4}, {5, 6}}));
    fc.bias.copy_(ember::tensor({0.5f, -1, 2}));
  }
  Tensor x = ember::tensor({{1, -1}, {2, 0.5f}});
  // Row 1: (1*1 - 2, 3 - 4, 5 - 6) + b = (-0.5, -2, 1); row 2: (3, 8, 13) + b.
  EXPECT_TRUE(tensor_near(fc.forward(x), {2, 3}, {-0.5f, -2, 1, 3.5f, 7, 15}));
  EXPECT_TRUE(tensor_near(fc.forward(ember::tensor({1, -1})), {3}, {-0.5f, -2, 1}));
}

TEST(NnLinear, InitialisationIsUniformWithinOneOverSqrtFanIn) {
  ember::manual_seed(7);
  nn::Linear fc(16, 64);
  const float bound = 0.25f;  // 1/sqrt(16)
  std::vector<float> w = fc.weight.to_vector();
  float lo = 1, hi = -1;
  double mean = 0;
  for (float v : w) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    mean += v;
  }
  mean /= static_cast<double>(w.size());
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  // 1024 draws: the extremes come within a few percent of the bound, the mean is ~0
  // (sd of the mean = 0.25/sqrt(3)/32 = 0.0045, so 0.03 is over 6 sd).
  EXPECT_LT(lo, -0.9f * bound);
  EXPECT_GT(hi, 0.9f * bound);
  EXPECT_NEAR(mean, 0.0, 0.03);
  for (float v : fc.bias.to_vector()) {
    EXPECT_GE(v, -bound);
    EXPECT_LE(v, bound);
  }
  // Seeded: the same seed gives the same layer, another seed another.
  ember::manual_seed(7);
  nn::Linear again(16, 64);
  EXPECT_EQ(again.weight.to_vector(), w);
  ember::manual_seed(8);
  nn::Linear other(16, 64);
  EXPECT_NE(other.weight.to_vector(), w);
}

TEST(NnLinear, Errors) {
  nn::Linear fc(784, 10);
  EXPECT_TRUE(throws_error([&] { fc.forward(ember::zeros({64, 785})); },
                           "Linear: expected input with 784 features in its last dim, got shape "
                           "(64, 785) (weight has shape (10, 784))"));
  EXPECT_TRUE(throws_error([&] { fc.forward(ember::tensor(1.0f)); }, "got shape ()"));
  EXPECT_TRUE(throws_error([&] { fc.forward(Tensor()); }, "Linear: the input is an undefined"));
  EXPECT_TRUE(throws_error([] { nn::Linear(0, 3); }, "Linear(0, 3)"));
  EXPECT_TRUE(throws_error([] { nn::Linear(3, -1); }, "must be positive"));
}

// ---- activations and Flatten -------------------------------------------------------------

TEST(NnActivation, ForwardValues) {
  Tensor x = ember::tensor({-2, 0, 1.5f});
  EXPECT_TRUE(tensor_near(nn::ReLU().forward(x), {3}, {0, 0, 1.5f}));
  EXPECT_TRUE(tensor_near(nn::Sigmoid().forward(x), {3},
                          {1 / (1 + std::exp(2.0f)), 0.5f, 1 / (1 + std::exp(-1.5f))}));
  EXPECT_TRUE(tensor_near(nn::Tanh().forward(x), {3},
                          {std::tanh(-2.0f), 0.0f, std::tanh(1.5f)}));
  Tensor s = nn::Softmax().forward(ember::tensor({{0, std::log(3.0f)}}));
  EXPECT_TRUE(tensor_near(s, {1, 2}, {0.25f, 0.75f}));
  EXPECT_TRUE(nn::ReLU().parameters().empty());
}

TEST(NnFlatten, KeepsTheBatchDim) {
  EXPECT_EQ(nn::Flatten().forward(ember::zeros({5, 2, 3, 4})).shape(), (ember::Shape{5, 24}));
  EXPECT_EQ(nn::Flatten(0).forward(ember::zeros({5, 2})).shape(), (ember::Shape{10}));
}

// ---- Dropout ----------------------------------------------------------------------------

TEST(NnDropout, ZeroesAFractionPAndScalesTheRest) {
  ember::manual_seed(11);
  const double p = 0.3;
  nn::Dropout dropout(p);
  const int64_t n = 100000;
  std::vector<float> y = dropout.forward(ember::ones({n})).to_vector();
  int64_t zeros = 0;
  double sum = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      ASSERT_NEAR(v, 1.0 / (1.0 - p), 1e-6);
    }
    sum += v;
  }
  // Binomial: sd of the zero fraction is sqrt(p(1-p)/n) = 0.00145; 0.01 is ~7 sd.
  EXPECT_NEAR(static_cast<double>(zeros) / n, p, 0.01);
  // The mean is preserved in expectation: sd of the mean is sqrt(p/(1-p)/n) = 0.002.
  EXPECT_NEAR(sum / n, 1.0, 0.015);
}

TEST(NnDropout, SameSeedSameMask) {
  nn::Dropout dropout(0.5);
  Tensor x = ember::ones({64});
  ember::manual_seed(42);
  std::vector<float> first = dropout.forward(x).to_vector();
  std::vector<float> second = dropout.forward(x).to_vector();
  ember::manual_seed(42);
  EXPECT_EQ(dropout.forward(x).to_vector(), first);
  EXPECT_NE(first, second);  // the generator advances between calls
  ember::manual_seed(43);
  EXPECT_NE(dropout.forward(x).to_vector(), first);
}

TEST(NnDropout, EvalIsTheIdentityAndGradientsFollowTheMask) {
  nn::Dropout dropout(0.5);
  Tensor x = ember::linspace(1.0f, 2.0f, 32);
  dropout.eval();
  EXPECT_TRUE(tensors_near(dropout.forward(x), x));
  dropout.train();

  Tensor leaf = ember::ones({32});
  leaf.set_requires_grad(true);
  Tensor y = dropout.forward(leaf);
  y.sum().backward();
  // d(sum y)/dx = mask / (1 - p), which for x = 1 is exactly y.
  EXPECT_TRUE(tensors_near(leaf.grad(), y.detach()));

  EXPECT_TRUE(tensors_near(nn::Dropout(0.0).forward(x), x));
}

TEST(NnDropout, RejectsPOutsideZeroOne) {
  EXPECT_TRUE(throws_error([] { nn::Dropout(1.0); }, "Dropout: p must be in [0, 1), got 1"));
  EXPECT_TRUE(throws_error([] { nn::Dropout(-0.1); }, "got -0.1"));
}

// ---- LayerNorm --------------------------------------------------------------------------

TEST(NnLayerNorm, NormalisesTheLastDim) {
  nn::LayerNorm norm(4);
  EXPECT_TRUE(tensor_near(norm.weight, {4}, {1, 1, 1, 1}));
  EXPECT_TRUE(tensor_near(norm.bias, {4}, {0, 0, 0, 0}));
  Tensor x = ember::tensor({{1, 2, 3, 4}, {-1, -1, 1, 1}});
  // Row 1: mean 2.5, biased variance 1.25; row 2: mean 0, variance 1.
  const float eps = 1e-5f;
  const float s1 = 1.0f / std::sqrt(1.25f + eps), s2 = 1.0f / std::sqrt(1.0f + eps);
  EXPECT_TRUE(tensor_near(norm.forward(x), {2, 4},
                          {-1.5f * s1, -0.5f * s1, 0.5f * s1, 1.5f * s1, -s2, -s2, s2, s2}));
  {
    ember::NoGradGuard no_grad;
    norm.weight.copy_(ember::tensor({2, 2, 2, 2}));
    norm.bias.copy_(ember::tensor({1, 0, 0, 0}));
  }
  EXPECT_TRUE(tensor_near(norm.forward(x.index({1})), {4}, {1 - 2 * s2, -2 * s2, 2 * s2, 2 * s2}));
  EXPECT_TRUE(throws_error([&] { norm.forward(ember::zeros({2, 3})); },
                           "LayerNorm: expected input with 4 features in its last dim, got shape "
                           "(2, 3)"));
  EXPECT_TRUE(throws_error([] { nn::LayerNorm(0); }, "LayerNorm: normalized_size must be positive"));
}

// ---- Embedding --------------------------------------------------------------------------

TEST(NnEmbedding, LooksUpRows) {
  ember::manual_seed(5);
  nn::Embedding embed(5, 3);
  EXPECT_EQ(embed.weight.shape(), (ember::Shape{5, 3}));
  {
    ember::NoGradGuard no_grad;
    embed.weight.copy_(ember::arange(15.0f).reshape({5, 3}));
  }
  Tensor out = embed.forward(ember::tensor({{4, 0}, {1, 1}}));
  EXPECT_TRUE(tensor_near(out, {2, 2, 3}, {12, 13, 14, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_TRUE(tensor_near(embed.forward(ember::tensor(2.0f)), {3}, {6, 7, 8}));
  EXPECT_EQ(embed.forward(ember::tensor({3})).shape(), (ember::Shape{1, 3}));
}

TEST(NnEmbedding, InitialisationIsStandardNormal) {
  ember::manual_seed(1);
  nn::Embedding embed(100, 50);
  std::vector<float> w = embed.weight.to_vector();
  double mean = 0, square = 0;
  for (float v : w) {
    mean += v;
    square += static_cast<double>(v) * v;
  }
  mean /= static_cast<double>(w.size());
  square /= static_cast<double>(w.size());
  // 5000 draws: sd of the mean 0.014, of the mean square about 0.02.
  EXPECT_NEAR(mean, 0.0, 0.07);
  EXPECT_NEAR(square, 1.0, 0.1);
}

TEST(NnEmbedding, RangeChecksIndices) {
  nn::Embedding embed(10, 4);
  EXPECT_TRUE(throws_error([&] { embed.forward(ember::tensor({{1, 2}, {12, 0}})); },
                           "Embedding(10, 4): index 12 at flat position 2 of indices with shape "
                           "(2, 2) is not a whole number in [0, 10)"));
  EXPECT_TRUE(throws_error([&] { embed.forward(ember::tensor({-1})); }, "index -1"));
  EXPECT_TRUE(throws_error([&] { embed.forward(ember::tensor({1.5f})); }, "index 1.5"));
  EXPECT_TRUE(throws_error([] { nn::Embedding(0, 4); }, "Embedding(0, 4)"));
}

}  // namespace
