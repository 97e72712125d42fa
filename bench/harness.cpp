#include "harness.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ember::bench {

Settings& settings() {
  static Settings instance;
  return instance;
}

double measured_seconds() {
  if (!settings().cpu_time) return now_seconds();
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

Repetitions effective(Repetitions repetitions) {
  Repetitions result = repetitions;
  if (settings().quick) {
    result.reps = std::min(result.reps, 3);
    result.warmup = std::min(result.warmup, 1);
  }
  result.reps = std::max(result.reps, 1);
  result.warmup = std::max(result.warmup, 0);
  return result;
}

namespace {

struct PhaseTotal {
  std::string name;
  double seconds = 0.0;
  int64_t count = 0;
};

struct PhaseState {
  bool recording = false;  // only during the timed runs
  std::vector<PhaseTotal> totals;
  int current = -1;  // index into totals, or -1 between phases
  double started = 0.0;
  double timed_seconds = 0.0;
  std::string summary;
};

PhaseState& phase_state() {
  static PhaseState state;
  return state;
}

void summarize_phases(PhaseState& state) {
  state.summary.clear();
  if (state.totals.empty() || state.timed_seconds <= 0.0) return;
  std::vector<std::string> parts;
  double marked = 0.0;
  for (const PhaseTotal& p : state.totals) {
    marked += p.seconds;
    parts.push_back(fmt::format("{} {:.0f}% ({:.1f} us x{})", p.name, 100.0 * p.seconds / state.timed_seconds,
                                1e6 * p.seconds / static_cast<double>(p.count), p.count));
  }
  parts.push_back(fmt::format("unmarked {:.0f}%", 100.0 * (state.timed_seconds - marked) / state.timed_seconds));
  state.summary = "phases: " + fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

void phase(const char* name) {
  PhaseState& state = phase_state();
  if (!state.recording) return;
  const double now = measured_seconds();
  if (state.current >= 0) {
    state.totals[static_cast<std::size_t>(state.current)].seconds += now - state.started;
  }
  state.current = -1;
  if (name == nullptr) return;
  for (std::size_t i = 0; i < state.totals.size(); ++i) {
    if (state.totals[i].name == name) state.current = static_cast<int>(i);
  }
  if (state.current < 0) {
    state.totals.push_back({name, 0.0, 0});
    state.current = static_cast<int>(state.totals.size()) - 1;
  }
  state.totals[static_cast<std::size_t>(state.current)].count += 1;
  state.started = now;
}

std::string take_phase_summary() {
  std::string summary = std::move(phase_state().summary);
  phase_state().summary.clear();
  return summary;
}

Stats time_it(const std::function<void()>& fn, Repetitions repetitions) {
  const Repetitions runs = effective(repetitions);
  for (int i = 0; i < runs.warmup; ++i) fn();
  PhaseState& state = phase_state();
  state = PhaseState{};
  state.recording = settings().phases;
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(runs.reps));
  for (int i = 0; i < runs.reps; ++i) {
    const double start = measured_seconds();
    fn();
    phase(nullptr);
    times.push_back(measured_seconds() - start);
    state.timed_seconds += times.back();
  }
  state.recording = false;
  summarize_phases(state);
  std::sort(times.begin(), times.end());
  // statistics.median: the middle value, or the mean of the two middle ones.
  const std::size_t n = times.size();
  const double median = n % 2 == 1 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  return {median, times.front(), times.back()};
}

void Registry::add(std::string group, std::string name, std::function<Measurement()> run) {
  workloads_.push_back({std::move(group), std::move(name), std::move(run)});
}

std::string format_result(const std::string& name, const Measurement& measurement) {
  const Stats& s = measurement.stats;
  std::string line = fmt::format("{:<40} median {:10.6f} s  (min {:.6f} max {:.6f})",
                                 name + measurement.name_suffix, s.median, s.min, s.max);
  if (measurement.throughput) {
    line += fmt::format("  {:10.2f} {}", *measurement.throughput, measurement.unit);
  }
  return line;
}

std::string format_note(const std::string& text) { return fmt::format("{:40}   {}", "", text); }

}  // namespace ember::bench
