// Single-precision matrix multiply (GEMM) for the CPU backend.
//
// gemm() computes C = alpha * op(A) @ op(B) + beta * C for row-major matrices. It is the kernel
// behind matmul, linear layers and convolutions (via im2col), so most of a training step's CPU
// time is spent here. The implementation follows the Goto/BLIS recipe:
//
//   * the driver (gemm.cpp) cuts the problem into cache-sized blocks and copies ("packs") each
//     block of A and B into a contiguous buffer laid out exactly as the micro-kernel reads it;
//   * a micro-kernel (gemm_kernels_*.cpp) multiplies one packed sliver of A by one packed sliver
//     of B, keeping a small tile of C in vector registers for the whole K loop.
//
// The micro-kernel is chosen once, at run time, from what the CPU supports (AVX-512, AVX2+FMA,
// or portable C++), so one binary built for plain x86-64 runs fast everywhere and never executes
// an instruction the CPU lacks. Large products are split across threads by rows/columns of C;
// the K sum is never split, so results are bit-identical whatever the thread count.
#pragma once

#include <cstdint>

namespace ember::cpu {

// Row-major single-precision GEMM: C = alpha * op(A) @ op(B) + beta * C.
// op(A) is (M x K): element (i,k) is A[i*lda + k], or A[k*lda + i] when trans_a.
// op(B) is (K x N): element (k,j) is B[k*ldb + j], or B[j*ldb + k] when trans_b.
// C is (M x N) with element (i,j) at C[i*ldc + j]. beta == 0 means C is not read (may hold NaN).
// Under set_float32_matmul_precision("medium") on a CPU with AMX or AVX512-BF16, a large enough
// product is handed to gemm_bf16 (gemm_bf16.h), which rounds the operands to bfloat16.
// Throws ember::Error for negative sizes, null pointers or leading dimensions smaller than the
// rows they must hold.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
          float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
          float beta, float* C, int64_t ldc);

// Which micro-kernel the dispatcher chose on this CPU: "avx512", "avx2" or "generic".
const char* gemm_kernel_name();

namespace detail {

// ---- Interface between the driver (gemm.cpp) and the micro-kernels (gemm_kernels_*.cpp). ----

// Computes one tile of C:  C[0:m, 0:n] = alpha * (a @ b) + beta * C[0:m, 0:n]  (1 <= m <= mr,
// 1 <= n <= nr), reading C only when beta != 0.
//   a: a packed sliver of op(A), k-major: element (i, k) at a[k*m + i];
//   b: a sliver of op(B), element (k, j) at b[k*ldb + j]. Either packed (ldb = nr, or the
//      zero-padded width of an edge sliver) or straight from a row-major B. The kernel never
//      reads past column n, so the unpacked case is safe at the right edge of B.
using TileKernel = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c,
                            int64_t ldc, int m, int n, float alpha, float beta);

// Packs one sliver of op(A): `rows` rows (<= mr) by kc, into dst k-major: dst[k*rows + i] =
// op(A)(i, k). `a` points at op(A)(0, 0) of the sliver: element (i, k) is a[i*lda + k], or
// a[k*lda + i] when trans.
using PackA = void (*)(bool trans, const float* a, int64_t lda, int rows, int64_t kc, float* dst);
// Packs one sliver of op(B): kc by `cols` columns (<= nr), into dst row by row with width
// w = cols rounded up to a multiple of vl, zero padded: dst[k*w + j] = op(B)(k, j). `b` points
// at op(B)(0, 0) of the sliver: element (k, j) is b[k*ldb + j], or b[j*ldb + k] when trans.
using PackB = void (*)(bool trans, const float* b, int64_t ldb, int cols, int64_t kc, float* dst);

struct GemmKernel {
  const char* name;
  int mr;          // rows of the register tile (broadcast from A)
  int nr;          // columns of the register tile (vectors loaded from B)
  int vl;          // floats per vector register; packed B slivers are padded to a multiple of it
  int64_t kc;      // depth of a packed block (how much of the K sum one pass covers)
  int64_t mc;      // rows of A packed at a time
  int64_t nc;      // columns of B packed at a time
  TileKernel tile;
  PackA pack_a;
  PackB pack_b;
};

// Portable packing routines (used by the generic and AVX2 kernels).
void pack_a_portable(bool trans, const float* a, int64_t lda, int rows, int64_t kc, float* dst);
void pack_b_portable(int vl, bool trans, const float* b, int64_t ldb, int cols, int64_t kc,
                     float* dst);

// The micro-kernels compiled into this binary; the SIMD ones are null on non-x86 builds.
// Only call a SIMD kernel after checking the CPU supports it (see select_gemm_kernel in gemm.cpp).
const GemmKernel* avx512_gemm_kernel();
const GemmKernel* avx2_gemm_kernel();
const GemmKernel& generic_gemm_kernel();

// The kernel gemm() uses. Chosen on first use; EMBER_GEMM_KERNEL=avx2|generic forces a slower
// one (for testing and benchmarking), never a kernel the CPU cannot run.
const GemmKernel& active_gemm_kernel();

// gemm() with an explicit kernel and thread budget, for tests and benchmarks that compare
// kernels. max_threads = 0 means num_threads().
void gemm_with(const GemmKernel& kernel, int max_threads, bool trans_a, bool trans_b, int64_t M,
               int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace detail
}  // namespace ember::cpu
