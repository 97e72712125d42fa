// The engine's one thread pool and its parallel_for.
//
// Every parallel CPU kernel in Ember (matrix multiply, large element-wise ops, reductions) goes
// through parallel_for below. There is exactly one pool of worker threads for the whole process:
// it is created the first time it is needed and shut down at exit. Between jobs the workers spin
// for a short while (so back-to-back calls are cheap) and then sleep on a condition variable (so
// an idle engine uses no CPU).
#pragma once

#include <cstdint>
#include <functional>

namespace ember::cpu {

// Number of threads parallel_for uses, counting the calling thread. Defaults to the number of
// hardware threads, or to the EMBER_NUM_THREADS environment variable when it holds a positive
// integer.
int num_threads();

// Changes the thread count (n >= 1; throws ember::Error otherwise, and when called from inside a
// parallel_for task). Waits for a parallel_for that is running on another thread to finish first.
void set_num_threads(int n);

// Splits [begin, end) into chunks of at least `grain` items and calls fn(lo, hi) on them, using the
// calling thread plus the pool's workers. Runs inline (a single call fn(begin, end)) when the range
// makes only one chunk (end - begin < 2 * grain), when num_threads() == 1, or when called from
// inside a pool task (no nested parallelism, so no deadlock). It also runs inline when another
// thread is using the pool at that moment, and for 100 ms after callers spent more than a quarter
// of their recent jobs waiting for workers that lost their core mid-chunk (a busy machine;
// thread_pool.cpp explains). Every chunk runs, even after one of them throws; then the first
// exception thrown by fn is rethrown in the caller. A grain below 1 counts as 1. On a quiet
// machine the caller takes the first share of the range and worker i the (i+1)-th, the same
// for every call, so that ops over one tensor find its parts in the same cores' caches.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// True while the current thread is running a chunk of a parallel_for that was split across the
// pool (so a nested parallel_for would run inline). Kernels use it to avoid splitting work into
// pieces that would only run one after another.
bool in_parallel_region();

}  // namespace ember::cpu
