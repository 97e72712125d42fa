// Starting, asking and stopping the runner of the check under way. See runner_client.h.
//
// The checker learns from its environment (the driver sets it; CTest sets it for the
// solutions):
//   EMBER_RUNNER          the runner program, built from the student's files
//   EMBER_SANDBOX_LEVEL   sandbox or limits (sandbox.h); unset: found out here
//   EMBER_GRADE_BUDGET    the question's time budget in seconds; the runner's answers must come
//                         within it, counted from the checker's start
//   EMBER_GRADE_WORK      a private folder for the runner's log (default: TMPDIR)
//   EMBER_PROGRESS_FD     training progress (the driver's relay): passed to the runner as fd 4
// The runner gets none of the checker's environment beyond the device and the progress
// settings: in particular not EMBER_SEED. Its own seed is derived from the check's name and the
// grading seed by a one-way mix, so same seed, same result, and the checker's own random
// inputs cannot be predicted from inside.
#include "runner_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "grade_protocol.h"
#include "grading.h"
#include "sandbox.h"

namespace ember::grading {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const Clock::time_point g_start = Clock::now();

std::string env_or(const char* name, const std::string& fallback = {}) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// The deadline of every answer: the question's budget, less a second for the checker to
// write its results.
wire::Deadline deadline() {
  const std::string budget = env_or("EMBER_GRADE_BUDGET");
  if (budget.empty()) return wire::Deadline::max();
  const double seconds = std::max(1.0, std::strtod(budget.c_str(), nullptr) - 1.0);
  return g_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// A seed for the runner from the grading seed and a key (the check's name): the first 63 bits
// of SHA-256, which cannot be inverted, so the runner cannot work out the grading seed (and so
// the checker's own random inputs) from the seeds it is given.
std::int64_t derived_seed(const std::string& key) {
  return static_cast<std::int64_t>(hashed_seed("ember runner seed", key));
}

std::int64_t runner_seed() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return derived_seed(test != nullptr ? std::string(test->test_suite_name()) + "." + test->name() : std::string());
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find(separator, begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) parts.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

std::string log_tail(const std::string& path, std::size_t lines = 12) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 8192);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> kept;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    kept.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  if (kept.size() > lines) kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(lines));
  std::string out;
  for (const std::string& line : kept) out += "\n  " + protocol::show_controls(line.substr(0, 300));
  return out;
}

// "crashed with signal SIGSEGV (Segmentation fault)"
std::string crashed_with(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  const char* description = ::strsignal(signal);
  return fmt::format("crashed with signal {}{} ({})", abbreviation ? "SIG" : "",
                     abbreviation ? abbreviation : std::to_string(signal), description ? description : "unknown");
}

class RunnerProcess {
 public:
  RunnerProcess() { start(); }
  ~RunnerProcess() { stop(); }
  RunnerProcess(const RunnerProcess&) = delete;
  RunnerProcess& operator=(const RunnerProcess&) = delete;

  Value ask(const std::vector<Value>& request) {
    // How the request is named in a message: the first one starts the runner.
    std::string command = request.empty() ? "?" : request[0].text;
    if (command == "seed") command = "start";
    if (command == "call" && request.size() > 2) command = request[2].text;
    Value answer;
    try {
      wire::write_frame(channel_, Value::list(request), deadline());
      answer = wire::read_frame(channel_, deadline(), 256ULL << 20);
    } catch (const wire::ChannelTimeout&) {
      stop();
      budget_spent() = true;
      throw RunnerFailure(fmt::format("the question's time budget ({} s) ran out while the runner was "
                                      "doing '{}'{}",
                                      env_or("EMBER_GRADE_BUDGET", "?"), command, output()));
    } catch (const wire::ChannelClosed&) {
      const std::string how = stop();
      throw RunnerFailure(fmt::format("the runner {} while doing '{}'{}", how, command, output()));
    } catch (const wire::ProtocolError& e) {
      stop();
      throw RunnerFailure(fmt::format("the runner sent something that is not an answer to '{}' ({}); "
                                      "was its output channel written to?{}",
                                      command, e.what(), output()));
    }
    // A frame that is well formed but not an answer is the runner's fault too: it is stopped.
    std::string kind, type, message;
    try {
      const std::vector<Value>& parts = answer.as_list("an answer");
      const std::string& status = parts.empty() ? std::string() : parts[0].as_text("an answer's status");
      if (status == "ok" && parts.size() == 2) return parts[1];
      if (status != "error" || parts.size() != 4) throw wire::ProtocolError("neither ok nor error");
      kind = parts[1].as_text("an error's kind");
      type = parts[2].as_text("an error's type");
      message = parts[3].as_text("an error's message");
      if (kind != "not_implemented" && kind != "ember_error" && kind != "exception" && kind != "unknown") {
        throw wire::ProtocolError("an error of kind '" + kind + "'");  // "protocol": our request was not understood
      }
    } catch (const wire::ProtocolError& e) {
      stop();
      throw RunnerFailure(fmt::format("the runner's answer to '{}' is not an answer ({}): {}", command, e.what(),
                                      kind == "protocol" ? message : std::string("was its channel written to?")));
    }
    throw StudentError(kind, type, message);
  }

