// Tests for the thread pool and parallel_for (engine/src/fast_cpu/thread_pool.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <ember/error.h>

#include "fast_cpu/thread_pool.h"

namespace ember::cpu {
namespace {

// Sets the thread count for one test and restores the previous count afterwards, so tests do
// not leak settings into each other (they all share the one global pool).
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

struct Chunk {
  int64_t lo, hi;
  std::thread::id thread;
};

// Runs parallel_for and records every chunk it hands out.
std::vector<Chunk> record_chunks(int64_t begin, int64_t end, int64_t grain) {
  std::mutex mutex;
  std::vector<Chunk> chunks;
  parallel_for(begin, end, grain, [&](int64_t lo, int64_t hi) {
    std::lock_guard<std::mutex> lock(mutex);
    chunks.push_back({lo, hi, std::this_thread::get_id()});
  });
  std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.lo < b.lo; });
  return chunks;
}

TEST(ThreadPool, NumThreadsIsPositive) { EXPECT_GE(num_threads(), 1); }

TEST(ThreadPool, SetNumThreadsValidates) {
  ThreadCount restore(num_threads());
  EXPECT_THROW(set_num_threads(0), Error);
  EXPECT_THROW(set_num_threads(-3), Error);
  EXPECT_THROW(set_num_threads(1 << 20), Error);
  set_num_threads(3);
  EXPECT_EQ(num_threads(), 3);
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadCount tc(threads);
    for (auto [begin, end, grain] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {0, 1000, 1}, {0, 1000, 7}, {5, 1006, 100}, {-50, 50, 3}, {0, 17, 16},
             {0, 100000, 1000}, {3, 4, 1}, {0, 64, 0},
             {0, 30, 10}, {0, 20, 10}}) {  // 3 and 2 chunks: fewer than 4 threads' home ranges
      std::vector<std::atomic<int>> hits(static_cast<size_t>(end - begin));
      parallel_for(begin, end, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i - begin)].fetch_add(1);
      });
      for (size_t i = 0; i < hits.size(); ++i) {
        ASSERT_EQ(hits[i].load(), 1) << "index " << begin + static_cast<int64_t>(i)
                                     << " threads=" << threads << " grain=" << grain;
      }
    }
  }
}

TEST(ThreadPool, ChunksRespectGrainAndTileTheRange) {
  for (int threads : {1, 2, 4}) {
    ThreadCount tc(threads);
    for (auto [n, grain] : std::vector<std::pair<int64_t, int64_t>>{
             {1000, 1}, {1000, 10}, {1000, 333}, {1000, 999}, {1000, 1000}, {1001, 500}, {10, 3}}) {
      std::vector<Chunk> chunks = record_chunks(100, 100 + n, grain);
      ASSERT_FALSE(chunks.empty());
      int64_t expect_lo = 100;
      for (const Chunk& c : chunks) {
        EXPECT_EQ(c.lo, expect_lo) << "chunks must be contiguous and disjoint";
        EXPECT_GE(c.hi - c.lo, grain) << "n=" << n << " grain=" << grain;
        expect_lo = c.hi;
      }
      EXPECT_EQ(expect_lo, 100 + n);
    }
  }
}

TEST(ThreadPool, SmallRangeRunsInlineAsOneCall) {
  ThreadCount tc(2);
  std::vector<Chunk> chunks = record_chunks(10, 20, 10);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].lo, 10);
  EXPECT_EQ(chunks[0].hi, 20);
  EXPECT_EQ(chunks[0].thread, std::this_thread::get_id());
}

TEST(ThreadPool, RangeOfLessThanTwoGrainsRunsOnTheCallerAsOneCall) {
  // 19 items with a grain of 10 make one chunk; a worker would take it while the caller waited.
  // The call is not a job of the pool at all: inside it, the caller is in no parallel region.
  ThreadCount tc(2);
  int calls = 0;
  bool in_region = true;
  parallel_for(10, 29, 10, [&](int64_t lo, int64_t hi) {
    ++calls;
    in_region = in_parallel_region();
    EXPECT_EQ(lo, 10);
    EXPECT_EQ(hi, 29);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(in_region);
}

TEST(ThreadPool, SingleThreadRunsInlineAsOneCall) {
  ThreadCount tc(1);
  std::vector<Chunk> chunks = record_chunks(0, 100000, 1);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].lo, 0);
  EXPECT_EQ(chunks[0].hi, 100000);
  EXPECT_EQ(chunks[0].thread, std::this_thread::get_id());
}

