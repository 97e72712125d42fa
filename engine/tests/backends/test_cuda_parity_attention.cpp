// The CUDA backend against the CPU for the fused ops of the GPT step: F::layer_norm (forward,
// and the gradients of the input, the weight and the bias) and F::scaled_dot_product_attention
// (forward and the gradients of q, k and v), causal and not, on contiguous inputs and on the
// strided slices a GPT cuts out of one Linear(C, 3C). Run with EMBER_BACKEND=reference too
// (engine/CMakeLists.txt), so the CPU side is then the reference backend's loops.
//
// Compiled in every build; without a GPU every test here is skipped with the reason.
#include "cuda_skip.h"
#include "gradcheck.h"

#include <sstream>
#include <string>
#include <vector>

#include "ember/nn/functional.h"

using namespace ember;
using namespace ember_test;
namespace F = ember::nn::functional;

namespace {

const Device kCuda = Device::cuda(0);

::testing::AssertionResult near(const Tensor& cuda_value, const Tensor& cpu_value, double tolerance,
                                const std::string& what) {
  if (cuda_value.shape() != cpu_value.shape()) {
    return ::testing::AssertionFailure() << what << ": shape " << shape_text(cuda_value.shape()) << " on CUDA, "
                                         << shape_text(cpu_value.shape()) << " on CPU";
  }
  const std::vector<float> got = cuda_value.to_vector(), expected = cpu_value.to_vector();
  int bad = 0;
  std::ostringstream report;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!close(got[i], expected[i], tolerance, tolerance)) {
      if (bad < 8) report << "\n  [" << i << "] cuda " << got[i] << ", cpu " << expected[i];
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << what << ": " << bad << " value(s) differ:" << report.str();
  return ::testing::AssertionSuccess();
}

// f on leaves holding `inputs` on device; the result and the gradients of sum(f * weights).
std::vector<Tensor> run_on(Device device, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                           const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor leaf = x.to(device);
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  const Tensor out = f(leaves);
  const Tensor weights = make_input(out.shape(), -1.0f, 1.0f, 4321).to(device);
  (out * weights).sum().backward();
  std::vector<Tensor> results{out.cpu()};
  for (const Tensor& leaf : leaves) results.push_back(leaf.grad().cpu());
  return results;
}

::testing::AssertionResult same_on_cuda(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                        const std::vector<Tensor>& inputs, double tolerance = 1e-5) {
  const std::vector<Tensor> cpu = run_on(Device::cpu(), f, inputs), gpu = run_on(kCuda, f, inputs);
  for (size_t i = 0; i < cpu.size(); ++i) {
    auto result = near(gpu[i], cpu[i], tolerance, i == 0 ? "output" : "gradient of input " + std::to_string(i - 1));
    if (!result) return result;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(CudaParityAttention, LayerNormWithAndWithoutWeightAndBias) {
  SKIP_WITHOUT_CUDA();
  const std::vector<Tensor> inputs = {make_input({300, 96}, -3.0f, 3.0f, 1), make_input({96}, 0.5f, 1.5f, 2),
                                      make_input({96}, -1.0f, 1.0f, 3)};
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& x) { return F::layer_norm(x[0], x[1], x[2], 1e-5); },
                           inputs));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& x) { return F::layer_norm(x[0].t().t(), x[1], Tensor(), 1e-5); },
                           {inputs[0], inputs[1]}));
  // A row longer than one block of threads, and a transposed input.
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& x) { return F::layer_norm(x[0].t(), Tensor(), Tensor(), 1e-5); },
                           {make_input({700, 5}, -2.0f, 2.0f, 4)}));
}

TEST(CudaParityAttention, ScaledDotProductAttentionCausalAndFull) {
  SKIP_WITHOUT_CUDA();
  const std::vector<Tensor> inputs = {make_input({2, 3, 37, 8}, -1.5f, 1.5f, 5), make_input({2, 3, 45, 8}, -1.5f, 1.5f, 6),
                                      make_input({2, 3, 45, 5}, -1.5f, 1.5f, 7)};
  for (bool causal : {true, false}) {
    SCOPED_TRACE(causal ? "causal" : "full");
    EXPECT_TRUE(same_on_cuda(
        [causal](const std::vector<Tensor>& x) { return F::scaled_dot_product_attention(x[0], x[1], x[2], causal); },
        inputs));
  }
  // Three dims, and an explicit scale.
  EXPECT_TRUE(same_on_cuda(
      [](const std::vector<Tensor>& x) { return F::scaled_dot_product_attention(x[0], x[1], x[2], true, 0.3); },
      {make_input({4, 20, 6}, -1, 1, 8), make_input({4, 20, 6}, -1, 1, 9), make_input({4, 20, 6}, -1, 1, 10)}));
}

TEST(CudaParityAttention, ScaledDotProductAttentionOnSlicesOfOneLinear) {
  SKIP_WITHOUT_CUDA();
  const int64_t B = 3, T = 64, C = 32, H = 4, hs = C / H;
  auto attention = [&](const std::vector<Tensor>& x) {
    auto heads = [&](int64_t part) {
      return x[0].slice(2, part * C, (part + 1) * C).reshape({B, T, H, hs}).transpose(1, 2);
    };
    return F::scaled_dot_product_attention(heads(0), heads(1), heads(2), true).transpose(1, 2).contiguous().view({B, T, C});
  };
  EXPECT_TRUE(same_on_cuda(attention, {make_input({B, T, 3 * C}, -1.5f, 1.5f, 11)}));
}
