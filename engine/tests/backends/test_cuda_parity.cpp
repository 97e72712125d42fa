// The CUDA backend against the CPU backend, op by op: every op runs on CPU tensors and on
// CUDA tensors holding the same random values, and the outputs and the gradients of
// sum(f(x) * w) must agree within a tolerance (ggml's test-backend-ops idea). Where the
// backend promises the CPU's exact bits (uniform fills, optimizer steps, scatter_add_rows)
// the test asks for exact equality.
//
// Compiled in every build. Without a GPU each parity test is skipped with the reason: a
// build without the CUDA backend, or a machine without a usable GPU. The CudaDevice tests
// at the end check what happens without a GPU, and run everywhere.
#include "cuda_skip.h"
#include "gradcheck.h"

#include <gtest/gtest-spi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ember/backend.h"

#ifdef EMBER_HAS_CUDA_BACKEND
#include "cuda/caching_allocator.cuh"
#include "cuda/cuda_backend.h"
#endif

using namespace ember;
using namespace ember_test;

namespace {

const Device kCuda = Device::cuda(0);
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();


struct Tolerance {
  double atol = 1e-5;
  double rtol = 1e-5;
};

// Values of two runs, NaN-aware (NaN matches NaN, inf matches the same inf).
::testing::AssertionResult values_near(const std::vector<float>& cuda_values,
                                       const std::vector<float>& cpu_values, Tolerance tolerance,
                                       const std::string& what) {
  if (cuda_values.size() != cpu_values.size()) {
    return ::testing::AssertionFailure() << what << ": " << cuda_values.size()
                                         << " values on CUDA, " << cpu_values.size() << " on CPU";
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

// The same float bit for bit, except that any NaN matches any NaN (the GPU writes its
// canonical NaN, x86 a negative one, and no op promises a NaN's payload). So -0 and +0
// differ, as they do to 1 / x or a sign test.
bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  uint32_t a_bits = 0, b_bits = 0;
  std::memcpy(&a_bits, &a, sizeof a);
  std::memcpy(&b_bits, &b, sizeof b);
  return a_bits == b_bits;
}

// Bit-for-bit equality where the backend promises the CPU's exact result.
::testing::AssertionResult values_equal(const std::vector<float>& cuda_values,
                                        const std::vector<float>& cpu_values,
                                        const std::string& what) {
  if (cuda_values.size() != cpu_values.size()) {
    return ::testing::AssertionFailure() << what << ": " << cuda_values.size()
                                         << " values on CUDA, " << cpu_values.size() << " on CPU";
  }
  int bad = 0;
  std::ostringstream report;
  for (size_t i = 0; i < cpu_values.size(); ++i) {
    if (!same_bits(cuda_values[i], cpu_values[i])) {
      if (bad < 8) {
        report << "\n  [" << i << "] cuda " << std::hexfloat << cuda_values[i] << ", cpu "
               << cpu_values[i] << std::defaultfloat;
      }
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << what << ": " << bad << " value(s) differ in their bits:" << report.str();
  return ::testing::AssertionSuccess();
}

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

struct DeviceRun {
  Shape shape;
  Device device;
  std::vector<float> out;
  std::vector<std::vector<float>> grads;  // per input; zeros where no gradient arrived
};

// f on fresh leaves on `device` holding the inputs' values; with gradients, also
// backward of sum(f(x) * w) for fixed random weights w.
DeviceRun run_on(Device device, const Function& f, const std::vector<Tensor>& inputs, bool gradients) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor leaf = from_vector(x.to_vector(), x.shape(), device);
    if (gradients) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor out = f(leaves);
  DeviceRun run{out.shape(), out.device(), out.to_vector(), {}};
  if (gradients) {
    std::vector<float> weights = host_uniform(out.numel(), -1.0f, 1.0f, 4242);
    Tensor w = out.dim() == 0 ? tensor(weights[0], device) : from_vector(weights, out.shape(), device);
    (out * w).sum().backward();
    for (size_t i = 0; i < leaves.size(); ++i) {
      Tensor grad = leaves[i].grad();
      run.grads.push_back(grad.defined() ? grad.to_vector()
                                         : std::vector<float>(static_cast<size_t>(inputs[i].numel()), 0.0f));
    }
  }
  return run;
}

// f on the CPU and on CUDA: same shape, outputs and input gradients within tolerance, and
// the CUDA result really on CUDA.
::testing::AssertionResult same_on_cuda(const Function& f, const std::vector<Tensor>& inputs,
                                        Tolerance tolerance = {}, bool gradients = true) {
  DeviceRun cpu = run_on(Device::cpu(), f, inputs, gradients);
  DeviceRun gpu = run_on(kCuda, f, inputs, gradients);
  if (gpu.device != kCuda) {
    return ::testing::AssertionFailure() << "the result is on " << gpu.device.str() << ", not cuda:0";
  }
  if (gpu.shape != cpu.shape) {
    return ::testing::AssertionFailure() << "shape " << shape_text(gpu.shape) << " on CUDA, "
                                         << shape_text(cpu.shape) << " on CPU";
  }
  // A tolerance of zero is a promise of the CPU's bits: compared bit for bit.
  const bool exact = tolerance.atol == 0.0 && tolerance.rtol == 0.0;
  auto compare = [&](const std::vector<float>& g, const std::vector<float>& c, const std::string& what) {
    return exact ? values_equal(g, c, what) : values_near(g, c, tolerance, what);
  };
  auto result = compare(gpu.out, cpu.out, "output");
  if (!result) return result;
  for (size_t i = 0; i < gpu.grads.size(); ++i) {
    result = compare(gpu.grads[i], cpu.grads[i], "gradient of input " + std::to_string(i));
    if (!result) return result;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_on_cuda_1(const std::function<Tensor(const Tensor&)>& f,
                                          const Tensor& input, Tolerance tolerance = {},
                                          bool gradients = true) {
  return same_on_cuda([&](const std::vector<Tensor>& v) { return f(v[0]); }, {input}, tolerance,
                      gradients);
}

// Values from a small set, so that comparisons meet equal elements.
Tensor make_few_values(const Shape& shape, uint32_t seed) {
  std::vector<float> v = host_uniform(numel_of(shape), 0.0f, 4.0f, seed);
  for (float& x : v) x = static_cast<float>(static_cast<int>(x)) - 1.5f;  // -1.5, -0.5, 0.5, 1.5
  return from_vector(v, shape);
}

}  // namespace

// ---- moving data ---------------------------------------------------------------------

TEST(CudaParity, ToCudaAndBackKeepsEveryValue) {
  SKIP_WITHOUT_CUDA();
  Tensor x = make_input({3, 4, 5}, -3, 3, 1);
  Tensor on_gpu = x.to(kCuda);
  EXPECT_EQ(on_gpu.device(), kCuda);
  EXPECT_EQ(on_gpu.shape(), x.shape());
  EXPECT_TRUE(values_equal(on_gpu.to_vector(), x.to_vector(), "to_vector"));
  EXPECT_TRUE(values_equal(on_gpu.cpu().to_vector(), x.to_vector(), "cpu()"));
  EXPECT_EQ(on_gpu.at({2, 1, 3}), x.at({2, 1, 3}));
  EXPECT_EQ(on_gpu.sum().item(), on_gpu.sum().cpu().item());
  // A non-contiguous view goes over as its values in row-major order.
  Tensor view = x.transpose(0, 2).slice(1, 1, 4);
  EXPECT_TRUE(values_equal(view.to(kCuda).to_vector(), view.to_vector(), "view"));
  // Empty tensors move too.
  Tensor empty_on_gpu = zeros({0, 3}).to(kCuda);
  EXPECT_EQ(empty_on_gpu.numel(), 0);
  EXPECT_EQ(empty_on_gpu.cpu().shape(), (Shape{0, 3}));
  // Gradients flow back through the move.
  Tensor leaf = make_input({4}, -1, 1, 2);
  leaf.set_requires_grad(true);
  (leaf.cuda() * 3.0f).sum().backward();
  EXPECT_EQ(leaf.grad().device(), Device::cpu());
  EXPECT_TRUE(tensor_near(leaf.grad(), {4}, {3, 3, 3, 3}));
}

TEST(CudaParity, CreationOnCuda) {
  SKIP_WITHOUT_CUDA();
  EXPECT_TRUE(values_equal(zeros({2, 3}, kCuda).to_vector(), zeros({2, 3}).to_vector(), "zeros"));
  EXPECT_TRUE(values_equal(full({5}, 2.5f, kCuda).to_vector(), full({5}, 2.5f).to_vector(), "full"));
  EXPECT_TRUE(values_equal(eye(4, kCuda).to_vector(), eye(4).to_vector(), "eye"));
  EXPECT_TRUE(values_equal(arange(0.0f, 10.0f, 0.5f, kCuda).to_vector(),
                           arange(0.0f, 10.0f, 0.5f).to_vector(), "arange"));
  EXPECT_TRUE(values_near(linspace(-1, 1, 11, kCuda).to_vector(), linspace(-1, 1, 11).to_vector(),
                          {}, "linspace"));
  EXPECT_TRUE(values_equal(tril(ones({4, 5}, kCuda), 1).to_vector(), tril(ones({4, 5}), 1).to_vector(),
                           "tril"));
  Tensor labels = from_vector({2, 0, 1, 2}, {4});
  EXPECT_TRUE(values_equal(one_hot(labels.to(kCuda), 3).to_vector(), one_hot(labels, 3).to_vector(),
                           "one_hot"));
}

// ---- element-wise ----------------------------------------------------------------------

TEST(CudaParity, UnaryOps) {
  SKIP_WITHOUT_CUDA();
  Tensor any = make_away_from_zero({4, 33}, 0.2f, 2.0f, 11);
  Tensor positive = make_input({4, 33}, 0.2f, 3.0f, 12);
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    const Tensor& input;
    bool differentiable;
  };
  std::vector<Case> cases = {
      {"neg", [](const Tensor& x) { return -x; }, any, true},
      {"exp", [](const Tensor& x) { return exp(x); }, any, true},
      {"log", [](const Tensor& x) { return log(x); }, positive, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, positive, true},
      {"abs", [](const Tensor& x) { return abs(x); }, any, true},
      {"relu", [](const Tensor& x) { return relu(x); }, any, true},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, any, true},
      {"tanh", [](const Tensor& x) { return tanh(x); }, any, true},
      {"x + a", [](const Tensor& x) { return x + 2.5f; }, any, true},
      {"x - a", [](const Tensor& x) { return x - 0.75f; }, any, true},
      {"x * a", [](const Tensor& x) { return x * -1.5f; }, any, true},
      {"x / a", [](const Tensor& x) { return x / 3.0f; }, any, true},
      {"a - x", [](const Tensor& x) { return 3.0f - x; }, any, true},
      {"a / x", [](const Tensor& x) { return 2.0f / x; }, any, true},
      {"a * x", [](const Tensor& x) { return 0.5f * x; }, any, true},
      {"pow(x, 3)", [](const Tensor& x) { return pow(x, 3.0f); }, any, true},
      {"pow(x, 0.5)", [](const Tensor& x) { return pow(x, 0.5f); }, positive, true},
      {"pow(2, x)", [](const Tensor& x) { return pow(2.0f, x); }, any, true},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.9f, 1.1f); }, any, true},
      {"x > a", [](const Tensor& x) { return x > 0.5f; }, any, false},
      {"x >= a", [](const Tensor& x) { return x >= 0.5f; }, any, false},
      {"x < a", [](const Tensor& x) { return x < -0.5f; }, any, false},
      {"x <= a", [](const Tensor& x) { return x <= -0.5f; }, any, false},
      {"x == a", [](const Tensor& x) { return x == x.at({0, 0}); }, any, false},
      {"x != a", [](const Tensor& x) { return x != x.at({0, 0}); }, any, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(same_on_cuda_1(c.f, c.input, {1e-5, 1e-5}, c.differentiable));
  }
}

