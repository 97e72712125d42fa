// Matrix products in bfloat16, for float32_matmul_precision "medium" (ember/precision.h): on
// Intel's AMX matrix unit, or with AVX512-BF16's dot-product instruction on a CPU that has it
// but no AMX (AMD from Zen 4 on).
//
// gemm() (gemm.h) calls gemm_bf16() instead of its float32 kernels when the setting allows it,
// this CPU can, and the product is large enough to gain. The contract is gemm()'s, with one
// difference in precision: every element of op(A) and op(B) is first rounded to bfloat16 (round
// to nearest even; subnormals become zero), and the products are summed in float32. The result
// is the same whatever the thread count.
//
// How (gemm_bf16.cpp's header comment has the details): both operands are converted into the
// layouts the instructions read, then each 32 x 32 block of C is summed in registers while the K
// sum runs: four 16 x 16 tiles of the unit, 32 steps of K per instruction, or 8 rows by 32
// columns at a time in vector registers, 2 steps of K per instruction.
#pragma once

#include <cstdint>

namespace ember::cpu {

// The two ways of multiplying in bfloat16.
enum class Bf16Unit {
  Amx,          // AMX-TILE and AMX-BF16 (Intel Xeon from Sapphire Rapids on)
  DotProducts,  // AVX512-BF16's VDPBF16PS (every CPU with AMX has it too)
};

// "AMX" or "AVX512-BF16".
const char* bf16_unit_name(Bf16Unit unit);

// True when this CPU has the unit, the operating system saves its registers, and (for AMX) it
// gave this process leave to use them (Linux asks each process to request it). Checked once;
// false on any other CPU or system.
bool bf16_unit_available(Bf16Unit unit);

// True when this CPU has either; bf16_gemm_name() says which gemm_bf16() uses: "AMX",
// "AVX512-BF16", or "none".
bool bf16_gemm_available();
const char* bf16_gemm_name();

// True when gemm() should hand this product to gemm_bf16(): "medium" precision is set, the CPU
// can, and the product is large enough that converting the operands pays off.
bool use_bf16_gemm(int64_t M, int64_t N, int64_t K);

// C = alpha * op(A) @ op(B) + beta * C with the operands rounded to bfloat16 (see above); the
// arguments are gemm()'s, already checked, with M, N, K > 0 and alpha != 0. Only call it when
// bf16_gemm_available(). It uses AMX where it can.
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// gemm_bf16() on a given unit, for the tests that compare the two. Throws ember::Error when the
// CPU does not have it.
void gemm_bf16_with(Bf16Unit unit, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                    float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                    float beta, float* C, int64_t ldc);

// Rounds a float to bfloat16 as the conversion above does, returned as a float (for tests and
// for the reference the tests compare against).
float round_to_bf16(float x);

}  // namespace ember::cpu
