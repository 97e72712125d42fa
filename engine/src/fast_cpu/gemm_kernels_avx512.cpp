// AVX-512 micro-kernel for gemm (see gemm.h for where it fits).
//
// Register tile: 14 rows x 32 columns of C.
//   A zmm register holds 16 floats, so a row of 32 columns is 2 registers and the tile needs
//   14 * 2 = 28 accumulators. Each step of the K loop loads 2 vectors of B (32 floats), then for
//   each of the 14 rows broadcasts one float of A and does 2 fused multiply-adds:
//       28 FMAs per 2 vector loads + 14 broadcasts.
//   28 accumulators + 2 B vectors + 1 broadcast = 31 of the 32 zmm registers, so the K loop runs
//   entirely in registers (checked in the generated assembly).
//   Zen 4/5 and Intel server cores issue 2 FMAs per cycle with a latency of 4 cycles, so at least
//   8 independent accumulators are needed to keep both units busy; 28 leaves plenty of slack for
//   the loads. (6x64 and 12x32 tiles measure the same on this class of CPU; 14x32 wastes the
//   least on the row counts common in the course: 784 = 56 * 14, and 64 = 4 * 14 + 8.)
//
// Edge tiles (fewer than 14 rows or 32 columns) use the same code instantiated for the exact row
// count and for 1 or 2 vectors, with masked loads/stores for a partial last vector, so no work
// is wasted on padding rows and nothing outside C is touched.
//
// Every function that uses AVX-512 instructions is marked with the target attribute below, so the
// rest of the program is still compiled for plain x86-64; gemm.cpp only calls in here after
// checking the CPU supports AVX-512.
#include "fast_cpu/gemm.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#define EMBER_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

namespace ember::cpu::detail {
namespace {

constexpr int kMR = 14;  // rows of the register tile
constexpr int kNV = 2;   // vectors per row of the tile
constexpr int kVL = 16;  // floats per zmm register
constexpr int kNR = kNV * kVL;

// One tile of C: M rows (1..14) by NV vectors. PARTIAL: the last vector has fewer than 16 valid
// columns (n < NV*16), so it is loaded and stored through a mask.
template <int M, int NV, bool PARTIAL>
EMBER_TARGET_AVX512 void tile_kernel(int64_t kc, const float* a, const float* b, int64_t ldb,
                                     float* c, int64_t ldc, int n, float alpha, float beta) {
  // Lanes of the last vector that hold real columns (all 16 unless PARTIAL).
  const __mmask16 last_mask =
      PARTIAL ? static_cast<__mmask16>((1u << (n - (NV - 1) * kVL)) - 1) : __mmask16(0xFFFF);

  // Start fetching the C tile now; it is only needed after the K loop, by which time it is
  // usually in cache (rows exactly 4 KiB apart can still evict each other from L1).
  for (int i = 0; i < M; ++i) {
    for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + v * kVL), _MM_HINT_T0);
  }

  __m512 acc[M][NV];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  }

  // The K loop: a rank-1 update of the whole tile per step.
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      bv[v] = (PARTIAL && v == NV - 1) ? _mm512_maskz_loadu_ps(last_mask, b + v * kVL)
                                       : _mm512_loadu_ps(b + v * kVL);
    }
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += M;
    b += ldb;
  }

  // C = alpha * acc + beta * C. Every tile shape rounds the same way, so a given element of C
  // gets the same bits whichever tile (and thread) computed it.
  const __m512 valpha = _mm512_set1_ps(alpha);
  const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 mask = (v == NV - 1) ? last_mask : __mmask16(0xFFFF);
      __m512 r = _mm512_mul_ps(valpha, acc[i][v]);
      if (beta != 0.0f) r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask, ci + v * kVL), r);
      _mm512_mask_storeu_ps(ci + v * kVL, mask, r);
    }
  }
}

// All tile shapes, so edge tiles run code specialised for their exact size:
// kTiles[m - 1][nv - 1][partial] computes an m-row tile of nv vectors.
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