TEST(CudaParity, UnaryOpsOnSpecialValues) {
  SKIP_WITHOUT_CUDA();
  // NaN, infinities and signed zeros go through every op as on the CPU.
  Tensor special = from_vector({kNaN, kInf, -kInf, 0.0f, -0.0f, 1.0f, -2.0f, 1e-30f}, {8});
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> cases = {
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"abs", [](const Tensor& x) { return abs(x); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -1.0f, 1.0f); }},
      {"1 / x", [](const Tensor& x) { return 1.0f / x; }},
      {"x > 0", [](const Tensor& x) { return x > 0.0f; }},
      {"x == 0", [](const Tensor& x) { return x == 0.0f; }},
  };
  for (const auto& [name, f] : cases) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(same_on_cuda_1(f, special, {1e-6, 1e-6}, false));
  }
}

TEST(CudaParity, BinaryOpsWithBroadcasting) {
  SKIP_WITHOUT_CUDA();
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{4, 5}, {4, 5}}, {{3, 1, 5}, {4, 5}}, {{2, 3}, {}}, {{1}, {7}}, {{6, 1}, {1, 6}}, {{2, 1, 3, 1}, {4, 1, 5}}};
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> f;
    bool differentiable;
  };
  std::vector<Case> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, true},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, true},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, true},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, true},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(abs(a) + 0.5f, b); }, true},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, true},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, true},
  };
  for (const auto& [shape_a, shape_b] : shapes) {
    Tensor a = make_away_from_zero(shape_a, 0.3f, 2.0f, 21);
    Tensor b = make_away_from_zero(shape_b, 0.3f, 2.0f, 22);
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.name) + " " + shape_text(shape_a) + " with " + shape_text(shape_b));
      auto f = c.f;
      EXPECT_TRUE(same_on_cuda([f](const std::vector<Tensor>& v) { return f(v[0], v[1]); }, {a, b},
                               {1e-5, 1e-5}, c.differentiable));
    }
  }
}

TEST(CudaParity, Comparisons) {
  SKIP_WITHOUT_CUDA();
  Tensor a = make_few_values({5, 6}, 31), b = make_few_values({6}, 32);
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>>> cases = {
      {"eq", [](const Tensor& x, const Tensor& y) { return eq(x, y); }},
      {"ne", [](const Tensor& x, const Tensor& y) { return ne(x, y); }},
      {"lt", [](const Tensor& x, const Tensor& y) { return lt(x, y); }},
      {"le", [](const Tensor& x, const Tensor& y) { return le(x, y); }},
      {"gt", [](const Tensor& x, const Tensor& y) { return gt(x, y); }},
      {"ge", [](const Tensor& x, const Tensor& y) { return ge(x, y); }},
      // sqrt of the negative values gives NaNs (sqrt is correctly rounded on both backends).
      {"maximum with NaN", [](const Tensor& x, const Tensor& y) { return maximum(x, sqrt(y)); }},
      {"minimum with NaN", [](const Tensor& x, const Tensor& y) { return minimum(sqrt(x), y); }},
  };
  for (const auto& [name, f] : cases) {
    SCOPED_TRACE(name);
    auto g = f;
    EXPECT_TRUE(same_on_cuda([g](const std::vector<Tensor>& v) { return g(v[0], v[1]); }, {a, b},
                             {0.0, 0.0}, false));
  }
}

TEST(CudaParity, NonContiguousInputs) {
  SKIP_WITHOUT_CUDA();
  Tensor x = make_input({6, 8}, -1, 1, 41), y = make_input({8, 6}, -1, 1, 42);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return v[0].t() * v[1]; }, {x, y}));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) {
    return v[0].slice(1, 0, 8, 2) + v[1].slice(0, 1, 7).t().slice(1, 0, 4);
  }, {x, y}));
  Tensor z = make_input({2, 3, 4, 5}, -1, 1, 43);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return exp(t.permute({3, 1, 0, 2})).contiguous(); }, z));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return t.permute({2, 0, 3, 1}) * t.permute({2, 0, 3, 1}); }, z));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return t.select(1, 2).unsqueeze(1).expand({2, 3, 4, 5}) - t.slice(1, 0, 1); }, z));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return t.reshape({6, 20}).t().contiguous().view({4, 5, 6}); }, z));
  // Large enough for the grid-stride loops to go round more than once.
  Tensor big = make_input({2048, 4096}, -1, 1, 44), row = make_input({2048}, -1, 1, 45);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return v[0].t() + v[1]; }, {big, row},
                           {1e-6, 1e-6}, false));
}

TEST(CudaParity, CopyIntoViewsAndFill) {
  SKIP_WITHOUT_CUDA();
  auto f = [](Device device) {
    Tensor target = zeros({4, 6}, device);
    Tensor source = from_vector(host_uniform(8, -1, 1, 51), {4, 2}, device);
    target.slice(1, 1, 5, 2).copy_(source);                   // strided destination
    target.slice(0, 3, 4).copy_(full({1}, 7.0f, device));     // broadcast source
    target.t().slice(0, 5, 6).fill_(-2.0f);                   // non-contiguous fill
    Tensor other = ones({6, 4}, device);
    other += target.t();
    other *= 0.5f;
    return std::vector<std::vector<float>>{target.to_vector(), other.to_vector()};
  };
  auto cpu = f(Device::cpu()), gpu = f(kCuda);
  EXPECT_TRUE(values_equal(gpu[0], cpu[0], "target"));
  EXPECT_TRUE(values_equal(gpu[1], cpu[1], "other"));
}

