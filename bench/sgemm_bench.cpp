// sgemm.py: square float32 matmul, n = 256, 512, 1024, 2048, in GFLOP/s.
//
// Two lines per size: "matmul" goes through ember::matmul (checks, output allocation,
// autograd bookkeeping) like torch.matmul; "cpu::gemm" calls the raw kernel on buffers
// allocated once, so the difference between the two is the op's overhead.
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

}  // namespace

void add_sgemm_workloads(Registry& registry) {
  for (int64_t n : {256, 512, 1024, 2048}) {
    registry.add("sgemm", fmt::format("matmul n={}", n),
                 [n] { return measure_matmul(n, Device::cpu()); });
    registry.add("sgemm", fmt::format("cpu::gemm n={}", n), [n] { return measure_raw_gemm(n); });
  }
}

}  // namespace ember::bench
