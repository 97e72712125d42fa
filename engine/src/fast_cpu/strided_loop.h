// Walking several strided layouts of one shape together, row by row.
//
// Before the walk, adjacent dims that are laid out contiguously in every layout are
// merged (a dense (64, 784) tensor becomes one row of 50176 elements), so the inner
// loop is as long as possible and most element-wise calls run as one flat loop.
#pragma once

#include <array>
#include <cstdint>

#include "ember/backend.h"

namespace ember::cpu {

template <int kCount>
struct StridedWalk {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kCount][kMaxDims] = {};
  int64_t offsets[kCount] = {};

  explicit StridedWalk(const std::array<const StridedLayout*, kCount>& layouts) {
    const StridedLayout& first = *layouts[0];
    for (int k = 0; k < kCount; ++k) offsets[k] = layouts[k]->offset;
    // Keep dims of size != 1, merging each into the previous one when every layout allows.
    for (int d = 0; d < first.ndim; ++d) {
      if (first.shape[d] == 1) continue;
      bool mergeable = ndim > 0;
      for (int k = 0; k < kCount && mergeable; ++k) {
        mergeable = strides[k][ndim - 1] == layouts[k]->strides[d] * first.shape[d];
      }
      if (mergeable) {
        shape[ndim - 1] *= first.shape[d];
        for (int k = 0; k < kCount; ++k) strides[k][ndim - 1] = layouts[k]->strides[d];
      } else {
        shape[ndim] = first.shape[d];
        for (int k = 0; k < kCount; ++k) strides[k][ndim] = layouts[k]->strides[d];
        ++ndim;
      }
    }
    if (ndim == 0) {  // a single element
      shape[0] = 1;
      ndim = 1;
    }
  }

  int64_t row_length() const { return shape[ndim - 1]; }
  int64_t row_count() const {
    int64_t rows = 1;
    for (int d = 0; d < ndim - 1; ++d) rows *= shape[d];
    return rows;
  }
  int64_t inner_stride(int k) const { return strides[k][ndim - 1]; }

  // Element offsets of the first element of row `row` in each layout.
  std::array<int64_t, kCount> row_start(int64_t row) const {
    std::array<int64_t, kCount> start;
    for (int k = 0; k < kCount; ++k) start[k] = offsets[k];
    for (int d = ndim - 2; d >= 0; --d) {
      int64_t index = row % shape[d];
      row /= shape[d];
      for (int k = 0; k < kCount; ++k) start[k] += index * strides[k][d];
    }
    return start;
  }
};

}  // namespace ember::cpu
