// Reading several strided layouts of one shape in a single kernel, one thread per element.
//
// The CPU walks the layouts row by row (cpu/strided_loop.h); a GPU thread instead gets the
// linear index of its element in the shape and turns it into a position in each buffer:
// the index is split into coordinates, last dim first, and each coordinate times the
// layout's stride is added to the layout's offset. Broadcast dims have stride 0 and so
// read the same element again.
//
// Before the kernel runs, adjacent dims that every layout stores contiguously are merged on
// the host, as on the CPU: a dense (64, 784) tensor becomes one dim of 50176 elements.
// With one dim left (contiguous inputs, a broadcast scalar, a strided vector) the
// position is offset + index * stride, with no division at all: the fast path.
#pragma once

#include <array>
#include <cstdint>

#include "ember/backend.h"

namespace ember::cuda {

template <int kCount>
struct StridedIndexer {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kCount][kMaxDims] = {};
  int64_t offsets[kCount] = {};

  // layouts[0] gives the shape; the others must have the same shape.
  explicit StridedIndexer(const std::array<const StridedLayout*, kCount>& layouts) {
    const StridedLayout& first = *layouts[0];
    for (int k = 0; k < kCount; ++k) offsets[k] = layouts[k]->offset;
    for (int d = 0; d < first.ndim; ++d) {
      if (first.shape[d] == 1) continue;  // a dim of size 1 moves nothing
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

  // True when every layout is dense and starts at its offset (strides of 1 in one dim).
  bool is_contiguous() const {
    for (int k = 0; k < kCount; ++k) {
      if (ndim != 1 || (strides[k][0] != 1 && shape[0] != 1)) return false;
    }
    return true;
  }

  // The position of element `linear` (row-major in the shape) in each of the buffers.
  // Index is uint32_t when the element count fits, because 64-bit division is slow on a
  // GPU, and int64_t otherwise.
  template <typename Index>
  __device__ void locate(Index linear, int64_t (&position)[kCount]) const {
    for (int k = 0; k < kCount; ++k) position[k] = offsets[k];
    if (ndim == 1) {
      for (int k = 0; k < kCount; ++k) position[k] += static_cast<int64_t>(linear) * strides[k][0];
      return;
    }
    for (int d = ndim - 1; d >= 0; --d) {
      Index size = static_cast<Index>(shape[d]);
      Index coordinate = linear % size;
      linear /= size;
      for (int k = 0; k < kCount; ++k) position[k] += static_cast<int64_t>(coordinate) * strides[k][d];
    }
  }
};

}  // namespace ember::cuda
