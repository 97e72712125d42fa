// The engine's thread pool. See thread_pool.h for the contract; this file explains the mechanics.
//
// Shape of a job
// --------------
// parallel_for cuts [begin, end) into `nchunks` nearly equal chunks. The calling thread publishes
// the job in the pool, wakes the workers, and then works on the job itself. The chunks are dealt
// out in contiguous home ranges, one per participant: the caller's is the first, worker i's the
// (i+1)-th. Each participant claims the chunks of its own range in order (one atomic fetch_add
// on that range's cursor each), then helps with the others' ranges the same way, so a thread
// that starts late, or gets cheap chunks, simply does fewer. Why home ranges: consecutive ops
// over the same tensor then give each thread the same part of it (the first half of a
// (768, 512) activation to the caller, the second to the worker, in the product that writes it,
// the GELU that reads it and the add after), and the part stays in that core's cache instead of
// crossing to the other core at every op.
//
// Keeping the job alive
// ---------------------
// The job refers to `fn`, which lives on the caller's stack, so the caller must not return while
// any worker can still touch the job. One atomic 64-bit word, `state_`, guards this:
//
//     bits 32..63  generation  (incremented for every job, so workers can tell a new job from an old one)
//     bit  31      open        (workers may still join this job)
//     bits  0..30  the number of workers currently inside the job
//
// A worker joins with a compare-and-swap that only succeeds while the job is open, and leaves with
// a fetch_sub once it finds no chunk left. When the caller runs out of chunks it clears `open` and
// waits until the count drops to zero; from then on no worker can reach the job, so the caller may
// return. This costs a handful of atomic operations per job, and nobody waits for a sleeping
// worker to wake up: if a worker is slow to arrive, the caller just does its chunks.
//
// Idle workers
// ------------
// After a job a worker spins for up to kSpinMicros watching `state_` (a new job is picked up within
// nanoseconds, which matters for the many short element-wise ops a training step issues), then
// sleeps on a condition variable. The caller only touches the mutex when some worker is asleep.
//
// A busy machine
// --------------
// On a machine shared with other work (a build on the other core), the OS takes a worker's
// core away now and then, often in the middle of a chunk; the caller then waits for the
// worker's next time slice, a millisecond or more, for a chunk it could have done itself in
// microseconds. (On a 2-core machine with a build running, that waiting was a fifth of a GPT
// training step.) So the pool keeps count: of every kWindowMillis that jobs take, how long
// their callers spent waiting for a worker's last chunk (a wait counts from kStragglerMicros).
// When that is more than a quarter of the window, the pool runs jobs on the caller alone for
// the next kInlineMillis, then tries the workers again. set_num_threads() ends that period at
// once (the count goes on).
// One wait alone decides nothing: on a quiet machine a worker that was asleep, or a chunk
// longer than the caller's, also makes the caller wait a few hundred microseconds now and
// then, and going inline for each of those cost a third of a GPT step's speed on two cores.
//
// Lifetime
// --------
// The pool is created on first use and shut down (workers joined) by a static object's destructor
// at exit. The bookkeeping it needs afterwards is deliberately never destroyed, so a parallel_for
// issued by some other static destructor after that point still works: it simply runs inline.
#include "fast_cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <ember/error.h>

namespace ember::cpu {
namespace {

// How long an idle worker keeps polling for the next job before it goes to sleep. Long enough to
// bridge the gap between consecutive ops of a forward/backward pass, short enough that an idle
// engine quickly stops burning a core.
constexpr int64_t kSpinMicros = 200;
// Upper bound for set_num_threads / EMBER_NUM_THREADS, only to reject absurd values early.
constexpr int kMaxThreads = 1024;
// parallel_for makes up to this many chunks per thread, so that the work still balances when one
// thread starts late or runs slower (for example when the machine is busy).
constexpr int64_t kChunksPerThread = 4;
// A caller's wait for a worker's last chunk counts as a stall from this long ...
constexpr int64_t kStragglerMicros = 50;
// ... and when stalls are more than a quarter of this much job time ...
constexpr int64_t kWindowMillis = 20;
// ... parallel_for runs jobs inline for this long (see "A busy machine" above).
constexpr int64_t kInlineMillis = 100;

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Until when (steady_now_ns) parallel_for runs jobs inline; 0: it does not.
std::atomic<int64_t> g_inline_until_ns{0};

// True on a pool worker thread, and on the calling thread while it runs chunks of its own job.
thread_local bool t_in_pool_task = false;

// One iteration of a spin-wait loop: tells the CPU we are spinning (saves power, and avoids a
// pipeline flush when the awaited write arrives).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

int parse_thread_count(const char* text) {
  // Accept only a plain positive decimal integer; anything else falls back to the hardware count.
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 1 || value > kMaxThreads) return 0;
  return static_cast<int>(value);
}

int default_thread_count() {
  if (int n = parse_thread_count(std::getenv("EMBER_NUM_THREADS")); n > 0) return n;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, kMaxThreads));
}

