// How precisely float32 matrix products are computed, as torch.set_float32_matmul_precision.
//
//   "highest" (the default)  every product in float32, as the notes' loops compute it.
//   "high"                   allowed to use a faster, slightly less precise method. The CPU has
//                            none that keeps about float32's precision, so this is "highest".
//   "medium"                 allowed to round the inputs of a product to bfloat16 (8 bits of
//                            mantissa instead of 24) and sum the products in float32. On a CPU
//                            with AMX (Intel Xeon from Sapphire Rapids on) the fast CPU backend
//                            then multiplies with the matrix unit, several times faster; on one
//                            with AVX512-BF16 but no AMX (AMD from Zen 4 on) with its bfloat16
//                            dot products, about twice as fast as in float32.
//
// The setting is a permission, not an order: where the hardware has no such unit (or a product
// is too small to gain), a product stays float32. Only matrix products are affected (matmul and what is
// built on it: linear layers, tensordot, and the two products inside
// scaled_dot_product_attention and their gradients, as under PyTorch's autocast); every other
// op, the softmax between attention's products, the gradients' accumulation and the optimizer
// stay float32. The reference backend always computes in float32, and so, for
// now, does the CUDA backend. docs/performance.md ("Mixed precision") has the measurements.
#pragma once

#include <string>
#include <string_view>

namespace ember {

// Sets the precision of float32 matrix products for the whole process: "highest", "high" or
// "medium". Throws ember::Error for any other name.
void set_float32_matmul_precision(std::string_view precision);

// The current setting, one of "highest", "high", "medium".
std::string get_float32_matmul_precision();

// True when "medium" would actually use bfloat16 products on this machine's CPU (it has AMX or
// AVX512-BF16, and the operating system lets this process use them). For tests and for the tools
// that report it; cpu_bf16_matmul_unit() names the one used: "AMX", "AVX512-BF16" or "none".
bool cpu_has_bf16_matmul();
std::string cpu_bf16_matmul_unit();

}  // namespace ember
