// ember_grade: builds and runs each question's grader on its own and writes the report.
//
//   ember_grade --build-dir build [--questions q0,q3] [--results-json results.json]
//               [--report report.txt] [--html report.html] [--no-build] ...
//
// Exit status: 0 when grading ran (whatever the score); 1 when a report file could not be
// written; 2 for a usage error; 128+signal when interrupted.
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "grade_protocol.h"
#include "grader.h"
#include "html_report.h"
#include "process.h"
#include "report.h"
#include "sandbox.h"

namespace {

namespace fs = std::filesystem;
using namespace ember::grade;

constexpr const char* kUsage = R"(Usage: ember_grade [options]

Builds and runs the grade_qN programs one at a time, each in its own process with a time
budget, and prints a report (PASS/FAIL per check, points per question, a summary).

Options:
  --build-dir DIR        a configured CMake build tree that has the grade_qN targets
  --exe-dir DIR          where the grade_qN programs are (default: DIR/autograder)
  --questions LIST       questions to grade, e.g. q0,q3 (default: q0,q1,q2,q3,q4,q5,q6,q7)
  --student-dir DIR      grade the submission in DIR, laid out like lessons/: each
                         question's files are taken from DIR/<lesson>/ and compiled
                         into its runner in the sandbox (docs/security.md)
  --toolchain FILE       how to compile a runner (default:
                         <build dir>/autograder/runner_toolchain.txt)
  --no-build             run the programs as they are, without building them
  --build-command CMD    build one question with this shell command instead of
                         'cmake --build DIR --target grade_qN'; {target}, {question} and
                         {build_dir} in CMD are replaced by shell-quoted values
  --cmake PROGRAM        the cmake program (default: cmake, found in PATH)
  --jobs N               parallel build jobs (default: the number of CPUs)
  --build-timeout S      time budget of one build of a checker in seconds (default: 1200)
  --compile-timeout S    time budget of compiling one question's student code in
                         seconds (default: 300)
  --timeout-scale X      multiply every question's time budget by X, e.g. for sanitizer
                         builds (default: env EMBER_GRADE_TIMEOUT_SCALE, else 1)
  --seed N               EMBER_SEED for the questions (default: inherited, else 0)
  --check FILTER         run only the matching checks, e.g. q6.layer_norm_matches_reference
                         or 'q3.*loss*' (a GoogleTest filter; make grade CHECK=...)
  --device D             the device the checks run on: cpu, cuda (the first GPU) or
                         cuda:N (default: env EMBER_DEVICE, else cpu). When the device
                         cannot be used, every check fails with the reason.
  --results-json PATH    also write Gradescope's results.json to PATH
  --report PATH          also write a plain-text copy of the report to PATH
  --html PATH            write the HTML report (results and pictures, one self-contained
                         page) to PATH (default: DIR/grade-report.html with --build-dir)
  --no-html              do not write the HTML report
  --preface FILE         start the report (text, HTML and results.json) with the text
                         in FILE, e.g. which files of a submission were graded
  --pictures-dir DIR     the folder the questions draw their SVG pictures in, passed to
                         them as EMBER_PICTURES_DIR (default: DIR/pictures with --build-dir,
                         else a temporary folder)
  --color WHEN           auto (colour when stdout is a terminal), always or never
  --no-timings           leave out wall times, so the report is fully deterministic
  --work-dir DIR         keep logs and results files in DIR (default: a temporary
                         directory, removed at the end)
  --verbose / --quiet    progress messages on stderr (default: when stderr is a terminal)
  -h, --help             this text

Time budgets: q0 30 s, q1 60 s, q2 60 s, q3 180 s, q4 180 s, q5 180 s, q6 60 s, q7 120 s.
Exit status: 0 when grading ran, whatever the score; 1 when a report file could not be
written; 2 for a usage error; 128+N when interrupted by signal N.
)";

constexpr size_t kMaxPrefaceBytes = 64 << 10;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CliOptions {
  GradeOptions grade;
  std::vector<QuestionSpec> questions;
  std::string results_json;
  std::string report;
  std::string html;
  bool no_html = false;
  std::string preface_file;
  std::string device = "cpu";  // normalised, for the report
  std::string color = "auto";
  bool timings = true;
  bool keep_work_dir = false;
  std::optional<bool> verbose;
  bool help = false;
};

double parse_number(const std::string& text, const std::string& what, bool allow_zero) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(value) ||
      value < 0 || (!allow_zero && value == 0)) {
    throw UsageError(fmt::format("{} must be a {} number, got '{}'", what,
                                 allow_zero ? "non-negative" : "positive", text));
  }
  return value;
}

