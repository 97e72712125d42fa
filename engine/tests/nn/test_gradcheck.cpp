// Gradients of the layers and losses against central finite differences.
//
// ember_test::gradcheck (gradcheck.h) checks functions of fresh input tensors; its
// comment explains the step (1e-2) and tolerance (1e-2 absolute and relative) for a
// float32 engine. module_gradcheck below does the same for a module's own registered
// parameters, perturbing them in place, with the same step and tolerance for the same
// reasons: float32 rounding in the forward pass (~1e-6 relative) divided by the 2e-2 step
// is ~1e-4, and the truncation error eps^2/6 * f''' is ~2e-5 for inputs of size ~1,
// while a wrong gradient is off by O(1).
#include <ember/nn/embedding.h>
#include <ember/nn/functional.h>
#include <ember/nn/layer_norm.h>
#include <ember/nn/linear.h>
#include <ember/nn/module.h>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::gradcheck;
using ember_test::make_input;
namespace nn = ember::nn;
namespace F = ember::nn::functional;

// Checks d(sum(module(input) * W))/d(p) for every registered parameter p of the module
// (and for input, when it requires grad) against central differences.
::testing::AssertionResult module_gradcheck(nn::Module& module, const Tensor& input,
                                            double eps = 1e-2, double tol = 1e-2) {
  std::vector<nn::NamedTensor> targets = module.named_parameters();
  if (input.requires_grad()) targets.emplace_back("input", input);

  module.zero_grad();
  Tensor(input).zero_grad();
  Tensor out = module.forward(input);
  const std::vector<float> weights = ember_test::host_uniform(out.numel(), -1, 1, 99);
  Tensor w = ember::from_vector(weights, out.shape());
  (out * w).sum().backward();

  auto weighted = [&] {
    ember::NoGradGuard no_grad;
    std::vector<float> y = module.forward(input).to_vector();
    double s = 0;
    for (size_t k = 0; k < y.size(); ++k) s += static_cast<double>(y[k]) * weights[k];
    return s;
  };
  auto set = [](Tensor& t, const std::vector<float>& values) {
    ember::NoGradGuard no_grad;
    t.copy_(ember::from_vector(values, t.shape(), t.device()));
  };

  int bad = 0;
  std::ostringstream report;
  for (auto& [name, tensor] : targets) {
    if (!tensor.grad().defined()) {
      return ::testing::AssertionFailure() << name << " got no gradient";
    }
    const std::vector<float> analytic = tensor.grad().to_vector();
    const std::vector<float> original = tensor.to_vector();
    for (size_t j = 0; j < original.size(); ++j) {
      std::vector<float> values = original;
      const float up = static_cast<float>(original[j] + eps);
      const float down = static_cast<float>(original[j] - eps);
      values[j] = up;
      set(tensor, values);
      const double l_up = weighted();
      values[j] = down;
      set(tensor, values);
      const double l_down = weighted();
      set(tensor, original);
      const double numeric = (l_up - l_down) / (static_cast<double>(up) - down);
      if (!ember_test::close(analytic[j], numeric, tol, tol)) {
        if (bad++ < 10)
          report << "\n  " << name << "[" << j << "]: autograd " << analytic[j]
                 << ", finite difference " << numeric;
      }
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " element(s) differ:" << report.str();
  return ::testing::AssertionSuccess();
}

TEST(NnGradcheck, LinearModule) {
  ember::manual_seed(1);
  nn::Linear fc(3, 4);
  Tensor x = make_input({2, 3}, -1, 1, 5);
  x.set_requires_grad(true);
  EXPECT_TRUE(module_gradcheck(fc, x));
  Tensor batched = make_input({2, 2, 3}, -1, 1, 6);
  EXPECT_TRUE(module_gradcheck(fc, batched));
  nn::Linear no_bias(3, 2, false);
  EXPECT_TRUE(module_gradcheck(no_bias, x));
}

TEST(NnGradcheck, LinearFunctional) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& v) { return F::linear(v[0], v[1], v[2]); },
                        {make_input({3, 4}, -1, 1, 1), make_input({2, 4}, -1, 1, 2),
                         make_input({2}, -1, 1, 3)}));
  // linear has a node of its own: its backward must handle batch dims, a single vector, a
  // strided input, no bias, and inputs that need no gradient.
  auto linear = [](const std::vector<Tensor>& v) { return F::linear(v[0], v[1], v[2]); };
  EXPECT_TRUE(gradcheck(linear, {make_input({2, 3, 4}, -1, 1, 4), make_input({5, 4}, -1, 1, 5),
                                 make_input({5}, -1, 1, 6)}));
  EXPECT_TRUE(gradcheck(linear, {make_input({4}, -1, 1, 7), make_input({3, 4}, -1, 1, 8),
                                 make_input({3}, -1, 1, 9)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& v) { return F::linear(v[0].t(), v[1], v[2]); },
                        {make_input({4, 3}, -1, 1, 10), make_input({2, 4}, -1, 1, 11),
                         make_input({2}, -1, 1, 12)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& v) { return F::linear(v[0], v[1]); },
                        {make_input({3, 4}, -1, 1, 13), make_input({2, 4}, -1, 1, 14)}));
  Tensor data = make_input({3, 4}, -1, 1, 15);  // a constant input: only weight and bias
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& v) { return F::linear(data, v[0], v[1]); },
                        {make_input({2, 4}, -1, 1, 16), make_input({2}, -1, 1, 17)}));
}

