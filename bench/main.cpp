// ember_bench: Ember's side of the benchmark comparison with PyTorch.
//
//   ember_bench [--filter SUBSTRING] [--list] [--quick] [--phases] [--cpu-time]
//   env: BENCH_REPS (7), BENCH_WARMUP (2), EMBER_NUM_THREADS (all hardware threads)
//
// Runs the workloads of shared/bench-reference/*.py with the same shapes and prints one
// line per workload in the scripts' format (see harness.h), after a header naming the
// GEMM kernel, the thread count and the CPU, and before the peak memory of the run.
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "ember/backend.h"
#include "fast_cpu/gemm.h"
#include "fast_cpu/thread_pool.h"
#include "workloads.h"

namespace {

using namespace ember::bench;

constexpr const char* kUsage =
    "usage: ember_bench [--filter SUBSTRING] [--list] [--quick] [--phases] [--cpu-time]\n"
    "  --filter S  run only the workloads whose name contains S (e.g. 'mlp', 'n=1024')\n"
    "  --list      print the workload names and exit\n"
    "  --quick     at most 3 timed runs and 1 warm-up per workload\n"
    "  --phases    also say how each workload's time splits (data, forward, backward, ...)\n"
    "  --cpu-time  time with process CPU time, not wall time (for a busy machine; use it\n"
    "              with EMBER_NUM_THREADS=1, or idle workers' spinning is counted too)\n"
    "env: BENCH_REPS (default 7) and BENCH_WARMUP (default 2), as the PyTorch scripts;\n"
    "     EMBER_NUM_THREADS (default: every hardware thread)\n";

struct Options {
  std::string filter;
  bool list = false;
};

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0) {
    std::cerr << fmt::format("ember_bench: ignoring {}={} (not a whole number)\n", name, text);
    return fallback;
  }
  return static_cast<int>(value);
}

// The CPU as /proc/cpuinfo names it; family and model say which generation a
// hypervisor's plain "AMD EPYC" is (family 26 is Zen 5).
std::string cpu_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model_name = "unknown CPU", family, model;
  auto value_of = [](const std::string& l) {
    std::size_t colon = l.find(':');
    return colon == std::string::npos ? std::string() : l.substr(l.find_first_not_of(" \t", colon + 1));
  };
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model_name = value_of(line);
    } else if (line.rfind("cpu family", 0) == 0) {
      family = value_of(line);
    } else if (line.rfind("model", 0) == 0 && model.empty()) {
      model = value_of(line);
    } else if (line.empty() && !family.empty()) {
      break;  // the first processor is enough
    }
  }
  return fmt::format("{} (family {}, model {})", model_name, family, model);
}

double peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

bool parse_arguments(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--filter" && i + 1 < argc) {
      options.filter = argv[++i];
    } else if (arg.rfind("--filter=", 0) == 0) {
      options.filter = arg.substr(std::strlen("--filter="));
    } else if (arg == "--list") {
      options.list = true;
    } else if (arg == "--quick") {
      settings().quick = true;
    } else if (arg == "--phases") {
      settings().phases = true;
    } else if (arg == "--cpu-time") {
      settings().cpu_time = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      std::cerr << "ember_bench: unknown argument '" << arg << "'\n" << kUsage;
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_arguments(argc, argv, options)) return 2;
  settings().reps = env_int("BENCH_REPS", 7);
  settings().warmup = env_int("BENCH_WARMUP", 2);

  Registry registry;
  add_sgemm_workloads(registry);
  add_mlp_workloads(registry);
  add_regression_workloads(registry);
  add_rnn_workloads(registry);
  add_conv_workloads(registry);
  add_attention_workloads(registry);
#ifdef EMBER_BENCH_GPT
  add_gpt_workloads(registry);  // needs the course library (tiny Shakespeare)
#endif
  add_overhead_workloads(registry);
  add_cuda_workloads(registry);

  auto selected = [&](const std::string& name) {
    return options.filter.empty() || name.find(options.filter) != std::string::npos;
  };
  if (options.list) {
    for (const Workload& w : registry.workloads()) {
      if (selected(w.name)) std::cout << w.name << "\n";
    }
    return 0;
  }

  std::cout << fmt::format(
      "# ember_bench: backend {}, gemm kernel {}, threads {}, reps={} warmup={}{}, clock {}, build {}\n",
      // Which CPU backend ran (EMBER_BACKEND); the gemm kernel is the fast backend's.
      ember::backend_for(ember::Device::cpu()).name(), ember::cpu::gemm_kernel_name(), ember::cpu::num_threads(), settings().reps, settings().warmup,
      settings().quick ? " (--quick)" : "", settings().cpu_time ? "process CPU time" : "wall",
      EMBER_BENCH_BUILD_TYPE);
  std::cout << "# cpu: " << cpu_description() << "\n" << std::flush;

  const double start = now_seconds();
  int failures = 0;
  std::string group;
  for (const Workload& w : registry.workloads()) {
    if (!selected(w.name)) continue;
    if (w.group != group) {
      group = w.group;
      std::cout << "# " << group << "\n" << std::flush;
    }
    try {
      Measurement m = w.run();
      std::cout << format_result(w.name, m) << "\n";
      std::string phases = take_phase_summary();
      if (!phases.empty()) m.notes.push_back(phases);
      for (const std::string& note : m.notes) std::cout << format_note(note) << "\n";
    } catch (const std::exception& e) {
      std::cout << fmt::format("{:<40} FAILED: {}\n", w.name, e.what());
      ++failures;
    }
    std::cout << std::flush;
  }
  if (!ember::cuda::is_available() && selected("cuda")) {
    std::cout << "cuda: skipped (no CUDA device)\n";
  }
  std::cout << fmt::format("# peak memory (max RSS): {:.1f} MB; total time {:.1f} s\n",
                           peak_memory_mb(), now_seconds() - start);
  return failures == 0 ? 0 : 1;
}