TEST(CudaParity, WhereAndMaskedFill) {
  SKIP_WITHOUT_CUDA();
  Tensor condition = make_few_values({3, 1, 5}, 61) > 0.0f;
  Tensor x = make_input({4, 5}, -1, 1, 62), y = make_input({3, 4, 1}, -1, 1, 63);
  EXPECT_TRUE(same_on_cuda([condition](const std::vector<Tensor>& v) {
    return where(condition.to(v[0].device()), v[0], v[1]);
  }, {x, y}));
  EXPECT_TRUE(same_on_cuda([condition](const std::vector<Tensor>& v) {
    return where(condition.to(v[0].device()), v[0], 0.25f);
  }, {x}));
  Tensor mask = make_few_values({1, 5}, 64) > 0.0f;
  EXPECT_TRUE(same_on_cuda([mask](const std::vector<Tensor>& v) {
    return masked_fill(v[0], mask.to(v[0].device()), -1e9f).softmax(-1);
  }, {x}));
}

// ---- reductions --------------------------------------------------------------------------

TEST(CudaParity, ReductionsAlongEveryDim) {
  SKIP_WITHOUT_CUDA();
  Tensor x = make_distinct({3, 4, 5}, 0.1f, 71);
  for (int64_t dim : {0, 1, 2, -1}) {
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE("dim " + std::to_string(dim) + (keepdim ? " keepdim" : ""));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return sum(t, dim, keepdim); }, x));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return mean(t, dim, keepdim); }, x));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return max(t, dim, keepdim); }, x));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return min(t, dim, keepdim); }, x));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return var(t, dim, true, keepdim); }, x));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return argmax(t, dim, keepdim); }, x, {}, false));
      EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return argmin(t, dim, keepdim); }, x, {}, false));
    }
  }
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t); }, x));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return mean(t); }, x));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return max(t); }, x));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return min(t); }, x));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return var(t); }, x));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t); }, x, {}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t.transpose(0, 2), 1); }, x));
  // Ties: argmax takes the first index; max shares the gradient among the tied elements.
  Tensor ties = from_vector({1, 3, 3, 2, 3, 0, 0, 0}, {2, 4});
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, ties, {}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t, 0); }, ties, {}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return max(t, 1); }, ties));
  // An empty dim sums to zero.
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, zeros({3, 0, 2}), {}, false));
}

TEST(CudaParity, LargeReductionsSplitAcrossBlocks) {
  SKIP_WITHOUT_CUDA();
  // Long rows and long columns are split into chunks reduced by separate blocks.
  Tensor flat = make_input({1 << 22}, 0.0f, 1.0f, 81);
  Tensor tall = make_input({200000, 3}, 0.0f, 1.0f, 82);
  Tensor wide = make_input({3, 100000}, 0.0f, 1.0f, 83);
  Tolerance sums{1e-3, 1e-4};
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t); }, flat, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return mean(t); }, flat, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return max(t); }, flat, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t); }, flat, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 0); }, tall, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return min(t, 0); }, tall, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t, 0); }, tall, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, wide, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, wide, {0, 0}, false));
  // Many short rows, and many columns.
  Tensor logits = make_input({50000, 10}, -1, 1, 84);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, logits, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 0); }, logits, sums, false));
}

TEST(CudaParity, ReductionsGiveTheSameBitsEveryRun) {
  SKIP_WITHOUT_CUDA();
  Tensor x = make_input({1 << 21}, -1, 1, 91).to(kCuda);
  Tensor columns = make_input({100000, 7}, -1, 1, 92).to(kCuda);
  float first = sum(x).item();
  std::vector<float> first_columns = sum(columns, 0).to_vector();
  for (int run = 0; run < 3; ++run) {
    EXPECT_EQ(sum(x).item(), first);
    EXPECT_TRUE(values_equal(sum(columns, 0).to_vector(), first_columns, "column sums"));
  }
}

TEST(CudaParity, ReductionsWithNaNAndInfinity) {
  SKIP_WITHOUT_CUDA();
  // Rows: NaN first, NaN inside, NaN last, all -inf, ties with +inf.
  Tensor x = from_vector({kNaN, 1, 5, 2,     //
                          1, kNaN, 5, 2,     //
                          2, 7, 3, kNaN,     //
                          -kInf, -kInf, -kInf, -kInf,  //
                          kInf, 1, kInf, 0},
                         {5, 4});
  for (int64_t dim : {0, 1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return max(t, dim); }, x, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return min(t, dim); }, x, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return argmax(t, dim); }, x, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return argmin(t, dim); }, x, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return sum(t, dim); }, x, {0, 0}, false));
  }
  // A long row, reduced by many threads and chunks, with NaNs in odd places.
  std::vector<float> values = host_uniform(20000, -1, 1, 93);
  values[7] = kNaN;
  values[12345] = 3.0f;
  values[19999] = 3.0f;
  Tensor long_row = from_vector(values, {1, 20000});
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, long_row, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return max(t, 1); }, long_row, {0, 0}, false));
  values[0] = kNaN;
  Tensor nan_first = from_vector(values, {1, 20000});
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, nan_first, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t.t(), 0); }, nan_first, {0, 0}, false));
}

// ---- matmul ------------------------------------------------------------------------------

namespace {

std::vector<std::pair<Shape, Shape>> matmul_shapes() {
  return {{{5, 7}, {7, 3}},          {{67, 131}, {131, 45}},     {{129, 257}, {257, 130}},
          {{1, 64}, {64, 1}},        {{7}, {7, 3}},              {{5, 7}, {7}},
          {{7}, {7}},                {{2, 3, 4}, {4, 5}},        {{2, 3, 4}, {2, 4, 5}},
          {{3, 1, 4, 5}, {2, 5, 6}}, {{4, 65, 33}, {33, 70}},   {{3, 0}, {0, 4}}};
}

}  // namespace

TEST(CudaParity, MatmulShapes) {
  SKIP_WITHOUT_CUDA();
  for (const auto& [shape_a, shape_b] : matmul_shapes()) {
    SCOPED_TRACE(shape_text(shape_a) + " @ " + shape_text(shape_b));
    Tensor a = make_input(shape_a, -1, 1, 101), b = make_input(shape_b, -1, 1, 102);
    EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b},
                             {1e-4, 1e-4}));
  }
}

TEST(CudaParity, MatmulOfTransposedAndPermutedViews) {
  SKIP_WITHOUT_CUDA();
  Tensor a = make_input({70, 40}, -1, 1, 111), b = make_input({50, 70}, -1, 1, 112);
  Tolerance tolerance{1e-4, 1e-4};
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0].t(), v[1].t()); }, {a, b}, tolerance));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[1], v[0]); }, {a, b}, tolerance));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0].t(), v[0]); }, {a}, tolerance));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[0].t()); }, {b}, tolerance));
  // Attention's shapes: (B, T, C) @ (B, C, T) from a transposed view, then (B, T, T) @ (B, T, C).
  Tensor q = make_input({2, 3, 9, 8}, -1, 1, 113), k = make_input({2, 3, 9, 8}, -1, 1, 114);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) {
    Tensor scores = matmul(v[0], v[1].transpose(-2, -1)) * 0.35f;  // (B, H, T, T)
    return matmul(softmax(scores, -1), v[1]);                       // (B, H, T, C)
  }, {q, k}, tolerance));
  // Slices with row strides larger than their width.
  Tensor wide = make_input({30, 100}, -1, 1, 115);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) {
    return matmul(v[0].slice(1, 10, 40), v[0].slice(1, 50, 90).t().slice(0, 0, 30).slice(1, 0, 20));
  }, {wide}, tolerance));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return tensordot(v[0], v[1], 2); },
                           {make_input({3, 4, 5}, -1, 1, 116), make_input({4, 5, 6}, -1, 1, 117)}, tolerance));
}

TEST(CudaParity, MatmulKernelWithLeadingDimsAndBatchStrides) {
  SKIP_WITHOUT_CUDA();
  // The backend interface directly: padded rows (ld > width), every transpose combination,
  // and an A shared by the whole batch (batch stride 0); a small C with a long K takes
  // split-K. Through our kernel and, in a build with it, through cuBLAS.
  const int64_t batch = 3, pad = 5;
  auto check_every_layout = [&] {
    struct Sizes {
      int64_t m, n, k;
    };
    for (Sizes size : {Sizes{37, 70, 19}, Sizes{5, 3, 3000}}) {
      const int64_t m = size.m, n = size.n, k = size.k;
      for (bool transpose_a : {false, true}) {
        for (bool transpose_b : {false, true}) {
          SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                       ", transpose_a " + (transpose_a ? "yes" : "no") + ", transpose_b " +
                       (transpose_b ? "yes" : "no"));
          int64_t lda = (transpose_a ? m : k) + pad, ldb = (transpose_b ? k : n) + pad;
          int64_t a_rows = transpose_a ? k : m, b_rows = transpose_b ? n : k;
          std::vector<float> a_values = host_uniform(a_rows * lda, -1, 1, 121);
          std::vector<float> b_values = host_uniform(batch * b_rows * ldb, -1, 1, 122);
          auto product = [&](Device device) {
            Tensor a = from_vector(a_values, {a_rows * lda}, device);
            Tensor b = from_vector(b_values, {batch * b_rows * ldb}, device);
            Tensor c = full({batch, m, n}, kNaN, device);  // every element must be written
            backend_for(device).matmul(a.data_ptr(), 0, lda, transpose_a, b.data_ptr(), b_rows * ldb,
                                       ldb, transpose_b, c.data_ptr(), batch, m, n, k);
            return c.to_vector();
          };
          EXPECT_TRUE(values_near(product(kCuda), product(Device::cpu()), {1e-4, 1e-4}, "C"));
        }
      }
    }
  };
  check_every_layout();  // the tiled kernel