class Pool {
 public:
  explicit Pool(int num_workers) {
    // With more threads than cores a spinning worker may be keeping the thread it waits for off
    // the CPU, so in that case spinning threads also yield now and then.
    unsigned cores = std::thread::hardware_concurrency();
    oversubscribed_ = cores != 0 && static_cast<unsigned>(num_workers) + 1 > cores;
    workers_.reserve(static_cast<size_t>(num_workers));
    try {
      for (int i = 0; i < num_workers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
    } catch (...) {
      // The OS refused a thread. Stop the ones already started (destroying a joinable
      // std::thread would terminate the program) and let the caller decide what to do.
      stop_workers();
      throw;
    }
  }

  ~Pool() { stop_workers(); }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int num_workers() const { return static_cast<int>(workers_.size()); }

  // Runs fn over [begin, begin + n) in `nchunks` chunks, on this thread and the workers.
  // Not reentrant: the caller serialises jobs (see Global::submit).
  void run(int64_t begin, int64_t n, int64_t nchunks,
           const std::function<void(int64_t, int64_t)>& fn) {
    fn_ = &fn;
    begin_ = begin;
    chunk_size_ = n / nchunks;
    chunk_extra_ = n % nchunks;  // the first chunk_extra_ chunks get one more item
    // Participant t's home range is chunks [first(t), first(t + 1)), first(t) = ceil(t * nchunks
    // / P): balanced, and with fewer chunks than participants the caller's is still not empty.
    const int64_t participants = num_workers() + 1;
    auto first = [&](int64_t t) { return (t * nchunks + participants - 1) / participants; };
    for (int64_t t = 0; t < participants; ++t) {
      ranges_[t].next.store(first(t), std::memory_order_relaxed);
      ranges_[t].end = first(t + 1);
    }
    failed_.store(false, std::memory_order_relaxed);
    error_ = nullptr;

    // Publish: the release/seq_cst store makes the fields above visible to any worker that sees
    // the new generation. No worker is inside a job here (the previous one ended with count 0).
    generation_ += 1;
    state_.store((generation_ << 32) | kOpen, std::memory_order_seq_cst);
    // Wake sleepers only if there are any. A worker going to sleep increments sleepers_ and
    // re-checks state_ under the mutex, so either it sees the new job or we see it asleep.
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_.notify_all();
    }

    bool was_in_task = t_in_pool_task;
    t_in_pool_task = true;
    const int64_t started = steady_now_ns();
    run_chunks(0);
    t_in_pool_task = was_in_task;

    // Close the job and wait for the workers still inside it (they are running their last chunk).
    state_.fetch_and(~kOpen, std::memory_order_acq_rel);
    int64_t waited = 0;
    if ((state_.load(std::memory_order_acquire) & kCountMask) != 0) {
      const int64_t wait_started = steady_now_ns();
      for (int spins = 0; (state_.load(std::memory_order_acquire) & kCountMask) != 0; ++spins) {
        if (spins < 4096 && !oversubscribed_) {
          cpu_relax();
        } else {
          std::this_thread::yield();  // a long wait, or more threads than cores: let it run
        }
      }
      waited = steady_now_ns() - wait_started;
    }
    count_stalls(started, waited);
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void stop_workers() {
    stop_.store(true);
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  // The bookkeeping of "A busy machine": adds this job's time and its caller's wait for a
  // straggler to the window, and at the window's end decides whether jobs go inline.
  void count_stalls(int64_t started, int64_t waited) {
    const int64_t now = steady_now_ns();
    window_job_ns_ += now - started;
    if (waited > kStragglerMicros * 1000) window_stall_ns_ += waited;
    if (window_job_ns_ < kWindowMillis * 1000000) return;
    if (4 * window_stall_ns_ > window_job_ns_) {
      g_inline_until_ns.store(now + kInlineMillis * 1000000, std::memory_order_relaxed);
    }
    window_job_ns_ = window_stall_ns_ = 0;
  }

  static constexpr uint64_t kOpen = uint64_t{1} << 31;
  static constexpr uint64_t kCountMask = kOpen - 1;

  // Participant `self` (0 the caller, i the i-th worker): its own range first, then the others'.
  void run_chunks(int self) {
    const int participants = num_workers() + 1;
    for (int step = 0; step < participants; ++step) {
      Range& range = ranges_[(self + step) % participants];
      // (A drained range is skipped with a plain load: no contended fetch_add on it.)
      while (range.next.load(std::memory_order_relaxed) < range.end) {
        const int64_t c = range.next.fetch_add(1, std::memory_order_relaxed);
        if (c >= range.end) break;
        const int64_t lo = begin_ + c * chunk_size_ + std::min(c, chunk_extra_);
        const int64_t hi = lo + chunk_size_ + (c < chunk_extra_ ? 1 : 0);
        try {
          (*fn_)(lo, hi);
        } catch (...) {
          // Keep the first exception; the other chunks still run (see thread_pool.h).
          if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
        }
      }
    }
  }

  // Waits until state_ shows a generation other than `seen` (or stop_); returns that state.
  uint64_t wait_for_job(uint64_t seen) {
    auto new_job = [&](uint64_t s) { return (s >> 32) != seen; };
    uint64_t s = state_.load(std::memory_order_acquire);
    if (new_job(s)) return s;
    // Phase 1: spin. Check the clock only every 256 iterations; reading it costs ~20ns.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 1;; ++i) {
      cpu_relax();
      s = state_.load(std::memory_order_acquire);
      if (new_job(s) || stop_.load(std::memory_order_relaxed)) return s;
      if (i % 256 == 0) {
        if (std::chrono::steady_clock::now() > deadline) break;
        if (oversubscribed_) std::this_thread::yield();
      }
    }
    // Phase 2: sleep until the caller publishes a job and notices us asleep.
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    wake_.wait(lock, [&] {
      s = state_.load(std::memory_order_seq_cst);
      return new_job(s) || stop_.load();
    });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return s;
  }

  void worker_loop(int self) {
    t_in_pool_task = true;  // anything a worker runs is a pool task: nested calls run inline
    // Generation 0 is "no job yet". Starting from 0, rather than from whatever state_ holds when
    // this thread gets going, means a job published before the thread started is not missed.
    uint64_t seen = 0;
    for (;;) {
      uint64_t s = wait_for_job(seen);
      if (stop_.load()) return;
      seen = s >> 32;
      // Join the job if it is still open. The CAS fails if the caller closed it meanwhile (then
      // there is nothing left for us) or if another worker joined first (then we retry).
      bool joined = false;
      while ((s >> 32) == seen && (s & kOpen)) {
        if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
          joined = true;
          break;
        }
      }
      if (!joined) continue;
      run_chunks(self);
      state_.fetch_sub(1, std::memory_order_release);  // after this we never touch the job again
    }
  }

