// The CPU softmax kernels behind Backend::softmax and Backend::softmax_backward: rows of a
// contiguous (rows, cols) matrix, split across the thread pool by whole rows.
#pragma once

#include <cstdint>

namespace ember::cpu {

// Arguments as Backend::softmax (backend.h).
void softmax_rows(const float* in, float* out, int64_t rows, int64_t cols, bool log);
// Arguments as Backend::softmax_backward (backend.h).
void softmax_backward_rows(const float* y, const float* grad, float* grad_in, int64_t rows,
                           int64_t cols, bool log);

}  // namespace ember::cpu
