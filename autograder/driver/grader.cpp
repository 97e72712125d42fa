#include "grader.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "grade_protocol.h"
#include "html_report.h"
#include "process.h"
#include "sandbox.h"
#include "sha256.h"
#include "submission.h"

namespace ember::grade {

namespace {

namespace fs = std::filesystem;
namespace protocol = ::ember::grading::protocol;

constexpr size_t kMaxResultsBytes = 16 << 20;  // a results file is a few kB; ignore the rest
constexpr size_t kMaxLogBytes = 64 << 20;
constexpr unsigned long long kMaxQuestionFileBytes = 2ULL << 30;  // per file the question writes

std::string read_file(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string data(limit, '\0');
  in.read(data.data(), static_cast<std::streamsize>(limit));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

// Everything written to fd so far, from its start, at most limit bytes.
std::string read_descriptor(int fd, size_t limit) {
  std::string data(limit, '\0');
  size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::pread(fd, data.data() + got, limit - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

// The end of a big log is more useful than its beginning.
std::string read_log(const std::string& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error || size <= kMaxLogBytes) return read_file(path, kMaxLogBytes);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(size - kMaxLogBytes));
  std::string data(kMaxLogBytes, '\0');
  in.read(data.data(), static_cast<std::streamsize>(kMaxLogBytes));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  for (const std::string& line : split_lines(text)) {
    if (!out.empty()) out += '\n';
    out += prefix + line;
  }
  return out;
}

void say(const GradeOptions& options, const std::string& text) {
  if (!options.progress) return;
  std::fprintf(stderr, "[ember_grade] %s\n", text.c_str());
  std::fflush(stderr);
}

struct ParsedResults {
  std::optional<protocol::Record> device;
  std::vector<protocol::Record> plans;
  std::vector<protocol::Record> starts;
  std::vector<protocol::Record> checks;
  bool done = false;
};

ParsedResults parse_results(const std::string& text) {
  ParsedResults parsed;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // an unfinished last line: the writer died mid-line
    const auto record = protocol::parse_line(std::string_view(text).substr(begin, end - begin));
    begin = end + 1;
    if (!record) continue;
    switch (record->kind) {
      case protocol::Kind::Plan: parsed.plans.push_back(*record); break;
      case protocol::Kind::Start: parsed.starts.push_back(*record); break;
      case protocol::Kind::Check: parsed.checks.push_back(*record); break;
      case protocol::Kind::Done: parsed.done = true; break;
      case protocol::Kind::Device: parsed.device = *record; break;
      case protocol::Kind::Header: break;
    }
  }
  return parsed;
}

std::string key_of(const protocol::Record& record) { return record.question + "." + record.name; }

// The failing check reported when the build does not succeed.
CheckResult build_failure(const QuestionSpec& question, const std::string& target,
                          const ProcessOutcome& outcome, const std::string& log,
                          double timeout) {
  CheckResult check;
  check.name = question.id + ".compile";
  switch (outcome.status) {
    case ProcessOutcome::Status::FailedToStart:
      check.message = fmt::format("could not build {}: {}", target, outcome.error);
      return check;
    case ProcessOutcome::Status::TimedOut:
      check.message = fmt::format("building {} timed out after {} s", target,
                                  format_seconds(timeout));
      return check;
    case ProcessOutcome::Status::Signaled:
      check.message = fmt::format("the build of {} was killed by {}", target,
                                  describe_signal(outcome.signal));
      break;
    default:
      if (log.find("No rule to make target") != std::string::npos ||
          log.find("unknown target") != std::string::npos) {
        check.message = fmt::format(
            "the build tree has no target {} (is the grader source for {} missing, or does the "
            "build tree need to be configured again?)",
            target, question.id);
      } else {
        check.message = fmt::format(
            "the grader's program {} does not compile (a problem with the autograder, not with the "
            "submission). The first errors:",
            target);
      }
  }
  const std::string errors = extract_compiler_errors(log);
  if (!errors.empty()) check.message += "\n" + errors;
  return check;
}

// Why a program stopped before writing `done`, e.g. "crashed with signal SIGSEGV (...)".
std::string abnormal_end(const ProcessOutcome& outcome, bool done, double timeout) {
  switch (outcome.status) {
    case ProcessOutcome::Status::TimedOut:
      return fmt::format("timed out after {} s", format_seconds(timeout));
    case ProcessOutcome::Status::Signaled:
      return "crashed with signal " + describe_signal(outcome.signal);
    case ProcessOutcome::Status::FailedToStart:
      return "could not be started (" + outcome.error + ")";
    case ProcessOutcome::Status::Interrupted:
      return "was interrupted";
    case ProcessOutcome::Status::Exited:
      if (done) return {};
      return fmt::format("exited with status {} before finishing", outcome.exit_code);
  }
  return {};
}

void add_output_excerpt(std::string& message, const std::string& log,
                        const std::string& running_check = {}) {
  const std::string excerpt =
      output_excerpt(log, 15, running_check.empty() ? "" : "[ RUN      ] " + running_check);
  if (excerpt.empty()) return;
  message += "\nlast lines of output:\n" + indent(excerpt, "  ");
}

// Turns what the question program left behind into checks.
void assemble_checks(const QuestionSpec& question, const std::string& target,
                     const ParsedResults& parsed, const std::string& why, const std::string& log,
                     QuestionResult& result) {
  std::map<std::string, const protocol::Record*> finished;
  for (const protocol::Record& check : parsed.checks) finished.emplace(key_of(check), &check);

  // The check that was running when the program stopped: started, never finished.
  const protocol::Record* running = nullptr;
  for (const protocol::Record& start : parsed.starts) {
    if (finished.count(key_of(start)) == 0) running = &start;
  }
  if (why.empty()) running = nullptr;

  // Checks in the order the program planned them; without a plan, in the order they ran.
  std::vector<const protocol::Record*> order;
  std::map<std::string, bool> listed;
  for (const auto* list : {&parsed.plans, &parsed.checks, &parsed.starts}) {
    for (const protocol::Record& record : *list) {
      if (listed.emplace(key_of(record), true).second) order.push_back(&record);
    }
  }

  const std::string running_key = running ? key_of(*running) : std::string();
  for (const protocol::Record* record : order) {
    const std::string key = key_of(*record);
    CheckResult check;
    check.name = key;
    check.max = record->max;
    if (const auto it = finished.find(key); it != finished.end()) {
      const protocol::Record& done = *it->second;
      check.max = done.max;
      check.passed = done.passed;
      check.earned = done.passed ? std::min(done.earned, done.max) : 0;
      check.message = done.message;
    } else if (running != nullptr && key == running_key) {
      check.message = fmt::format("{} during check {}", why, key);
      add_output_excerpt(check.message, log, key);
    } else if (!why.empty()) {
      check.message = running != nullptr
                          ? fmt::format("not run: {} {} during check {}", target, why, running_key)
                          : fmt::format("not run: {} {}", target, why);
    } else {
      check.message = fmt::format("not run: {} finished without running this check", target);
    }
    result.checks.push_back(std::move(check));
  }

  if (!why.empty() && running == nullptr) {
    // The program died outside any check (before the first, between two, or after the last).
    CheckResult check;
    check.name = question.id + ".program";
    check.max = 0;
    check.message = parsed.checks.empty()
                        ? fmt::format("{} {} before any check ran", target, why)
                        : fmt::format("{} {} after check {}", target, why,
                                      key_of(parsed.checks.back()));
    add_output_excerpt(check.message, log);
    result.checks.push_back(std::move(check));
  } else if (why.empty() && order.empty()) {
    CheckResult check;
    check.name = question.id + ".program";
    check.message = fmt::format("{} finished without running any check", target);
    add_output_excerpt(check.message, log);
    result.checks.push_back(std::move(check));
  }
}

// Every planned check failed for one reason (the files are missing, the code does not
// compile): the report still lists each check with its points.
void fail_all(const QuestionSpec& question, const ParsedResults& plan, const std::string& message,
              QuestionResult& result) {
  for (const protocol::Record& record : plan.plans) {
    result.checks.push_back({key_of(record), 0, record.max, false, message});
  }
  if (plan.plans.empty()) result.checks.push_back({question.id + ".compile", 0, 0, false, message});
}

// text cut before and after every carriage return, which becomes a piece of its own.
std::vector<std::string> split_keeping_cr(const std::string& text) {
  std::vector<std::string> pieces;
  size_t begin = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') continue;
    if (i > begin) pieces.push_back(text.substr(begin, i - begin));
    pieces.push_back("\r");
    begin = i + 1;
  }
  if (begin < text.size()) pieces.push_back(text.substr(begin));
  return pieces;
}

// Relays what the question's training progress writes (a pipe) to our stderr, with control
// characters other than newline, carriage return and tab shown escaped: the student's code
// must not drive the instructor's terminal.
class ProgressRelay {
 public:
  ProgressRelay() {
    const char* mute = std::getenv("EMBER_MUTE");
    const bool muted = mute != nullptr && *mute != '\0' && std::string(mute) != "0";
    if (muted || ::fcntl(STDERR_FILENO, F_GETFD) == -1) return;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    thread_ = std::thread([fd = read_fd_] {
      char buffer[4096];
      while (true) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        // As the report shows student text (show_controls), but carriage returns stay: they
        // redraw the progress line.
        std::string shown;
        for (const std::string& piece : split_keeping_cr(std::string(buffer, static_cast<size_t>(got)))) {
          shown += piece == "\r" ? piece : show_controls(piece);
        }
        [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, shown.data(), shown.size());
      }
    });
  }
  ~ProgressRelay() { finish(); }
  ProgressRelay(const ProgressRelay&) = delete;
  ProgressRelay& operator=(const ProgressRelay&) = delete;

