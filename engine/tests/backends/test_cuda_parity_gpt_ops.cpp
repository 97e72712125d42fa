// The CUDA backend against the CPU for issue 13's ops: gelu (forward and backward, exact and
// tanh), the AdamW update (bit for bit: optimizer.cu has no fused multiply-adds), AdamW with
// parameter groups, clip_grad_norm_, topk and multinomial (decided on the host, so the same
// answer on every device). Run with EMBER_BACKEND=reference too (engine/CMakeLists.txt), so the
// CPU side is the reference backend's plain loops.
//
// Compiled in every build; without a GPU every test here is skipped with the reason.
#include "cuda_skip.h"
#include "gradcheck.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ember/backend.h"
#include "ember/nn/utils.h"
#include "ember/optim/adamw.h"

using namespace ember;
using namespace ember_test;

namespace {

const Device kCuda = Device::cuda(0);

struct Tolerance {
  double atol = 1e-6;
  double rtol = 1e-5;
};

::testing::AssertionResult values_near(const std::vector<float>& cuda_values,
                                       const std::vector<float>& cpu_values, Tolerance tolerance,
                                       const std::string& what) {
  if (cuda_values.size() != cpu_values.size()) {
    return ::testing::AssertionFailure() << what << ": " << cuda_values.size() << " values on CUDA, "
                                         << cpu_values.size() << " on CPU";
  }
  int bad = 0;
  std::ostringstream report;
  for (size_t i = 0; i < cpu_values.size(); ++i) {
    if (!close(cuda_values[i], cpu_values[i], tolerance.atol, tolerance.rtol)) {
      if (bad < 8) report << "\n  [" << i << "] cuda " << cuda_values[i] << ", cpu " << cpu_values[i];
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << what << ": " << bad << " value(s) differ:" << report.str();
  return ::testing::AssertionSuccess();
}

// Bit for bit, except that any NaN matches any NaN.
::testing::AssertionResult values_equal(const std::vector<float>& cuda_values,
                                        const std::vector<float>& cpu_values, const std::string& what) {
  if (cuda_values.size() != cpu_values.size()) {
    return ::testing::AssertionFailure() << what << ": " << cuda_values.size() << " values on CUDA, "
                                         << cpu_values.size() << " on CPU";
  }
  for (size_t i = 0; i < cpu_values.size(); ++i) {
    const bool both_nan = std::isnan(cuda_values[i]) && std::isnan(cpu_values[i]);
    if (!both_nan && std::memcmp(&cuda_values[i], &cpu_values[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << what << ": [" << i << "] cuda " << std::hexfloat
                                           << cuda_values[i] << ", cpu " << cpu_values[i];
    }
  }
  return ::testing::AssertionSuccess();
}

struct DeviceRun {
  Shape shape;
  Device device;
  std::vector<float> out;
  std::vector<float> grad;
};

// f on a fresh leaf on `device` holding x's values, and the gradient of sum(f(x) * w).
DeviceRun run_on(Device device, const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  Tensor leaf = from_vector(x.to_vector(), x.shape(), device);
  leaf.set_requires_grad(true);
  Tensor out = f(leaf);
  DeviceRun run{out.shape(), out.device(), out.to_vector(), {}};
  const std::vector<float> weights = host_uniform(out.numel(), -1.0f, 1.0f, 4243);
  (out * from_vector(weights, out.shape(), device)).sum().backward();
  run.grad = leaf.grad().to_vector();
  return run;
}

::testing::AssertionResult same_on_cuda(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                                        Tolerance tolerance, bool exact = false) {
  const DeviceRun cpu = run_on(Device::cpu(), f, x), gpu = run_on(kCuda, f, x);
  if (gpu.device != kCuda) return ::testing::AssertionFailure() << "the result is on " << gpu.device.str();
  if (gpu.shape != cpu.shape) {
    return ::testing::AssertionFailure() << "shape " << shape_text(gpu.shape) << " on CUDA, "
                                         << shape_text(cpu.shape) << " on CPU";
  }
  auto result = exact ? values_equal(gpu.out, cpu.out, "output") : values_near(gpu.out, cpu.out, tolerance, "output");
  if (!result) return result;
  return exact ? values_equal(gpu.grad, cpu.grad, "gradient")
               : values_near(gpu.grad, cpu.grad, tolerance, "gradient");
}

}  // namespace

TEST(CudaParityGptOps, GeluForwardAndBackwardBothForms) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = make_input({37, 53}, -6.0f, 6.0f, 81);
  for (const char* form : {"none", "tanh"}) {
    SCOPED_TRACE(form);
    EXPECT_TRUE(same_on_cuda([form](const Tensor& t) { return gelu(t, form); }, x, {}));
    // A non-contiguous input, and the MLP's shape of use.
    EXPECT_TRUE(same_on_cuda([form](const Tensor& t) { return gelu(t.t() * 0.5f, form); }, x, {}));
  }
}

TEST(CudaParityGptOps, GeluPastOneGridStrideAndOnSpecialValues) {
  SKIP_WITHOUT_CUDA();
  const Tensor big = make_input({1 << 21}, -8.0f, 8.0f, 82);  // more elements than one grid
  for (const char* form : {"none", "tanh"}) {
    SCOPED_TRACE(form);
    EXPECT_TRUE(values_near(gelu(big.to(kCuda), form).to_vector(), gelu(big, form).to_vector(), {},
                            "large forward"));
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor special = ember::tensor({inf, -inf, nan, 0.0f, -0.0f, 30.0f, -30.0f, 1e-30f});
    EXPECT_TRUE(values_near(gelu(special.to(kCuda), form).to_vector(), gelu(special, form).to_vector(),
                            {0.0, 0.0}, "special values"));
  }
}

TEST(CudaParityGptOps, AdamWKernelGivesTheCpusBits) {
  SKIP_WITHOUT_CUDA();
  const int64_t count = 300000;  // past one grid stride
  const std::vector<float> param0 = host_uniform(count, -1.0f, 1.0f, 83);
  const std::vector<std::vector<float>> grads = {host_uniform(count, -1.0f, 1.0f, 84),
                                                 host_uniform(count, -1.0f, 1.0f, 85),
                                                 host_uniform(count, -1.0f, 1.0f, 86)};
  for (float weight_decay : {0.0f, 0.1f}) {
    SCOPED_TRACE("weight_decay " + std::to_string(weight_decay));
    auto steps = [&](Device device) {
      Backend& backend = backend_for(device);
      Tensor param = from_vector(param0, {count}, device);
      Tensor exp_avg = zeros({count}, device), exp_avg_sq = zeros({count}, device);
      for (size_t step = 0; step < grads.size(); ++step) {
        Tensor grad = from_vector(grads[step], {count}, device);
        backend.adamw_step(param.data_ptr(), grad.data_ptr(), exp_avg.data_ptr(), exp_avg_sq.data_ptr(), count,
                           1e-3f * static_cast<float>(step + 1), 0.9f, 0.99f, 1e-8f, weight_decay,
                           static_cast<int64_t>(step + 1));
      }
      return std::vector<std::vector<float>>{param.to_vector(), exp_avg.to_vector(), exp_avg_sq.to_vector()};
    };
    const auto cpu = steps(Device::cpu()), gpu = steps(kCuda);
    EXPECT_TRUE(values_equal(gpu[0], cpu[0], "parameters"));
    EXPECT_TRUE(values_equal(gpu[1], cpu[1], "exp_avg"));
    EXPECT_TRUE(values_equal(gpu[2], cpu[2], "exp_avg_sq"));
  }
}

TEST(CudaParityGptOps, AdamWWithGroupsScheduleAndClippingGivesTheCpusBits) {
  SKIP_WITHOUT_CUDA();
  // A few steps of a tiny regression with two groups, a learning rate changed every step and
  // gradient clipping: the same parameters on both devices (clipping's norm is a sum, so the
  // clipped gradients may differ in the last bits: compared within a tolerance).
  auto train = [](Device device) {
    Tensor w = from_vector(host_uniform(12, -1.0f, 1.0f, 87), {4, 3}, device);
    Tensor b = from_vector(host_uniform(3, -1.0f, 1.0f, 88), {3}, device);
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    const Tensor x = from_vector(host_uniform(40, -2.0f, 2.0f, 89), {10, 4}, device);
    const Tensor y = from_vector(host_uniform(30, -2.0f, 2.0f, 90), {10, 3}, device);
    optim::AdamW optimizer({{{w}, 0.1}, {{b}, 0.0}}, optim::AdamWOptions(1e-2).betas({0.9, 0.99}));
    std::vector<double> norms;
    for (int step = 0; step < 5; ++step) {
      optimizer.options().lr(1e-2 / (step + 1));
      optimizer.zero_grad();
      Tensor diff = x.matmul(w) + b - y;
      (diff * diff).mean().backward();
      norms.push_back(nn::utils::clip_grad_norm_({w, b}, 0.5));
      optimizer.step();
    }
    return std::make_pair(std::vector<std::vector<float>>{w.to_vector(), b.to_vector()}, norms);
  };
  const auto cpu = train(Device::cpu()), gpu = train(kCuda);
  EXPECT_TRUE(values_near(gpu.first[0], cpu.first[0], {1e-5, 1e-4}, "w"));
  EXPECT_TRUE(values_near(gpu.first[1], cpu.first[1], {1e-5, 1e-4}, "b"));
  for (size_t i = 0; i < cpu.second.size(); ++i) EXPECT_NEAR(gpu.second[i], cpu.second[i], 1e-5 * cpu.second[i]);
}

TEST(CudaParityGptOps, ClipGradNormScalesGradientsOnTheGpu) {
  SKIP_WITHOUT_CUDA();
  Tensor a = from_vector({1.0f, 1.0f}, {2}, kCuda), b = from_vector({1.0f}, {1}, kCuda);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  (a * from_vector({3.0f, 4.0f}, {2}, kCuda)).sum().backward();
  (b * 12.0f).sum().backward();
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a, b}, 6.5), 13.0, 1e-5);
  EXPECT_EQ(a.grad().device(), kCuda);
  const double factor = 6.5 / (13.0 + 1e-6);
  EXPECT_TRUE(values_near(a.grad().to_vector(), {static_cast<float>(3 * factor), static_cast<float>(4 * factor)},
                          {1e-6, 1e-6}, "a.grad"));
}