std::vector<QuestionSpec> parse_questions(const std::string& list) {
  std::vector<bool> wanted(all_questions().size(), false);
  size_t begin = 0;
  bool any = false;
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(begin, end - begin);
    begin = end + 1;
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) continue;
    if (item == "all") {
      wanted.assign(wanted.size(), true);
      any = true;
      continue;
    }
    if (item[0] == 'Q') item[0] = 'q';
    if (item[0] != 'q') item = "q" + item;
    bool found = false;
    for (size_t i = 0; i < all_questions().size(); ++i) {
      const QuestionSpec& q = all_questions()[i];
      if (item == q.id || item == q.lesson) {
        wanted[i] = true;
        found = true;
      }
    }
    if (!found) {
      throw UsageError(fmt::format("unknown question '{}' (the questions are q0 to q{})", item,
                                   all_questions().size() - 1));
    }
    any = true;
  }
  if (!any) throw UsageError("--questions needs at least one question, e.g. --questions q0,q3");
  std::vector<QuestionSpec> questions;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i]) questions.push_back(all_questions()[i]);
  }
  return questions;
}

CliOptions parse_command_line(int argc, char** argv) {
  CliOptions options;
  options.questions = all_questions();
  std::optional<std::string> scale_text;
  std::optional<std::string> device_text;
  std::string exe_dir;
  bool jobs_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      if (const size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    auto no_value = [&]() {
      if (inline_value) throw UsageError(arg + " takes no value");
    };
    if (arg == "-h" || arg == "--help") {
      options.help = true;
    } else if (arg == "--build-dir") {
      options.grade.build_dir = value();
    } else if (arg == "--student-dir") {
      options.grade.student_dir = value();
      if (options.grade.student_dir.empty()) throw UsageError("--student-dir needs a folder");
    } else if (arg == "--toolchain") {
      options.grade.toolchain = value();
    } else if (arg == "--exe-dir") {
      exe_dir = value();
    } else if (arg == "--questions") {
      options.questions = parse_questions(value());
    } else if (arg == "--no-build") {
      no_value();
      options.grade.build = false;
    } else if (arg == "--build-command") {
      options.grade.build_command = value();
      if (options.grade.build_command.empty()) throw UsageError("--build-command is empty");
    } else if (arg == "--cmake") {
      options.grade.cmake = value();
    } else if (arg == "--jobs" || arg == "-j") {
      const double jobs = parse_number(value(), "--jobs", false);
      if (jobs != std::floor(jobs) || jobs > 1024) throw UsageError("--jobs must be a whole number");
      options.grade.jobs = static_cast<int>(jobs);
      jobs_given = true;
    } else if (arg == "--build-timeout") {
      options.grade.build_timeout_seconds = parse_number(value(), "--build-timeout", false);
    } else if (arg == "--compile-timeout") {
      options.grade.compile_timeout_seconds = parse_number(value(), "--compile-timeout", false);
    } else if (arg == "--timeout-scale") {
      scale_text = value();
    } else if (arg == "--seed") {
      const std::string seed = value();
      if (seed.empty() || seed.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--seed must be a non-negative integer, got '" + seed + "'");
      }
      options.grade.seed = seed;
    } else if (arg == "--check") {
      options.grade.check_filter = value();
      if (options.grade.check_filter.empty()) throw UsageError("--check needs a check's name");
    } else if (arg == "--device") {
      device_text = value();
    } else if (arg == "--results-json") {
      options.results_json = value();
    } else if (arg == "--report") {
      options.report = value();
    } else if (arg == "--html") {
      options.html = value();
      if (options.html.empty()) throw UsageError("--html needs a file name");
    } else if (arg == "--preface") {
      options.preface_file = value();
    } else if (arg == "--no-html") {
      no_value();
      options.no_html = true;
    } else if (arg == "--pictures-dir") {
      options.grade.pictures_dir = value();
      if (options.grade.pictures_dir.empty()) throw UsageError("--pictures-dir needs a folder");
    } else if (arg == "--color" || arg == "--colour") {
      options.color = value();
      if (options.color != "auto" && options.color != "always" && options.color != "never") {
        throw UsageError("--color must be auto, always or never, got '" + options.color + "'");
      }
    } else if (arg == "--no-timings") {
      no_value();
      options.timings = false;
    } else if (arg == "--work-dir") {
      options.grade.work_dir = value();
      options.keep_work_dir = true;
    } else if (arg == "--verbose") {
      no_value();
      options.verbose = true;
    } else if (arg == "--quiet") {
      no_value();
      options.verbose = false;
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (options.help) return options;

  if (!scale_text) {
    if (const char* env = std::getenv("EMBER_GRADE_TIMEOUT_SCALE"); env != nullptr && *env) {
      scale_text = env;
    }
  }
  if (scale_text) {
    options.grade.timeout_scale = parse_number(*scale_text, "the time-budget scale", false);
  }
  // The device: checked here, before anything is built, so a misspelt value costs nothing.
  // Whether the device can be used is for the question programs to find out (they link
  // the engine); they report it, and the report says so.
  if (!device_text) {
    if (const char* env = std::getenv(ember::grading::protocol::kDeviceVariable); env != nullptr) {
      device_text = env;
    }
  }
  if (device_text) {
    const auto name = ember::grading::protocol::normalize_device(*device_text);
    if (!name) throw UsageError(ember::grading::protocol::bad_device_message(*device_text));
    options.device = *name;
    options.grade.device = device_text->empty() ? std::string("cpu") : *device_text;
  }

  GradeOptions& grade = options.grade;
  if (grade.build && grade.build_command.empty()) {
    if (grade.build_dir.empty()) {
      throw UsageError("--build-dir is required (or --no-build with --exe-dir)");
    }
    if (!fs::is_regular_file(fs::path(grade.build_dir) / "CMakeCache.txt")) {
      throw UsageError(fmt::format("--build-dir {} is not a configured CMake build tree (it has "
                                   "no CMakeCache.txt)",
                                   grade.build_dir));
    }
  }
  if (!exe_dir.empty()) {
    grade.exe_dir = exe_dir;
  } else if (!grade.build_dir.empty()) {
    grade.exe_dir = (fs::path(grade.build_dir) / "autograder").string();
  } else {
    throw UsageError("say where the grade_qN programs are: --build-dir DIR or --exe-dir DIR");
  }
  if (options.no_html) {
    if (!options.html.empty()) throw UsageError("--html and --no-html contradict each other");
  } else if (options.html.empty() && !grade.build_dir.empty()) {
    options.html = (fs::path(grade.build_dir) / "grade-report.html").string();
  }
  if (grade.pictures_dir.empty() && !grade.build_dir.empty()) {
    grade.pictures_dir = (fs::path(grade.build_dir) / "pictures").string();
  }
  if (!grade.student_dir.empty()) {
    if (!fs::is_directory(grade.student_dir)) {
      throw UsageError(fmt::format("--student-dir {} is not a folder", grade.student_dir));
    }
    grade.student_dir = fs::absolute(grade.student_dir).lexically_normal().string();
    if (grade.toolchain.empty()) {
      if (grade.build_dir.empty()) throw UsageError("--student-dir needs --build-dir or --toolchain");
      grade.toolchain = (fs::path(grade.build_dir) / "autograder" / "runner_toolchain.txt").string();
    }
  }
  if (!jobs_given) grade.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return options;
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "ember_grade: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

std::string make_temp_work_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ember_grade.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("cannot create a temporary directory {}: {}", pattern,
                                         std::strerror(errno)));
  }
  return pattern;
}

