// The benchmark harness: timing, the list of workloads, and the report format.
//
// It mirrors the PyTorch reference scripts (shared/bench-reference/common.py) so that the
// two columns of `make bench-compare` measure the same thing in the same way:
//   * time_it runs a workload `warmup` times untimed, then `reps` times timed, and keeps
//     the median, min and max wall time (as common.timeit);
//   * BENCH_REPS (default 7) and BENCH_WARMUP (default 2) are read from the environment,
//     and each workload derives its repetitions from them by the same formula its script
//     uses (e.g. the RNN step runs max(BENCH_REPS, 51) times);
//   * every result is printed as one line in common.report's format:
//       <name, padded to 40> median   0.123456 s  (min 0.120000 max 0.130000)      12.34 unit
//     which is also what bench/compare.sh parses, from both programs.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ember::bench {

struct Stats {
  double median = 0.0;  // seconds
  double min = 0.0;
  double max = 0.0;
};

// How often to run a workload: timed repetitions after untimed warm-up runs.
struct Repetitions {
  int reps;
  int warmup;
};

// Settings for the whole run, from the environment and the command line.
struct Settings {
  int reps = 7;         // BENCH_REPS, as common.REPS
  int warmup = 2;       // BENCH_WARMUP, as common.WARMUP
  bool quick = false;   // --quick: at most 3 timed runs and 1 warm-up per workload
  bool phases = false;  // --phases: also report how each workload's time splits (see phase())
  // --cpu-time: time with the process's CPU time instead of the wall clock. On a machine
  // shared with other work, with EMBER_NUM_THREADS=1, this measures our own work and not
  // the time spent waiting for a core (worker threads' idle spinning would count, so it is
  // meant for one thread).
  bool cpu_time = false;
};
Settings& settings();

// The repetitions a script's default would give (REPS, WARMUP), before --quick.
inline Repetitions default_repetitions() { return {settings().reps, settings().warmup}; }

// Applies --quick to a workload's repetitions (fewer runs; never fewer than one).
Repetitions effective(Repetitions repetitions);

// Median, min and max wall time of fn() over the timed runs (as common.timeit).
Stats time_it(const std::function<void()>& fn, Repetitions repetitions);

// With --phases, a workload marks where each part of its step begins, e.g.
//   phase("forward"); ... phase("backward"); ... phase(nullptr);
// and the line gets a note saying how the timed runs' wall time split between the parts
// (share of the total and mean time per occurrence). Without --phases it does nothing.
void phase(const char* name);
// The note for the phases marked during the last time_it (empty without --phases),
// then forgets them.
std::string take_phase_summary();

// What one workload measured: its times and, optionally, a throughput (GFLOP/s, ...).
struct Measurement {
  Stats stats;
  std::optional<double> throughput;
  std::string unit;
  std::string name_suffix;          // appended to the name, e.g. " (312 ep)"
  std::vector<std::string> notes;   // extra lines printed (indented) under the result
};

// One line of the report. `group` is the reference script it matches (sgemm, mlp, ...);
// `name` is what --filter matches and --list prints.
struct Workload {
  std::string group;
  std::string name;
  std::function<Measurement()> run;
};

// The workloads of this run, in the order they are added and printed.
class Registry {
 public:
  void add(std::string group, std::string name, std::function<Measurement()> run);
  const std::vector<Workload>& workloads() const { return workloads_; }

 private:
  std::vector<Workload> workloads_;
};

// The result line, exactly as common.report formats it.
std::string format_result(const std::string& name, const Measurement& measurement);
// A note line under a result: 40 spaces, 3 more, then the text (as mlp.py's GFLOP/s line).
std::string format_note(const std::string& text);

// Seconds since an arbitrary start, for workloads that time phases themselves.
inline double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// The clock time_it and phase() read: now_seconds(), or the process's CPU time with
// --cpu-time.
double measured_seconds();

}  // namespace ember::bench