TEST(ThreadPool, EmptyOrReversedRangeDoesNothing) {
  ThreadCount tc(2);
  int calls = 0;
  parallel_for(5, 5, 1, [&](int64_t, int64_t) { ++calls; });
  parallel_for(7, 3, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, RangeTooLargeForInt64IsRejected) {
  int calls = 0;
  EXPECT_THROW(parallel_for(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                            1, [&](int64_t, int64_t) { ++calls; }),
               Error);
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadCount tc(2);
  EXPECT_FALSE(in_parallel_region());
  std::atomic<int> bad{0}, outer_items{0}, inner_items{0}, outer_chunks{0};
  parallel_for(0, 64, 1, [&](int64_t lo, int64_t hi) {
    if (!in_parallel_region()) bad.fetch_add(1);
    outer_chunks.fetch_add(1);
    outer_items.fetch_add(static_cast<int>(hi - lo));
    const std::thread::id me = std::this_thread::get_id();
    int calls = 0;
    parallel_for(0, 1000, 1, [&](int64_t ilo, int64_t ihi) {
      ++calls;
      if (ilo != 0 || ihi != 1000 || std::this_thread::get_id() != me) bad.fetch_add(1);
      inner_items.fetch_add(static_cast<int>(ihi - ilo));
    });
    if (calls != 1) bad.fetch_add(1);
  });
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(outer_items.load(), 64);
  EXPECT_GT(outer_chunks.load(), 1);  // the outer loop really was split
  EXPECT_EQ(inner_items.load(), 1000 * outer_chunks.load());
  EXPECT_FALSE(in_parallel_region());
}

TEST(ThreadPool, UsesTheWorkers) {
  // Every chunk waits (up to 5 s) until two different threads have entered a chunk, so this
  // only passes if a worker really picks up work alongside the caller.
  ThreadCount tc(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      seen.insert(std::this_thread::get_id());
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (seen.size() >= 2) return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ThreadPool, ExceptionPropagatesAfterAllChunksRan) {
  ThreadCount tc(2);
  std::atomic<int64_t> items{0};
  try {
    parallel_for(0, 1000, 10, [&](int64_t lo, int64_t hi) {
      items.fetch_add(hi - lo);
      if (lo <= 500 && 500 < hi) throw std::runtime_error("chunk with 500 failed");
    });
    FAIL() << "parallel_for did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "chunk with 500 failed");
  }
  EXPECT_EQ(items.load(), 1000);  // every chunk still ran

  // Several failing chunks: exactly one exception comes out, of the right type.
  EXPECT_THROW(parallel_for(0, 100, 1, [](int64_t, int64_t) { throw Error("every chunk fails"); }),
               Error);

  // The pool is still usable afterwards.
  std::atomic<int64_t> sum{0};
  parallel_for(0, 1000, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) sum.fetch_add(i);
  });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
}

TEST(ThreadPool, ExceptionFromInlineRunPropagates) {
  ThreadCount tc(1);
  EXPECT_THROW(parallel_for(0, 10, 1, [](int64_t, int64_t) { throw std::logic_error("x"); }),
               std::logic_error);
}

TEST(ThreadPool, SetNumThreadsInsideTaskThrows) {
  ThreadCount tc(2);
  std::atomic<int> threw{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    try {
      set_num_threads(1);
    } catch (const Error&) {
      threw.fetch_add(1);
    }
  });
  EXPECT_EQ(threw.load(), 2);
  EXPECT_EQ(num_threads(), 2);
}

TEST(ThreadPool, ManyBackToBackJobsAndSleepingWorkers) {
  ThreadCount tc(2);
  // Back-to-back jobs (workers spinning) interleaved with pauses long enough for the workers to
  // go to sleep, so both the fast path and the wake-up path are exercised.
  std::vector<int64_t> data(4096, 1);
  for (int round = 0; round < 2000; ++round) {
    std::atomic<int64_t> sum{0};
    parallel_for(0, static_cast<int64_t>(data.size()), 256, [&](int64_t lo, int64_t hi) {
      int64_t s = 0;
      for (int64_t i = lo; i < hi; ++i) s += data[static_cast<size_t>(i)];
      sum.fetch_add(s);
    });
    ASSERT_EQ(sum.load(), 4096) << "round " << round;
    if (round % 200 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(ThreadPool, ConcurrentCallersFromSeveralThreads) {
  ThreadCount tc(2);
  // Several user threads call parallel_for at once: one gets the pool, the others run inline.
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        std::vector<std::atomic<int>> hits(500);
        parallel_for(0, 500, 7, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        for (auto& h : hits) {
          if (h.load() != 1) failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ThreadPool, ResizeBetweenJobs) {
  ThreadCount tc(1);
  for (int threads : {2, 4, 1, 3, 2}) {
    set_num_threads(threads);
    std::atomic<int64_t> items{0};
    parallel_for(0, 10000, 10, [&](int64_t lo, int64_t hi) { items.fetch_add(hi - lo); });
    EXPECT_EQ(items.load(), 10000);
  }
}

}  // namespace
}  // namespace ember::cpu