TEST(NnGradcheck, LinearWeightGradientIsDenseInTheWeightsLayout) {
  // dW arrives as the GEMM's dense (out, in) result, not as a transposed view.
  Tensor x = make_input({5, 3}, -1, 1, 18);
  Tensor weight = make_input({2, 3}, -1, 1, 19);
  weight.set_requires_grad(true);
  F::linear(x, weight).sum().backward();
  EXPECT_TRUE(weight.grad().is_contiguous());
  // d(sum(x W^T))/dW[o, i] = sum over rows of x[:, i], the same for every o.
  EXPECT_TRUE(ember_test::tensors_near(weight.grad(), x.sum(0).unsqueeze(0).expand({2, 3})));
}

TEST(NnGradcheck, LayerNormModuleAndFunctional) {
  nn::LayerNorm norm(5);
  {
    // Move weight and bias away from 1 and 0 so that their gradients are exercised fully.
    ember::NoGradGuard no_grad;
    norm.weight.copy_(make_input({5}, 0.5f, 1.5f, 7));
    norm.bias.copy_(make_input({5}, -0.5f, 0.5f, 8));
  }
  Tensor x = make_input({3, 5}, -2, 2, 9);
  x.set_requires_grad(true);
  EXPECT_TRUE(module_gradcheck(norm, x));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& v) { return F::layer_norm(v[0], v[1], v[2], 1e-5); },
      {make_input({2, 2, 4}, -2, 2, 10), make_input({4}, 0.5f, 1.5f, 11),
       make_input({4}, -1, 1, 12)}));
}

TEST(NnGradcheck, EmbeddingWeight) {
  ember::manual_seed(2);
  nn::Embedding embed(6, 3);
  // Index 1 appears twice: its row's gradient must be the sum of both uses.
  EXPECT_TRUE(module_gradcheck(embed, ember::tensor({{1, 4}, {1, 0}})));
  // Rows never looked up get a zero gradient.
  embed.zero_grad();
  embed.forward(ember::tensor({2})).sum().backward();
  std::vector<float> grad = embed.weight.grad().to_vector();
  for (size_t i = 0; i < grad.size(); ++i) {
    EXPECT_EQ(grad[i], (i / 3 == 2) ? 1.0f : 0.0f) << "element " << i;
  }
}

TEST(NnGradcheck, CrossEntropy) {
  Tensor classes = ember::tensor({2, 0, 1});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& v) { return F::cross_entropy(v[0], classes); },
      {make_input({3, 4}, -2, 2, 13)}));
  // Probability targets: gradients for both the logits and the target.
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& v) { return F::cross_entropy(v[0], v[1]); },
                        {make_input({2, 3}, -2, 2, 14), make_input({2, 3}, 0, 1, 15)}));
  // The closed form: (softmax(logits) - one_hot) / B.
  Tensor logits = make_input({2, 3}, -1, 1, 16);
  logits.set_requires_grad(true);
  F::cross_entropy(logits, ember::tensor({1, 2})).backward();
  Tensor expected = (F::softmax(logits.detach(), -1) - ember::tensor({{0, 1, 0}, {0, 0, 1}})) / 2.0f;
  EXPECT_TRUE(ember_test::tensors_near(logits.grad(), expected, 1e-6, 1e-5));
}

TEST(NnGradcheck, MseLoss) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& v) { return F::mse_loss(v[0], v[1]); },
                        {make_input({3, 2}, -1, 1, 17), make_input({3, 2}, -1, 1, 18)}));
}

}  // namespace
