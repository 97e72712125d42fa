// AVX2 + FMA micro-kernel for gemm, for x86 CPUs without AVX-512 (see gemm.h for where it fits,
// and gemm_kernels_avx512.cpp for the same idea explained in more detail).
//
// Register tile: 6 rows x 16 columns of C. A ymm register holds 8 floats, so a row is 2 registers
// and the tile needs 12 accumulators; with 2 B vectors and 1 broadcast that is 15 of the 16 ymm
// registers. Per K step: 2 vector loads + 6 broadcasts feed 12 FMAs, enough independent chains
// to cover the 4-5 cycle FMA latency on two FMA units. This is the classic Haswell-era shape.
//
// Edge tiles are specialised by row count and vector count; a partial last vector uses
// vmaskmov loads/stores (slow on some AMD cores, so only edge tiles use them).
#include "fast_cpu/gemm.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <array>
#include <utility>

#define EMBER_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace ember::cpu::detail {
namespace {

constexpr int kMR = 6;
constexpr int kNV = 2;
constexpr int kVL = 8;
constexpr int kNR = kNV * kVL;

template <int M, int NV, bool PARTIAL>
EMBER_TARGET_AVX2 void tile_kernel(int64_t kc, const float* a, const float* b, int64_t ldb,
                                   float* c, int64_t ldc, int n, float alpha, float beta) {
  // Mask for the last vector: lane j is on when j < (valid columns in that vector).
  const int last_lanes = n - (NV - 1) * kVL;
  const __m256i last_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last_lanes),
                                               _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));

  for (int i = 0; i < M; ++i) {
    for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + v * kVL), _MM_HINT_T0);
  }

  __m256 acc[M][NV];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  }

  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      bv[v] = (PARTIAL && v == NV - 1) ? _mm256_maskload_ps(b + v * kVL, last_mask)
                                       : _mm256_loadu_ps(b + v * kVL);
    }
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += M;
    b += ldb;
  }

  const __m256 valpha = _mm256_set1_ps(alpha);
  const __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m256 r = _mm256_mul_ps(valpha, acc[i][v]);
      if (PARTIAL && v == NV - 1) {
        if (beta != 0.0f) r = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(ci + v * kVL, last_mask), r);
        _mm256_maskstore_ps(ci + v * kVL, last_mask, r);
      } else {
        if (beta != 0.0f) r = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(ci + v * kVL), r);
        _mm256_storeu_ps(ci + v * kVL, r);
      }
    }
  }
}

using ShapeFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, float,
                         float);
using TileRow = std::array<std::array<ShapeFn, 2>, kNV>;

template <int M, int... V>
constexpr TileRow tile_row(std::integer_sequence<int, V...>) {
  return {{{{&tile_kernel<M, V + 1, false>, &tile_kernel<M, V + 1, true>}}...}};
}
template <int... I>
constexpr std::array<TileRow, kMR> tile_table(std::integer_sequence<int, I...>) {
  return {{tile_row<I + 1>(std::make_integer_sequence<int, kNV>{})...}};
}
constexpr std::array<TileRow, kMR> kTiles = tile_table(std::make_integer_sequence<int, kMR>{});

void tile(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m,
          int n, float alpha, float beta) {
  const int nv = (n + kVL - 1) / kVL;
  const bool partial = n != nv * kVL;
  kTiles[m - 1][nv - 1][partial](kc, a, b, ldb, c, ldc, n, alpha, beta);
}

void pack_b_avx2(bool trans, const float* b, int64_t ldb, int cols, int64_t kc, float* dst) {
  pack_b_portable(kVL, trans, b, ldb, cols, kc, dst);
}

}  // namespace

// Blocking sized for a typical AVX2 core (32 KiB L1d, 256 KiB-1 MiB L2):
//   kc = 256: a 256 x 16 sliver of B is 16 KiB (half of L1);
//   mc = 120: a 120 x 256 block of A is 120 KiB, fits even a 256 KiB L2;
//   nc = 2048: a 256 x 2048 block of B is 2 MiB, from L3.
const GemmKernel* avx2_gemm_kernel() {
  static const GemmKernel kernel{"avx2", kMR,   kNR, kVL, 256, 120, 2048, &tile, &pack_a_portable,
                                 &pack_b_avx2};
  return &kernel;
}

}  // namespace ember::cpu::detail

#else  // not x86: no AVX2 kernel

namespace ember::cpu::detail {
const GemmKernel* avx2_gemm_kernel() { return nullptr; }
}  // namespace ember::cpu::detail

#endif
