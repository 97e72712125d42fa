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

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "grade_protocol.h"
#include "html_report.h"
#include "process.h"

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
  check.max = question.max_points;
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
        check.message = fmt::format("the code for {} does not compile. The first errors:",
                                    question.id);
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
    check.max = order.empty() ? question.max_points : 0;
    check.message = parsed.checks.empty()
                        ? fmt::format("{} {} before any check ran", target, why)
                        : fmt::format("{} {} after check {}", target, why,
                                      key_of(parsed.checks.back()));
    add_output_excerpt(check.message, log);
    result.checks.push_back(std::move(check));
  } else if (why.empty() && order.empty()) {
    CheckResult check;
    check.name = question.id + ".program";
    check.max = question.max_points;
    check.message = fmt::format("{} finished without running any check", target);
    add_output_excerpt(check.message, log);
    result.checks.push_back(std::move(check));
  }

  int planned = 0;
  for (const protocol::Record* record : order) planned += record->max;
  if (!order.empty() && planned != question.max_points) {
    std::fprintf(stderr,
                 "[ember_grade] warning: the checks of %s are worth %d points, but the question "
                 "is worth %d\n",
                 question.id.c_str(), planned, question.max_points);
  }
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
    check.max = question.max_points;
    check.message = options.build
                        ? fmt::format("the build succeeded but {} is not in {}", target,
                                      options.exe_dir)
                        : fmt::format("{} not found in {} (build it first, or leave out --no-build)",
                                      target, options.exe_dir);
    result.checks.push_back(std::move(check));
    return;
  }

  const std::string results_path = fs::absolute(work / (target + ".results")).string();
  fs::remove(results_path, error);
  ProcessSpec run;
  run.argv = {fs::absolute(exe).string()};
  run.env = {{"EMBER_GRADE_RESULTS", results_path}, {"GTEST_COLOR", "no"}};
  if (!options.seed.empty()) run.env.emplace_back("EMBER_SEED", options.seed);
  if (!options.device.empty()) run.env.emplace_back(protocol::kDeviceVariable, options.device);
  if (!pictures_dir.empty()) run.env.emplace_back("EMBER_PICTURES_DIR", pictures_dir);
  // Training progress (course::TrainingProgress) goes to our stderr, passed in as fd 3,
  // because the question's own stdout and stderr go to its log. EMBER_MUTE=1 (make grade
  // MUTE=1) keeps it quiet; the child inherits that variable and writes nothing.
  const char* mute = std::getenv("EMBER_MUTE");
  const bool muted = mute != nullptr && *mute != '\0' && std::string(mute) != "0";
  if (!muted && ::fcntl(STDERR_FILENO, F_GETFD) != -1) {
    run.progress_fd = STDERR_FILENO;
    run.env.emplace_back("EMBER_PROGRESS_FD", std::to_string(kProgressFd));
    run.env.emplace_back("EMBER_PROGRESS_TTY", ::isatty(STDERR_FILENO) == 1 ? "1" : "0");
  }
  run.log_path = (work / (target + ".log")).string();
  run.timeout_seconds = question.timeout_seconds * options.timeout_scale;
  run.max_file_bytes = kMaxQuestionFileBytes;  // a runaway print loop must not fill the disk
  say(options, fmt::format("running {} (time budget {} s)", target,
                           format_seconds(run.timeout_seconds)));
  const ProcessOutcome outcome = run_process(run);
  if (outcome.status == ProcessOutcome::Status::Interrupted) return;

  const ParsedResults parsed = parse_results(read_file(results_path, kMaxResultsBytes));
  const std::string why = abnormal_end(outcome, parsed.done, run.timeout_seconds);
  const std::string log = why.empty() ? std::string() : read_log(run.log_path);
  if (parsed.device) {
    result.device = parsed.device->name;
    result.device_problem = parsed.device->message;
  }
  assemble_checks(question, target, parsed, why, log, result);
  if (!pictures_dir.empty()) result.pictures = collect_pictures(pictures_dir, question.id);
}

}  // namespace

const std::vector<QuestionSpec>& all_questions() {
  static const std::vector<QuestionSpec> kQuestions = {
      {"q0", "q0_shapes", 4, 30},         {"q1", "q1_perceptron", 6, 60},
      {"q2", "q2_regression", 6, 60},     {"q3", "q3_digits", 6, 180},
      {"q4", "q4_language_id", 7, 180},   {"q5", "q5_convolution", 4, 180},
      {"q6", "q6_attention", 6, 60},
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
  result.max = question.max_points;
  try {
    grade_into(question, options, result);
  } catch (const std::exception& e) {
    result.checks.clear();
    result.checks.push_back({question.id + ".autograder", 0, question.max_points, false,
                             fmt::format("internal error in the autograder: {}", e.what())});
  } catch (...) {
    result.checks.clear();
    result.checks.push_back({question.id + ".autograder", 0, question.max_points, false,
                             "internal error in the autograder"});
  }
  int earned = 0;
  for (const CheckResult& check : result.checks) earned += check.earned;
  result.earned = std::clamp(earned, 0, question.max_points);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace ember::grade
