// gemm_bf16(): matrix products in bfloat16, on Intel's AMX unit or with AVX512-BF16's dot
// products (see gemm_bf16.h for when).
//
// The unit
// --------
// AMX adds eight tile registers, tmm0-tmm7, each up to 16 rows of 64 bytes, and the instruction
// TDPBF16PS tC, tA, tB. With C a 16 x 16 tile of floats, A a 16 x 32 tile of bfloat16 and B a
// 16 x 32 tile of bfloat16 in "pair" layout, it computes
//
//     C[m][n] += sum over p < 16 of  A[m][2p] * B[p][2n]  +  A[m][2p+1] * B[p][2n+1]
//
// that is, 16 x 16 x 32 multiply-adds in one instruction. A is an ordinary row-major block of
// op(A): row m holds 32 consecutive k. B holds the K axis in pairs: its row p has, for each of
// the 16 columns n, the two values op(B)(2p, n) and op(B)(2p+1, n) side by side.
//
// Packing
// -------
// Each call converts the operands to bfloat16 into the layouts above, once (on several threads
// each packs a share of both, into the calling thread's buffers: see gemm_bf16_with at the end):
//   a_pack: Mp x Kp, row-major (Mp = M rounded up to 16, Kp = K rounded up to 32);
//   b_pack: Np / 16 panels of 16 columns; panel q holds Kp / 2 rows of 32 values, row p being
//           op(B)(2p, n), op(B)(2p+1, n) for n = 16q ... 16q+15.
// The padding is zeros, so every tile is full and the compute loop has no edge cases; only the
// write-back into C looks at M and N. A 16-bit value that packs two consecutive k of one row is
// a 32-bit word, so both layouts are "convert 32 floats, maybe transpose 16 x 16 words":
//   op(A) rows are contiguous in k (A not transposed): convert, store;
//   op(A) rows are strided (A transposed, e.g. dW = dY^T X): pair two rows of A, then transpose;
//   op(B) columns are contiguous in n (B not transposed): pair two rows of B, store;
//   op(B) columns are strided (B transposed, e.g. X W^T): convert rows of B, then transpose.
// Rounding uses VCVTNE2PS2BF16 (AVX512-BF16, which every CPU with AMX has): to nearest even,
// subnormal inputs as zero.
//
// Compute
// -------
// C is cut into blocks of 32 x 32. Tiles 0-3 accumulate a block's four 16 x 16 quarters, tiles
// 4-5 hold two 16-row slices of A, tiles 6-7 two 16-column slices of B: each step of 32 along K
// loads four tiles and does four TDPBF16PS. A block's whole K sum runs before it is written
// back, so each element of C is summed in the same order whichever thread computes it, and the
// result does not depend on the thread count. Writing back: a block wholly inside C with
// alpha = 1 and beta = 0 or 1 (nearly every product of a training step) is stored by the tiles
// straight into C, the tiles starting from C's values when beta = 1 (C is then the first term of
// the sum, and a subnormal in it counts as 0, as in the unit's other inputs); any other block
// goes through a 32 x 32 buffer and C = alpha * sum + beta * C.
//
// Without AMX
// -----------
// A CPU with AVX512-BF16 but no AMX (AMD's Zen 4 and Zen 5) has VDPBF16PS, a vector instruction
// that does one row of TDPBF16PS's work for two steps of K: it reads the same packed layouts
// (dot_rows below). The driver, the packing and the order of each element's sum along K are the
// same; a block is summed 8 rows at a time in 16 vector registers instead of in four tiles. It
// runs at about twice the float32 kernel's speed (one VDPBF16PS a cycle does 32 multiply-adds
// where one FMA does 16).
#include "fast_cpu/gemm_bf16.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>

#include <ember/error.h>

#include "fast_cpu/thread_pool.h"
#include "matmul_precision.h"

