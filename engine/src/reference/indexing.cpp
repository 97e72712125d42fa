// Row gathers and their gradient: an embedding's lookup and its backward.
#include "reference/reference_backend.h"

namespace ember::reference {

// out (count, row_size) = table[indices[i]]; indices hold whole numbers as floats.
void ReferenceBackend::gather_rows(const float* table, int64_t row_size, const float* indices,
                                   int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t row = static_cast<int64_t>(indices[i]);
    for (int64_t j = 0; j < row_size; ++j) out[i * row_size + j] = table[row * row_size + j];
  }
}

// table[indices[i]] += rows[i]; repeated indices add up, in order.
void ReferenceBackend::scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                                        int64_t count, float* table) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t row = static_cast<int64_t>(indices[i]);
    for (int64_t j = 0; j < row_size; ++j) table[row * row_size + j] += rows[i * row_size + j];
  }
}

}  // namespace ember::reference
