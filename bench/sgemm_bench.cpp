// sgemm.py: square float32 matmul, n = 256, 512, 1024, 2048, in GFLOP/s.
//
// Two lines per size: "matmul" goes through ember::matmul (checks, output allocation,
// autograd bookkeeping) like torch.matmul; "cpu::gemm" calls the raw kernel on buffers
// allocated once, so the difference between the two is the op's overhead. Then the products of
// one step of a GPT block (q7), in float32 and under precision "medium" (bfloat16 on AMX or
// AVX512-BF16).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fast_cpu/gemm.h"
#include "workloads.h"

namespace ember::bench {

void synchronize(const Tensor& t) {
  if (t.device().is_cpu() || t.numel() == 0) return;
  t.reshape({-1}).select(0, 0).item();
}

Measurement measure_matmul(int64_t n, Device device) {
  manual_seed(0);
  Tensor a = rand({n, n}, device);  // (n, n)
  Tensor b = rand({n, n}, device);  // (n, n)
  const double flop = 2.0 * static_cast<double>(n) * n * n;
  Measurement m;
  m.stats = time_it([&] { synchronize(matmul(a, b)); }, default_repetitions());
  m.throughput = flop / m.stats.median / 1e9;
  m.unit = "GFLOP/s";
  return m;
}

namespace {

Measurement measure_raw_gemm(int64_t n) {
  manual_seed(0);
  const std::vector<float> a = rand({n, n}).to_vector();
  const std::vector<float> b = rand({n, n}).to_vector();
  std::vector<float> c(static_cast<std::size_t>(n * n));
  const double flop = 2.0 * static_cast<double>(n) * n * n;
  Measurement m;
  m.stats = time_it(
      [&] {
        // C (n, n) = A (n, n) @ B (n, n); beta = 0, so C is only written.
        cpu::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
      },
      default_repetitions());
  m.throughput = flop / m.stats.median / 1e9;
  m.unit = "GFLOP/s";
  return m;
}

// The eleven products of one transformer block's training step in q7's GPT (B*T = 768 tokens,
// 128 channels), as cpu::gemm sees them: four forward (x W^T), three input gradients (dY W;
// the fourth, attention's projection, has the shape of the forward one) and four weight
// gradients (dY^T X). Under precision "medium" on a CPU with AMX or AVX512-BF16 they run in
// bfloat16.
Measurement measure_gpt_block_products(const char* precision) {
  struct Product {
    bool trans_a, trans_b;
    int64_t M, N, K;
  };
  const Product products[] = {
      {false, true, 768, 384, 128}, {false, true, 768, 128, 128}, {false, true, 768, 512, 128},
      {false, true, 768, 128, 512}, {false, false, 768, 128, 384}, {false, false, 768, 128, 512},
      {false, false, 768, 512, 128}, {true, false, 384, 128, 768}, {true, false, 128, 128, 768},
      {true, false, 512, 128, 768}, {true, false, 128, 512, 768}};
  manual_seed(0);
  const std::vector<float> a = rand({768 * 512}).to_vector(), b = rand({768 * 512}).to_vector();
  std::vector<float> c(768 * 512);
  double flop = 0.0;
  for (const Product& p : products) flop += 2.0 * static_cast<double>(p.M) * p.N * p.K;
  const std::string saved = get_float32_matmul_precision();
  set_float32_matmul_precision(precision);
  Measurement m;
  m.stats = time_it(
      [&] {
        for (const Product& p : products) {
          const int64_t lda = p.trans_a ? p.M : p.K, ldb = p.trans_b ? p.K : p.N;
          cpu::gemm(p.trans_a, p.trans_b, p.M, p.N, p.K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f,
                    c.data(), p.N);
        }
      },
      default_repetitions());
  set_float32_matmul_precision(saved);
  m.throughput = flop / m.stats.median / 1e9;
  m.unit = "GFLOP/s";
  return m;
}

}  // namespace

void add_sgemm_workloads(Registry& registry) {
  for (int64_t n : {256, 512, 1024, 2048}) {
    registry.add("sgemm", fmt::format("matmul n={}", n),
                 [n] { return measure_matmul(n, Device::cpu()); });
    registry.add("sgemm", fmt::format("cpu::gemm n={}", n), [n] { return measure_raw_gemm(n); });
  }
  registry.add("sgemm", "cpu::gemm gpt block's 11 products", [] { return measure_gpt_block_products("highest"); });
  registry.add("sgemm", "cpu::gemm gpt block's 11 products bf16", [] { return measure_gpt_block_products("medium"); });
}

}  // namespace ember::bench