// GCC on x86-64 Linux only (clang would need other warning pragmas; it gets the float32 path).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define EMBER_BF16_CODE 1
#include <cpuid.h>
// GCC 12's AVX-512 unpack and shuffle intrinsics start from _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized (or, in the sanitizer build, -Wuninitialized) then reports (falsely)
// inside the header when they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#include <sys/syscall.h>
#include <unistd.h>
#else
#define EMBER_BF16_CODE 0
#endif

namespace ember::cpu {

const char* bf16_unit_name(Bf16Unit unit) { return unit == Bf16Unit::Amx ? "AMX" : "AVX512-BF16"; }

float round_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7F800000u) == 0) {
    u &= 0x80000000u;  // zero or subnormal: a zero of the same sign
  } else if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    u |= 0x00400000u;  // NaN: stays a (quiet) NaN
  } else {
    u += 0x7FFFu + ((u >> 16) & 1u);  // to nearest, ties to even; may round up to infinity
  }
  u &= 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

#if EMBER_BF16_CODE

namespace {

// Packing, writing back and the dot-product kernel need AVX512-BF16; the tile code AMX as well.
#define EMBER_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define EMBER_TARGET_AMX \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

constexpr int64_t kTile = 16;   // rows of a tile, and columns of a C or B tile
constexpr int64_t kDepth = 32;  // k per tile of A (32 bfloat16 = 64 bytes a row)
constexpr int64_t kBlock = 32;  // rows and columns of the block of C one step computes

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// AVX-512 (F, BW, VL) with AVX512-BF16. __builtin_cpu_supports also checks that the OS saves
// the AVX-512 registers on a switch (as gemm.cpp's kernel choice relies on). Every CPU with AMX
// has this too.
bool detect_avx512_bf16() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

bool detect_amx() {
  if (!detect_avx512_bf16()) return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_bf16 = (edx >> 22) & 1u, amx_tile = (edx >> 24) & 1u;
  if (!(amx_bf16 && amx_tile)) return false;
  // The OS must also save the tile state (XCR0 bits 17, 18) on a switch (XGETBV is safe: AVX-512
  // being usable means the OS enabled XSAVE).
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const uint64_t xcr0 = (static_cast<uint64_t>(hi) << 32) | lo;
  const uint64_t needed = 3u << 17;
  if ((xcr0 & needed) != needed) return false;
  // Linux gives the (8 KiB) tile data state only to a process that asks for it first.
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// The tile configuration: palette 1, every tile 16 rows of 64 bytes (LDTILECFG's memory format).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// A 64-byte aligned buffer of the calling thread, grown on demand and kept for the next call.
struct Buffer {
  void* data = nullptr;
  size_t bytes = 0;
  ~Buffer() { std::free(data); }
  uint16_t* reserve(int64_t values) {
    const size_t needed = static_cast<size_t>(round_up(values * 2, 64));
    if (needed > bytes) {
      std::free(data);
      data = std::aligned_alloc(64, needed);
      bytes = data != nullptr ? needed : 0;
      if (data == nullptr) throw std::bad_alloc();
    }
    return static_cast<uint16_t*>(data);
  }
};
thread_local Buffer t_a_pack, t_b_pack;

// The first `count` (0..16) of 16 lanes.
inline __mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << std::max<int64_t>(count, 0)) - 1);
}

// 32 floats at p (the first `count` of them; the rest count as 0) as 32 bfloat16, in order.
EMBER_TARGET_BF16 inline __m512i convert32(const float* p, int64_t count) {
  const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(count), p);
  const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(count - 16), p + 16);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// Two rows of 16 floats, r0[0..count) and r1[0..count), as 16 words (r0[j], r1[j]) of two
// bfloat16 each. Null rows count as zeros.
EMBER_TARGET_BF16 inline __m512i pair_rows(const float* r0, const float* r1, int64_t count) {
  const __mmask16 m = first_lanes(count);
  const __m512 a = r0 != nullptr ? _mm512_maskz_loadu_ps(m, r0) : _mm512_setzero_ps();
  const __m512 b = r1 != nullptr ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
  const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));  // a[0..16), b[0..16)
  // Interleave: word j = (a[j], b[j]).
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                         24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                         16, 0);
  return _mm512_permutexvar_epi16(order, both);
}

