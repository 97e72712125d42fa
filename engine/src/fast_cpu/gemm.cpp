// gemm(): the blocking, packing and threading around the micro-kernels.
//
// How a large product is computed (Goto/BLIS; names follow the BLIS papers)
// -----------------------------------------------------------------------
// C (M x N) += op(A) (M x K) @ op(B) (K x N) is cut up by five nested loops:
//
//   for jc in N, step nc             a block of nc columns of C
//     for pc in K, step kc           a slice of the K sum
//       pack B[pc:pc+kc, jc:jc+nc]   -> B~, slivers of nr columns        (kc x nc, in L3)
//       for ic in M, step mc
//         pack A[ic:ic+mc, pc:pc+kc] -> A~, slivers of mr rows          (mc x kc, in L2)
//         for jr in nc, step nr      one sliver of B~                    (kc x nr, L1/L2)
//           for ir in mc, step mr    one sliver of A~
//             micro-kernel: C[ir:ir+mr, jr:jr+nr] += A~sliver @ B~sliver  (mr x nr, in registers)
//
// Why: the micro-kernel does 2*mr*nr flops for every mr + nr floats it loads, so it only runs at
// full speed if those loads come from the nearest caches. Each loop level reuses one block from
// one level of cache: the innermost loop reuses one sliver of B~ for every sliver of A~; the jr
// loop sweeps the whole block A~ once per sliver of B~, so A~ must stay in L2; B~ is reused for
// every block of A, so it should stay in L3. The sizes mr, nr, kc, mc, nc come with each
// micro-kernel (they depend on its registers and on the caches of the CPUs that have it).
// Packing copies each block into exactly the order the kernel reads it: contiguous, aligned, no
// TLB or cache-set conflicts whatever the leading dimensions and transposes; the copy cost is
// spread over many flops (each packed float of A is used nc times, each of B mc times).
//
// Threads: the jc and pc loops run on the calling thread. For each block, all threads first pack
// B~ together into one shared buffer, then each thread takes one rectangle of that block of C
// (a band of rows, or of columns when there are too few rows to share out evenly; see
// split_for_threads), packs its own rows of A and runs the ic, jr and ir loops. Two fork-joins
// per block, and with kc = 1024 a product of the course's sizes has only one or two blocks.
// The K loop is never split between threads: every element of C is always summed in the same
// order, by the same tile shape, so the result is bit-identical for any thread count.
//
// Small problems skip what does not pay off: no threads below ~2 MFLOP, and when A has at most
// mr rows (a matrix-vector-like product) B is read in place instead of packed, since each element
// of B is then used exactly once.
#include "fast_cpu/gemm.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include <ember/error.h>

#include "fast_cpu/gemm_bf16.h"
#include "fast_cpu/thread_pool.h"

namespace ember::cpu {
namespace detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Portable micro-kernel: a 4 x 8 tile, used when the CPU has neither AVX-512 nor AVX2+FMA, and on
// non-x86 machines. It is written with 4-float vectors (a GCC/Clang extension, not intrinsics):
// the compiler turns them into SSE on plain x86-64 and NEON on ARM. 4 x 8 floats are 8 such
// vectors of accumulators, which leaves room for B and a broadcast in the 16 registers SSE has.
// (Written as plain float loops the compiler's auto-vectoriser produced 2-5x slower code, and
// how much slower depended on -O2 versus -O3; explicit vectors and unroll pragmas pin it down.)
// ---------------------------------------------------------------------------------------------
constexpr int kGenericMR = 4;
constexpr int kGenericNR = 8;

typedef float f32x4 __attribute__((vector_size(16)));
inline f32x4 load4(const float* p) {
  f32x4 v;
  std::memcpy(&v, p, sizeof v);  // an unaligned vector load
  return v;
}
inline void store4(float* p, f32x4 v) { std::memcpy(p, &v, sizeof v); }

// One tile of M rows and N columns (M <= 4, N <= 8), specialised for each exact shape so edge
// tiles run the same tight loops as full ones. Never touches B or C past column N.
template <int M, int N>
void generic_tile_kernel(int64_t kc, const float* a, const float* b, int64_t ldb, float* c,
                         int64_t ldc, float alpha, float beta) {
  constexpr int NV = (N + 3) / 4;  // vectors per row; the last may be partial
  f32x4 acc[M][NV];
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = f32x4{};
  }
  for (int64_t k = 0; k < kc; ++k) {
    f32x4 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      if (4 * v + 4 <= N) {
        bv[v] = load4(b + 4 * v);
      } else {  // partial vector: load the valid floats one by one, zeros elsewhere
        bv[v] = f32x4{};
        for (int j = 0; j < N - 4 * v; ++j) bv[v][j] = b[4 * v + j];
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] += a[i] * bv[v];  // scalar * vector broadcasts
    }
    a += M;
    b += ldb;
  }
  // Same rounding as the SIMD kernels: alpha * acc, then + beta * C.
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      float* cv = c + i * ldc + 4 * v;
      const f32x4 r = alpha * acc[i][v];
      if (4 * v + 4 <= N) {
        store4(cv, beta != 0.0f ? beta * load4(cv) + r : r);
      } else {
        for (int j = 0; j < N - 4 * v; ++j) cv[j] = beta != 0.0f ? beta * cv[j] + r[j] : r[j];
      }
    }
  }
}

using GenericShapeFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t,
                                float, float);
using GenericRow = std::array<GenericShapeFn, kGenericNR>;

template <int M, int... J>
constexpr GenericRow generic_row(std::integer_sequence<int, J...>) {
  return {{&generic_tile_kernel<M, J + 1>...}};
}
template <int... I>
constexpr std::array<GenericRow, kGenericMR> generic_table(std::integer_sequence<int, I...>) {
  return {{generic_row<I + 1>(std::make_integer_sequence<int, kGenericNR>{})...}};
}
constexpr std::array<GenericRow, kGenericMR> kGenericTiles =
    generic_table(std::make_integer_sequence<int, kGenericMR>{});

void generic_tile(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                  int m, int n, float alpha, float beta) {
  kGenericTiles[m - 1][n - 1](kc, a, b, ldb, c, ldc, alpha, beta);
}

void pack_b_generic(bool trans, const float* b, int64_t ldb, int cols, int64_t kc, float* dst) {
  pack_b_portable(1, trans, b, ldb, cols, kc, dst);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------------
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into equal blocks of at most `max_block`, rounded up to a multiple of `unit`.
// Equal blocks avoid a sliver-thin last block (K = 784 with kc = 256 becomes 4 x 196, not
// 3 x 256 + 16), which would waste a whole pass for little work.
int64_t balanced_block(int64_t total, int64_t max_block, int64_t unit) {
  int64_t blocks = ceil_div(total, max_block);
  return round_up(ceil_div(total, blocks), unit);
}

// Pack buffers: one pair per thread, allocated on first use and grown (rarely) when a bigger block
// is needed, so the hot path never allocates. 64-byte alignment: a cache line, and a full zmm.
//
// The buffers are plain pointers in a trivially destructible thread_local, and a separate
// thread_local Cleanup object frees them when the thread exits. That split matters at process
// exit: the main thread's thread_locals are destroyed *before* static objects, and a static
// object's destructor may still call gemm. With this layout that call finds empty (null) buffers
// and allocates new ones, instead of using freed memory.
struct PackBuffers {
  float* a = nullptr;
  size_t a_bytes = 0;
  float* b = nullptr;
  size_t b_bytes = 0;
  bool cleanup_registered = false;
};
thread_local PackBuffers t_pack;

struct PackBuffersCleanup {
  ~PackBuffersCleanup() {
    std::free(t_pack.a);
    std::free(t_pack.b);
    t_pack.a = t_pack.b = nullptr;
    t_pack.a_bytes = t_pack.b_bytes = 0;  // cleanup_registered stays true: never register twice
  }
};

// Returns `buffer` grown to hold at least `floats` floats (contents are not kept).
float* reserve(float*& buffer, size_t& bytes, int64_t floats) {
  if (!t_pack.cleanup_registered) {
    t_pack.cleanup_registered = true;
    static thread_local PackBuffersCleanup cleanup;  // constructed once per thread, here
    (void)cleanup;
  }
  const size_t needed = static_cast<size_t>(round_up(floats * static_cast<int64_t>(sizeof(float)), 64));
  if (needed > bytes) {
    std::free(buffer);
    buffer = nullptr;
    bytes = 0;
    void* p = std::aligned_alloc(64, needed);
    if (p == nullptr) throw std::bad_alloc();
    buffer = static_cast<float*>(p);
    bytes = needed;
  }
  return buffer;
}
float* pack_a_buffer(int64_t floats) { return reserve(t_pack.a, t_pack.a_bytes, floats); }
float* pack_b_buffer(int64_t floats) { return reserve(t_pack.b, t_pack.b_bytes, floats); }

// ---------------------------------------------------------------------------------------------
// The problem, as seen by the blocking loops.
// ---------------------------------------------------------------------------------------------
struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float* C;
  int64_t ldc;
};

