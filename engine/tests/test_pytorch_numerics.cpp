// Numerics that once differed from PyTorch (issue 12), each against values worked out by
// hand from PyTorch's documented definitions:
//   * cross_entropy stays finite when a class other than the target has a logit of -inf;
//   * log_softmax computes (x - max) - log(sum), keeping the digits of large logits;
//   * relu passes a NaN on, forward and backward (PyTorch's threshold_backward);
//   * argmax/argmin point at the NaN that max/min report (NaN counts as the extremum).
// Suite names start like the ones the reference-backend run selects (engine/CMakeLists.txt),
// so both backends are held to the same values.
#include <ember/nn/functional.h>

#include <cmath>

#include "gradcheck.h"

using namespace ember;
using namespace ember_test;
namespace F = ember::nn::functional;

namespace {

const float kInf = INFINITY;

TEST(SoftmaxPrecision, LogSoftmaxOfLargeEqualLogitsIsMinusLogTwo) {
  // Two equal logits: each has probability 1/2, log 1/2 = -0.69314718 whatever their size.
  // x - (log(sum) + max) rounds log 2 + 10000 to a float spaced 2^-10 apart: -0.693359.
  std::vector<float> y = log_softmax(from_vector({-10000, -10000}, {1, 2}), 1).to_vector();
  EXPECT_NEAR(y[0], -0.69314718f, 1e-6);
  EXPECT_NEAR(y[1], -0.69314718f, 1e-6);
}

TEST(SoftmaxPrecision, LogSoftmaxOfLargeLogitsKeepsTheirDifference) {
  // [10000, 10001]: log_softmax = [-1, 0] - log(1 + e^-1) = [-1.3132617, -0.3132617]. Along
  // dim 0 too, so the kernel's moved (non-last) dim is covered.
  Tensor x = from_vector({10000, 10001}, {2});
  EXPECT_TRUE(tensor_near(log_softmax(x, 0), {2}, {-1.3132617f, -0.3132617f}, 1e-6, 0));
  Tensor column = from_vector({10000, 10001}, {2, 1});
  EXPECT_TRUE(tensor_near(log_softmax(column, 0), {2, 1}, {-1.3132617f, -0.3132617f}, 1e-6, 0));
}

TEST(ElementwiseReluNaN, ForwardKeepsNaN) {
  std::vector<float> y = relu(from_vector({-1, 0, 2, NAN}, {4})).to_vector();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
  EXPECT_TRUE(std::isnan(y[3]));
}

TEST(ElementwiseReluNaN, BackwardPassesTheGradientOfANaN) {
  // PyTorch: relu's backward is threshold_backward(grad, result, 0) = result <= 0 ? 0 : grad,
  // and NaN <= 0 is false, so x.grad = [0, 0, 1, 1] for x = [-1, 0, 2, NaN].
  Tensor x = from_vector({-1, 0, 2, NAN}, {4}).requires_grad_(true);
  relu(x).sum().backward();
  std::vector<float> g = x.grad().to_vector();
  EXPECT_EQ(g, (std::vector<float>{0, 0, 1, 1}));
}

TEST(ReduceNaN, ArgmaxAndArgminPointAtTheNaNMaxReports) {
  Tensor x = from_vector({1, NAN, 3, NAN}, {4});
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_EQ(argmax(x).item(), 1.0f);  // the first NaN, as torch.argmax
  EXPECT_EQ(argmax(x, 0).item(), 1.0f);
  EXPECT_EQ(argmin(x, 0).item(), 1.0f);  // torch.argmin: NaN counts as the minimum too
}

TEST(ReduceNaN, AlongRowsAndColumns) {
  // Rows (the reduced dim is contiguous): [[1, NaN, 3], [NaN, 0, NaN]] -> [1, 0].
  Tensor rows = from_vector({1, NAN, 3, NAN, 0, NAN}, {2, 3});
  EXPECT_TRUE(tensor_near(argmax(rows, 1), {2}, {1, 0}, 0, 0));
  EXPECT_TRUE(tensor_near(argmin(rows, 1), {2}, {1, 0}, 0, 0));
  // Columns (the reduced dim is strided): [[1, 5], [NaN, 2], [3, NaN]] along dim 0 -> [1, 2].
  Tensor columns = from_vector({1, 5, NAN, 2, 3, NAN}, {3, 2});
  EXPECT_TRUE(tensor_near(argmax(columns, 0), {2}, {1, 2}, 0, 0));
  EXPECT_TRUE(tensor_near(argmin(columns, 0), {2}, {1, 2}, 0, 0));
  // Without a NaN nothing changes: ties still go to the first index.
  Tensor ties = from_vector({2, 7, 7, 0, 0}, {5});
  EXPECT_EQ(argmax(ties).item(), 1.0f);
  EXPECT_EQ(argmin(ties, 0).item(), 3.0f);
}

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