  int write_fd() const { return write_fd_; }
  // Our end closed; the relay ends when every process holding the other end is gone.
  void close_write_end() {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
  }
  void finish() {
    close_write_end();
    if (thread_.joinable()) thread_.join();
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::thread thread_;
};

// What a compiled runner is made of: the command line, the student's files, the question's
// runner source and the libraries (by size and time). Equal keys, equal programs.
std::string runner_key(const Toolchain& toolchain, const std::vector<std::string>& command,
                       const QuestionSpec& question, const std::string& stage) {
  grading::Sha256 hash;
  for (const std::string& arg : command) hash.update(arg).update(std::string_view("\0", 1));
  for (const std::string& name : question.files) {
    hash.update(name).update(std::string_view("\0", 1)).update(read_file((fs::path(stage) / name).string(), 1 << 20));
  }
  hash.update(read_file(toolchain.sources + "/" + question.lesson + ".cpp", 1 << 20));
  for (const std::string& lib : toolchain.libs) {
    std::error_code error;
    const auto size = fs::file_size(lib, error);
    const auto time = fs::last_write_time(lib, error).time_since_epoch().count();
    hash.update(fmt::format("{} {} {}\n", lib, error ? 0 : size, error ? 0 : time));
  }
  return hash.hex().substr(0, 32);
}

// A few recently compiled runners per question, beside the toolchain file in the grader's
// build tree (autograder/runner_cache), so that grading the same
// files again (make grade after editing one lesson, make grade-solutions) compiles only what
// changed. Only the driver writes there; the student's side never sees it.
constexpr size_t kCachedRunnersPerQuestion = 4;

void prune_runner_cache(const fs::path& cache, const std::string& question) {
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  std::error_code error;
  for (fs::directory_iterator it(cache, error), end; !error && it != end; it.increment(error)) {
    if (it->path().filename().string().rfind(question + "-", 0) != 0) continue;
    entries.emplace_back(fs::last_write_time(it->path(), error), it->path());
  }
  if (entries.size() <= kCachedRunnersPerQuestion) return;
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i + kCachedRunnersPerQuestion < entries.size(); ++i) fs::remove_all(entries[i].second, error);
}

