// For tests that need a CUDA device: SKIP_WITHOUT_CUDA() at the top of a test skips it,
// with the engine's own reason ("no CUDA device: ..."), where no GPU can be used.
//
// A GPU run must never pass by skipping:
//   * a GPU that is there but cannot run Ember's kernels (no code for its architecture, a
//     failed launch) fails the test, with the engine's probe message;
//   * with EMBER_REQUIRE_CUDA=1 in the environment (the GPU check sets it), no GPU at all
//     (no device, a driver too old for the runtime, a build without CUDA) fails the test too.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include <ember/ember.h>

namespace ember_test {

// Empty when CUDA tensors can be made here; otherwise why not.
inline std::string cuda_unavailable_reason() {
#ifndef EMBER_HAS_CUDA_BACKEND
  return "no CUDA device: this build has no CUDA backend (configured with EMBER_CUDA=OFF, or "
         "nvcc was not found; see docs/gpu.md)";
#else
  // Runs the engine's kernel-launch probe on first use: "" or the reason, e.g. "no CUDA
  // device: cannot use cuda:0, this machine has no usable GPU (...)" or "cuda:0 (..., compute
  // capability 7.5) cannot run Ember's kernels: ...".
  return ember::cuda::usability_problem(0);
#endif
}

// True when the environment asks for a usable GPU: EMBER_REQUIRE_CUDA set and not "0".
inline bool cuda_required() {
  const char* value = std::getenv("EMBER_REQUIRE_CUDA");
  return value != nullptr && std::string(value) != "" && std::string(value) != "0";
}

// What SKIP_WITHOUT_CUDA() does here.
struct CudaTestDecision {
  enum Action { Run, Skip, Fail } action = Run;
  std::string message;
};

inline CudaTestDecision decide_cuda_test() {
  const std::string reason = cuda_unavailable_reason();
  if (reason.empty()) return {};
  if (ember::cuda::device_count() > 0) {
    // A GPU is there and cannot be used: that is a failure wherever it happens.
    return {CudaTestDecision::Fail, "a GPU is present but unusable: " + reason};
  }
  if (cuda_required()) {
    return {CudaTestDecision::Fail,
            "EMBER_REQUIRE_CUDA=1 asks for a usable GPU, and there is none: " + reason};
  }
  return {CudaTestDecision::Skip, reason};
}

}  // namespace ember_test

#define SKIP_WITHOUT_CUDA()                                                              \
  do {                                                                                   \
    const ::ember_test::CudaTestDecision decision_ = ::ember_test::decide_cuda_test();   \
    if (decision_.action == ::ember_test::CudaTestDecision::Fail) GTEST_FAIL() << decision_.message; \
    if (decision_.action == ::ember_test::CudaTestDecision::Skip) GTEST_SKIP() << decision_.message; \
  } while (0)