// Packs op(A)[i0:i0+mc, k0:k0+kc] into slivers of mr rows. The sliver that starts at row r of
// the block goes to dst + r*kc, k-major (see PackA in gemm.h), so the kernel reads `rows`
// consecutive floats per K step and the slivers follow each other without gaps.
void pack_a_block(const GemmKernel& ker, const Problem& p, int64_t i0, int64_t mc, int64_t k0,
                  int64_t kc, float* dst) {
  for (int64_t r = 0; r < mc; r += ker.mr) {
    const int rows = static_cast<int>(std::min<int64_t>(ker.mr, mc - r));
    const int64_t i = i0 + r;
    const float* a = p.trans_a ? p.A + k0 * p.lda + i : p.A + i * p.lda + k0;
    ker.pack_a(p.trans_a, a, p.lda, rows, kc, dst + r * kc);
  }
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into slivers of nr columns; the sliver that starts at column q
// of the block goes to dst + q*kc (see PackB in gemm.h).
void pack_b_block(const GemmKernel& ker, const Problem& p, int64_t k0, int64_t kc, int64_t j0,
                  int64_t nc, float* dst) {
  for (int64_t q = 0; q < nc; q += ker.nr) {
    const int cols = static_cast<int>(std::min<int64_t>(ker.nr, nc - q));
    const int64_t j = j0 + q;
    const float* b = p.trans_b ? p.B + j * p.ldb + k0 : p.B + k0 * p.ldb + j;
    ker.pack_b(p.trans_b, b, p.ldb, cols, kc, dst + q * kc);
  }
}

// The K slice size for this problem. Depends only on K and the kernel, never on the thread count:
// the K slices decide the order in which C is summed, so this keeps results reproducible.
int64_t k_block(const GemmKernel& ker, int64_t K) { return balanced_block(K, ker.kc, 1); }

// The two loops around the micro-kernel (the "macro-kernel"), plus packing A, for the rectangle
// C[m0:m1, jc+n0 : jc+n1] of the current K slice [pc, pc+kc). B~ (the packed block of B that starts
// at column jc) is already done; n0 and n1 are offsets into it. m0 and n0 are multiples of mr and
// nr, so tiles line up the same way whichever thread computes them.
void multiply_block(const GemmKernel& ker, const Problem& p, int64_t m0, int64_t m1, int64_t jc,
                    int64_t n0, int64_t n1, int64_t pc, int64_t kc, const float* b_pack,
                    float beta) {
  const int64_t mb = balanced_block(m1 - m0, ker.mc, ker.mr);
  float* a_pack = pack_a_buffer(mb * kc);  // this thread's own buffer
  for (int64_t ic = m0; ic < m1; ic += mb) {
    const int64_t mc = std::min(mb, m1 - ic);
    pack_a_block(ker, p, ic, mc, pc, kc, a_pack);
    for (int64_t jr = n0; jr < n1; jr += ker.nr) {
      const int nr = static_cast<int>(std::min<int64_t>(ker.nr, n1 - jr));
      const int64_t ldb = round_up(nr, ker.vl);
      for (int64_t ir = 0; ir < mc; ir += ker.mr) {
        const int mr = static_cast<int>(std::min<int64_t>(ker.mr, mc - ir));
        ker.tile(kc, a_pack + ir * kc, b_pack + jr * kc, ldb,
                 p.C + (ic + ir) * p.ldc + jc + jr, p.ldc, mr, nr, p.alpha, beta);
      }
    }
  }
}

// C[0:M, n0:n1] for M <= mr and op(B) = B: only A is packed (one sliver); the kernel reads B in
// place, row stride ldb. Each element of B is used once, so packing it would only add a copy.
void multiply_unpacked_b(const GemmKernel& ker, const Problem& p, int64_t n0, int64_t n1) {
  const int64_t kb = k_block(ker, p.K);
  float* a_pack = pack_a_buffer(p.M * kb);
  const int m = static_cast<int>(p.M);
  for (int64_t pc = 0; pc < p.K; pc += kb) {
    const int64_t kc = std::min(kb, p.K - pc);
    const float beta = pc == 0 ? p.beta : 1.0f;
    pack_a_block(ker, p, 0, p.M, pc, kc, a_pack);
    for (int64_t jr = n0; jr < n1; jr += ker.nr) {
      const int nr = static_cast<int>(std::min<int64_t>(ker.nr, n1 - jr));
      ker.tile(kc, a_pack, p.B + pc * p.ldb + jr, p.ldb, p.C + jr, p.ldc, m, nr, p.alpha, beta);
    }
  }
}

// Below this many flops per thread a product runs on one thread: waking a second core and the
// extra packing cost a few microseconds, which is all a ~1 MFLOP product takes on one core.
constexpr double kMinFlopsPerThread = 1.0e6;

// How the threads share C: tm bands of rows times tn bands of columns, in whole micro-tiles.
// Splitting rows costs nothing extra (B~ is shared, each thread packs only its own rows of A);
// splitting columns makes every thread pack the same rows of A. Splitting rows can however leave
// threads unevenly loaded when there are few row tiles (M = 64 is 5 tiles of 14 rows). So we
// estimate the busiest thread's time for each split and take the cheapest.
struct Split {
  int64_t tm = 1, tn = 1;
};

Split split_for_threads(const GemmKernel& ker, const Problem& p, int threads) {
  const int64_t tiles_m = ceil_div(p.M, ker.mr);
  const int64_t tiles_n = ceil_div(std::min(p.N, balanced_block(p.N, ker.nc, ker.nr)), ker.nr);
  Split best;
  double best_cost = -1.0;
  for (int64_t tm = 1; tm <= threads; ++tm) {
    const int64_t tn = threads / tm;
    if (tm > tiles_m || tn > tiles_n) continue;
    const double rows = static_cast<double>(ceil_div(tiles_m, tm) * ker.mr);
    const double cols = static_cast<double>(ceil_div(tiles_n, tn) * ker.nr);
    // In cycles, roughly: multiply-adds at 2 vectors per cycle, packing ~1 float per cycle.
    const double compute = rows * cols * static_cast<double>(p.K) / (2.0 * ker.vl);
    const double pack_a = rows * static_cast<double>(p.K);
    const double cost = compute + pack_a;
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = Split{tm, tn};
    }
  }
  return best;
}