// Compiles the runner in the sandbox (or takes it from the cache). Returns the failing
// checks' message, or "" on success.
std::string compile_runner(const QuestionSpec& question, const GradeOptions& options, const std::string& stage,
                           const std::string& output, const std::string& log_path) {
  const Toolchain toolchain = read_toolchain(options.toolchain);
  const std::vector<std::string> command = runner_compile_command(toolchain, question.lesson, stage, output);
  fs::path cached;
  {
    // Keyed without the run's own folders, which are new every time.
    const std::vector<std::string> generic = runner_compile_command(toolchain, question.lesson, "STAGE", "OUTPUT");
    cached = fs::path(options.toolchain).parent_path() / "runner_cache" /
             (question.id + "-" + runner_key(toolchain, generic, question, stage)) / "runner";
    std::error_code error;
    if (fs::is_regular_file(cached, error) && fs::copy_file(cached, output, fs::copy_options::overwrite_existing, error)) {
      fs::last_write_time(cached.parent_path(), fs::file_time_type::clock::now(), error);  // recently used
      return {};
    }
  }
  sandbox::Confinement c;
  c.level = options.level;
  c.user = options.user;
  c.limits.address_space_bytes = 4ULL << 30;  // the compiler: #include "/dev/zero" must not eat the machine
  c.limits.cpu_seconds = static_cast<unsigned long long>(options.compile_timeout_seconds) + 5;
  c.limits.file_bytes = 512ULL << 20;
  c.limits.processes = options.user ? 256 : 0;
  c.tmp_bytes = 1ULL << 30;
  c.read_only = toolchain.visible;
  c.read_only.push_back(stage);
  c.writable = {fs::path(output).parent_path().string()};
  c.cwd = fs::path(output).parent_path().string();
  c.env = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TMPDIR=/tmp", "HOME=/tmp"};
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  sandbox::ChildFds fds;
  fds.out = log;
  std::string error;
  const pid_t pid = sandbox::spawn(c, command, fds, &error);
  if (log >= 0) ::close(log);
  if (pid < 0) return "could not start the compiler: " + error;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  int status = 0;
  while (true) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) break;
    if (interrupted() ||
        std::chrono::duration<double>(Clock::now() - start).count() > options.compile_timeout_seconds) {
      sandbox::kill_and_reap(pid);
      sandbox::kill_all_children();
      return interrupted() ? std::string("interrupted")
                           : fmt::format("compiling the code for {} took longer than {} s", question.id,
                                         format_seconds(options.compile_timeout_seconds));
    }
    ::usleep(10000);
  }
  sandbox::kill_all_children();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::is_regular_file(output)) {
    if (!cached.empty()) {
      std::error_code ignored;
      fs::create_directories(cached.parent_path(), ignored);
      const fs::path partial = fmt::format("{}.partial.{}", cached.string(), ::getpid());  // one per driver
      if (fs::copy_file(output, partial, fs::copy_options::overwrite_existing, ignored)) fs::rename(partial, cached, ignored);
      prune_runner_cache(cached.parent_path().parent_path(), question.id);
    }
    return {};
  }
  std::string message = fmt::format("the code for {} does not compile. The first errors:", question.id);
  const std::string errors = extract_compiler_errors(show_controls(read_log(log_path)));
  if (!errors.empty()) message += "\n" + errors;
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) > 128)) {
    message += "\n(the compiler was stopped: it ran out of memory or time?)";
  }
  return message;
}

