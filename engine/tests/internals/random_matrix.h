// The random matrices the GEMM tests (test_gemm.cpp, test_gemm_bf16.cpp) multiply.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace ember::cpu {

// A rows x cols matrix of values in [-1, 1) with leading dimension ld, stored in exactly
// (rows-1)*ld + cols floats, so AddressSanitizer flags any plain read past the last element a
// kernel may touch.
inline std::vector<float> random_matrix(int64_t rows, int64_t cols, int64_t ld, std::mt19937& rng) {
  std::vector<float> m(rows == 0 || cols == 0 ? 0 : static_cast<size_t>((rows - 1) * ld + cols));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : m) x = dist(rng);
  return m;
}

}  // namespace ember::cpu