// The general case: the jc and pc loops run here, on the calling thread. For each block, the
// threads first pack B~ together (each takes some of its slivers), then each computes its own
// rectangle of C with multiply_block. B~ lives in the calling thread's buffer and is read by all.
void multiply_packed(const GemmKernel& ker, const Problem& p, int threads) {
  const Split split = threads > 1 ? split_for_threads(ker, p, threads) : Split{};
  const bool parallel = split.tm * split.tn > 1;
  const int64_t kb = k_block(ker, p.K);
  const int64_t nb = balanced_block(p.N, ker.nc, ker.nr);
  float* b_pack = pack_b_buffer(nb * kb);
  const int64_t tiles_m = ceil_div(p.M, ker.mr);

  for (int64_t jc = 0; jc < p.N; jc += nb) {
    const int64_t nc = std::min(nb, p.N - jc);
    const int64_t tiles_n = ceil_div(nc, ker.nr);
    for (int64_t pc = 0; pc < p.K; pc += kb) {
      const int64_t kc = std::min(kb, p.K - pc);
      // The first K slice applies beta; later slices add onto what is already in C.
      const float beta = pc == 0 ? p.beta : 1.0f;

      // 1. Pack B~ = op(B)[pc:pc+kc, jc:jc+nc], sliver by sliver.
      auto pack_slivers = [&](int64_t first, int64_t last) {
        for (int64_t q = first; q < last; ++q) {
          const int64_t j = q * ker.nr;
          pack_b_block(ker, p, pc, kc, jc + j, std::min<int64_t>(ker.nr, nc - j), b_pack + j * kc);
        }
      };
      // 2. Each thread: its band of rows and columns of this block of C.
      auto compute = [&](int64_t first, int64_t last) {
        for (int64_t t = first; t < last; ++t) {
          const int64_t r = t / split.tn, c = t % split.tn;
          const int64_t m0 = std::min(p.M, tiles_m * r / split.tm * ker.mr);
          const int64_t m1 = std::min(p.M, tiles_m * (r + 1) / split.tm * ker.mr);
          const int64_t n0 = std::min(nc, tiles_n * c / split.tn * ker.nr);
          const int64_t n1 = std::min(nc, tiles_n * (c + 1) / split.tn * ker.nr);
          if (m0 < m1 && n0 < n1) multiply_block(ker, p, m0, m1, jc, n0, n1, pc, kc, b_pack, beta);
        }
      };
      if (parallel) {
        // std::ref: parallel_for's std::function then refers to the lambda instead of copying it
        // onto the heap. Each call returns only when all its chunks are done, so all of B~ is
        // packed before any thread starts computing.
        parallel_for(0, tiles_n, 1, std::ref(pack_slivers));
        parallel_for(0, split.tm * split.tn, 1, std::ref(compute));
      } else {
        pack_slivers(0, tiles_n);
        compute(0, 1);
      }
    }
  }
}

