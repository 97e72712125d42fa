// Element-wise kernels: unary, binary and where, one output element per loop step. The
// formulas themselves are in formulas.h, shared with the other backends.
#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {

// in and out: contiguous (count,).
void ReferenceBackend::unary(UnaryOp op, const float* in, float* out, int64_t count, float a,
                             float b) {
  for (int64_t i = 0; i < count; ++i) out[i] = formulas::unary(op, in[i], a, b);
}

// out: contiguous, out_layout's shape; x and y already broadcast to it (stride 0 repeats).
void ReferenceBackend::binary(BinaryOp op, const float* x, const StridedLayout& x_layout,
                              const float* y, const StridedLayout& y_layout, float* out,
                              const StridedLayout& out_layout) {
  const int64_t count = out_layout.numel();
  for (int64_t i = 0; i < count; ++i) {
    out[position_of(out_layout, i)] =
        formulas::binary(op, x[position_of(x_layout, i)], y[position_of(y_layout, i)]);
  }
}

void ReferenceBackend::where(const float* condition, const StridedLayout& condition_layout,
                             const float* x, const StridedLayout& x_layout, const float* y,
                             const StridedLayout& y_layout, float* out,
                             const StridedLayout& out_layout) {
  const int64_t count = out_layout.numel();
  for (int64_t i = 0; i < count; ++i) {
    const bool take_x = condition[position_of(condition_layout, i)] != 0.0f;
    out[position_of(out_layout, i)] =
        take_x ? x[position_of(x_layout, i)] : y[position_of(y_layout, i)];
  }
}

}  // namespace ember::reference