#ifdef EMBER_HAS_CUDA_BACKEND
  if (cuda::has_cublas()) {
    SCOPED_TRACE("cuBLAS");
    cuda::set_matmul_kernel(cuda::MatmulKernel::Cublas);
    check_every_layout();
    cuda::set_matmul_kernel(cuda::MatmulKernel::Tiled);
  }
#endif
}

#ifdef EMBER_HAS_CUDA_BACKEND
TEST(CudaParity, CublasMatchesTheTiledKernel) {
  SKIP_WITHOUT_CUDA();
  if (!cuda::has_cublas()) GTEST_SKIP() << "built without cuBLAS (EMBER_CUDA_CUBLAS=OFF)";
  cuda::set_matmul_kernel(cuda::MatmulKernel::Cublas);
  for (const auto& [shape_a, shape_b] : matmul_shapes()) {
    SCOPED_TRACE(shape_text(shape_a) + " @ " + shape_text(shape_b));
    Tensor a = make_input(shape_a, -1, 1, 131), b = make_input(shape_b, -1, 1, 132);
    EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b},
                             {1e-4, 1e-4}));
  }
  cuda::set_matmul_kernel(cuda::MatmulKernel::Tiled);
}
#endif

// ---- softmax ------------------------------------------------------------------------------

TEST(CudaParity, SoftmaxAndLogSoftmax) {
  SKIP_WITHOUT_CUDA();
  Tensor x = make_input({4, 7, 9}, -3, 3, 141);
  for (int64_t dim : {0, 1, 2, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return softmax(t, dim); }, x));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return log_softmax(t, dim); }, x));
  }
  Tensor long_rows = make_input({3, 5000}, -10, 10, 142);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return softmax(t, 1); }, long_rows, {1e-6, 1e-4}));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return log_softmax(t, 1); }, long_rows, {1e-4, 1e-5}));
  Tensor many_rows = make_input({20000, 10}, -5, 5, 143);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return log_softmax(t, 1); }, many_rows));
  // Large values (the max subtraction), a causal mask of -inf, and rows that are all -inf
  // (NaN on both backends).
  Tensor large = make_input({2, 6}, 80, 100, 144);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return softmax(t, 1); }, large));
  Tensor scores = make_input({5, 5}, -2, 2, 145);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) {
    Tensor causal = tril(ones({5, 5}, t.device()));
    return softmax(masked_fill(t, causal == 0.0f, -kInf), 1);
  }, scores));
  Tensor masked = from_vector({-kInf, -kInf, -kInf, 1, 2, 3, kInf, 0, 1}, {3, 3});
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return softmax(t, 1); }, masked, {1e-6, 1e-6}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return log_softmax(t, 1); }, masked, {1e-6, 1e-6}, false));
}

TEST(CudaParity, SoftmaxBackwardKernel) {
  // The fused gradient kernel on its own, called through the backend with the forward's
  // output y: short and long rows, and masked rows where y holds exact zeros (softmax) or
  // -inf (log_softmax).
  SKIP_WITHOUT_CUDA();
  struct Case {
    int64_t rows, cols;
  };
  for (Case c : {Case{1, 1}, Case{37, 10}, Case{6, 64}, Case{3, 5000}}) {
    for (bool log : {false, true}) {
      SCOPED_TRACE(std::to_string(c.rows) + " x " + std::to_string(c.cols) + (log ? " log" : ""));
      std::vector<float> x = host_uniform(c.rows * c.cols, -4, 4, 146);
      for (int64_t r = 0; r < c.rows; ++r) {  // a causal mask: -inf right of the diagonal
        for (int64_t j = r + 1; j < c.cols; ++j) x[r * c.cols + j] = -kInf;
      }
      std::vector<float> g = host_uniform(c.rows * c.cols, -1, 1, 147);
      auto run = [&](Device device) {
        Backend& backend = backend_for(device);
        Tensor xs = from_vector(x, {c.rows, c.cols}, device), gs = from_vector(g, {c.rows, c.cols}, device);
        Tensor y = zeros({c.rows, c.cols}, device), dx = zeros({c.rows, c.cols}, device);
        backend.softmax(xs.data_ptr(), y.data_ptr(), c.rows, c.cols, log);
        backend.softmax_backward(y.data_ptr(), gs.data_ptr(), dx.data_ptr(), c.rows, c.cols, log);
        return dx.to_vector();
      };
      EXPECT_TRUE(values_near(run(kCuda), run(Device::cpu()), {1e-5, 1e-4}, "softmax_backward"));
    }
  }
}

// ---- joining and indexing -------------------------------------------------------------------

TEST(CudaParity, CatStackAndIndexSelect) {
  SKIP_WITHOUT_CUDA();
  Tensor a = make_input({2, 3}, -1, 1, 151), b = make_input({4, 3}, -1, 1, 152), c = make_input({2, 3}, -1, 1, 153);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return cat({v[0], v[1], v[2]}, 0); }, {a, b, c}));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return cat({v[0], v[1] * 2.0f}, 1); }, {a, c}));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return stack({v[0], v[1]}, 1); }, {a, c}));
  Tensor table = make_input({5, 6}, -1, 1, 154);
  Tensor indices = from_vector({3, 0, 3, 3, 1, 4}, {6});
  EXPECT_TRUE(same_on_cuda([indices](const std::vector<Tensor>& v) {
    return index_select(v[0], indices.to(v[0].device()));
  }, {table}));
  Tensor table_3d = make_input({5, 2, 3}, -1, 1, 155);
  EXPECT_TRUE(same_on_cuda([indices](const std::vector<Tensor>& v) {
    return index_select(v[0].transpose(1, 2), indices.to(v[0].device())).sum(1);
  }, {table_3d}));
}

TEST(CudaParity, EmbeddingGradientIsTheCpusBitForBit) {
  SKIP_WITHOUT_CUDA();
  // An embedding table's gradient: many repeats, summed in the CPU's order on the GPU.
  std::vector<float> index_values = host_uniform(5000, 0, 300, 161);
  for (float& i : index_values) i = static_cast<float>(static_cast<int>(i));
  Tensor indices = from_vector(index_values, {5000});
  Tensor table = make_input({300, 64}, -1, 1, 162);
  DeviceRun cpu = run_on(Device::cpu(), [&](const std::vector<Tensor>& v) {
    return index_select(v[0], indices);
  }, {table}, true);
  for (int run = 0; run < 2; ++run) {
    DeviceRun gpu = run_on(kCuda, [&](const std::vector<Tensor>& v) {
      return index_select(v[0], indices.to(kCuda));
    }, {table}, true);
    EXPECT_TRUE(values_equal(gpu.out, cpu.out, "rows"));
    EXPECT_TRUE(values_equal(gpu.grads[0], cpu.grads[0], "table gradient"));
  }
}

// ---- random fills ------------------------------------------------------------------------------

TEST(CudaParity, RandomFillsDrawTheCpusNumbers) {
  SKIP_WITHOUT_CUDA();
  auto draw = [](Device device) {
    manual_seed(1234);
    std::vector<std::vector<float>> values;
    values.push_back(rand({1001}, device).to_vector());
    values.push_back(uniform({3, 7}, -2.0f, 5.0f, device).to_vector());
    values.push_back(randn({999}, device).to_vector());
    values.push_back(rand({5}, device).to_vector());  // the generator moved on identically
    values.push_back(randint(0, 10, {20}, device).to_vector());
    values.push_back(randperm(17, device).to_vector());
    return values;
  };
  auto cpu = draw(Device::cpu()), gpu = draw(kCuda);
  EXPECT_TRUE(values_equal(gpu[0], cpu[0], "rand"));
  EXPECT_TRUE(values_equal(gpu[1], cpu[1], "uniform"));
  EXPECT_TRUE(values_near(gpu[2], cpu[2], {1e-5, 1e-5}, "randn"));  // CUDA's log/sin/cos
  EXPECT_TRUE(values_equal(gpu[3], cpu[3], "rand after randn"));
  EXPECT_TRUE(values_equal(gpu[4], cpu[4], "randint"));
  EXPECT_TRUE(values_equal(gpu[5], cpu[5], "randperm"));
}