// Writes the transpose of a 16 x 16 block of 32-bit words: rows[r] holds row r; row c of the
// result goes to dst + c * dst_stride (in 16-bit values). The usual three rounds of shuffles.
EMBER_TARGET_BF16 inline void store_transposed(const __m512i rows[16], uint16_t* dst, int64_t dst_stride) {
  // 1. Interleave the words of rows 2g and 2g+1 ...
  __m512i t[16];
  for (int g = 0; g < 8; ++g) {
    t[2 * g] = _mm512_unpacklo_epi32(rows[2 * g], rows[2 * g + 1]);
    t[2 * g + 1] = _mm512_unpackhi_epi32(rows[2 * g], rows[2 * g + 1]);
  }
  // 2. ... then pairs of words: in each 128-bit lane L of u[4g + m] is now column 4L + m of rows
  // 4g .. 4g+3.
  __m512i u[16];
  for (int g = 0; g < 4; ++g) {
    const __m512i* q = t + 4 * g;
    u[4 * g + 0] = _mm512_unpacklo_epi64(q[0], q[2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(q[0], q[2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(q[1], q[3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(q[1], q[3]);
  }
  // 3. Row 4L + m of the result is lane L of u[m], u[4 + m], u[8 + m], u[12 + m].
  for (int m = 0; m < 4; ++m) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x88);      // lanes 0, 2 of each
    const __m512i v1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xDD);      // lanes 1, 3
    const __m512i w0 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x88);
    const __m512i w1 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xDD);
    _mm512_storeu_si512(dst + (0 + m) * dst_stride, _mm512_shuffle_i32x4(v0, w0, 0x88));
    _mm512_storeu_si512(dst + (4 + m) * dst_stride, _mm512_shuffle_i32x4(v1, w1, 0x88));
    _mm512_storeu_si512(dst + (8 + m) * dst_stride, _mm512_shuffle_i32x4(v0, w0, 0xDD));
    _mm512_storeu_si512(dst + (12 + m) * dst_stride, _mm512_shuffle_i32x4(v1, w1, 0xDD));
  }
}

struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  int64_t Mp, Np, Kp;
  uint16_t* a_pack;
  uint16_t* b_pack;
};

// Packs rows [i_lo, i_hi) of op(A) (multiples of 16) into a_pack, reading the stored A one band
// of consecutive rows at a time, so that memory is read as a stream, not a column at a time.
EMBER_TARGET_BF16 void pack_a(const Problem& p, int64_t i_lo, int64_t i_hi) {
  if (!p.trans_a) {
    // op(A)(i, k) = A[i*lda + k]: each row is already contiguous in k.
    for (int64_t i = i_lo; i < i_hi; ++i) {
      for (int64_t k = 0; k < p.Kp; k += kDepth) {
        const __m512i v = i < p.M ? convert32(p.A + i * p.lda + k, p.K - k) : _mm512_setzero_si512();
        _mm512_store_si512(p.a_pack + i * p.Kp + k, v);
      }
    }
    return;
  }
  // op(A)(i, k) = A[k*lda + i]: for each 32 stored rows k, pair rows k and k+1 (16 columns i at
  // a time), then transpose, so that row i of a_pack gets its pairs in k order.
  for (int64_t k = 0; k < p.Kp; k += kDepth) {
    for (int64_t i0 = i_lo; i0 < i_hi; i0 += kTile) {
      __m512i pairs[16];
      for (int64_t q = 0; q < 16; ++q) {
        const int64_t k0 = k + 2 * q, k1 = k0 + 1;
        pairs[q] = pair_rows(k0 < p.K ? p.A + k0 * p.lda + i0 : nullptr,
                             k1 < p.K ? p.A + k1 * p.lda + i0 : nullptr, p.M - i0);
      }
      store_transposed(pairs, p.a_pack + i0 * p.Kp + k, p.Kp);
    }
  }
}

