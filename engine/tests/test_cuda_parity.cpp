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

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ember/backend.h"

#ifdef EMBER_HAS_CUDA_BACKEND
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

// Bit-for-bit equality (NaNs compare equal to NaNs).
::testing::AssertionResult values_equal(const std::vector<float>& cuda_values,
                                        const std::vector<float>& cpu_values,
                                        const std::string& what) {
  return values_near(cuda_values, cpu_values, Tolerance{0.0, 0.0}, what);
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
  auto result = values_near(gpu.out, cpu.out, tolerance, "output");
  if (!result) return result;
  for (size_t i = 0; i < gpu.grads.size(); ++i) {
    result = values_near(gpu.grads[i], cpu.grads[i], tolerance, "gradient of input " + std::to_string(i));
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
  // and an A shared by the whole batch (batch stride 0).
  const int64_t batch = 3, m = 37, n = 70, k = 19, pad = 5;
  for (bool transpose_a : {false, true}) {
    for (bool transpose_b : {false, true}) {
      SCOPED_TRACE(std::string("transpose_a ") + (transpose_a ? "yes" : "no") + ", transpose_b " +
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
