// nn::utils::clip_grad_norm_ (issue 13), as torch.nn.utils.clip_grad_norm_: the total 2-norm of
// every gradient together, each gradient scaled by max_norm / (total + 1e-6) when the total is
// above max_norm, parameters without a gradient skipped, the total returned.
#include "gradcheck.h"

#include <cmath>
#include <limits>
#include <vector>

#include "ember/nn/linear.h"
#include "ember/nn/utils.h"

using namespace ember;
using namespace ember_test;

namespace {

// A leaf of `values` whose gradient is `grad`.
Tensor with_grad(const std::vector<float>& values, const std::vector<float>& grad) {
  Tensor p = from_vector(values, {static_cast<int64_t>(values.size())});
  p.set_requires_grad(true);
  (p * from_vector(grad, p.shape())).sum().backward();
  return p;
}

}  // namespace

TEST(NnUtilsClipGradNorm, ScalesEveryGradientByTheSameFactor) {
  // Gradients (3, 4) and (12,): total norm sqrt(9 + 16 + 144) = 13.
  Tensor a = with_grad({1.0f, 1.0f}, {3.0f, 4.0f});
  Tensor b = with_grad({1.0f}, {12.0f});
  const double total = nn::utils::clip_grad_norm_({a, b}, 6.5);
  EXPECT_NEAR(total, 13.0, 1e-5);
  const double factor = 6.5 / (13.0 + 1e-6);
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {static_cast<float>(3 * factor), static_cast<float>(4 * factor)}, 1e-6, 1e-6));
  EXPECT_TRUE(tensor_near(b.grad(), {1}, {static_cast<float>(12 * factor)}, 1e-6, 1e-6));
  // Now the total is 6.5 (up to rounding): a second call leaves the gradients as they are.
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a, b}, 6.5), 6.5, 1e-5);
  EXPECT_TRUE(tensor_near(b.grad(), {1}, {static_cast<float>(12 * factor)}, 1e-6, 1e-6));
}

TEST(NnUtilsClipGradNorm, BelowTheLimitNothingChanges) {
  Tensor a = with_grad({1.0f, 1.0f}, {3.0f, 4.0f});
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a}, 100.0), 5.0, 1e-6);
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {3.0f, 4.0f}, 0.0, 0.0));
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a}, 5.1), 5.0, 1e-6);
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {3.0f, 4.0f}, 0.0, 0.0));
  // At exactly max_norm PyTorch's factor min(1, max_norm / (total + 1e-6)) is just below 1,
  // so the gradients shrink by 1e-6 / 5 (relative); so do ours.
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a}, 5.0), 5.0, 1e-6);
  const float factor = 5.0f / (5.0f + 1e-6f);
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {3.0f * factor, 4.0f * factor}, 0.0, 0.0));
}

TEST(NnUtilsClipGradNorm, SkipsParametersWithoutGradients) {
  Tensor no_grad = from_vector({5.0f, 5.0f}, {2});
  no_grad.set_requires_grad(true);
  Tensor a = with_grad({1.0f, 1.0f}, {3.0f, 4.0f});
  EXPECT_NEAR(nn::utils::clip_grad_norm_({no_grad, a}, 1.0), 5.0, 1e-6);
  EXPECT_FALSE(no_grad.grad().defined());
  EXPECT_TRUE(tensor_near(a.grad(), {2}, {0.6f, 0.8f}, 1e-6, 1e-6));
  // None has a gradient (or the list is empty): the norm is 0.
  EXPECT_EQ(nn::utils::clip_grad_norm_({no_grad}, 1.0), 0.0);
  EXPECT_EQ(nn::utils::clip_grad_norm_({}, 1.0), 0.0);
}

TEST(NnUtilsClipGradNorm, WorksOnAModelsParameters) {
  manual_seed(3);
  nn::Linear layer(4, 3);
  Tensor x = randn({8, 4});
  (layer.forward(x) * 10.0f).sum().backward();
  double squares = 0.0;
  for (const Tensor& p : layer.parameters()) {
    for (float g : p.grad().to_vector()) squares += static_cast<double>(g) * g;
  }
  const double total = nn::utils::clip_grad_norm_(layer.parameters(), 1.0);
  EXPECT_NEAR(total, std::sqrt(squares), 1e-4 * std::sqrt(squares));
  double after = 0.0;
  for (const Tensor& p : layer.parameters()) {
    for (float g : p.grad().to_vector()) after += static_cast<double>(g) * g;
  }
  EXPECT_NEAR(std::sqrt(after), 1.0, 1e-5);
}

TEST(NnUtilsClipGradNorm, NonFiniteGradientsAsPyTorch) {
  // error_if_nonfinite=False: the total is inf, the factor 0, an inf gradient becomes NaN.
  const float inf = std::numeric_limits<float>::infinity();
  Tensor a = with_grad({1.0f, 1.0f}, {inf, 1.0f});
  EXPECT_TRUE(std::isinf(nn::utils::clip_grad_norm_({a}, 1.0)));
  std::vector<float> g = a.grad().to_vector();
  EXPECT_TRUE(std::isnan(g[0]));
  EXPECT_EQ(g[1], 0.0f);
}

TEST(NnUtilsClipGradNorm, ErrorsNameTheProblem) {
  Tensor a = with_grad({1.0f}, {1.0f});
  EXPECT_TRUE(throws_error_all([&] { nn::utils::clip_grad_norm_({a}, -1.0); },
                               {"clip_grad_norm_", "max_norm", "-1"}));
  EXPECT_TRUE(throws_error_all([&] { nn::utils::clip_grad_norm_({a}, std::nan("")); },
                               {"clip_grad_norm_", "max_norm", "nan"}));
  EXPECT_TRUE(throws_error_all([&] { nn::utils::clip_grad_norm_({a, Tensor()}, 1.0); },
                               {"clip_grad_norm_", "parameter 1", "undefined"}));
}