// C = beta * C, for K == 0 or alpha == 0 (the product adds nothing). beta == 0 writes zeros
// without reading C, so NaNs in C do not survive.
void scale_c(const Problem& p) {
  for (int64_t i = 0; i < p.M; ++i) {
    float* row = p.C + i * p.ldc;
    if (p.beta == 0.0f) {
      std::fill(row, row + p.N, 0.0f);
    } else if (p.beta != 1.0f) {
      for (int64_t j = 0; j < p.N; ++j) row[j] *= p.beta;
    }
  }
}

void check_arguments(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                     int64_t lda, const float* B, int64_t ldb, const float* C, int64_t ldc) {
  check(M >= 0 && N >= 0 && K >= 0, "gemm: sizes must be non-negative, got M={} N={} K={}", M, N,
        K);
  if (M == 0 || N == 0) return;
  check(C != nullptr, "gemm: C is null for a {}x{} result", M, N);
  check(ldc >= N, "gemm: ldc={} is smaller than N={}", ldc, N);
  if (K == 0) return;
  check(A != nullptr && B != nullptr, "gemm: A or B is null for a {}x{} @ {}x{} product", M, K, K,
        N);
  // A is stored as M rows of K (or K rows of M when transposed); likewise B.
  const int64_t a_width = trans_a ? M : K;
  const int64_t b_width = trans_b ? K : N;
  check(lda >= a_width, "gemm: lda={} is smaller than the {} columns of {}A", lda, a_width,
        trans_a ? "transposed " : "");
  check(ldb >= b_width, "gemm: ldb={} is smaller than the {} columns of {}B", ldb, b_width,
        trans_b ? "transposed " : "");
}

const GemmKernel& select_gemm_kernel() {
  const GemmKernel* chosen = &generic_gemm_kernel();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the wide registers on a context switch.
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool has_avx512 = has_avx2 && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  const char* wish = std::getenv("EMBER_GEMM_KERNEL");
  const bool want_avx2 = wish != nullptr && std::strcmp(wish, "avx2") == 0;
  const bool want_generic = wish != nullptr && std::strcmp(wish, "generic") == 0;
  if (has_avx512 && !want_avx2 && !want_generic) {
    chosen = avx512_gemm_kernel();
  } else if (has_avx2 && !want_generic) {
    chosen = avx2_gemm_kernel();
  }
#endif
  return *chosen;
}

}  // namespace

