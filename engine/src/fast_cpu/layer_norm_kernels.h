// The fast CPU layer norm behind Backend::layer_norm and Backend::layer_norm_backward: rows of
// a contiguous (rows, cols) matrix, vectorised (EMBER_TARGET_CLONES) and shared out between
// threads by whole rows.
#pragma once

#include <cstdint>

namespace ember::cpu {

// Arguments as Backend::layer_norm (backend.h).
void layer_norm_rows(const float* in, const float* weight, const float* bias, float* out,
                     float* mean, float* rstd, int64_t rows, int64_t cols, float eps);
// Arguments as Backend::layer_norm_backward (backend.h).
void layer_norm_backward_rows(const float* grad, const float* in, const float* weight,
                              const float* mean, const float* rstd, float* grad_in,
                              float* grad_weight, float* grad_bias, int64_t rows, int64_t cols);

}  // namespace ember::cpu
