// The GPU lines: the same matmul, MLP epoch and attention code as the CPU lines, run on
// cuda:0. Each timed run ends by reading a value back to the host, so the time includes
// the GPU finishing its queue, not just the launches. In a build configured with
// -DEMBER_CUDA_CUBLAS=ON the matmul lines are repeated with cuBLAS, to compare our kernel.
#include <fmt/format.h>

#include "workloads.h"

#ifdef EMBER_HAS_CUDA_BACKEND
#include "cuda/cuda_backend.h"
#endif

namespace ember::bench {
namespace {

#ifdef EMBER_HAS_CUDA_BACKEND
// matmul through cuBLAS, then back to the default kernel (also when the run throws).
Measurement measure_cublas_matmul(int64_t n, Device device) {
  struct UseCublas {
    UseCublas() { cuda::set_matmul_kernel(cuda::MatmulKernel::Cublas); }
    ~UseCublas() { cuda::set_matmul_kernel(cuda::MatmulKernel::Tiled); }
  } use_cublas;
  return measure_matmul(n, device);
}

// cudaMalloc calls made by a workload's runs: a warm training loop should make none.
Measurement with_allocation_note(const std::function<Measurement()>& run) {
  const int64_t before = cuda::allocator_stats(0).device_allocations;
  Measurement m = run();
  const int64_t after = cuda::allocator_stats(0).device_allocations;
  m.notes.push_back(fmt::format("cudaMalloc calls during warm-up and timed runs: {}", after - before));
  return m;
}
#else
Measurement with_allocation_note(const std::function<Measurement()>& run) { return run(); }
#endif

}  // namespace

void add_cuda_workloads(Registry& registry) {
  if (!cuda::is_available()) return;
  const Device gpu = Device::cuda(0);
  // Up to n = 8192, the largest size the GPU check compares with cuBLAS (3 x 256 MiB).
  for (int64_t n : {256, 512, 1024, 2048, 4096, 8192}) {
    registry.add("cuda", fmt::format("cuda matmul n={}", n), [n, gpu] { return measure_matmul(n, gpu); });
#ifdef EMBER_HAS_CUDA_BACKEND
    if (cuda::has_cublas()) {
      registry.add("cuda", fmt::format("cuda cublas matmul n={}", n),
                   [n, gpu] { return measure_cublas_matmul(n, gpu); });
    }
#endif
  }
  for (int64_t batch_size : {64, 256}) {
    registry.add("cuda", fmt::format("cuda mlp epoch bs={} (60k)", batch_size), [batch_size, gpu] {
      return with_allocation_note([&] { return measure_mlp_epoch(batch_size, gpu); });
    });
  }
  for (int64_t T : {8, 64, 256}) {
    registry.add("cuda", fmt::format("cuda attention step B=32 T={} C=128", T), [T, gpu] {
      return with_allocation_note([&] { return measure_attention(T, gpu); });
    });
  }
}

}  // namespace ember::bench
