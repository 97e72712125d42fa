// Reductions of the middle axis of a contiguous (outer, n, inner) block:
//   out[o][j] = reduce over i of in[o][i][j]      in (outer, n, inner) -> out (outer, inner)
#include <cmath>

#include "formulas.h"
#include "reference/reference_backend.h"

namespace ember::reference {
namespace {

// Whether x replaces best in a Max (Min): larger (smaller), or a NaN, or +0 over -0
// (-0 over +0). The zeros rule makes the result independent of the order in which the
// elements are visited, so a backend that reduces in a tree of threads gets the same bits.
bool max_wins(float x, float best) {
  return x > best || std::isnan(x) || (x == best && std::signbit(best) && !std::signbit(x));
}
bool min_wins(float x, float best) {
  return x < best || std::isnan(x) || (x == best && std::signbit(x) && !std::signbit(best));
}

}  // namespace

void ReferenceBackend::reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
                              int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const float* x = in + o * n * inner + j;  // x[i * inner] is element i of this column
      float result = 0.0f;                      // an empty sum is +0
      if (op == ReduceOp::Sum && n > 0) {
        // In double: one running float sum of a million 0.1s is off by 1%. From -0, the
        // identity of IEEE addition, so that a sum of -0s is -0.
        double total = -0.0;
        for (int64_t i = 0; i < n; ++i) total += x[i * inner];
        result = static_cast<float>(total);
      } else if (op == ReduceOp::Max || op == ReduceOp::Min) {
        result = x[0];  // n >= 1: the op refuses an empty max or min
        for (int64_t i = 1; i < n; ++i) {
          const float value = x[i * inner];
          if (op == ReduceOp::Max ? max_wins(value, result) : min_wins(value, result)) result = value;
        }
      } else if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
        int64_t best = 0;  // ties go to the first index; a NaN wins (formulas.h)
        for (int64_t i = 1; i < n; ++i) {
          if (formulas::arg_wins(op == ReduceOp::ArgMax, x[i * inner], x[best * inner])) best = i;
        }
        result = static_cast<float>(best);
      }
      out[o * inner + j] = result;
    }
  }
}

}  // namespace ember::reference