  std::vector<std::thread> workers_;
  bool oversubscribed_ = false;
  std::atomic<uint64_t> state_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable wake_;

  // The current job. Written by the caller before publishing; read by workers that joined it.
  uint64_t generation_ = 0;  // only touched by the (serialised) callers
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t begin_ = 0, chunk_size_ = 0, chunk_extra_ = 0;
  // The home ranges (see "Shape of a job"): the next chunk to claim in each, and its end. One
  // cache line each, so that claiming in one's own range does not disturb the others.
  struct alignas(64) Range {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  Range ranges_[kMaxThreads];
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  // Job time and stall time in the current window (count_stalls); only the caller touches them.
  int64_t window_job_ns_ = 0, window_stall_ns_ = 0;
};

// Process-wide pool bookkeeping. Allocated once and never freed, so that it is still valid while
// static destructors run (see "Lifetime" above); the pool itself is joined and freed at exit.
struct Global {
  std::mutex submit;                // held while a job runs, and while the pool is resized
  std::unique_ptr<Pool> pool;       // created lazily with num_threads() - 1 workers
  std::atomic<int> threads{0};      // 0: not decided yet (read the environment on first use)
  std::atomic<bool> shut_down{false};
};

Global& global() {
  static Global* g = new Global;
  return *g;
}

// Joins the workers at exit. Constructed when the first pool is created, so it is destroyed during
// static destruction; the pool must not outlive main() with its threads still running, because
// destroying a joinable std::thread terminates the program.
struct ShutdownAtExit {
  ~ShutdownAtExit() {
    Global& g = global();
    g.shut_down.store(true);
    // If a job is still running (exit() called from a task, say) we cannot join; leave the pool
    // alone rather than hang. The process is ending either way.
    std::unique_lock<std::mutex> lock(g.submit, std::try_to_lock);
    if (lock.owns_lock()) g.pool.reset();
  }
};

}  // namespace