int run(int argc, char** argv) {
  CliOptions options;
  try {
    options = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ember_grade: %s\n(run ember_grade --help for the options)\n", e.what());
    return 2;
  }
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }

  bool color = options.color == "always";
  if (options.color == "auto") {
    const char* term = std::getenv("TERM");
    color = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr &&
            !(term != nullptr && std::strcmp(term, "dumb") == 0);
  }
  options.grade.progress = options.verbose.value_or(::isatty(STDERR_FILENO) != 0);

  try {
    if (options.grade.work_dir.empty()) {
      options.grade.work_dir = make_temp_work_dir();
    } else {
      fs::create_directories(options.grade.work_dir);
    }
    // Without a build tree the pictures go to the work folder: read for the HTML report,
    // then removed with it.
    if (options.grade.pictures_dir.empty()) {
      options.grade.pictures_dir = (fs::path(options.grade.work_dir) / "pictures").string();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember_grade: %s\n", e.what());
    return 1;
  }

  // Whatever a question starts and leaves behind (a student process that double-forked and
  // called setsid) is adopted by us, and killed before the question's results are read.
  ember::sandbox::become_subreaper();
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no ptrace, no /proc reading by student code run as us
  std::string protection;
  if (!options.grade.student_dir.empty()) {
    options.grade.user = ember::sandbox::student_user_if_root();
    std::string why_not;
    options.grade.level = ember::sandbox::detect_level(options.grade.user, &why_not);
    protection = "Protection: " + ember::sandbox::describe(options.grade.level, options.grade.user);
    if (!why_not.empty()) protection += " [" + why_not + "]";
    // Without the sandbox, as root, student code runs as another user, who may still read what
    // everyone may: the reference solutions of this checkout, if they are here and open (every
    // folder on the way lets others through). Said to the instructor (stderr), not in the report.
    if (options.grade.level == ember::sandbox::Level::Limits && options.grade.user) {
      const fs::path solutions = fs::path(EMBER_GRADE_SOURCE_DIR) / "solutions";
      std::error_code error;
      bool open = fs::is_directory(solutions, error);
      for (fs::path at = solutions; open && !at.empty(); at = at.parent_path()) {
        const fs::perms perms = fs::status(at, error).permissions();
        open = !error && (perms & fs::perms::others_exec) != fs::perms::none;
        if (at == at.root_path()) break;
      }
      if (open) {
        std::fprintf(stderr,
                     "ember_grade: warning: without the sandbox the student's code runs as another user, who can "
                     "read %s (open to every user): chmod -R o-rwx it, or grade where bubblewrap works\n",
                     solutions.c_str());
      }
    }
    try {
      // The student's side: a folder the student user may read (but not write, except the
      // runner's own output folder), apart from our private work folder.
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ember_student.XXXXXX";
      if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error(fmt::format("cannot create {}: {}", pattern, std::strerror(errno)));
      }
      fs::permissions(pattern, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::replace);
      options.grade.student_root = pattern;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ember_grade: %s\n", e.what());
      return 1;
    }
  }

  std::string preface;
  if (!options.preface_file.empty()) {
    std::ifstream in(options.preface_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ember_grade: cannot read the preface %s: %s\n",
                   options.preface_file.c_str(), std::strerror(errno));
      return 2;
    }
    std::string text(kMaxPrefaceBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    preface = sanitize_utf8(show_controls(strip_ansi(text)));  // student file names: shown, not obeyed
    while (!preface.empty() && (preface.back() == '\n' || preface.back() == ' ')) preface.pop_back();
  }

  if (!protection.empty()) preface = preface.empty() ? protection : preface + "\n" + protection;

  install_interrupt_handlers();
  std::vector<QuestionResult> results;
  std::string plain_report;
  if (!preface.empty()) {
    plain_report = preface + "\n\n";
    std::fputs(plain_report.c_str(), stdout);
    std::fflush(stdout);
  }
  for (const QuestionSpec& question : options.questions) {
    QuestionResult result = grade_question(question, options.grade);
    if (interrupted()) break;
    const std::string text = render_question(result, {false, options.timings});
    plain_report += text;
    std::fputs(color ? render_question(result, {true, options.timings}).c_str() : text.c_str(),
               stdout);
    std::fflush(stdout);
    results.push_back(std::move(result));
  }
  if (!options.keep_work_dir) {
    std::error_code ignored;
    fs::remove_all(options.grade.work_dir, ignored);
  }
  if (!options.grade.student_root.empty()) {
    std::error_code ignored;
    fs::remove_all(options.grade.student_root, ignored);
  }
  if (interrupted()) {
    std::fprintf(stderr, "ember_grade: interrupted\n");
    return 128 + interrupt_signal();
  }

  const DeviceSummary device = summarize_device(options.device, results);
  const std::string summary = render_summary(results, device);
  plain_report += summary;
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);

  bool written = true;
  // results.json gets the report without the HTML line: on Gradescope that path means nothing.
  if (!options.results_json.empty()) {
    written = write_text_file(options.results_json,
                              render_results_json(results, plain_report, device)) &&
              written;
  }
  std::string text_report = plain_report;
  if (!options.html.empty()) {
    HtmlStyle style;
    style.timings = options.timings;
    style.preface = preface;
    style.device = device.line();
    if (write_text_file(options.html, render_html(results, style))) {
      std::error_code error;
      fs::path shown = fs::absolute(options.html, error);
      if (error) shown = options.html;
      const std::string line = "\nHTML report: " + shown.lexically_normal().string() + "\n";
      text_report += line;
      std::fputs(line.c_str(), stdout);
      std::fflush(stdout);
    } else {
      written = false;
    }
  }
  if (!options.report.empty()) written = write_text_file(options.report, text_report) && written;
  return written ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember_grade: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "ember_grade: unexpected error\n");
    return 1;
  }
}