void pack_a_portable(bool trans, const float* a, int64_t lda, int rows, int64_t kc, float* dst) {
  if (trans) {
    // op(A)(i, k) = a[k*lda + i]: the `rows` values of one K step are already contiguous.
    for (int64_t k = 0; k < kc; ++k) {
      for (int i = 0; i < rows; ++i) dst[k * rows + i] = a[k * lda + i];
    }
  } else {
    // op(A)(i, k) = a[i*lda + k]: a transpose. Walking k in the outer loop reads all `rows` rows
    // side by side, so the CPU fetches from all of them at once instead of one row at a time.
    for (int64_t k = 0; k < kc; ++k) {
      for (int i = 0; i < rows; ++i) dst[k * rows + i] = a[i * lda + k];
    }
  }
}

void pack_b_portable(int vl, bool trans, const float* b, int64_t ldb, int cols, int64_t kc,
                     float* dst) {
  const int w = static_cast<int>(round_up(cols, vl));
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * w;
    if (trans) {
      for (int j = 0; j < cols; ++j) d[j] = b[j * ldb + k];  // op(B)(k, j) = b[j*ldb + k]
    } else {
      for (int j = 0; j < cols; ++j) d[j] = b[k * ldb + j];
    }
    for (int j = cols; j < w; ++j) d[j] = 0.0f;
  }
}

const GemmKernel& generic_gemm_kernel() {
  // kc = 256, mc = 128, nc = 1024: conservative blocks for small caches (a 256 x 8 sliver of B is
  // 8 KiB, a 128 x 256 block of A is 128 KiB).
  static const GemmKernel kernel{"generic", kGenericMR, kGenericNR, 1,   256, 128,
                                 1024,      &generic_tile, &pack_a_portable, &pack_b_generic};
  return kernel;
}

const GemmKernel& active_gemm_kernel() {
  static const GemmKernel& kernel = select_gemm_kernel();
  return kernel;
}

void gemm_with(const GemmKernel& ker, int max_threads, bool trans_a, bool trans_b, int64_t M,
               int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc) {
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  const Problem p{trans_a, trans_b, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc};
  if (K == 0 || alpha == 0.0f) {
    scale_c(p);
    return;
  }

  // How many threads are worth it. Inside a parallel_for task the pool runs nested calls inline,
  // so splitting would only add packing.
  int threads = max_threads > 0 ? max_threads : num_threads();
  if (in_parallel_region()) threads = 1;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  threads = static_cast<int>(std::min<double>(threads, std::max(1.0, flops / kMinFlopsPerThread)));

  if (M <= ker.mr && !trans_b) {
    // Matrix-vector-like: split the columns of C between threads, in whole tiles.
    const int64_t tiles = ceil_div(N, ker.nr);
    const int64_t parts = std::min<int64_t>(threads, tiles);
    if (parts <= 1) {
      multiply_unpacked_b(ker, p, 0, N);
    } else {
      auto columns = [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          multiply_unpacked_b(ker, p, std::min(N, tiles * t / parts * ker.nr),
                              std::min(N, tiles * (t + 1) / parts * ker.nr));
        }
      };
      parallel_for(0, parts, 1, std::ref(columns));
    }
    return;
  }
  multiply_packed(ker, p, threads);
}

}  // namespace detail

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // float32_matmul_precision("medium") on a CPU with AMX or AVX512-BF16: the bfloat16 path
  // (gemm_bf16.h).
  if (alpha != 0.0f && use_bf16_gemm(M, N, K)) {  // (it asks for M, N >= 16 and K >= 32)
    detail::check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  detail::gemm_with(detail::active_gemm_kernel(), 0, trans_a, trans_b, M, N, K, alpha, A, lda, B,
                    ldb, beta, C, ldc);
}

const char* gemm_kernel_name() { return detail::active_gemm_kernel().name; }

}  // namespace ember::cpu
