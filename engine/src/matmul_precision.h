// The float32 matmul precision setting (ember/precision.h), as the backends read it.
#pragma once

namespace ember::detail {

enum class MatmulPrecision { Highest, High, Medium };

// The current setting; cheap (one relaxed atomic load), called once per product.
MatmulPrecision float32_matmul_precision();

}  // namespace ember::detail