// Packs the panels of columns [j_lo, j_hi) of op(B) (multiples of 16) into b_pack (the panel of
// columns j0 .. j0+15 at b_pack + j0*Kp), again reading the stored B row after row.
EMBER_TARGET_BF16 void pack_b(const Problem& p, int64_t j_lo, int64_t j_hi) {
  if (!p.trans_b) {
    // op(B)(k, j) = B[k*ldb + j]: rows k and k+1 of B, paired, are row k/2 of every panel.
    for (int64_t k = 0; k < p.Kp; k += 2) {
      const float* r0 = k < p.K ? p.B + k * p.ldb : nullptr;
      const float* r1 = k + 1 < p.K ? p.B + (k + 1) * p.ldb : nullptr;
      for (int64_t j0 = j_lo; j0 < j_hi; j0 += kTile) {
        const __m512i v = pair_rows(r0 != nullptr ? r0 + j0 : nullptr, r1 != nullptr ? r1 + j0 : nullptr, p.N - j0);
        _mm512_store_si512(p.b_pack + j0 * p.Kp + k * kTile, v);
      }
    }
    return;
  }
  // op(B)(k, j) = B[j*ldb + k]: each column j is a stored row, contiguous in k. Converting 32 k
  // of it gives its 16 pairs; a transpose puts pair r of column j at row r, word j, of the panel.
  for (int64_t j0 = j_lo; j0 < j_hi; j0 += kTile) {
    uint16_t* panel = p.b_pack + j0 * p.Kp;
    for (int64_t k = 0; k < p.Kp; k += kDepth) {
      __m512i columns[16];
      for (int64_t c = 0; c < 16; ++c) {
        columns[c] = j0 + c < p.N ? convert32(p.B + (j0 + c) * p.ldb + k, p.K - k) : _mm512_setzero_si512();
      }
      store_transposed(columns, panel + k * kTile, 2 * kTile);
    }
  }
}

// Every tile 16 rows of 64 bytes. A constant in memory, not a local: GCC's _tile_loadconfig
// tells the compiler it reads only the first 8 bytes, so stores into a local configuration
// could be dropped as dead.
constexpr TileConfig make_tile_config() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = kTile;
    config.bytes_per_row[t] = 64;
  }
  return config;
}
const TileConfig kTileConfig = make_tile_config();

EMBER_TARGET_AMX void configure_tiles() { _tile_loadconfig(&kTileConfig); }

// Gives the tile registers back (so a context switch need not save them).
EMBER_TARGET_AMX void release_tiles() { _tile_release(); }

