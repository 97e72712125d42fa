// The one seeded generator through which every random choice in Ember goes:
// initialisation, shuffling, dropout. The same seed gives the same numbers on every run.
#pragma once

#include <cstdint>
#include <vector>

namespace ember {

// Seeds the global generator (as torch.manual_seed). The default seed is 0.
void manual_seed(uint64_t seed);

// The generator's state: a seed and how many random 128-bit blocks have been used.
// Fills reserve a range of blocks, so each fill gets fresh numbers and a fill's values
// do not depend on the device or on how many threads computed them.
struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};
GeneratorState generator_state();
void set_generator_state(GeneratorState state);

// Reserves `count` values' worth of blocks and returns the offset of the first one.
uint64_t reserve_random(int64_t count);

// Host-side draws for the engine's own choices (shuffling), also from the generator.
uint64_t random_u64();
// A uniformly random permutation of 0..n-1 (Fisher-Yates driven by the generator).
std::vector<int64_t> randperm_indices(int64_t n);

}  // namespace ember