// ---- Packing ---------------------------------------------------------------------------------
//
// Two of the four packing cases are plain copies (A transposed, B not transposed: the floats the
// kernel wants for one K step are already next to each other). The other two are transposes:
// the kernel wants, for each k, one float from each of up to 16 rows that are stored far apart.
// Moving them one float at a time is slow (one load and one store per float, and it reads a
// single row at a time), so we transpose 16 x 16 blocks inside registers instead: load 16 rows
// of 16 floats, shuffle, store 16 columns of 16 floats.

// Transposes the 16 x 16 block in r[0..15] in place (r[i][j] <-> r[j][i]), in four rounds of
// shuffles. Rows 0-3 illustrate it; every group of 4 rows is handled alike, in every 128-bit lane
// (lane L holds columns 4L..4L+3):
//   1. unpacklo/hi interleave pairs of rows:       (r0[c], r1[c], r0[c+1], r1[c+1]) ...
//   2. shuffle_ps combines two of those:            (r0[c], r1[c], r2[c], r3[c]) per lane
//      -> every 128-bit lane now holds a column of a 4-row group;
//   3-4. shuffle_f32x4 moves whole 128-bit lanes so that lane g comes from row group g, which
//      finishes the transpose.
//
// (The shuffles are written in their zero-masking form with an all-ones mask, kAll. That compiles
// to exactly the plain instructions, but avoids a false -Wmaybe-uninitialized warning that GCC 12
// raises inside its own headers for _mm512_unpacklo_ps, _mm512_unpackhi_ps and
// _mm512_shuffle_f32x4.)
constexpr __mmask16 kAll = 0xFFFF;

EMBER_TARGET_AVX512 inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int g = 0; g < 4; ++g) {  // round 1
    t[4 * g + 0] = _mm512_maskz_unpacklo_ps(kAll, r[4 * g + 0], r[4 * g + 1]);
    t[4 * g + 1] = _mm512_maskz_unpackhi_ps(kAll, r[4 * g + 0], r[4 * g + 1]);
    t[4 * g + 2] = _mm512_maskz_unpacklo_ps(kAll, r[4 * g + 2], r[4 * g + 3]);
    t[4 * g + 3] = _mm512_maskz_unpackhi_ps(kAll, r[4 * g + 2], r[4 * g + 3]);
  }
  __m512 e[4][4];  // e[g][c]: lane L holds rows 4g..4g+3 of column 4L + c
  for (int g = 0; g < 4; ++g) {  // round 2
    e[g][0] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0x44);
    e[g][1] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0xEE);
    e[g][2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    e[g][3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {  // rounds 3 and 4: a 4 x 4 transpose of 128-bit lanes
    const __m512 p0 = _mm512_maskz_shuffle_f32x4(kAll, e[0][c], e[1][c], 0x44);
    const __m512 p1 = _mm512_maskz_shuffle_f32x4(kAll, e[0][c], e[1][c], 0xEE);
    const __m512 p2 = _mm512_maskz_shuffle_f32x4(kAll, e[2][c], e[3][c], 0x44);
    const __m512 p3 = _mm512_maskz_shuffle_f32x4(kAll, e[2][c], e[3][c], 0xEE);
    r[c + 0] = _mm512_maskz_shuffle_f32x4(kAll, p0, p2, 0x88);   // column c
    r[c + 4] = _mm512_maskz_shuffle_f32x4(kAll, p0, p2, 0xDD);   // column 4 + c
    r[c + 8] = _mm512_maskz_shuffle_f32x4(kAll, p1, p3, 0x88);   // column 8 + c
    r[c + 12] = _mm512_maskz_shuffle_f32x4(kAll, p1, p3, 0xDD);  // column 12 + c
  }
}

// Writes the transpose of a rows x kc block (rows <= 16, row i at src + i*ld) as kc vectors:
// dst[k*dst_stride + i] = src[i*ld + k] for i < rows, storing lanes `store_mask`. Lanes for
// i >= rows are zero, so a full store_mask also writes the zero padding.
EMBER_TARGET_AVX512 void pack_transposed(const float* src, int64_t ld, int rows, int64_t kc,
                                         float* dst, int64_t dst_stride, __mmask16 store_mask) {
  __m512 r[16];
  int64_t k0 = 0;
  for (; k0 + 16 <= kc; k0 += 16) {
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(src + i * ld + k0) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dst + (k0 + j) * dst_stride, store_mask, r[j]);
  }
  if (k0 < kc) {  // the last kc % 16 steps: masked loads, never touching memory past the rows
    const int tail = static_cast<int>(kc - k0);
    const __mmask16 load_mask = static_cast<__mmask16>((1u << tail) - 1);
    for (int i = 0; i < 16; ++i) {
      r[i] = i < rows ? _mm512_maskz_loadu_ps(load_mask, src + i * ld + k0) : _mm512_setzero_ps();
    }
    transpose16x16(r);
    for (int j = 0; j < tail; ++j) _mm512_mask_storeu_ps(dst + (k0 + j) * dst_stride, store_mask, r[j]);
  }
}

