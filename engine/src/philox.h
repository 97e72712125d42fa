// Philox 4x32-10, a counter-based random number generator (Salmon et al., "Parallel
// random numbers: as easy as 1, 2, 3", SC 2011). It maps (key, counter) to four random
// 32-bit words with no state, so element i of a fill can be computed by any thread on
// any device and always comes out the same. The CPU and CUDA backends share this file.
#pragma once

#include <cmath>
#include <cstdint>

#ifndef EMBER_HOST_DEVICE  // also defined by formulas.h
#ifdef __CUDACC__
#define EMBER_HOST_DEVICE __host__ __device__
#else
#define EMBER_HOST_DEVICE
#endif
#endif

namespace ember::philox {

struct Block {
  uint32_t word[4];
};

EMBER_HOST_DEVICE inline void multiply_high_low(uint32_t a, uint32_t b, uint32_t* high,
                                                uint32_t* low) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  *high = static_cast<uint32_t>(product >> 32);
  *low = static_cast<uint32_t>(product);
}

// Ten rounds of the Philox bijection on the counter (c0..c3) under the key (k0, k1).
EMBER_HOST_DEVICE inline Block generate(uint64_t key, uint64_t counter_low,
                                        uint64_t counter_high) {
  const uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  const uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter_low), c1 = static_cast<uint32_t>(counter_low >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_high), c3 = static_cast<uint32_t>(counter_high >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t high0, low0, high1, low1;
    multiply_high_low(kMultiplier0, c0, &high0, &low0);
    multiply_high_low(kMultiplier1, c2, &high1, &low1);
    uint32_t n0 = high1 ^ c1 ^ k0, n1 = low1, n2 = high0 ^ c3 ^ k1, n3 = low0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return Block{{c0, c1, c2, c3}};
}

// A 32-bit word to a float in [0, 1): the top 24 bits, so every value is exact.
EMBER_HOST_DEVICE inline float to_unit_float(uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

// Value i of a uniform fill that starts at block `offset`.
EMBER_HOST_DEVICE inline float uniform_at(uint64_t seed, uint64_t offset, int64_t i) {
  Block block = generate(seed, offset + static_cast<uint64_t>(i) / 4, 0);
  return to_unit_float(block.word[i % 4]);
}

// Value i of a standard normal fill: Box-Muller on two words of the same block; pairs
// (0,1) and (2,3) of a block give the cosine and sine halves.
EMBER_HOST_DEVICE inline float normal_at(uint64_t seed, uint64_t offset, int64_t i) {
  Block block = generate(seed, offset + static_cast<uint64_t>(i) / 2, 1);
  // 1 - u keeps the logarithm's argument in (0, 1].
  float u1 = 1.0f - to_unit_float(block.word[0]);
  float u2 = to_unit_float(block.word[1]);
  float radius = sqrtf(-2.0f * logf(u1));
  float angle = 6.2831853071795864f * u2;
  return (i % 2 == 0) ? radius * cosf(angle) : radius * sinf(angle);
}

}  // namespace ember::philox