  // Stops it (and all it started); says how it ended, e.g. "crashed with SIGSEGV (...)".
  std::string stop() {
    if (channel_ >= 0) ::close(channel_);
    channel_ = -1;
    if (pid_ <= 0) return how_;
    // A runner that has finished its work exits when the channel closes; give it a moment.
    int status = 0;
    bool ended = false;
    for (int i = 0; i < 50 && !ended; ++i) {
      const pid_t got = ::waitpid(pid_, &status, WNOHANG);
      if (got == pid_) {
        ended = true;
      } else {
        ::usleep(2000);
      }
    }
    if (!ended) status = sandbox::kill_and_reap(pid_);
    pid_ = -1;
    sandbox::kill_all_children();  // escapees that double-forked out of its process group
    if (WIFSIGNALED(status)) {
      how_ = crashed_with(WTERMSIG(status));
    } else if (sandboxed_ && WIFEXITED(status) && WEXITSTATUS(status) > 128) {
      how_ = crashed_with(WEXITSTATUS(status) - 128);  // bubblewrap reports 128 + the signal
    } else if (WIFEXITED(status)) {
      how_ = fmt::format("exited with status {}", WEXITSTATUS(status));
    }
    return how_;
  }

  static bool& budget_spent() {
    static bool spent = false;
    return spent;
  }

 private:
  std::string output() const {
    const std::string tail = log_tail(log_path_);
    return tail.empty() ? std::string() : "\nlast lines it printed:" + tail;
  }