// The block of C at rows [i0, i0 + 32), columns [j0, j0 + 32) (only its first 16 rows or
// columns when TWO_ROWS or TWO_COLS is false), summed into `out` (row stride out_stride floats):
// out = sum, or out += sum when `accumulate`.
template <bool TWO_ROWS, bool TWO_COLS>
EMBER_TARGET_AMX void block_product(const Problem& p, int64_t i0, int64_t j0, float* out,
                                    int64_t out_stride, bool accumulate) {
  const uint16_t* a = p.a_pack + i0 * p.Kp;
  const uint16_t* b = p.b_pack + (j0 / kTile) * p.Kp * kTile;
  const int64_t a_stride = p.Kp * 2;  // bytes
  const int64_t c_stride = out_stride * static_cast<int64_t>(sizeof(float));
  float* const quarter[4] = {out, out + kTile, out + kTile * out_stride, out + kTile * out_stride + kTile};
  if (accumulate) {
    _tile_loadd(0, quarter[0], c_stride);
    if (TWO_COLS) _tile_loadd(1, quarter[1], c_stride);
    if (TWO_ROWS) _tile_loadd(2, quarter[2], c_stride);
    if (TWO_ROWS && TWO_COLS) _tile_loadd(3, quarter[3], c_stride);
  } else {
    _tile_zero(0);
    if (TWO_COLS) _tile_zero(1);
    if (TWO_ROWS) _tile_zero(2);
    if (TWO_ROWS && TWO_COLS) _tile_zero(3);
  }
  for (int64_t k = 0; k < p.Kp; k += kDepth) {
    _tile_loadd(4, a + k, a_stride);
    _tile_loadd(6, b + k * kTile, 64);
    if (TWO_COLS) _tile_loadd(7, b + p.Kp * kTile + k * kTile, 64);
    _tile_dpbf16ps(0, 4, 6);
    if (TWO_COLS) _tile_dpbf16ps(1, 4, 7);
    if (TWO_ROWS) {
      _tile_loadd(5, a + kTile * p.Kp + k, a_stride);
      _tile_dpbf16ps(2, 5, 6);
      if (TWO_COLS) _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, quarter[0], c_stride);
  if (TWO_COLS) _tile_stored(1, quarter[1], c_stride);
  if (TWO_ROWS) _tile_stored(2, quarter[2], c_stride);
  if (TWO_ROWS && TWO_COLS) _tile_stored(3, quarter[3], c_stride);
}

void run_block(bool two_rows, bool two_cols, const Problem& p, int64_t i0, int64_t j0, float* out,
               int64_t out_stride, bool accumulate) {
  if (two_rows && two_cols) {
    block_product<true, true>(p, i0, j0, out, out_stride, accumulate);
  } else if (two_rows) {
    block_product<true, false>(p, i0, j0, out, out_stride, accumulate);
  } else if (two_cols) {
    block_product<false, true>(p, i0, j0, out, out_stride, accumulate);
  } else {
    block_product<false, false>(p, i0, j0, out, out_stride, accumulate);
  }
}

// The same block without AMX, on a CPU with AVX512-BF16 (AMD from Zen 4 on, Intel Cooper Lake).
// Its instruction VDPBF16PS c, a, b does, for each of 16 lanes n (all in float32),
//
//     c[n] += a[2n] * b[2n] + a[2n+1] * b[2n+1]
//
// With b row q of a panel of B (the pairs op(B)(2q, n), op(B)(2q+1, n) of its 16 columns) and a
// the pair op(A)(m, 2q), op(A)(m, 2q+1) (a 32-bit word of row m of a_pack) copied into every
// lane, that is two steps of the K sum for one row of C and 16 columns: one row of the tile
// instruction's work. ROWS rows and COLS panels of C stay in ROWS * COLS registers for the whole
// K sum; 8 x 2 takes 16 of the 32 registers, enough to keep the unit busy.
template <int ROWS, int COLS>
EMBER_TARGET_BF16 void dot_rows(const uint16_t* a, int64_t Kp, const uint16_t* b, float* out,
                                int64_t out_stride, bool accumulate) {
  __m512 c[ROWS][COLS];
  for (int r = 0; r < ROWS; ++r) {
    for (int v = 0; v < COLS; ++v) {
      float* row = out + r * out_stride + v * kTile;
      c[r][v] = accumulate ? _mm512_loadu_ps(row) : _mm512_setzero_ps();
    }
  }
  for (int64_t q = 0; q < Kp / 2; ++q) {
    __m512bh panel_row[COLS];
    for (int v = 0; v < COLS; ++v) {
      const uint16_t* row = b + v * Kp * kTile + q * 2 * kTile;  // row q of panel v
      panel_row[v] = reinterpret_cast<__m512bh>(_mm512_load_si512(row));
    }
    for (int r = 0; r < ROWS; ++r) {
      uint32_t pair;  // op(A)(r, 2q) and op(A)(r, 2q + 1)
      std::memcpy(&pair, a + r * Kp + 2 * q, sizeof pair);
      const __m512bh a_pair = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair)));
      for (int v = 0; v < COLS; ++v) c[r][v] = _mm512_dpbf16_ps(c[r][v], a_pair, panel_row[v]);
    }
  }
  for (int r = 0; r < ROWS; ++r) {
    for (int v = 0; v < COLS; ++v) _mm512_storeu_ps(out + r * out_stride + v * kTile, c[r][v]);
  }
}

