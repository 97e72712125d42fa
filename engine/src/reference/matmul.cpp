// Matrix multiply: the textbook triple loop, once per matrix of the batch.
#include "reference/reference_backend.h"

namespace ember::reference {

// C_b (m, n) = op(A_b) (m, k) @ op(B_b) (k, n) for b in [0, batch). A is stored row-major
// with rows lda apart: A[i][p] is a[i * lda + p], or a[p * lda + i] when transpose_a says
// the stored matrix is A's transpose. The same for B. C is dense.
void ReferenceBackend::matmul(const float* a, int64_t a_batch_stride, int64_t lda,
                              bool transpose_a, const float* b, int64_t b_batch_stride,
                              int64_t ldb, bool transpose_b, float* c, int64_t batch, int64_t m,
                              int64_t n, int64_t k) {
  for (int64_t index = 0; index < batch; ++index) {
    const float* a_matrix = a + index * a_batch_stride;
    const float* b_matrix = b + index * b_batch_stride;
    float* c_matrix = c + index * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (int64_t p = 0; p < k; ++p) {
          const float a_ip = transpose_a ? a_matrix[p * lda + i] : a_matrix[i * lda + p];
          const float b_pj = transpose_b ? b_matrix[j * ldb + p] : b_matrix[p * ldb + j];
          sum += a_ip * b_pj;
        }
        c_matrix[i * n + j] = sum;
      }
    }
  }
}

}  // namespace ember::reference