// ---- optimizer updates ----------------------------------------------------------------------------

TEST(CudaParity, OptimizerKernelsGiveTheCpusBits) {
  SKIP_WITHOUT_CUDA();
  const int64_t count = 1000;
  std::vector<float> param0 = host_uniform(count, -1, 1, 171);
  std::vector<std::vector<float>> grads = {host_uniform(count, -1, 1, 172), host_uniform(count, -1, 1, 173),
                                           host_uniform(count, -1, 1, 174)};
  struct SgdCase {
    float momentum, dampening, weight_decay;
    bool nesterov;
  };
  for (SgdCase s : {SgdCase{0, 0, 0, false}, SgdCase{0.9f, 0, 1e-2f, false}, SgdCase{0.9f, 0.1f, 0, false},
                    SgdCase{0.8f, 0, 5e-4f, true}}) {
    SCOPED_TRACE("SGD momentum " + std::to_string(s.momentum) + (s.nesterov ? " nesterov" : ""));
    auto steps = [&](Device device) {
      Backend& backend = backend_for(device);
      Tensor param = from_vector(param0, {count}, device), buffer = zeros({count}, device);
      for (size_t step = 0; step < grads.size(); ++step) {
        Tensor grad = from_vector(grads[step], {count}, device);
        backend.sgd_step(param.data_ptr(), grad.data_ptr(), s.momentum != 0 ? buffer.data_ptr() : nullptr,
                         count, 0.1f, s.momentum, s.dampening, s.weight_decay, s.nesterov, step == 0);
      }
      return std::vector<std::vector<float>>{param.to_vector(), buffer.to_vector()};
    };
    auto cpu = steps(Device::cpu()), gpu = steps(kCuda);
    EXPECT_TRUE(values_equal(gpu[0], cpu[0], "parameters"));
    EXPECT_TRUE(values_equal(gpu[1], cpu[1], "momentum buffer"));
  }
  for (float weight_decay : {0.0f, 1e-2f}) {
    SCOPED_TRACE("Adam weight_decay " + std::to_string(weight_decay));
    auto steps = [&](Device device) {
      Backend& backend = backend_for(device);
      Tensor param = from_vector(param0, {count}, device);
      Tensor exp_avg = zeros({count}, device), exp_avg_sq = zeros({count}, device);
      for (size_t step = 0; step < grads.size(); ++step) {
        Tensor grad = from_vector(grads[step], {count}, device);
        backend.adam_step(param.data_ptr(), grad.data_ptr(), exp_avg.data_ptr(), exp_avg_sq.data_ptr(),
                          count, 1e-2f, 0.9f, 0.999f, 1e-8f, weight_decay, static_cast<int64_t>(step + 1));
      }
      return std::vector<std::vector<float>>{param.to_vector(), exp_avg.to_vector(), exp_avg_sq.to_vector()};
    };
    auto cpu = steps(Device::cpu()), gpu = steps(kCuda);
    EXPECT_TRUE(values_equal(gpu[0], cpu[0], "parameters"));
    EXPECT_TRUE(values_equal(gpu[1], cpu[1], "exp_avg"));
    EXPECT_TRUE(values_equal(gpu[2], cpu[2], "exp_avg_sq"));
  }
}

// ---- modules and training ----------------------------------------------------------------------

#if __has_include("ember/nn/linear.h") && __has_include("ember/optim/adam.h")

TEST(CudaParity, LinearForwardAndBackward) {
  SKIP_WITHOUT_CUDA();
  auto run = [](Device device) {
    manual_seed(7);
    auto layer = std::make_shared<nn::Linear>(20, 12);
    layer->to(device);
    Tensor x = make_input({16, 20}, -1, 1, 181).to(device);
    Tensor y = layer->forward(x);
    (y * y).sum().backward();
    return std::vector<std::vector<float>>{y.to_vector(), layer->weight.grad().to_vector(),
                                           layer->bias.grad().to_vector()};
  };
  auto cpu = run(Device::cpu()), gpu = run(kCuda);
  EXPECT_TRUE(values_near(gpu[0], cpu[0], {1e-5, 1e-5}, "output"));
  EXPECT_TRUE(values_near(gpu[1], cpu[1], {1e-4, 1e-4}, "weight gradient"));
  EXPECT_TRUE(values_near(gpu[2], cpu[2], {1e-4, 1e-4}, "bias gradient"));
}

namespace {

// A two-layer classifier trained for a few steps; returns its parameters afterwards.
std::vector<std::vector<float>> train_briefly(Device device, bool use_adam, int steps) {
  namespace F = nn::functional;
  manual_seed(11);
  auto fc1 = std::make_shared<nn::Linear>(24, 32);
  auto fc2 = std::make_shared<nn::Linear>(32, 5);
  fc1->to(device);
  fc2->to(device);
  std::vector<Tensor> params = fc1->parameters();
  for (const Tensor& p : fc2->parameters()) params.push_back(p);
  std::unique_ptr<optim::Optimizer> optimizer;
  if (use_adam) {
    optimizer = std::make_unique<optim::Adam>(params, optim::AdamOptions(1e-2));
  } else {
    optimizer = std::make_unique<optim::SGD>(params, optim::SGDOptions(0.1).momentum(0.9));
  }
  Tensor x = make_input({64, 24}, -1, 1, 191).to(device);
  std::vector<float> label_values = host_uniform(64, 0, 5, 192);
  for (float& l : label_values) l = static_cast<float>(static_cast<int>(l));
  Tensor labels = from_vector(label_values, {64}, device);
  for (int step = 0; step < steps; ++step) {
    optimizer->zero_grad();
    Tensor loss = F::cross_entropy(fc2->forward(relu(fc1->forward(x))), labels);
    loss.backward();
    optimizer->step();
  }
  std::vector<std::vector<float>> values;
  for (const Tensor& p : params) values.push_back(p.to_vector());
  return values;
}

}  // namespace

TEST(CudaParity, TrainingStepsWithSgdAndAdam) {
  SKIP_WITHOUT_CUDA();
  for (bool use_adam : {false, true}) {
    SCOPED_TRACE(use_adam ? "Adam" : "SGD");
    auto cpu = train_briefly(Device::cpu(), use_adam, 5), gpu = train_briefly(kCuda, use_adam, 5);
    ASSERT_EQ(cpu.size(), gpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) {
      EXPECT_TRUE(values_near(gpu[i], cpu[i], {1e-4, 1e-4}, "parameter " + std::to_string(i)));
    }
  }
}

#ifdef EMBER_HAS_CUDA_BACKEND
TEST(CudaParity, CachingAllocatorServesAWarmLoopWithoutCudaMalloc) {
  SKIP_WITHOUT_CUDA();
  train_briefly(kCuda, true, 3);  // warms the cache with every size the loop uses
  cuda::AllocatorStats before = cuda::allocator_stats(0);
  train_briefly(kCuda, true, 10);
  cuda::AllocatorStats after = cuda::allocator_stats(0);
  EXPECT_EQ(after.device_allocations, before.device_allocations);
  EXPECT_GT(after.cache_hits, before.cache_hits);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);  // everything the loop made was freed
  cuda::empty_cache(0);
  EXPECT_EQ(cuda::allocator_stats(0).bytes_reserved, cuda::allocator_stats(0).bytes_in_use);
}
#endif

#endif  // ember::nn and ember::optim

// ---- hardening: launch limits, index paths, chunked reductions, bits (issue 17) ----------

TEST(CudaParity, KernelLaunchProbePassesOnThisGpu) {
  SKIP_WITHOUT_CUDA();
  EXPECT_EQ(cuda::usability_problem(0), "");
}

TEST(CudaParity, MatmulWithMoreColumnTilesThanAGridRowHolds) {
  SKIP_WITHOUT_CUDA();
  // n > 65535 * 64 = 4,194,240: an outer product with a long vector, and the gradient of
  // a dot product of 5e6 elements (a (1, 1) x (1, n) product).
  const int64_t n = 4194240 + 100;
  Tensor column = make_input({2, 1}, -1, 1, 201), row = make_input({1, n}, -1, 1, 202);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                           {column, row}, {1e-5, 1e-5}));
  Tensor a = make_input({5000000}, 0.5f, 1.0f, 203), b = make_input({5000000}, 0.5f, 1.0f, 204);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b},
                           {1e-3, 1e-4}));
}

TEST(CudaParity, MatmulWithMoreRowTilesAndBatchesThanAGridHolds) {
  SKIP_WITHOUT_CUDA();
  // m > 65535 * 64 row tiles (grid.y loops), and batch > 65535 (several launches).
  Tensor tall = make_input({4194240 + 70, 3}, -1, 1, 205), narrow = make_input({3, 2}, -1, 1, 206);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                           {tall, narrow}, {1e-5, 1e-5}));
  Tensor a = make_input({70000, 2, 3}, -1, 1, 207), b = make_input({70000, 3, 2}, -1, 1, 208);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b},
                           {1e-5, 1e-5}));
}

