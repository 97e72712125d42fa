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

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__)
#define EMBER_TARGET_CLONES \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#else
#define EMBER_TARGET_CLONES
#endif
