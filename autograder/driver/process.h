// Running one child program in isolation: its own process group, stdin from /dev/null,
// stdout and stderr into a log file, a wall-clock budget after which the whole group is
// killed.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ember::grade {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is searched in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // set (or replace) in the child
  std::string log_path;           // stdout and stderr of the child (truncated first)
  double timeout_seconds = 0;     // <= 0: no limit
  unsigned long long max_file_bytes = 0;  // RLIMIT_FSIZE for the child (SIGXFSZ); 0: inherit
  // A descriptor of ours the child gets as its fd 3 (kProgressFd), e.g. our stderr, so it can
  // show progress on our terminal while its stdout and stderr go to the log; -1: none.
  int progress_fd = -1;
  // A descriptor of ours the child gets as its fd 4 (kResultsFd): the checker's results file,
  // which has no name left by then (see grader.cpp), so nothing else can find or rewrite it.
  int results_fd = -1;
};

inline constexpr int kProgressFd = 3;
inline constexpr int kResultsFd = 4;

struct ProcessOutcome {
  enum class Status {
    Exited,         // exit_code is valid
    Signaled,       // signal is valid
    TimedOut,       // killed (with its group) after timeout_seconds
    FailedToStart,  // error says why (no such program, cannot open the log, ...)
    Interrupted,    // the driver got SIGINT/SIGTERM; the child's group was killed
  };
  Status status = Status::FailedToStart;
  int exit_code = 0;
  int signal = 0;
  std::string error;
  double seconds = 0;
};

// Never throws for a problem with the child; only std::bad_alloc can escape.
ProcessOutcome run_process(const ProcessSpec& spec);

// "SIGSEGV (segmentation fault)", "signal 42" for ones without a name.
std::string describe_signal(int signal);

// SIGINT/SIGTERM set a flag that run_process polls: the child group is killed, and
// run_process returns Interrupted. interrupted() reports the flag.
void install_interrupt_handlers();
bool interrupted();
int interrupt_signal();

}  // namespace ember::grade