void grade_into(const QuestionSpec& question, const GradeOptions& options,
                QuestionResult& result) {
  const std::string target = "grade_" + question.id;
  const fs::path work = options.work_dir;
  std::string pictures_dir;
  if (!options.pictures_dir.empty()) {
    std::error_code ignored;
    pictures_dir = fs::absolute(options.pictures_dir).string();
    fs::create_directories(pictures_dir, ignored);
    remove_pictures(pictures_dir, question.id);  // what is there afterwards is from this run
  }

  // The checker: trusted code, built like any program of the tree (no student code in it).
  if (options.build) {
    ProcessSpec build;
    if (options.build_command.empty()) {
      build.argv = {options.cmake, "--build", options.build_dir, "--target", target};
      if (options.jobs > 0) {
        build.argv.push_back("--parallel");
        build.argv.push_back(std::to_string(options.jobs));
      }
    } else {
      build.argv = {"/bin/sh", "-c",
                    expand_build_command(options.build_command, target, question.id,
                                         options.build_dir)};
    }
    build.env = {{"LC_ALL", "C"}};  // plain ASCII diagnostics, the same on every machine
    build.log_path = (work / (target + ".build.log")).string();
    build.timeout_seconds = options.build_timeout_seconds;
    say(options, "building " + target);
    const ProcessOutcome outcome = run_process(build);
    if (outcome.status == ProcessOutcome::Status::Interrupted) return;
    if (outcome.status != ProcessOutcome::Status::Exited || outcome.exit_code != 0) {
      result.checks.push_back(build_failure(question, target, outcome, read_log(build.log_path),
                                            options.build_timeout_seconds));
      return;
    }
  }

  const fs::path exe = fs::path(options.exe_dir) / target;
  std::error_code error;
  if (!fs::is_regular_file(exe, error)) {
    CheckResult check;
    check.name = question.id + ".program";
    check.message = options.build
                        ? fmt::format("the build succeeded but {} is not in {}", target,
                                      options.exe_dir)
                        : fmt::format("{} not found in {} (build it first, or leave out --no-build)",
                                      target, options.exe_dir);
    result.checks.push_back(std::move(check));
    return;
  }
  const fs::path question_work = work / question.id;  // private: results, logs
  fs::create_directories(question_work);
  fs::permissions(question_work, fs::perms::owner_all, fs::perm_options::replace);

  // The student's side: their files, and the runner compiled from them in the sandbox.
  std::string runner;
  if (!options.student_dir.empty()) {
    ProcessSpec plan_run;
    const std::string plan_path = (question_work / "plan").string();
    plan_run.argv = {fs::absolute(exe).string(), "--plan", "--results-file=" + plan_path};
    plan_run.log_path = (question_work / "plan.log").string();
    plan_run.timeout_seconds = 60;
    run_process(plan_run);
    const ParsedResults plan = parse_results(read_file(plan_path, kMaxResultsBytes));

    const fs::path student = fs::path(options.student_root) / question.id;
    const fs::path stage = student / "src", bin = student / "bin";
    const Intake intake = take_files(options.student_dir, question.lesson, question.files, stage.string());
    result.notes = intake.notes;
    if (!intake.complete) {
      fail_all(question, plan, "not run: " + intake.problem, result);
      return;
    }
    fs::create_directories(bin);
    if (options.user && ::chown(bin.c_str(), options.user->uid, options.user->gid) != 0) {
      throw std::runtime_error(fmt::format("cannot give {} to user {}", bin.string(), options.user->name));
    }
    runner = (bin / ("runner_" + question.id)).string();
    say(options, "compiling the code for " + question.id);
    const std::string problem =
        compile_runner(question, options, stage.string(), runner, (question_work / "compile.log").string());
    if (!problem.empty()) {
      fail_all(question, plan, problem, result);
      return;
    }
    // Ours again, read-only to the student user: nothing of theirs can swap the program
    // between its compile and its run.
    if (options.user) {
      if (::chown(bin.c_str(), 0, 0) != 0 || ::chown(runner.c_str(), 0, 0) != 0 ||
          ::chmod(bin.c_str(), 0755) != 0 || ::chmod(runner.c_str(), 0755) != 0) {
        throw std::runtime_error(fmt::format("cannot take back {}: {}", bin.string(), std::strerror(errno)));
      }
    }
  }

  // The checker writes its results into a file that no longer has a name: made, opened and
  // unlinked here, inherited as fd 4, read back through our own descriptor. So no process of
  // the question can find it to rewrite it, whatever rights it has on our folders.
  const std::string results_path = fs::absolute(question_work / (target + ".results")).string();
  fs::remove(results_path, error);
  const int results_fd = ::open(results_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (results_fd < 0) throw std::runtime_error("cannot create " + results_path + ": " + std::strerror(errno));
  ::unlink(results_path.c_str());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } results_closer{results_fd};
  ProcessSpec run;
  run.results_fd = results_fd;
  run.argv = {fs::absolute(exe).string()};
  if (!options.check_filter.empty()) run.argv.push_back("--gtest_filter=" + options.check_filter);
  const double budget = question.timeout_seconds * options.timeout_scale;
  run.env = {{"EMBER_GRADE_RESULTS_FD", std::to_string(kResultsFd)}, {"GTEST_COLOR", "no"},
             {"EMBER_GRADE_WORK", fs::absolute(question_work).string()},
             {"EMBER_GRADE_BUDGET", format_seconds(budget)},
             {"EMBER_SANDBOX_LEVEL", sandbox::level_name(options.level)}};
  if (!runner.empty()) {
    run.env.emplace_back("EMBER_RUNNER", runner);
    // The runner's shared libraries outside /usr, for the sandbox to show it.
    std::string lib_dirs;
    for (const std::string& flag : read_toolchain(options.toolchain).link) {
      const std::string rpath = "-Wl,-rpath,";
      if (flag.rfind(rpath, 0) == 0 && flag.compare(rpath.size(), 5, "/usr/") != 0) {
        lib_dirs += (lib_dirs.empty() ? "" : ":") + flag.substr(rpath.size());
      }
    }
    if (!lib_dirs.empty()) run.env.emplace_back("EMBER_RUNNER_LIB_DIRS", lib_dirs);
  }
  if (!options.seed.empty()) run.env.emplace_back("EMBER_SEED", options.seed);
  if (!options.device.empty()) run.env.emplace_back(protocol::kDeviceVariable, options.device);
  if (!pictures_dir.empty()) run.env.emplace_back("EMBER_PICTURES_DIR", pictures_dir);
  // Training progress comes back through a pipe that we relay to our stderr (escaped); the
  // question's own stdout and stderr go to its log. EMBER_MUTE=1 (make grade MUTE=1): none.
  ProgressRelay relay;
  if (relay.write_fd() >= 0) {
    run.progress_fd = relay.write_fd();
    run.env.emplace_back("EMBER_PROGRESS_FD", std::to_string(kProgressFd));
    run.env.emplace_back("EMBER_PROGRESS_TTY", ::isatty(STDERR_FILENO) == 1 ? "1" : "0");
  }
  run.log_path = (question_work / (target + ".log")).string();
  // The checker stops a runner that overruns the budget (a second early) and reports it
  // itself; the driver's own limit, a little later, is for a checker that cannot.
  run.timeout_seconds = budget + 2;
  run.max_file_bytes = kMaxQuestionFileBytes;  // a runaway print loop must not fill the disk
  say(options, fmt::format("running {} (time budget {} s)", target, format_seconds(budget)));
  const ProcessOutcome outcome = run_process(run);
  // Every process of the question is gone before its results are read.
  relay.close_write_end();
  sandbox::kill_all_children();
  relay.finish();
  if (outcome.status == ProcessOutcome::Status::Interrupted) return;

  const ParsedResults parsed = parse_results(read_descriptor(results_fd, kMaxResultsBytes));
  const std::string why = abnormal_end(outcome, parsed.done, budget);
  const std::string log = why.empty() ? std::string() : show_controls(read_log(run.log_path));
  if (parsed.device) {
    result.device = parsed.device->name;
    result.device_problem = parsed.device->message;
  }
  assemble_checks(question, target, parsed, why, log, result);
  for (CheckResult& check : result.checks) check.message = show_controls(check.message);
  if (!pictures_dir.empty()) result.pictures = collect_pictures(pictures_dir, question.id);
}

}  // namespace

