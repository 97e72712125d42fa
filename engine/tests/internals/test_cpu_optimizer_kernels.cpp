// The CPU backend's sgd_step and adam_step against the same formulas written as plain scalar
// loops: bit for bit, with one and two threads, on a count that is not a multiple of any
// vector width. The vectorised kernels (cpu/optimizer_kernels.cpp) must round every operation
// as the scalar code does: the CUDA parity suite relies on it (the GPU kernels give the CPU's
// bits), and the thread count must never change a result.
#include <ember/backend.h>

#include <cmath>
#include <string>
#include <vector>

#include "backend_registry.h"
#include "fast_cpu/thread_pool.h"
#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::host_uniform;

constexpr int64_t kCount = 100003;  // large enough to be split across threads

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(ember::cpu::num_threads()) { ember::cpu::set_num_threads(n); }
  ~ThreadCount() { ember::cpu::set_num_threads(saved_); }

 private:
  int saved_;
};

bool same_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      ADD_FAILURE() << what << " differs at element " << i << ": " << got[i] << " vs " << want[i];
      return false;
    }
  }
  return true;
}

TEST(CpuOptimizerKernels, AdamGivesTheScalarFormulasBits) {
  const std::vector<float> param0 = host_uniform(kCount, -1, 1, 11);
  const std::vector<std::vector<float>> grads = {host_uniform(kCount, -1, 1, 12),
                                                 host_uniform(kCount, -1, 1, 13)};
  const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 1e-2f;

  // The reference: backend.h's formula, one element at a time, as cuda/optimizer.cu writes it.
  std::vector<float> param = param0, m(kCount, 0.0f), v(kCount, 0.0f);
  for (size_t s = 0; s < grads.size(); ++s) {
    const double step = static_cast<double>(s + 1);
    const float step_size = static_cast<float>(lr / (1.0 - std::pow(double{beta1}, step)));
    const float correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double{beta2}, step)));
    for (int64_t i = 0; i < kCount; ++i) {
      const float g = grads[s][i] + weight_decay * param[i];
      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      param[i] -= step_size * m[i] / (std::sqrt(v[i]) / correction2_sqrt + eps);
    }
  }

  for (int threads : {1, 2}) {
    SCOPED_TRACE(std::to_string(threads) + " thread(s)");
    ThreadCount thread_count(threads);
    ember::Backend& cpu = ember::backend_for(ember::Device::cpu());
    Tensor p = ember::from_vector(param0, {kCount});
    Tensor exp_avg = ember::zeros({kCount}), exp_avg_sq = ember::zeros({kCount});
    for (size_t s = 0; s < grads.size(); ++s) {
      Tensor g = ember::from_vector(grads[s], {kCount});
      cpu.adam_step(p.data_ptr(), g.data_ptr(), exp_avg.data_ptr(), exp_avg_sq.data_ptr(), kCount,
                    lr, beta1, beta2, eps, weight_decay, static_cast<int64_t>(s + 1));
    }
    EXPECT_TRUE(same_bits(p.to_vector(), param, "param"));
    EXPECT_TRUE(same_bits(exp_avg.to_vector(), m, "exp_avg"));
    EXPECT_TRUE(same_bits(exp_avg_sq.to_vector(), v, "exp_avg_sq"));
  }
}

