// nn::functional: losses, softmax, dropout and their error messages; cross_entropy stays
// finite when a class other than the target has a logit of -inf, as PyTorch (issue 12).
#include <ember/nn/functional.h>

#include <cmath>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember::from_vector;
using ember_test::tensor_near;
using ember_test::throws_error;
namespace F = ember::nn::functional;

// -log(softmax(row)[c]) computed in double.
double nll(const std::vector<double>& row, int c) {
  double max = row[0];
  for (double v : row) max = std::max(max, v);
  double total = 0;
  for (double v : row) total += std::exp(v - max);
  return -(row[static_cast<size_t>(c)] - max - std::log(total));
}

TEST(NnFunctional, CrossEntropyWithClassIndices) {
  Tensor logits = ember::tensor({{1, 2, 3}, {0.5f, -1, 0}});
  Tensor loss = F::cross_entropy(logits, ember::tensor({2, 0}));
  const double expected = (nll({1, 2, 3}, 2) + nll({0.5, -1, 0}, 0)) / 2;
  EXPECT_EQ(loss.shape(), ember::Shape{});
  EXPECT_NEAR(loss.item(), expected, 1e-5);
  // Uniform logits: the loss is log(C).
  EXPECT_NEAR(F::cross_entropy(ember::zeros({4, 10}), ember::tensor({0, 3, 9, 5})).item(),
              std::log(10.0), 1e-5);
}

TEST(NnFunctional, CrossEntropyWithProbabilitiesMatchesIndices) {
  Tensor logits = ember::tensor({{1, 2, 3}, {0.5f, -1, 0}});
  Tensor by_index = F::cross_entropy(logits, ember::tensor({1, 2}));
  Tensor by_one_hot = F::cross_entropy(logits, ember::tensor({{0, 1, 0}, {0, 0, 1}}));
  EXPECT_NEAR(by_index.item(), by_one_hot.item(), 1e-6);
  // Soft targets: a weighted sum of the per-class losses.
  Tensor soft = F::cross_entropy(logits, ember::tensor({{0.25f, 0.75f, 0}, {0, 0, 1}}));
  const double expected =
      (0.25 * nll({1, 2, 3}, 0) + 0.75 * nll({1, 2, 3}, 1) + nll({0.5, -1, 0}, 2)) / 2;
  EXPECT_NEAR(soft.item(), expected, 1e-5);
}

TEST(NnFunctional, CrossEntropyIsStableForLargeLogits) {
  Tensor loss = F::cross_entropy(ember::tensor({{1000, 0}, {0, -1000}}), ember::tensor({0, 1}));
  EXPECT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), 500.0, 1e-2);
}

TEST(NnFunctional, CrossEntropyErrors) {
  Tensor logits = ember::zeros({2, 3});
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(ember::zeros({3}), ember::tensor({0})); },
                           "cross_entropy: expected logits of shape (batch, classes), got shape "
                           "(3,)"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, ember::tensor({0, 3})); },
                           "cross_entropy: target[1] = 3 is not a class index in [0, 3) for "
                           "logits of shape (2, 3)"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, ember::tensor({0.5f, 1})); },
                           "target[0] = 0.5"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, ember::tensor({-1, 1})); },
                           "target[0] = -1"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, ember::tensor({0, 1, 2})); },
                           "expected target of shape (2,) (class indices) or (2, 3) "
                           "(probabilities) for logits (2, 3), got shape (3,)"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, ember::zeros({2, 4})); },
                           "must have the logits' shape (2, 3), got (2, 4)"));
  EXPECT_TRUE(throws_error([&] { F::cross_entropy(logits, Tensor()); }, "target is an undefined"));
}

TEST(NnFunctional, MseLoss) {
  Tensor loss = F::mse_loss(ember::tensor({{1, 2}, {3, 4}}), ember::tensor({{0, 2}, {5, 4}}));
  EXPECT_NEAR(loss.item(), (1.0 + 0 + 4 + 0) / 4, 1e-6);
  EXPECT_TRUE(throws_error([] { F::mse_loss(ember::zeros({3, 1}), ember::zeros({3})); },
                           "mse_loss: prediction has shape (3, 1) but target has shape (3,); "
                           "they must match"));
}

