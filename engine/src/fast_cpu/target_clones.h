// EMBER_TARGET_CLONES: compile one plain loop for several x86 vector widths.
//
// The engine is built for plain x86-64 (no -march), so the compiler may only use SSE2: four
// floats per instruction. A function marked EMBER_TARGET_CLONES is compiled three times, for
// AVX-512 (16 floats), AVX2 (8) and the baseline, and the loader picks the version this CPU
// runs (GCC's target_clones, resolved once at program start). The loop stays ordinary C++; only
// the vector width changes. The GEMM kernels use intrinsics instead, because there the register
// tiling matters; for element-wise loops the compiler's vectoriser does as well.
//
// fp-contract=off: AVX-512 brings fused multiply-add, and the compiler would turn a * b + c into
// one FMA, which rounds once instead of twice. Without it every version rounds each operation
// as the C++ says, so all three give the same bits as the reference backend. So do the CUDA
// kernels that promise the CPU's bits and multiply: the uniform fills (random.cu) and the
// optimizer updates (optimizer.cu), the two files cuda.cmake compiles with --fmad=false for
// the same reason. scatter_add_rows (indexing.cu), also bit for bit, only adds.
#pragma once

// The AVX2 clone for loops that call fmaf (formulas.h's polynomials): GCC's "avx2" has no FMA,
// so each fmaf there would be a call into libm; x86-64-v3 is AVX2 with FMA. GCC accepts
// "arch=x86-64-v3" in target_clones from version 12; GCC 11 (Ubuntu 22.04) keeps "avx2",
// which gives the same bits, more slowly.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define EMBER_AVX2_FMA_CLONE "arch=x86-64-v3"
#else
#define EMBER_AVX2_FMA_CLONE "avx2"
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__)
#define EMBER_TARGET_CLONES \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#else
#define EMBER_TARGET_CLONES
#endif