  void start() {
    if (budget_spent()) {
      throw RunnerFailure("not run: the question's time budget ran out in an earlier check");
    }
    const std::string runner = env_or("EMBER_RUNNER");
    if (runner.empty()) throw RunnerFailure("no runner: EMBER_RUNNER is not set (the driver sets it)");
    const fs::path program = fs::absolute(runner);
    static const std::optional<sandbox::StudentUser> user = sandbox::student_user_if_root();
    static const sandbox::Level level = [] {
      const std::string named = env_or("EMBER_SANDBOX_LEVEL");
      if (named == "sandbox") return sandbox::Level::Sandbox;
      if (named == "limits") return sandbox::Level::Limits;
      return sandbox::detect_level(user);
    }();

    sandbox::Confinement c;
    c.level = level;
    c.user = user;
#if defined(__SANITIZE_ADDRESS__)
    c.limits.address_space_bytes = 0;  // AddressSanitizer reserves terabytes of address space
#else
    c.limits.address_space_bytes = 8ULL << 30;
#endif
    const double budget = std::strtod(env_or("EMBER_GRADE_BUDGET", "600").c_str(), nullptr);
    c.limits.cpu_seconds = static_cast<unsigned long long>(budget * 4 + 10);  // threads add up
    c.limits.file_bytes = 256ULL << 20;
    // As the student user: 256 processes and threads. As our own user, the count includes all
    // of our other processes, so the margin is on top of what there is now.
    c.limits.processes = user ? 256 : sandbox::processes_of_this_user() + 256;
    c.read_only = {program.parent_path().string()};
    // Shared libraries outside /usr that the runner links (fmt or CUDA in a prefix of their own).
    for (const std::string& dir : split(env_or("EMBER_RUNNER_LIB_DIRS"), ':')) c.read_only.push_back(dir);
    // GLIBC_TUNABLES: glibc's per-thread cache of freed blocks keeps 7 of each size by
    // default; autograd frees tens of thousands of small closures and lists at once and makes
    // them again for the next batch, and past those 7 every one goes through malloc's slow
    // path. A larger cache makes q5's per-pixel convolution train about 20% faster
    // (docs/performance.md, "The student's path"). It changes nothing but speed.
    c.env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LC_ALL=C", "EMBER_RUNNER_FD=3",
             "ASAN_OPTIONS=detect_leaks=0:protect_shadow_gap=0",
             "GLIBC_TUNABLES=glibc.malloc.tcache_count=65535"};
    for (const char* name : {"EMBER_DEVICE", "EMBER_BACKEND", "EMBER_MUTE", "EMBER_PROGRESS_TTY",
                             "EMBER_NUM_THREADS", "UBSAN_OPTIONS"}) {
      if (const char* value = std::getenv(name)) c.env.push_back(std::string(name) + "=" + value);
    }
    const std::string device = env_or("EMBER_DEVICE", "cpu");
    if (device != "cpu") {
      c.devices = {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"};
      for (int i = 0; i < 16; ++i) c.devices.push_back("/dev/nvidia" + std::to_string(i));
    }

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw RunnerFailure(std::string("cannot make the channel: ") + std::strerror(errno));
    }
    // The runner's output: in the driver's private folder, or a fresh temporary file.
    int log = -1;
    if (const std::string work = env_or("EMBER_GRADE_WORK"); !work.empty()) {
      log_path_ = (fs::path(work) / "runner.log").string();
      log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    } else {
      std::string pattern = (fs::temp_directory_path() / "ember_runner_log.XXXXXX").string();
      log = ::mkostemp(pattern.data(), O_CLOEXEC);
      log_path_ = pattern;
    }
    sandbox::ChildFds fds;
    fds.out = log;
    fds.extra = {{pair[1], 3}};
    const std::string progress = env_or("EMBER_PROGRESS_FD");
    if (!progress.empty()) {
      fds.extra.push_back({std::atoi(progress.c_str()), 4});
      c.env.push_back("EMBER_PROGRESS_FD=4");
    }
    std::string error;
    sandboxed_ = c.level == sandbox::Level::Sandbox;
    pid_ = sandbox::spawn(c, {program.string()}, fds, &error);
    if (log >= 0) ::close(log);
    ::close(pair[1]);
    channel_ = pair[0];
    if (pid_ < 0) {
      ::close(channel_);
      channel_ = -1;
      throw RunnerFailure("cannot start the runner: " + error);
    }
  }

  int channel_ = -1;
  pid_t pid_ = -1;
  bool sandboxed_ = false;
  std::string how_ = "stopped";
  std::string log_path_;
};

std::unique_ptr<RunnerProcess>& current() {
  static std::unique_ptr<RunnerProcess> runner;
  return runner;
}

std::uint64_t g_generation = 0;               // runners started so far
const void* g_seeded_for = nullptr;           // the check the live runner was last seeded for

std::vector<std::pair<std::string, Tensor>> named(const Value& value, const char* what) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const Value& item : value.as_list(what)) {
    const std::vector<Value>& pair = item.as_list(what);
    if (pair.size() != 2) throw RunnerFailure(std::string("a malformed list of ") + what);
    out.emplace_back(pair[0].as_text(what), pair[1].as_tensor(what));
  }
  return out;
}

}  // namespace

Value ask(std::vector<Value> request) {
  try {
    if (!current()) {
      current() = std::make_unique<RunnerProcess>();
      ++g_generation;
      g_seeded_for = nullptr;
    }
    // Each check starts the runner's generator afresh, so checks do not depend on the order
    // they run in.
    const void* check = ::testing::UnitTest::GetInstance()->current_test_info();
    if (check != g_seeded_for) {
      g_seeded_for = check;
      current()->ask({Value::of("seed"), Value::of(runner_seed())});
    }
    return current()->ask(request);
  } catch (const RunnerFailure&) {
    current().reset();  // gone: the next request starts a new one
    throw;
  }
}