const std::vector<QuestionSpec>& all_questions() {
  static const std::vector<QuestionSpec> kQuestions = {
      {"q0", "q0_shapes", {"tensor_shapes.hpp"}, 30},
      {"q1", "q1_perceptron", {"perceptron.hpp"}, 60},
      {"q2", "q2_regression", {"regression.hpp"}, 60},
      {"q3", "q3_digits", {"digit_classification.hpp"}, 180},
      {"q4", "q4_language_id", {"language_id.hpp"}, 180},
      {"q5", "q5_convolution", {"convolution.hpp"}, 180},
      {"q6", "q6_attention", {"attention.hpp"}, 60},
      {"q7", "q7_gpt", {"gpt.hpp"}, 120},
  };
  return kQuestions;
}

std::string format_seconds(double seconds) { return fmt::format("{:g}", seconds); }

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string expand_build_command(const std::string& pattern, const std::string& target,
                                 const std::string& question, const std::string& build_dir) {
  static const std::pair<std::string, std::string> kNames[] = {
      {"{target}", "target"}, {"{question}", "question"}, {"{build_dir}", "build_dir"}};
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    bool replaced = false;
    for (const auto& [placeholder, name] : kNames) {
      if (pattern.compare(i, placeholder.size(), placeholder) != 0) continue;
      const std::string& value = name == "target" ? target : name == "question" ? question : build_dir;
      out += shell_quote(value);
      i += placeholder.size();
      replaced = true;
      break;
    }
    if (!replaced) out += pattern[i++];
  }
  return out;
}

QuestionResult grade_question(const QuestionSpec& question, const GradeOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  QuestionResult result;
  result.id = question.id;
  try {
    grade_into(question, options, result);
  } catch (const std::exception& e) {
    result.checks.push_back({question.id + ".autograder", 0, 0, false,
                             fmt::format("internal error in the autograder: {}", e.what())});
  } catch (...) {
    result.checks.push_back({question.id + ".autograder", 0, 0, false, "internal error in the autograder"});
  }
  // Whatever happened, nothing the question started outlives it (a student process that
  // double-forked out of its group was adopted by us, a subreaper).
  sandbox::kill_all_children();
  // The points are the checker's: the sum of its checks' maxima.
  int earned = 0, max = 0;
  for (const CheckResult& check : result.checks) {
    earned += check.earned;
    max += check.max;
  }
  result.max = max;
  result.earned = std::clamp(earned, 0, max);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace ember::grade