TEST(CpuOptimizerKernels, SgdGivesTheScalarFormulasBits) {
  const std::vector<float> param0 = host_uniform(kCount, -1, 1, 21);
  const std::vector<std::vector<float>> grads = {host_uniform(kCount, -1, 1, 22),
                                                 host_uniform(kCount, -1, 1, 23)};
  struct Case {
    float momentum, dampening, weight_decay;
    bool nesterov;
  };
  for (Case c : {Case{0, 0, 1e-2f, false}, Case{0.9f, 0.1f, 1e-2f, false}, Case{0.8f, 0, 5e-4f, true}}) {
    SCOPED_TRACE("momentum " + std::to_string(c.momentum) + (c.nesterov ? " nesterov" : ""));
    const float lr = 0.1f;
    std::vector<float> param = param0, buffer(kCount, 0.0f);
    for (size_t s = 0; s < grads.size(); ++s) {
      for (int64_t i = 0; i < kCount; ++i) {
        float g = grads[s][i] + c.weight_decay * param[i];
        if (c.momentum != 0.0f) {
          buffer[i] = s == 0 ? g : c.momentum * buffer[i] + (1.0f - c.dampening) * g;
          g = c.nesterov ? g + c.momentum * buffer[i] : buffer[i];
        }
        param[i] -= lr * g;
      }
    }
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::to_string(threads) + " thread(s)");
      ThreadCount thread_count(threads);
      ember::Backend& cpu = ember::backend_for(ember::Device::cpu());
      Tensor p = ember::from_vector(param0, {kCount}), b = ember::zeros({kCount});
      for (size_t s = 0; s < grads.size(); ++s) {
        Tensor g = ember::from_vector(grads[s], {kCount});
        cpu.sgd_step(p.data_ptr(), g.data_ptr(), c.momentum != 0.0f ? b.data_ptr() : nullptr, kCount,
                     lr, c.momentum, c.dampening, c.weight_decay, c.nesterov, s == 0);
      }
      EXPECT_TRUE(same_bits(p.to_vector(), param, "param"));
      if (c.momentum != 0.0f) {
        EXPECT_TRUE(same_bits(b.to_vector(), buffer, "momentum buffer"));
      }
    }
  }
}

// Adam's m and SGD's momentum buffer are set to 0 where they would become subnormal
// (formulas::flush_subnormal), on both CPU backends, in the vectorised loops as in the scalar
// ones; Adam's v is not (it is a denominator). A gradient of 0 shrinks each state by its beta;
// 1e-38 and 1e-30 are normal floats, 1e-38 times 0.9 is not.
TEST(CpuOptimizerKernels, StateThatWouldBeSubnormalBecomesZero) {
  constexpr int64_t kPattern = 4, kElements = 1000;  // long enough for the vector loops
  const float exp_avg0[kPattern] = {1.0e-38f, -1.0e-38f, 1.0e-30f, 5.0e-39f};
  const float exp_avg_sq0[kPattern] = {1.0e-39f, 1.0f, 1.0e-38f, 0.0f};
  for (ember::Backend* backend : {&ember::fast_cpu_backend(), &ember::reference_backend()}) {
    SCOPED_TRACE(backend->name());
    std::vector<float> param(kElements, 1.0f), grad(kElements, 0.0f), m(kElements), v(kElements);
    for (int64_t i = 0; i < kElements; ++i) {
      m[i] = exp_avg0[i % kPattern];
      v[i] = exp_avg_sq0[i % kPattern];
    }
    backend->adam_step(param.data(), grad.data(), m.data(), v.data(), kElements, 1e-3f, 0.9f,
                       0.999f, 1e-8f, 0.0f, 100);
    for (int64_t i = 0; i < kElements; ++i) {
      const int64_t k = i % kPattern;
      EXPECT_EQ(m[i], k == 2 ? 0.9f * 1.0e-30f : 0.0f) << "exp_avg " << i;
      EXPECT_EQ(v[i], 0.999f * exp_avg_sq0[k]) << "exp_avg_sq " << i;  // subnormal or not
      EXPECT_EQ(param[i], 1.0f) << "param " << i;  // moved by less than its rounding
    }
    std::vector<float> buffer(kElements, 1.0e-38f);
    backend->sgd_step(param.data(), grad.data(), buffer.data(), kElements, 0.1f, 0.9f, 0.0f, 0.0f,
                      false, false);
    for (int64_t i = 0; i < kElements; ++i) EXPECT_EQ(buffer[i], 0.0f) << "momentum buffer " << i;
  }
}

}  // namespace