TEST(NnFunctional, SoftmaxAndLogSoftmax) {
  Tensor x = ember::tensor({{0, std::log(3.0f)}, {1, 1}});
  EXPECT_TRUE(tensor_near(F::softmax(x, -1), {2, 2}, {0.25f, 0.75f, 0.5f, 0.5f}));
  EXPECT_TRUE(tensor_near(F::log_softmax(x, 1), {2, 2},
                          {std::log(0.25f), std::log(0.75f), std::log(0.5f), std::log(0.5f)}));
  EXPECT_TRUE(tensor_near(F::relu(ember::tensor({-1, 2})), {2}, {0, 2}));
  // With both namespaces in view, the short names are not ambiguous.
  using namespace ember;
  using namespace ember::nn::functional;
  EXPECT_TRUE(tensor_near(relu(ember::tensor({-1, 2})), {2}, {0, 2}));
}

TEST(NnFunctional, LinearAndLayerNormChecks) {
  EXPECT_TRUE(throws_error([] { F::linear(ember::zeros({2, 3}), ember::zeros({4, 2})); },
                           "linear: expected input with 2 features in its last dim, got shape "
                           "(2, 3)"));
  EXPECT_TRUE(throws_error(
      [] { F::linear(ember::zeros({2, 3}), ember::zeros({4, 3}), ember::zeros({3})); },
      "linear: expected a bias of shape (4,)"));
  EXPECT_TRUE(throws_error(
      [] { F::layer_norm(ember::zeros({2, 3}), ember::ones({4}), Tensor()); },
      "layer_norm: the weight must have shape (3,)"));
  // Without weight and bias: plain normalisation.
  Tensor y = F::layer_norm(ember::tensor({{1, 3}}), Tensor(), Tensor(), 0.0);
  EXPECT_TRUE(tensor_near(y, {1, 2}, {-1, 1}));
}

TEST(NnFunctional, DropoutChecksPAndHonoursTraining) {
  Tensor x = ember::ones({8});
  EXPECT_TRUE(ember_test::tensors_near(F::dropout(x, 0.9, false), x));
  EXPECT_TRUE(throws_error([&] { F::dropout(x, 1.5); }, "dropout: p must be in [0, 1), got 1.5"));
}

// ---- cross_entropy with a logit of -inf -------------------------------------------------

const float kInf = INFINITY;

// logits [[0, -inf, 0], [1, 2, -inf]], targets [2, 1]:
//   row 0: -log(e^0 / (e^0 + e^0)) = log 2 = 0.6931472;
//   row 1: -log(e^2 / (e^1 + e^2)) = log(1 + e^-1) = 0.3132617;  mean 0.5032044.
// d loss / d logits = (softmax - one_hot) / 2: row 0 [0.25, 0, -0.25],
// row 1 [0.2689414 / 2, (0.7310586 - 1) / 2, 0] = [0.1344707, -0.1344707, 0].
void expect_finite_loss_and_gradient(const Tensor& target) {
  Tensor logits = from_vector({0, -kInf, 0, 1, 2, -kInf}, {2, 3}).requires_grad_(true);
  Tensor loss = F::cross_entropy(logits, target);
  EXPECT_NEAR(loss.item(), 0.5032044f, 1e-6);
  loss.backward();
  EXPECT_TRUE(tensor_near(logits.grad(), {2, 3},
                          {0.25f, 0, -0.25f, 0.1344707f, -0.1344707f, 0}, 1e-6, 1e-5));
}

TEST(NnFunctionalCrossEntropyInf, ClassIndicesWithMinusInfLogitStayFinite) {
  expect_finite_loss_and_gradient(from_vector({2, 1}, {2}));
}

TEST(NnFunctionalCrossEntropyInf, OneHotWithMinusInfLogitStaysFinite) {
  expect_finite_loss_and_gradient(from_vector({0, 0, 1, 0, 1, 0}, {2, 3}));
}

TEST(NnFunctionalCrossEntropyInf, MinusInfOnTheTargetIsAnInfiniteLoss) {
  // The target class has probability 0: -log 0 = +inf, as in PyTorch.
  Tensor logits = from_vector({0, -kInf, 0}, {1, 3});
  EXPECT_EQ(F::cross_entropy(logits, from_vector({1}, {1})).item(), kInf);
}

}  // namespace
