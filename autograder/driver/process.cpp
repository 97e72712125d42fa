#include "process.h"

#include "sandbox.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

extern char** environ;

namespace ember::grade {

namespace {

volatile sig_atomic_t g_interrupt_signal = 0;

void on_interrupt(int signal) { g_interrupt_signal = signal; }

std::string errno_text(int error) { return std::strerror(error); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Builds the child's environment: the driver's, with spec.env set or replaced.
std::vector<std::string> child_environment(const ProcessSpec& spec) {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const std::string_view key = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [name, value] : spec.env) replaced = replaced || key == name;
    if (!replaced) result.emplace_back(text);
  }
  for (const auto& [name, value] : spec.env) result.push_back(name + "=" + value);
  return result;
}

void decode_wait_status(int status, ProcessOutcome& outcome) {
  if (WIFSIGNALED(status)) {
    outcome.status = ProcessOutcome::Status::Signaled;
    outcome.signal = WTERMSIG(status);
  } else {
    outcome.status = ProcessOutcome::Status::Exited;
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
}

}  // namespace

ProcessOutcome run_process(const ProcessSpec& spec) {
  using Clock = std::chrono::steady_clock;
  ProcessOutcome outcome;
  if (spec.argv.empty() || spec.argv[0].empty()) {
    outcome.error = "no program to run";
    return outcome;
  }

  // Everything the child needs is prepared before fork().
  std::vector<std::string> env_strings = child_environment(spec);
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    outcome.error = "cannot create the log file " + spec.log_path + ": " + errno_text(errno);
    return outcome;
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    outcome.error = "cannot open /dev/null: " + errno_text(errno);
    close_fd(log_fd);
    return outcome;
  }
  int exec_pipe[2] = {-1, -1};  // the child reports a failed exec through it
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    outcome.error = "cannot create a pipe: " + errno_text(errno);
    close_fd(log_fd);
    close_fd(null_fd);
    return outcome;
  }

  const Clock::time_point start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    outcome.error = "cannot fork: " + errno_text(errno);
    close_fd(log_fd);
    close_fd(null_fd);
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
    return outcome;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    // The progress descriptor is copied out of the way first: it may be stderr itself,
    // which is about to become the log, and fd 3 may hold the log or /dev/null until
    // they are in place. The copy is close-on-exec; fd 3 (dup2) is not.
    const int progress_copy =
        spec.progress_fd >= 0 ? ::fcntl(spec.progress_fd, F_DUPFD_CLOEXEC, 10) : -1;
    const int results_copy = spec.results_fd >= 0 ? ::fcntl(spec.results_fd, F_DUPFD_CLOEXEC, 10) : -1;
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (progress_copy >= 0) ::dup2(progress_copy, kProgressFd);
    if (results_copy >= 0) ::dup2(results_copy, kResultsFd);
    struct sigaction default_action;
    std::memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &default_action, nullptr);
    ::sigaction(SIGINT, &default_action, nullptr);
    ::sigaction(SIGTERM, &default_action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (spec.max_file_bytes > 0) {
      struct rlimit limit;
      limit.rlim_cur = static_cast<rlim_t>(spec.max_file_bytes);
      limit.rlim_max = static_cast<rlim_t>(spec.max_file_bytes);
      struct rlimit current;
      if (::getrlimit(RLIMIT_FSIZE, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
          current.rlim_max < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max = current.rlim_max;
      }
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    const int error = errno;
    [[maybe_unused]] const ssize_t ignored = ::write(exec_pipe[1], &error, sizeof error);
    ::_exit(127);
  }

  // The parent. Setting the group here too closes the race with the child's own setpgid.
  ::setpgid(pid, pid);
  close_fd(log_fd);
  close_fd(null_fd);
  close_fd(exec_pipe[1]);
  int exec_error = 0;
  ssize_t got = 0;
  do {
    got = ::read(exec_pipe[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  close_fd(exec_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    sandbox::kill_and_reap(pid);
    outcome.status = ProcessOutcome::Status::FailedToStart;
    outcome.error = "cannot run " + spec.argv[0] + ": " + errno_text(exec_error);
    return outcome;
  }

  const auto budget = std::chrono::duration<double>(spec.timeout_seconds);
  while (true) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    // WNOWAIT leaves the child a zombie, so its process-group id stays reserved until we
    // have killed whatever else is left in the group.
    const int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == pid) {
      decode_wait_status(sandbox::kill_and_reap(pid), outcome);
      break;
    }
    if (rc != 0 && errno != EINTR) {  // cannot happen for our own child; be safe anyway
      decode_wait_status(sandbox::kill_and_reap(pid), outcome);
      break;
    }
    const auto elapsed = Clock::now() - start;
    if (g_interrupt_signal != 0) {
      sandbox::kill_and_reap(pid);
      outcome.status = ProcessOutcome::Status::Interrupted;
      break;
    }
    if (spec.timeout_seconds > 0 && elapsed >= budget) {
      sandbox::kill_and_reap(pid);
      outcome.status = ProcessOutcome::Status::TimedOut;
      break;
    }
    struct timespec pause = {0, 10 * 1000 * 1000};  // 10 ms
    ::nanosleep(&pause, nullptr);
  }
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return outcome;
}

std::string describe_signal(int signal) {
  struct Known {
    int number;
    const char* name;
    const char* meaning;
  };
  static const Known kKnown[] = {
      {SIGSEGV, "SIGSEGV", "segmentation fault"},
      {SIGABRT, "SIGABRT", "aborted"},
      {SIGFPE, "SIGFPE", "arithmetic error, e.g. integer division by zero"},
      {SIGBUS, "SIGBUS", "bus error"},
      {SIGILL, "SIGILL", "illegal instruction"},
      {SIGKILL, "SIGKILL", "killed"},
      {SIGTERM, "SIGTERM", "terminated"},
      {SIGINT, "SIGINT", "interrupted"},
      {SIGQUIT, "SIGQUIT", "quit"},
      {SIGHUP, "SIGHUP", "hangup"},
      {SIGPIPE, "SIGPIPE", "broken pipe"},
      {SIGTRAP, "SIGTRAP", "trace/breakpoint trap"},
      {SIGSYS, "SIGSYS", "bad system call"},
      {SIGXCPU, "SIGXCPU", "CPU time limit exceeded"},
      {SIGXFSZ, "SIGXFSZ", "file size limit exceeded: far too much output?"},
      {SIGALRM, "SIGALRM", "alarm clock"},
      {SIGUSR1, "SIGUSR1", "user signal 1"},
      {SIGUSR2, "SIGUSR2", "user signal 2"},
  };
  for (const Known& known : kKnown) {
    if (known.number == signal) return std::string(known.name) + " (" + known.meaning + ")";
  }
  return "signal " + std::to_string(signal);
}

void install_interrupt_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_interrupt_signal != 0; }

int interrupt_signal() { return g_interrupt_signal; }

}  // namespace ember::grade