TEST(CudaParityGptOps, TopkValuesIndicesAndGradient) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = make_distinct({6, 9}, 0.1f, 91);
  for (bool largest : {true, false}) {
    SCOPED_TRACE(largest ? "largest" : "smallest");
    EXPECT_TRUE(same_on_cuda([largest](const Tensor& t) { return topk(t, 4, 1, largest).values; }, x, {}, true));
    EXPECT_TRUE(same_on_cuda([largest](const Tensor& t) { return topk(t, 2, 0, largest).values; }, x, {}, true));
    auto cpu = topk(x, 4, -1, largest);
    auto gpu = topk(x.to(kCuda), 4, -1, largest);
    EXPECT_EQ(gpu.indices.device(), kCuda);
    EXPECT_TRUE(values_equal(gpu.indices.to_vector(), cpu.indices.to_vector(), "indices"));
  }
}

TEST(CudaParityGptOps, MultinomialDrawsTheCpusSamples) {
  SKIP_WITHOUT_CUDA();
  const Tensor probs = make_input({4, 11}, 0.0f, 1.0f, 92);
  for (bool replacement : {false, true}) {
    SCOPED_TRACE(replacement ? "with replacement" : "without replacement");
    manual_seed(5);
    const Tensor cpu = multinomial(probs, 6, replacement);
    manual_seed(5);
    const Tensor gpu = multinomial(probs.to(kCuda), 6, replacement);
    EXPECT_EQ(gpu.device(), kCuda);
    EXPECT_TRUE(values_equal(gpu.to_vector(), cpu.to_vector(), "samples"));
  }
}
