// Matrix products in bfloat16 on Intel's AMX matrix unit, for float32_matmul_precision "medium"
// (ember/precision.h).
//
// gemm() (gemm.h) calls gemm_bf16() instead of its float32 kernels when the setting allows it,
// this CPU can, and the product is large enough to gain. The contract is gemm()'s, with one
// difference in precision: every element of op(A) and op(B) is first rounded to bfloat16 (round
// to nearest even; subnormals become zero), and the products are summed in float32. The result
// is the same whatever the thread count.
//
// How (the file's header comment has the details): both operands are converted into the
// layouts the tile instructions read, then each 32 x 32 block of C is four 16 x 16 tiles held in
// the unit's tile registers while the K sum runs, 32 steps of K per instruction.
#pragma once

#include <cstdint>

namespace ember::cpu {

// True when this CPU has AMX with bfloat16 (AMX-TILE and AMX-BF16), the operating system saves
// its registers, and it gave this process leave to use them (Linux asks each process to request
// it). Checked once; false on any other CPU or system.
bool amx_bf16_available();

// True when gemm() should hand this product to gemm_bf16(): "medium" precision is set, AMX is
// available, and the product is large enough that converting the operands pays off.
bool use_bf16_gemm(int64_t M, int64_t N, int64_t K);

// C = alpha * op(A) @ op(B) + beta * C with the operands rounded to bfloat16 (see above); the
// arguments are gemm()'s, already checked, with M, N, K > 0 and alpha != 0. Only call it when
// amx_bf16_available().
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// Rounds a float to bfloat16 as the conversion above does, returned as a float (for tests and
// for the reference the tests compare against).
float round_to_bf16(float x);

}  // namespace ember::cpu