EMBER_TARGET_AVX512 void pack_a(bool trans, const float* a, int64_t lda, int rows, int64_t kc,
                                float* dst) {
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
  if (trans) {
    // Already k-major: copy `rows` floats per K step.
    for (int64_t k = 0; k < kc; ++k) {
      _mm512_mask_storeu_ps(dst + k * rows, mask, _mm512_maskz_loadu_ps(mask, a + k * lda));
    }
  } else {
    pack_transposed(a, lda, rows, kc, dst, rows, mask);
  }
}

EMBER_TARGET_AVX512 void pack_b(bool trans, const float* b, int64_t ldb, int cols, int64_t kc,
                                float* dst) {
  const int nv = (cols + kVL - 1) / kVL;  // vectors per packed row; w = nv * 16
  const int w = nv * kVL;
  if (trans) {
    // op(B)(k, j) = b[j*ldb + k]: transpose 16 columns (stored rows) at a time.
    for (int v = 0; v < nv; ++v) {
      const int rows = std::min(kVL, cols - v * kVL);
      pack_transposed(b + v * kVL * ldb, ldb, rows, kc, dst + v * kVL, w, kAll);
    }
  } else if (cols == kNR) {
    // Whole sliver: two full vectors per K step.
    for (int64_t k = 0; k < kc; ++k) {
      _mm512_storeu_ps(dst + k * kNR, _mm512_loadu_ps(b + k * ldb));
      _mm512_storeu_ps(dst + k * kNR + kVL, _mm512_loadu_ps(b + k * ldb + kVL));
    }
  } else {
    // Edge sliver: masked loads (zeros past `cols`), full stores (writing the zero padding).
    for (int64_t k = 0; k < kc; ++k) {
      for (int v = 0; v < nv; ++v) {
        const int valid = std::min(kVL, cols - v * kVL);
        const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1);
        _mm512_storeu_ps(dst + k * w + v * kVL, _mm512_maskz_loadu_ps(mask, b + k * ldb + v * kVL));
      }
    }
  }
}

}  // namespace

// Blocking for Zen 5-class cores (48 KiB L1d and 1 MiB L2 per core, large shared L3), chosen by
// measurement on such a core (see gemm.cpp for the loops that use them):
//   kc = 1024: each pass over C (load, add, store every tile) is paid once per kc steps of the K
//              loop, so a deep slice makes that cost small. Textbook sizing would keep the
//              kc x 32 sliver of B in L1 (kc ~ 256), but these cores stream from L2 fast enough
//              (the kernel needs ~13 bytes per cycle) that kc = 512..1024 measured 8-15% faster
//              than kc = 256 on 1024^3 and 2048^3.
//   mc = 168: a 168 x 1024 block of packed A is 672 KiB, which stays in the 1 MiB L2 while the
//             kernel sweeps it once for every sliver of B.
//   nc = 2048: a 1024 x 2048 block of packed B is 8 MiB; it is shared by all threads from L3.
const GemmKernel* avx512_gemm_kernel() {
  static const GemmKernel kernel{"avx512", kMR, kNR, kVL, 1024, 168, 2048, &tile, &pack_a, &pack_b};
  return &kernel;
}

}  // namespace ember::cpu::detail

#else  // not x86: no AVX-512 kernel

namespace ember::cpu::detail {
const GemmKernel* avx512_gemm_kernel() { return nullptr; }
}  // namespace ember::cpu::detail

#endif