TEST(CudaParity, MatmulWithALongKIsSplitAcrossBlocks) {
  SKIP_WITHOUT_CUDA();
  // m = n = 1 with K = 1e7: split-K, partial products added in order. Positive values, so
  // that a lost or doubled split (1/256 of the sum) is far outside the tolerance.
  const int64_t k = 10000000;
  Tensor a = make_input({1, k}, 0.5f, 1.0f, 209), b = make_input({k, 1}, 0.5f, 1.0f, 210);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b},
                           {1e-3, 1e-4}, false));
  // A few small products in a batch, transposed, with K not a multiple of a split.
  Tensor c = make_input({3, 5, 9001}, -1, 1, 211), d = make_input({3, 4, 9001}, -1, 1, 212);
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return matmul(v[0], v[1].transpose(1, 2)); },
                           {c, d}, {1e-3, 1e-4}));
  // The same bits on every run.
  Tensor a_gpu = a.to(kCuda), b_gpu = b.to(kCuda);
  float first = matmul(a_gpu, b_gpu).item();
  EXPECT_TRUE(same_bits(matmul(a_gpu, b_gpu).item(), first));
}

#ifdef EMBER_HAS_CUDA_BACKEND
namespace {
// Forces the element-wise kernels' int64_t index path for a scope.
struct Forced64BitIndexing {
  Forced64BitIndexing() { cuda::force_64bit_indexing(true); }
  ~Forced64BitIndexing() { cuda::force_64bit_indexing(false); }
};
}  // namespace

TEST(CudaParity, SixtyFourBitIndexPathOfCopyBinaryAndWhere) {
  SKIP_WITHOUT_CUDA();
  Forced64BitIndexing forced;
  // Outputs bit for bit; no gradients (a broadcast input's gradient is a sum).
  Tensor x = make_input({2, 3, 4, 5}, -1, 1, 213), y = make_input({4, 1}, -1, 1, 214);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return t.permute({3, 1, 0, 2}).contiguous(); }, x, {0, 0}));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return v[0].transpose(1, 3) * v[1].t(); },
                           {x, make_input({1, 4}, -1, 1, 215)}, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor>& v) { return v[0] - v[1]; }, {x, y}, {0, 0}, false));
  Tensor condition = make_few_values({3, 1, 5}, 216) > 0.0f;
  EXPECT_TRUE(same_on_cuda([condition](const std::vector<Tensor>& v) {
    return where(condition.to(v[0].device()), v[0].slice(0, 1, 2).squeeze(0), v[1]);
  }, {x, y}, {0, 0}, false));
  auto into_view = [](Device device) {
    Tensor target = zeros({4, 6}, device);
    target.slice(1, 1, 5, 2).copy_(from_vector(host_uniform(8, -1, 1, 217), {4, 2}, device));
    return target.to_vector();
  };
  EXPECT_TRUE(values_equal(into_view(kCuda), into_view(Device::cpu()), "strided destination"));
}
#endif

TEST(CudaParity, ColumnReductionsInChunksWithNaNAndTies) {
  SKIP_WITHOUT_CUDA();
  // (200000, 3) over dim 0 is split into chunks: a NaN at row 0 must win every chunk's
  // combination, and all-equal values must give index 0.
  std::vector<float> values = host_uniform(200000 * 3, -1, 1, 218);
  values[1] = kNaN;  // row 0, column 1
  Tensor nan_first = from_vector(values, {200000, 3});
  for (auto f : std::vector<std::function<Tensor(const Tensor&)>>{
           [](const Tensor& t) { return argmax(t, 0); }, [](const Tensor& t) { return argmin(t, 0); },
           [](const Tensor& t) { return max(t, 0); }, [](const Tensor& t) { return min(t, 0); }}) {
    EXPECT_TRUE(same_on_cuda_1(f, nan_first, {0, 0}, false));
  }
  Tensor equal_columns = full({200000, 3}, 0.25f), equal_flat = full({1 << 22}, -3.0f);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 0); }, equal_columns, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t, 0); }, equal_columns, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t); }, equal_flat, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t, 0); }, equal_flat, {0, 0}, false));
}

TEST(CudaParity, ReductionsWithMoreUnitsThanAGridRowHolds) {
  SKIP_WITHOUT_CUDA();
  // Blocks loop past 65535: short rows (a warp each), long rows (a block each), and
  // column tiles.
  Tensor short_rows = make_input({600000, 5}, -1, 1, 219);
  Tensor long_rows = make_input({70000, 300}, -1, 1, 220);
  Tensor tiles = make_input({70000, 3, 2}, -1, 1, 221);
  Tolerance sums{1e-5, 1e-5};
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, short_rows, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmax(t, 1); }, short_rows, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return max(t, 1); }, long_rows, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, long_rows, {1e-4, 1e-5}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, tiles, sums, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return argmin(t, 1); }, tiles, {0, 0}, false));
}

TEST(CudaParity, SignedZerosInSumsMaxAndMinAreTheCpusBits) {
  SKIP_WITHOUT_CUDA();
  // A sum of -0s is -0 along rows and columns (chunked too); Max prefers +0, Min -0.
  Tensor negative_zeros = full({200000, 3}, -0.0f);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 0); }, negative_zeros, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, negative_zeros, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t); }, negative_zeros, {0, 0}, false));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return sum(t, 1); }, zeros({4, 0}), {0, 0}, false));
  std::vector<float> mixed(3000);
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = (i * 7919) % 3 == 0 ? 0.0f : -0.0f;
  Tensor zeros_of_both_signs = from_vector(mixed, {1000, 3});
  for (int64_t dim : {0, 1}) {
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return max(t, dim); }, zeros_of_both_signs, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return min(t, dim); }, zeros_of_both_signs, {0, 0}, false));
    EXPECT_TRUE(same_on_cuda_1([=](const Tensor& t) { return argmax(t, dim); }, zeros_of_both_signs, {0, 0}, false));
  }
}

TEST(CudaParity, SoftmaxWithMoreRowsThanAGridRowHolds) {
  SKIP_WITHOUT_CUDA();
  // 70000 rows (blocks loop past 65535) of 37 columns (not a multiple of a block's threads),
  // forward and gradient.
  Tensor x = make_input({70000, 37}, -4, 4, 222);
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return softmax(t, 1); }, x, {1e-6, 1e-5}));
  EXPECT_TRUE(same_on_cuda_1([](const Tensor& t) { return log_softmax(t, 1); }, x, {1e-5, 1e-5}));
}

TEST(CudaParity, ScatterAddOfManyIdenticalIndicesIsTheCpusBitForBit) {
  SKIP_WITHOUT_CUDA();
  Tensor indices = full({100000}, 3.0f);  // 1e5 rows all added into row 3
  Tensor table = make_input({10, 16}, -1, 1, 223);
  DeviceRun cpu = run_on(Device::cpu(), [&](const std::vector<Tensor>& v) {
    return index_select(v[0], indices);
  }, {table}, true);
  DeviceRun gpu = run_on(kCuda, [&](const std::vector<Tensor>& v) {
    return index_select(v[0], indices.to(kCuda));
  }, {table}, true);
  EXPECT_TRUE(values_equal(gpu.out, cpu.out, "rows"));
  EXPECT_TRUE(values_equal(gpu.grads[0], cpu.grads[0], "table gradient"));
}

TEST(CudaParity, CopyIntoAnExpandedViewIsRefused) {
  SKIP_WITHOUT_CUDA();
  Tensor base = zeros({1, 3}, kCuda);
  Tensor expanded = base.expand({4, 3});
  EXPECT_TRUE(throws_error_all([&] { expanded.copy_(ones({4, 3}, kCuda)); },
                               {"copy_", "shape (4, 3)", "strides (0, 1)", "dim 0"}));
  EXPECT_TRUE(throws_error([&] { expanded.fill_(1.0f); }, "copy_: cannot write into"));
  EXPECT_EQ(base.sum().item(), 0.0f);  // and nothing was written
}

