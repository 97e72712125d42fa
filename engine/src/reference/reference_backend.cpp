// The reference backend's memory, fill and copy (see reference_backend.h).
#include "reference/reference_backend.h"

#include <algorithm>
#include <cstring>

#include "backend_registry.h"

namespace ember {
namespace reference {

float* ReferenceBackend::allocate(int64_t count) {
  // At least one element, so that data is never null.
  return new float[static_cast<size_t>(std::max<int64_t>(count, 1))];
}

void ReferenceBackend::deallocate(float* data) { delete[] data; }

// Host memory is this backend's memory: both copies are memcpy.
void ReferenceBackend::copy_from_host(const float* host, float* data, int64_t count) {
  if (count > 0) std::memcpy(data, host, static_cast<size_t>(count) * sizeof(float));
}

void ReferenceBackend::copy_to_host(const float* data, float* host, int64_t count) {
  if (count > 0) std::memcpy(host, data, static_cast<size_t>(count) * sizeof(float));
}

void ReferenceBackend::fill(float* out, int64_t count, float value) {
  for (int64_t i = 0; i < count; ++i) out[i] = value;
}

// The "compact" kernel when out is dense: element i of the shape, read through in's strides
// and written through out's.
void ReferenceBackend::copy(const float* in, const StridedLayout& in_layout, float* out,
                            const StridedLayout& out_layout) {
  const int64_t count = out_layout.numel();
  for (int64_t i = 0; i < count; ++i) {
    out[position_of(out_layout, i)] = in[position_of(in_layout, i)];
  }
}

}  // namespace reference

Backend& reference_backend() {
  // Never destroyed: a tensor in a static object may free its storage after main() returns.
  static reference::ReferenceBackend* backend = new reference::ReferenceBackend();
  return *backend;
}

}  // namespace ember
