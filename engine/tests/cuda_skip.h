// For tests that need a CUDA device: SKIP_WITHOUT_CUDA() at the top of a test skips it,
// with the engine's own reason ("no CUDA device: ..."), where no GPU can be used.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include <ember/ember.h>

namespace ember_test {

// Empty when CUDA tensors can be made here; otherwise why not, for GTEST_SKIP.
inline std::string cuda_unavailable_reason() {
#ifndef EMBER_HAS_CUDA_BACKEND
  return "no CUDA device: this build has no CUDA backend (configured with EMBER_CUDA=OFF, or "
         "nvcc was not found; see docs/gpu.md)";
#else
  if (ember::cuda::is_available()) return "";
  try {
    ember::zeros({1}, ember::Device::cuda(0));
  } catch (const ember::Error& e) {
    return e.what();  // "no CUDA device: cannot use cuda:0, this machine has no usable GPU (...)"
  }
  return "no CUDA device: cuda::is_available() is false";
#endif
}

}  // namespace ember_test

#define SKIP_WITHOUT_CUDA()                                              \
  do {                                                                   \
    const std::string reason_ = ::ember_test::cuda_unavailable_reason(); \
    if (!reason_.empty()) GTEST_SKIP() << reason_;                       \
  } while (0)
