#include "ember/random.h"

#include <mutex>

#include "philox.h"

namespace ember {
namespace {

std::mutex& generator_mutex() {
  static std::mutex mutex;
  return mutex;
}

GeneratorState& global_state() {
  static GeneratorState state;
  return state;
}

}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(generator_mutex());
  global_state() = GeneratorState{seed, 0};
}

GeneratorState generator_state() {
  std::lock_guard<std::mutex> lock(generator_mutex());
  return global_state();
}

void set_generator_state(GeneratorState state) {
  std::lock_guard<std::mutex> lock(generator_mutex());
  global_state() = state;
}

uint64_t reserve_random(int64_t count) {
  std::lock_guard<std::mutex> lock(generator_mutex());
  uint64_t first = global_state().offset;
  // A block holds 4 uniform or 2 normal values; reserving count blocks covers both.
  global_state().offset += static_cast<uint64_t>(count > 0 ? count : 1);
  return first;
}

uint64_t random_u64() {
  GeneratorState state = generator_state();
  uint64_t offset = reserve_random(1);
  philox::Block block = philox::generate(state.seed, offset, 2);
  return (static_cast<uint64_t>(block.word[0]) << 32) | block.word[1];
}

std::vector<int64_t> randperm_indices(int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (n < 2) return order;
  GeneratorState state = generator_state();
  uint64_t offset = reserve_random(n);
  // Fisher-Yates from the back; j is uniform in [0, i] (the modulo bias of a 64-bit
  // draw over at most 2^40 items is far below anything a course could notice).
  for (int64_t i = n - 1; i > 0; --i) {
    philox::Block block = philox::generate(state.seed, offset + static_cast<uint64_t>(i), 3);
    uint64_t draw = (static_cast<uint64_t>(block.word[0]) << 32) | block.word[1];
    int64_t j = static_cast<int64_t>(draw % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace ember