TEST(CudaParity, OptimizerStepsAndFillsPastOneGridStride) {
  SKIP_WITHOUT_CUDA();
  // More than 65536 blocks x 256 threads: each thread's grid-stride loop goes round twice.
  const int64_t count = int64_t{65536} * 256 + 1000;
  std::vector<float> param0 = host_uniform(count, -1, 1, 224), grad = host_uniform(count, -1, 1, 225);
  auto steps = [&](Device device) {
    Backend& backend = backend_for(device);
    Tensor param = from_vector(param0, {count}, device), g = from_vector(grad, {count}, device);
    Tensor buffer = zeros({count}, device), exp_avg = zeros({count}, device), exp_avg_sq = zeros({count}, device);
    backend.sgd_step(param.data_ptr(), g.data_ptr(), buffer.data_ptr(), count, 0.1f, 0.9f, 0, 1e-2f, true, true);
    backend.adam_step(param.data_ptr(), g.data_ptr(), exp_avg.data_ptr(), exp_avg_sq.data_ptr(), count, 1e-2f,
                      0.9f, 0.999f, 1e-8f, 0.0f, 1);
    Tensor filled = empty({count}, device), uniform_fill = empty({count}, device);
    backend.fill(filled.data_ptr(), count, -0.0f);
    backend.fill_uniform(uniform_fill.data_ptr(), count, -2.0f, 3.0f, 99, 7);
    return std::vector<std::vector<float>>{param.to_vector(), buffer.to_vector(), exp_avg_sq.to_vector(),
                                           filled.to_vector(), uniform_fill.to_vector()};
  };
  auto cpu = steps(Device::cpu()), gpu = steps(kCuda);
  EXPECT_TRUE(values_equal(gpu[0], cpu[0], "parameters"));
  EXPECT_TRUE(values_equal(gpu[1], cpu[1], "momentum buffer"));
  EXPECT_TRUE(values_equal(gpu[2], cpu[2], "exp_avg_sq"));
  EXPECT_TRUE(values_equal(gpu[3], cpu[3], "fill"));
  EXPECT_TRUE(values_equal(gpu[4], cpu[4], "fill_uniform"));
}

// ---- errors on a GPU ----------------------------------------------------------------------------

TEST(CudaParity, ErrorsNameTheProblem) {
  SKIP_WITHOUT_CUDA();
  int count = cuda::device_count();
  EXPECT_TRUE(throws_error(
      [&] { zeros({2}, Device::cuda(count + 2)); },
      "cuda:" + std::to_string(count + 2) + " does not exist (" + std::to_string(count) + " device"));
  EXPECT_TRUE(throws_error([] { zeros({2}, Device::cuda(-1)); }, "cuda:-1 does not exist"));
  // 4 TiB: more than any GPU has.
  EXPECT_TRUE(throws_error_all([] { empty({int64_t{1} << 40}, kCuda); },
                               {"cuda allocate: out of memory on cuda:0", "asking for 4.00 TiB", "free of"}));
  EXPECT_TRUE(throws_error([] { ones({2}) + ones({2}, kCuda); }, "expected all tensors on the same device"));
  // After an out-of-memory error the device still works.
  EXPECT_EQ(ones({3}, kCuda).sum().item(), 3.0f);
}

// ---- without a GPU (these run everywhere) -------------------------------------------------------

TEST(CudaDevice, AvailabilityAgreesWithDeviceCount) {
  EXPECT_EQ(cuda::is_available(), cuda::device_count() > 0);
  EXPECT_GE(cuda::device_count(), 0);
#ifndef EMBER_HAS_CUDA_BACKEND
  EXPECT_FALSE(cuda::is_available());
  EXPECT_EQ(cuda::device_count(), 0);
#endif
}

TEST(CudaDevice, WithoutAGpuMovingToCudaThrowsAClearError) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  EXPECT_FALSE(cuda::is_available());
  EXPECT_EQ(cuda::device_count(), 0);
  Tensor x = make_input({2, 3});
#ifdef EMBER_HAS_CUDA_BACKEND
  const std::string expected = "no CUDA device: cannot use cuda:0";
  EXPECT_TRUE(throws_error([] { cuda::allocator_stats(0); }, "no CUDA device"));
#else
  const std::string expected = "cuda:0: Ember was built without CUDA";
#endif
  EXPECT_TRUE(throws_error([&] { x.to(Device::cuda()); }, expected));
  EXPECT_TRUE(throws_error([&] { x.cuda(); }, expected));
  EXPECT_TRUE(throws_error([] { zeros({2}, Device::cuda()); }, expected));
  EXPECT_TRUE(throws_error([] { rand({2}, Device::cuda()); }, expected));
  EXPECT_TRUE(throws_error([] { ones({2}, Device::cuda(3)); }, "cuda:3"));
  // The failed moves left nothing behind: the CPU tensor is intact.
  EXPECT_EQ(x.device(), Device::cpu());
  EXPECT_EQ(x.numel(), 6);
}

// ---- the CPU side of the hardening (these run everywhere) ---------------------------------

TEST(CudaHardening, BitwiseComparisonTellsSignedZerosApart) {
  EXPECT_FALSE(values_equal({-0.0f}, {0.0f}, "zeros"));
  EXPECT_FALSE(values_equal({1.0f}, {std::nextafter(1.0f, 2.0f)}, "one ulp"));
  EXPECT_TRUE(values_equal({kNaN, -kNaN, kInf, -0.0f}, {-kNaN, kNaN, kInf, -0.0f}, "NaN, inf, -0"));
  EXPECT_FALSE(values_equal({1.0f}, {1.0f, 2.0f}, "sizes"));
  // A zero tolerance in same_on_cuda means these bits, not |a - b| <= 0.
  EXPECT_TRUE(values_near({-0.0f}, {0.0f}, Tolerance{0.0, 0.0}, "the old check"));
}

TEST(CudaHardening, CpuSumsOfNegativeZerosAreNegativeZero) {
  // The CPU reference the GPU is held to: a sum of -0s is -0 along rows and columns; an
  // empty sum is +0; Max prefers +0 and Min -0, wherever they stand.
  Tensor negative_zeros = full({5, 11}, -0.0f);
  for (const Tensor& s : {sum(negative_zeros, 0), sum(negative_zeros, 1), sum(negative_zeros)}) {
    for (float v : s.to_vector()) EXPECT_TRUE(std::signbit(v)) << v;
  }
  for (float v : sum(zeros({3, 0}), 1).to_vector()) EXPECT_FALSE(std::signbit(v));
  Tensor both = from_vector({-0.0f, 0.0f, 0.0f, -0.0f}, {2, 2});
  EXPECT_TRUE(values_equal(max(both, 1).to_vector(), {0.0f, 0.0f}, "max along rows"));
  EXPECT_TRUE(values_equal(max(both, 0).to_vector(), {0.0f, 0.0f}, "max along columns"));
  EXPECT_TRUE(values_equal(min(both, 1).to_vector(), {-0.0f, -0.0f}, "min along rows"));
  EXPECT_TRUE(values_equal(min(both, 0).to_vector(), {-0.0f, -0.0f}, "min along columns"));
  EXPECT_TRUE(values_equal(argmax(both, 1).to_vector(), {0.0f, 0.0f}, "argmax: the first of equals"));
}

TEST(CudaHardening, CopyIntoAnExpandedViewIsRefusedOnTheCpu) {
  Tensor base = zeros({1, 3});
  Tensor expanded = base.expand({4, 3});
  EXPECT_TRUE(throws_error_all([&] { expanded.copy_(ones({4, 3})); },
                               {"copy_: cannot write into a tensor of shape (4, 3) with strides (0, 1)",
                                "dim 0 (size 4) has stride 0"}));
  EXPECT_TRUE(throws_error([&] { expanded.fill_(2.0f); }, "strides (0, 1)"));
  EXPECT_TRUE(throws_error([&] { expanded += 1.0f; }, "copy_: cannot write into"));
  Tensor inner = zeros({2, 1}).expand({2, 5});
  EXPECT_TRUE(throws_error([&] { inner.copy_(ones({5})); }, "dim 1 (size 5) has stride 0"));
  EXPECT_EQ(base.sum().item(), 0.0f);  // nothing was written
  // A stride of 0 on a dim of size 1 writes each element once: allowed.
  Tensor single = zeros({3}).unsqueeze(0).expand({1, 3});
  single.copy_(full({3}, 2.0f));
  EXPECT_EQ(single.sum().item(), 6.0f);
  // So is copying out of an expanded view, and into a plain strided one.
  Tensor target = zeros({4, 3});
  target.copy_(full({1, 3}, 1.0f).expand({4, 3}));
  target.t().slice(0, 1, 2).copy_(full({4}, 5.0f));
  EXPECT_EQ(target.sum().item(), 4 * 2 + 4 * 5.0f);
}

