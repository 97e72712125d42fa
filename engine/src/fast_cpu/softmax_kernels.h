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

// For kernels that softmax rows of a bigger matrix (attention's scores), on the calling thread:
// rows of cols values, row r at data + r * ld. In place: data = softmax(data) row by row.
void softmax_rows_in_place(float* data, int64_t rows, int64_t cols, int64_t ld);
// In place: grad = y * (grad - sum(grad * y)) row by row (softmax's gradient), y at stride
// y_ld and grad at stride grad_ld.
void softmax_backward_rows_in_place(const float* y, int64_t y_ld, float* grad, int64_t grad_ld,
                                    int64_t rows, int64_t cols);

}  // namespace ember::cpu