int num_threads() {
  Global& g = global();
  int n = g.threads.load(std::memory_order_relaxed);
  if (n == 0) {
    int expected = 0;
    g.threads.compare_exchange_strong(expected, default_thread_count());
    n = g.threads.load(std::memory_order_relaxed);
  }
  return n;
}

void set_num_threads(int n) {
  check(n >= 1 && n <= kMaxThreads, "set_num_threads: n must be between 1 and {}, got {}",
        kMaxThreads, n);
  check(!t_in_pool_task, "set_num_threads: cannot change the thread count from inside a parallel_for task");
  Global& g = global();
  std::lock_guard<std::mutex> lock(g.submit);  // wait for a running job to finish
  g.threads.store(n);
  g_inline_until_ns.store(0, std::memory_order_relaxed);  // try the workers again
  // Drop a pool of the wrong size now (its workers are idle: we hold `submit`); the next
  // parallel_for creates one of the right size.
  if (g.pool && g.pool->num_workers() != n - 1) g.pool.reset();
}

bool in_parallel_region() { return t_in_pool_task; }

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  int64_t n = 0;
  check(!__builtin_sub_overflow(end, begin, &n), "parallel_for: range [{}, {}) is too large",
        begin, end);
  grain = std::max<int64_t>(grain, 1);
  int threads = num_threads();
  // Chunks of at least `grain` items, a few per thread. With only one, a worker would take it
  // while the caller waited: the caller does it instead.
  const int64_t nchunks = std::min<int64_t>(n / grain, kChunksPerThread * threads);
  if (nchunks <= 1 || threads == 1 || t_in_pool_task) {
    fn(begin, end);
    return;
  }
  // A worker lost its core mid-job not long ago (see "A busy machine"): the caller works alone.
  if (const int64_t until = g_inline_until_ns.load(std::memory_order_relaxed); until != 0) {
    if (steady_now_ns() < until) {
      fn(begin, end);
      return;
    }
    g_inline_until_ns.store(0, std::memory_order_relaxed);
  }

  Global& g = global();
  // One job at a time. If another thread (a data loader, say) is using the pool right now, run
  // inline rather than wait: on a machine this size the pool's threads are busy anyway.
  std::unique_lock<std::mutex> lock(g.submit, std::try_to_lock);
  if (!lock.owns_lock() || g.shut_down.load()) {
    if (lock.owns_lock()) lock.unlock();
    fn(begin, end);
    return;
  }
  if (!g.pool || g.pool->num_workers() != threads - 1) {
    static ShutdownAtExit shutdown_at_exit;  // registered once, before the first pool exists
    g.pool.reset();
    try {
      g.pool = std::make_unique<Pool>(threads - 1);
    } catch (const std::system_error&) {
      // No threads to be had (a process or container limit): still get the work done.
      lock.unlock();
      fn(begin, end);
      return;
    }
  }
  g.pool->run(begin, n, nchunks, fn);
}

}  // namespace ember::cpu