void seed_runner(const std::string& key) { ask({Value::of("seed"), Value::of(derived_seed("key " + key))}); }

std::uint64_t runner_generation() { return current() ? g_generation : 0; }

void stop_runner() { current().reset(); }

Value with_grad(const Tensor& tensor) {
  Value v = Value::of(tensor);
  v.requires_grad = true;
  return v;
}

std::vector<std::pair<std::string, Tensor>> RemoteModel::named_parameters() {
  return named(ask({Value::of("parameters"), Value::of(handle_)}), "parameters");
}

std::vector<std::pair<std::string, Tensor>> RemoteModel::named_buffers() {
  return named(ask({Value::of("buffers"), Value::of(handle_)}), "buffers");
}

std::vector<std::string> RemoteModel::children() {
  std::vector<std::string> names;
  const Value answer = ask({Value::of("children"), Value::of(handle_)});
  for (const Value& name : answer.as_list("children")) {
    names.push_back(name.as_text("a child's name"));
  }
  return names;
}

std::vector<std::pair<std::string, Tensor>> RemoteModel::named_gradients() {
  return named(ask({Value::of("gradients"), Value::of(handle_)}), "gradients");
}

Tensor RemoteModel::parameter(const std::string& name) {
  for (auto& [parameter_name, value] : named_parameters()) {
    if (parameter_name == name) return value;
  }
  throw std::runtime_error("the model has no parameter named \"" + name + "\"");
}

void RemoteModel::set_parameter(const std::string& name, const Tensor& values) {
  ask({Value::of("set_parameter"), Value::of(handle_), Value::of(name), Value::of(values.detach())});
}

void RemoteModel::zero_grad() { ask({Value::of("zero_grad"), Value::of(handle_)}); }
void RemoteModel::eval() { ask({Value::of("mode"), Value::of(handle_), Value::of("eval")}); }
void RemoteModel::train_mode() { ask({Value::of("mode"), Value::of(handle_), Value::of("train")}); }

void backward_last_result() { ask({Value::of("backward")}); }

std::vector<Tensor> input_gradients() {
  std::vector<Tensor> out;
  const Value answer = ask({Value::of("input_gradients")});
  for (const Value& v : answer.as_list("input gradients")) {
    out.push_back(v.as_tensor("an input gradient"));
  }
  return out;
}

course::TrainingHistory training_history() {
  course::TrainingHistory history;
  const Value answer = ask({Value::of("history")});
  const std::vector<Value>& parts = answer.as_list("a training history");
  if (parts.size() != 5) throw RunnerFailure("a malformed training history");
  history.label = parts[0].as_text("its label");
  history.planned_epochs = parts[1].as_int("its epochs");
  history.batches_per_epoch = parts[2].as_int("its batches");
  for (const Value& e : parts[3].as_list("its epochs")) {
    const std::vector<Value>& f = e.as_list("an epoch");
    if (f.size() != 5) throw RunnerFailure("a malformed epoch record");
    course::EpochRecord record;
    record.epoch = f[0].as_int("epoch");
    record.batches = f[1].as_int("batches");
    record.loss = f[2].as_real("loss");
    if (!f[3].is(Value::Type::None)) record.accuracy = f[3].as_real("accuracy");
    record.seconds = f[4].as_real("seconds");
    history.epochs.push_back(record);
  }
  for (const Value& p : parts[4].as_list("its loss curve")) {
    const std::vector<Value>& f = p.as_list("a loss point");
    if (f.size() != 2) throw RunnerFailure("a malformed loss point");
    history.loss_curve.push_back({f[0].as_int("step"), f[1].as_real("loss")});
  }
  if (history.loss_curve.size() > course::TrainingHistory::kMaxLossPoints * 2) {
    history.loss_curve.resize(course::TrainingHistory::kMaxLossPoints * 2);
  }
  return history;
}

void clear_training_history() { ask({Value::of("clear_history")}); }

}  // namespace ember::grading
