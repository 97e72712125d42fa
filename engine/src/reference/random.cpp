// Random fills. Value i depends only on (seed, offset, i) (Philox, philox.h), so this
// backend draws exactly the numbers the fast CPU backend and the GPU draw.
#include "philox.h"
#include "reference/reference_backend.h"

namespace ember::reference {

void ReferenceBackend::fill_uniform(float* out, int64_t count, float low, float high,
                                    uint64_t seed, uint64_t offset) {
  const float range = high - low;
  for (int64_t i = 0; i < count; ++i) out[i] = low + range * philox::uniform_at(seed, offset, i);
}

void ReferenceBackend::fill_normal(float* out, int64_t count, float mean, float std,
                                   uint64_t seed, uint64_t offset) {
  for (int64_t i = 0; i < count; ++i) out[i] = mean + std * philox::normal_at(seed, offset, i);
}

}  // namespace ember::reference