// block_product's contract, 8 rows at a time.
void dot_block(bool two_rows, bool two_cols, const Problem& p, int64_t i0, int64_t j0, float* out,
               int64_t out_stride, bool accumulate) {
  constexpr int kRows = 8;
  const uint16_t* b = p.b_pack + (j0 / kTile) * p.Kp * kTile;
  for (int64_t r = 0; r < (two_rows ? 2 : 1) * kTile; r += kRows) {
    const uint16_t* a = p.a_pack + (i0 + r) * p.Kp;
    float* rows_out = out + r * out_stride;
    if (two_cols) {
      dot_rows<kRows, 2>(a, p.Kp, b, rows_out, out_stride, accumulate);
    } else {
      dot_rows<kRows, 1>(a, p.Kp, b, rows_out, out_stride, accumulate);
    }
  }
}

// C[i0 + r][j0 + c] = alpha * out[r][c] + beta * C[...], for the rows and columns inside C.
EMBER_TARGET_BF16 void write_back(const float* out, int64_t i0, int64_t j0, int64_t M, int64_t N,
                                 float alpha, float beta, float* C, int64_t ldc) {
  const int64_t rows = std::min(kBlock, M - i0), cols = std::min(kBlock, N - j0);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int64_t r = 0; r < rows; ++r) {
    float* c = C + (i0 + r) * ldc + j0;
    for (int64_t h = 0; h < cols; h += 16) {
      const __mmask16 m = first_lanes(cols - h);
      __m512 v = _mm512_mul_ps(va, _mm512_load_ps(out + r * kBlock + h));
      if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c + h), v);
      _mm512_mask_storeu_ps(c + h, m, v);
    }
  }
}

// Flops of a product below which a thread more costs more than it saves (the unit does about
// 10^12 a second; a thread's share of the packing and waking it take microseconds).
constexpr double kMinFlopsPerThread = 8.0e6;

}  // namespace

bool bf16_unit_available(Bf16Unit unit) {
  static const bool amx = detect_amx(), dot_products = detect_avx512_bf16();
  return unit == Bf16Unit::Amx ? amx : dot_products;
}

namespace {
Bf16Unit best_bf16_unit() {
  return bf16_unit_available(Bf16Unit::Amx) ? Bf16Unit::Amx : Bf16Unit::DotProducts;
}
}  // namespace

bool bf16_gemm_available() { return bf16_unit_available(Bf16Unit::DotProducts); }

const char* bf16_gemm_name() {
  return bf16_gemm_available() ? bf16_unit_name(best_bf16_unit()) : "none";
}