TEST(CudaHardening, RequireCudaTurnsASkipIntoAFailure) {
  if (decide_cuda_test().action == CudaTestDecision::Run) {
    GTEST_SKIP() << "a usable GPU is here; SKIP_WITHOUT_CUDA() runs the test";
  }
  const char* saved = std::getenv("EMBER_REQUIRE_CUDA");
  const std::string saved_value = saved != nullptr ? saved : "";
  auto outcome = [](const char* require) {
    if (require != nullptr) {
      setenv("EMBER_REQUIRE_CUDA", require, 1);
    } else {
      unsetenv("EMBER_REQUIRE_CUDA");
    }
    ::testing::TestPartResultArray results;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
      [] { SKIP_WITHOUT_CUDA(); }();
    }
    EXPECT_EQ(results.size(), 1);
    return results.size() == 1 ? results.GetTestPartResult(0) : ::testing::TestPartResult(
        ::testing::TestPartResult::kSuccess, "", 0, "no result");
  };
  const bool gpu_present = cuda::device_count() > 0;  // present but unusable: always a failure
  ::testing::TestPartResult unset = outcome(nullptr), zero = outcome("0"), one = outcome("1");
  if (saved != nullptr) {
    setenv("EMBER_REQUIRE_CUDA", saved_value.c_str(), 1);
  } else {
    unsetenv("EMBER_REQUIRE_CUDA");
  }
  EXPECT_EQ(unset.type(), gpu_present ? ::testing::TestPartResult::kFatalFailure : ::testing::TestPartResult::kSkip);
  EXPECT_EQ(zero.type(), unset.type());
  EXPECT_EQ(one.type(), ::testing::TestPartResult::kFatalFailure);
  EXPECT_NE(std::string(one.message()).find(gpu_present ? "unusable" : "EMBER_REQUIRE_CUDA=1"), std::string::npos)
      << one.message();
  EXPECT_NE(std::string(one.message()).find(cuda_unavailable_reason()), std::string::npos) << one.message();
  EXPECT_NE(std::string(unset.message()).find("no CUDA device"), std::string::npos) << unset.message();
}

TEST(CudaHardening, UsabilityProblemAgreesWithTheDevice) {
  const std::string problem = cuda::usability_problem(0);
  if (cuda::device_count() == 0) {
#ifdef EMBER_HAS_CUDA_BACKEND
    EXPECT_NE(problem.find("no CUDA device: cannot use cuda:0"), std::string::npos) << problem;
#else
    EXPECT_NE(problem.find("Ember was built without CUDA"), std::string::npos) << problem;
#endif
  }
  EXPECT_NE(cuda::usability_problem(-1).find("cuda:-1"), std::string::npos);
}

#ifdef EMBER_HAS_CUDA_BACKEND
TEST(CudaHardening, ArchitecturesBuiltAndWhichGpusTheyCover) {
  // cuda.cmake's list reaches the engine; "80-real;90" is the default.
  EXPECT_FALSE(cuda::built_architectures().empty());
  EXPECT_EQ(cuda::built_architectures().find(','), std::string::npos);
  const std::string defaults = "80-real;90";
  EXPECT_FALSE(cuda::architectures_cover(defaults, 7, 5));  // T4, RTX 20xx: no code
  EXPECT_TRUE(cuda::architectures_cover(defaults, 8, 0));   // A100: machine code
  EXPECT_TRUE(cuda::architectures_cover(defaults, 8, 6));   // RTX 30xx: sm_80's code runs
  EXPECT_TRUE(cuda::architectures_cover(defaults, 8, 9));
  EXPECT_TRUE(cuda::architectures_cover(defaults, 9, 0));   // H100
  EXPECT_TRUE(cuda::architectures_cover(defaults, 12, 0));  // newer: sm_90's PTX
  EXPECT_FALSE(cuda::architectures_cover("80-real;90-real", 12, 0));
  EXPECT_FALSE(cuda::architectures_cover("86-real", 8, 0));  // machine code runs forward only
  EXPECT_TRUE(cuda::architectures_cover("75-virtual", 8, 6));
  EXPECT_FALSE(cuda::architectures_cover("", 9, 0));
}

TEST(CudaHardening, AGpuWithoutCodeInTheBuildFailsLoudly) {
  // The probe's message for a T4 and the default build: the device, its compute
  // capability, what failed, the architectures built and the fix.
  const std::string message = cuda::unusable_gpu_message(
      0, "Tesla T4", 7, 5,
      "launching a one-thread kernel failed with \"no kernel image is available for execution on "
      "the device\" (cudaErrorNoKernelImageForDevice)",
      "80-real;90");
  for (const char* part : {"cuda:0 (Tesla T4, compute capability 7.5) cannot run Ember's kernels",
                           "cudaErrorNoKernelImageForDevice", "architectures 80-real;90",
                           "-DEMBER_CUDA_ARCHITECTURES=\"80-real;90;75-real\""}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
  // A GPU the build covers but that still failed says so instead of blaming the build.
  const std::string covered = cuda::unusable_gpu_message(1, "NVIDIA H100", 9, 0, "x failed", "80-real;90");
  EXPECT_NE(covered.find("which covers this GPU"), std::string::npos) << covered;
  EXPECT_EQ(covered.find("rebuild"), std::string::npos) << covered;
}

namespace {

// Host memory standing in for the GPU's, so the allocator's bookkeeping runs here.
class HostMemory final : public cuda::RawMemory {
 public:
  struct Control {
    int64_t live = 0;               // blocks handed out and not released
    bool out_of_memory = false;     // allocate() returns null
    bool release_fails = false;     // release() returns false
  };
  explicit HostMemory(Control& control) : control_(control) {}
  ~HostMemory() override {
    for (void* block : blocks_) std::free(block);
  }
  void* allocate(size_t bytes) override {
    if (control_.out_of_memory) return nullptr;
    void* block = std::malloc(bytes);
    blocks_.push_back(block);
    ++control_.live;
    return block;
  }
  bool release(void* block) noexcept override {
    if (control_.release_fails) return false;
    auto found = std::find(blocks_.begin(), blocks_.end(), block);
    if (found == blocks_.end()) return false;
    std::free(block);
    blocks_.erase(found);
    --control_.live;
    return true;
  }
  std::string free_memory() override { return "host memory"; }

 private:
  Control& control_;
  std::vector<void*> blocks_;
};

}  // namespace

TEST(CudaHardening, CachingAllocatorRefusesADoubleFree) {
  HostMemory::Control control;
  cuda::CachingAllocator allocator(0, std::make_unique<HostMemory>(control));
  void* a = allocator.allocate(1000);
  allocator.deallocate(a);
  allocator.deallocate(a);  // a second free: ignored, not listed twice
  EXPECT_EQ(allocator.stats().rejected_frees, 1);
  void* b = allocator.allocate(1000);
  void* c = allocator.allocate(1000);
  EXPECT_EQ(b, a);   // the cached block comes back once...
  EXPECT_NE(c, b);   // ...and the next request gets a block of its own
  EXPECT_EQ(control.live, 2);
  int local = 0;
  allocator.deallocate(&local);  // not ours
  allocator.deallocate(nullptr); // nothing
  EXPECT_EQ(allocator.stats().rejected_frees, 2);
  cuda::AllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.bytes_in_use, 2 * 1024);  // two blocks of the 1024-byte class
  EXPECT_EQ(stats.bytes_reserved, 2 * 1024);
  EXPECT_EQ(stats.cache_hits, 1);
  EXPECT_EQ(stats.device_allocations, 2);
  allocator.deallocate(b);
  allocator.deallocate(c);
  EXPECT_EQ(allocator.stats().bytes_in_use, 0);
}

TEST(CudaHardening, CachingAllocatorKeepsCountingWhatAFailedReleaseKeeps) {
  HostMemory::Control control;
  cuda::CachingAllocator allocator(0, std::make_unique<HostMemory>(control));
  void* small = allocator.allocate(100);
  void* large = allocator.allocate(3 << 20);
  allocator.deallocate(small);
  allocator.deallocate(large);
  const int64_t reserved = allocator.stats().bytes_reserved;
  EXPECT_EQ(reserved, 512 + (3 << 20));
  control.release_fails = true;
  allocator.empty_cache();
  EXPECT_EQ(allocator.stats().bytes_reserved, reserved);  // nothing was released
  EXPECT_EQ(allocator.stats().failed_releases, 2);
  EXPECT_EQ(allocator.allocate(100), small);  // the blocks are still cached and usable
  allocator.deallocate(small);
  control.release_fails = false;
  allocator.empty_cache();
  EXPECT_EQ(allocator.stats().bytes_reserved, 0);
  EXPECT_EQ(control.live, 0);
}

TEST(CudaHardening, CachingAllocatorOutOfMemoryEmptiesTheCacheThenThrows) {
  HostMemory::Control control;
  cuda::CachingAllocator allocator(3, std::make_unique<HostMemory>(control));
  allocator.deallocate(allocator.allocate(5000));
  control.out_of_memory = true;
  EXPECT_TRUE(throws_error_all([&] { allocator.allocate(1 << 20); },
                               {"cuda allocate: out of memory on cuda:3 asking for 1.00 MiB",
                                "host memory", "emptied before retrying"}));
  EXPECT_EQ(control.live, 0);  // the cached block went back before the retry
  EXPECT_EQ(allocator.stats().bytes_reserved, 0);
  EXPECT_EQ(allocator.stats().bytes_in_use, 0);
  control.out_of_memory = false;
  void* block = allocator.allocate(10);
  EXPECT_NE(block, nullptr);
  allocator.deallocate(block);
}
#endif  // EMBER_HAS_CUDA_BACKEND
