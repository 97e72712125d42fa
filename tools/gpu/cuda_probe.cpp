// ember_cuda_probe: says whether this build of Ember can run a kernel on cuda:0, and if not,
// why (the engine's own sentence). tools/gpu/gpu_check.sh runs it after the build to decide
// whether the GPU steps can run.
//
//   ember_cuda_probe
//
// Prints "backend: yes|no", "devices: N" and either "ok: ..." or "problem: <reason>".
// Exit status: 0 a kernel ran on cuda:0 and gave the right answer; 3 no usable CUDA device
// (or a build without the CUDA backend); 1 a kernel ran but gave a wrong answer.
#include <exception>
#include <iostream>

#include <ember/ember.h>

int main() {
#ifdef EMBER_HAS_CUDA_BACKEND
  std::cout << "backend: yes\n";
#else
  std::cout << "backend: no\n";
#endif
  std::cout << "devices: " << ember::cuda::device_count() << "\n";
  try {
    // Fill, reduce and read back: a kernel launch, a reduction and a copy to the host.
    const float sum = ember::ones({1000}, ember::Device::cuda(0)).sum().item();
    if (sum != 1000.0f) {
      std::cout << "problem: ones(1000) summed to " << sum << " on cuda:0, not 1000\n";
      return 1;
    }
    std::cout << "ok: a kernel ran on cuda:0 (ones(1000).sum() == 1000)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cout << "problem: " << e.what() << "\n";
    return 3;
  }
}