bool use_bf16_gemm(int64_t M, int64_t N, int64_t K) {
  if (detail::float32_matmul_precision() != detail::MatmulPrecision::Medium) return false;
  // Below a tile in any direction most of the unit's work would be padding.
  if (M < kTile || N < kTile || K < kDepth) return false;
  return bf16_gemm_available();
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  gemm_bf16_with(best_bf16_unit(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_bf16_with(Bf16Unit unit, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                    float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                    float beta, float* C, int64_t ldc) {
  check(bf16_unit_available(unit), "gemm_bf16: this CPU cannot multiply with {}",
        bf16_unit_name(unit));
  const bool amx = unit == Bf16Unit::Amx;
  const auto block = amx ? &run_block : &dot_block;
  Problem p{trans_a, trans_b, M, N, K, A, lda, B, ldb, round_up(M, kTile), round_up(N, kTile), round_up(K, kDepth),
            nullptr, nullptr};
  p.a_pack = t_a_pack.reserve(p.Mp * p.Kp);  // this thread's buffers
  p.b_pack = t_b_pack.reserve(p.Np * p.Kp);
  const int64_t blocks_m = (p.Mp + kBlock - 1) / kBlock, blocks_n = (p.Np + kBlock - 1) / kBlock;

  // How the threads share the work: each takes a band of block rows of C (and then reads all of
  // op(B)) or of block columns (and reads all of op(A)), whichever makes the shared operand the
  // smaller.
  const bool split_rows = p.Mp > p.Np;
  const int64_t bands = split_rows ? blocks_m : blocks_n;
  const double flops = 2.0 * static_cast<double>(p.Mp) * static_cast<double>(p.Np) * static_cast<double>(p.Kp);
  // Inside a pool task (attention's per-head products, a batch of matmuls) a parallel_for runs
  // inline: one part there.
  const int64_t threads = in_parallel_region() ? 1 : num_threads();
  const int64_t parts = std::max<int64_t>(
      1, std::min({threads, bands, static_cast<int64_t>(flops / kMinFlopsPerThread)}));

  // The blocks of C in bands [first, last), column band by column band, so that a panel of B is
  // reused from cache.
  auto compute = [&](int64_t first, int64_t last) {
    const int64_t lo = first * kBlock, hi = last * kBlock;
    const int64_t i_lo = split_rows ? lo : 0, i_hi = split_rows ? std::min(hi, p.Mp) : p.Mp;
    const int64_t j_lo = split_rows ? 0 : lo, j_hi = split_rows ? p.Np : std::min(hi, p.Np);
    if (amx) configure_tiles();
    alignas(64) float out[kBlock * kBlock];
    for (int64_t j0 = j_lo; j0 < j_hi; j0 += kBlock) {
      for (int64_t i0 = i_lo; i0 < i_hi; i0 += kBlock) {
        const bool two_rows = i0 + kTile < i_hi, two_cols = j0 + kTile < j_hi;
        const bool inside = i0 + (two_rows ? 2 : 1) * kTile <= M && j0 + (two_cols ? 2 : 1) * kTile <= N;
        if (inside && alpha == 1.0f && (beta == 0.0f || beta == 1.0f)) {
          // The common case: the tiles load and store C themselves.
          block(two_rows, two_cols, p, i0, j0, C + i0 * ldc + j0, ldc, beta == 1.0f);
        } else {
          block(two_rows, two_cols, p, i0, j0, out, kBlock, false);
          write_back(out, i0, j0, M, N, alpha, beta, C, ldc);
        }
      }
    }
    if (amx) release_tiles();
  };

  if (parts == 1) {
    pack_a(p, 0, p.Mp);
    pack_b(p, 0, p.Np);
    compute(0, bands);
    return;
  }
  // On several threads, two jobs: the threads pack both operands once, into the caller's buffers,
  // 16 rows of op(A) or 16 columns of op(B) at a time; then they share out the bands of C. (Each
  // thread packing the shared operand for itself, in one job, cost more than the second job's
  // start: on two threads that operand is a third of all the packing.) The pool hands each thread
  // its part of a range from the same end in both jobs (thread_pool.cpp), so many of the rows of
  // op(A) a thread packed are ones it then multiplies, from its own cache.
  const int64_t a_slices = p.Mp / kTile, b_slices = p.Np / kTile;
  auto pack = [&](int64_t first, int64_t last) {
    if (first < a_slices) pack_a(p, first * kTile, std::min(last, a_slices) * kTile);
    if (last > a_slices) pack_b(p, (std::max(first, a_slices) - a_slices) * kTile, (last - a_slices) * kTile);
  };
  // Grains of a part's share (n / parts, at least 1 as parts <= bands <= slices): each job is
  // cut into about `parts` chunks, and no more threads join it than the product is worth.
  // (std::ref: parallel_for's std::function refers to the lambda instead of copying it.)
  const int64_t slices = a_slices + b_slices;
  parallel_for(0, slices, slices / parts, std::ref(pack));
  parallel_for(0, bands, bands / parts, std::ref(compute));
}

#else  // no bfloat16 code on this platform

bool bf16_unit_available(Bf16Unit) { return false; }
bool bf16_gemm_available() { return false; }
const char* bf16_gemm_name() { return "none"; }
bool use_bf16_gemm(int64_t, int64_t, int64_t) { return false; }
void gemm_bf16(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
               int64_t, float, float*, int64_t) {
  throw Error("gemm_bf16: this build has no bfloat16 code");
}
void gemm_bf16_with(Bf16Unit, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                    const float*, int64_t, float, float*, int64_t) {
  throw Error("gemm_bf16: this build has no bfloat16 code");
}

#endif

}  // namespace ember::cpu
