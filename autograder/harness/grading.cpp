// The grading harness: points registry, notes, the results-file listener and main().
#include "grading.h"

#include <cxxabi.h>
#include <sys/prctl.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <ember/error.h>
#include <ember/random.h>
#include <ember_course/data_paths.h>

#include "grade_protocol.h"
#include "sha256.h"
#include "runner_client.h"
#include "sandbox.h"

namespace ember::grading {

namespace {

namespace protocol = ::ember::grading::protocol;

// Limits that keep one check's message readable (a loop of failing EXPECTs can produce
// thousands of failures).
constexpr size_t kMaxFailuresShown = 5;
constexpr size_t kMaxFailureChars = 1500;
constexpr size_t kMaxNotesShown = 20;
constexpr size_t kMaxNoteChars = 500;

struct Registry {
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, int> points;  // (suite, test) -> points
  bool failed = false;                                        // a registration went wrong
};

Registry& registry() {
  static Registry instance;  // constructed on first use: safe during static initialisation
  return instance;
}

int points_of(const char* suite, const char* test) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const auto it = r.points.find({suite, test});
  return it == r.points.end() ? 0 : it->second;
}

struct NoteBox {
  std::mutex mutex;
  bool in_check = false;
  std::vector<std::string> notes;
};

NoteBox& note_box() {
  static NoteBox instance;
  return instance;
}

std::uint64_t g_seed = 0;

std::string truncate(std::string text, size_t limit) {
  if (text.size() <= limit) return text;
  text.resize(limit);
  text += " ... (cut)";
  return text;
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

// The message a check's line carries: its failures (tidied) and then its notes.
std::string compose_message(const ::testing::TestResult& result, std::vector<std::string> notes) {
  std::vector<std::string> lines;
  size_t failures = 0;
  for (int i = 0; i < result.total_part_count(); ++i) {
    const ::testing::TestPartResult& part = result.GetTestPartResult(i);
    if (part.skipped()) {
      const std::string why = protocol::tidy_failure_message(part.message());
      lines.push_back(why.empty() ? "skipped" : "skipped: " + why);
      continue;
    }
    if (!part.failed()) continue;
    if (++failures > kMaxFailuresShown) continue;
    lines.push_back(truncate(protocol::tidy_failure_message(part.message()), kMaxFailureChars));
  }
  if (failures > kMaxFailuresShown) {
    lines.push_back(fmt::format("(and {} more failures)", failures - kMaxFailuresShown));
  }
  for (size_t i = 0; i < notes.size() && i < kMaxNotesShown; ++i) {
    lines.push_back(truncate(std::move(notes[i]), kMaxNoteChars));
  }
  if (notes.size() > kMaxNotesShown) {
    lines.push_back(fmt::format("(and {} more notes)", notes.size() - kMaxNotesShown));
  }
  std::string message;
  for (const std::string& line : lines) {
    if (!message.empty()) message += '\n';
    message += line;
  }
  return message;
}

// Seeds the engine before every test and writes the results file.
class GradingListener : public ::testing::EmptyTestEventListener {
 public:
  explicit GradingListener(std::FILE* results) : results_(results) {}
  ~GradingListener() override {
    if (results_ != nullptr) std::fclose(results_);
  }
  GradingListener(const GradingListener&) = delete;
  GradingListener& operator=(const GradingListener&) = delete;

  void OnTestIterationStart(const ::testing::UnitTest& unit_test, int iteration) override {
    if (iteration != 0) return;
    write(protocol::header_line());
    const DeviceChoice& device = device_choice();
    write(protocol::device_line(device.name.empty() ? std::string("cpu") : device.name,
                                device.problem));
    for (int i = 0; i < unit_test.total_test_suite_count(); ++i) {
      const ::testing::TestSuite* suite = unit_test.GetTestSuite(i);
      for (int j = 0; j < suite->total_test_count(); ++j) {
        const ::testing::TestInfo* test = suite->GetTestInfo(j);
        if (!test->should_run()) continue;
        write(protocol::plan_line(test->test_suite_name(), test->name(),
                                  points_of(test->test_suite_name(), test->name())));
      }
    }
  }

  void OnTestStart(const ::testing::TestInfo& test) override {
    {
      NoteBox& box = note_box();
      std::lock_guard<std::mutex> lock(box.mutex);
      box.notes.clear();
      box.in_check = true;
    }
    write(protocol::start_line(test.test_suite_name(), test.name(),
                               points_of(test.test_suite_name(), test.name())));
    ember::manual_seed(checker_seed(std::string(test.test_suite_name()) + "." + test.name()));
  }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    std::vector<std::string> notes;
    {
      NoteBox& box = note_box();
      std::lock_guard<std::mutex> lock(box.mutex);
      notes.swap(box.notes);
      box.in_check = false;
    }
    const ::testing::TestResult& result = *test.result();
    const int max = points_of(test.test_suite_name(), test.name());
    const bool passed = result.Passed();
    const int earned = passed ? max : 0;
    Tally& tally = tallies_[test.test_suite_name()];
    tally.earned += earned;
    tally.max += max;
    write(protocol::check_line(test.test_suite_name(), test.name(), earned, max, passed,
                               compose_message(result, std::move(notes))));
  }

  void OnTestProgramEnd(const ::testing::UnitTest&) override {
    write(protocol::done_line());
    for (const auto& [suite, tally] : tallies_) {
      std::printf("[  POINTS  ] %s: %d/%d in the checks that ran\n", suite.c_str(), tally.earned,
                  tally.max);
    }
    std::fflush(stdout);
  }

 private:
  struct Tally {
    int earned = 0;
    int max = 0;
  };

  void write(const std::string& line) {
    if (results_ == nullptr) return;
    if (std::fputs(line.c_str(), results_) < 0 || std::fflush(results_) != 0) {
      if (!write_failed_) std::fprintf(stderr, "grade: cannot write the results file: %s\n",
                                       std::strerror(errno));
      write_failed_ = true;
    }
  }

  std::FILE* results_;
  bool write_failed_ = false;
  std::map<std::string, Tally> tallies_;
};

std::optional<std::uint64_t> parse_seed(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct HarnessOptions {
  std::string results_file;
  std::string seed_text;
  bool seed_given = false;
  bool help = false;
  bool plan_only = false;  // --plan: list the checks and their points, run nothing
};

// Takes the harness's own flags out of argv (GoogleTest sees the rest). Throws on a flag
// that is missing its value.
HarnessOptions take_harness_flags(int& argc, char** argv) {
  HarnessOptions options;
  if (const char* env = std::getenv("EMBER_GRADE_RESULTS"); env != nullptr) {
    options.results_file = env;
  }
  if (const char* env = std::getenv("EMBER_SEED"); env != nullptr && *env != '\0') {
    options.seed_text = env;
    options.seed_given = true;
  }
  int kept = argc > 0 ? 1 : 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value_of = [&](std::string_view flag, std::string& out) {
      if (arg.substr(0, flag.size()) != flag) return false;
      if (arg.size() == flag.size()) {
        if (i + 1 >= argc) throw Error(fmt::format("{} needs a value", flag));
        out = argv[++i];
        return true;
      }
      if (arg[flag.size()] != '=') return false;
      out = std::string(arg.substr(flag.size() + 1));
      return true;
    };
    if (value_of("--results-file", options.results_file)) continue;
    if (value_of("--seed", options.seed_text)) {
      options.seed_given = true;
      continue;
    }
    if (arg == "--plan") {
      options.plan_only = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || arg == "-?") options.help = true;
    argv[kept++] = argv[i];
  }
  argc = kept;
  argv[kept] = nullptr;  // argv[argc] is always a null pointer
  return options;
}

}  // namespace

void add_note(std::string note) {
  std::printf("[   NOTE   ] %s\n", note.c_str());
  std::fflush(stdout);
  NoteBox& box = note_box();
  std::lock_guard<std::mutex> lock(box.mutex);
  if (box.in_check) box.notes.push_back(std::move(note));
}

std::uint64_t grading_seed() { return g_seed; }

std::uint64_t hashed_seed(const std::string& domain, const std::string& key) {
  const std::string digest = Sha256().update(fmt::format("{}\n{}\n{}", domain, g_seed, key)).hex();
  return std::stoull(digest.substr(0, 16), nullptr, 16) >> 1;
}

std::uint64_t checker_seed(const std::string& purpose) { return hashed_seed("ember checker seed", purpose); }

void diagnose(const std::string& cause, const std::string& note, const std::string& section) {
  add_note(fmt::format("likely cause: {} (see docs/lessons/{}, section \"{}\")", cause, note, section));
}

void verify_datasets(const std::vector<std::string>& relative_paths) {
  static std::set<std::string> verified;
  const std::string sums_path = ember::course::dataset_path("SHA256SUMS");
  std::map<std::string, std::string> listed;  // relative path -> sum
  {
    std::ifstream in(sums_path);
    if (!in) throw std::runtime_error("cannot read " + sums_path + ", which lists the datasets' SHA-256 sums");
    std::string sum, name;
    while (in >> sum >> name) listed[name] = sum;
  }
  for (const std::string& relative : relative_paths) {
    if (verified.count(relative)) continue;
    const auto it = listed.find(relative);
    if (it == listed.end()) throw std::runtime_error(sums_path + " lists no sum for " + relative);
    const std::string path = ember::course::dataset_path(relative);
    const std::string actual = sha256_file(path);
    if (actual != it->second) {
      throw std::runtime_error(fmt::format(
          "{} is not the file the course ships: its SHA-256 sum is {}, but {} lists {}. It was changed "
          "or damaged; restore it (git checkout -- datasets/, or a fresh copy of the course) and grade again",
          path, actual, sums_path, it->second));
    }
    verified.insert(relative);
  }
}

namespace detail {

CheckRegistrar::CheckRegistrar(const char* question, const char* check, int points) noexcept {
  Registry& r = registry();
  try {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (points < 0 || !r.points.emplace(std::make_pair(question, check), points).second) {
      r.failed = true;
    }
  } catch (...) {
    r.failed = true;
  }
}

void run_check(void (*body)()) {
  // Not on the CPU instead: a run asked for a GPU must not report the CPU's results as its own.
  // The first check says why in full; the others, in a sentence.
  if (const DeviceChoice& device = device_choice(); !device.problem.empty()) {
    static bool explained = false;
    if (explained && device.headline != device.problem) {
      ADD_FAILURE() << "not run: " << device.headline << "; the first check says why";
    } else {
      ADD_FAILURE() << "not run: " << device.problem;
    }
    explained = true;
    return;
  }
  try {
    body();
  } catch (const StudentError& e) {
    // The student's code threw, in the runner. An unfinished stub reads
    // "exception: q3: DigitClassificationModel::run is not implemented".
    if (e.ember_error() || e.type.empty()) {
      ADD_FAILURE() << "exception: " << e.what();
    } else {
      ADD_FAILURE() << "exception (" << e.type << "): " << e.what();
    }
  } catch (const RunnerFailure& e) {
    ADD_FAILURE() << e.what();
  } catch (const CheckFailure& e) {
    ADD_FAILURE() << e.what();
  } catch (const ember::Error& e) {
    ADD_FAILURE() << "exception: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception (" << demangle(typeid(e).name()) << "): " << e.what();
  } catch (...) {
    ADD_FAILURE() << "exception: an exception not derived from std::exception";
  }
}

}  // namespace detail
}  // namespace ember::grading

int main(int argc, char** argv) {
  using namespace ember::grading;
  try {
    HarnessOptions options = take_harness_flags(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    if (options.help) {
      std::printf(
          "\nGrading harness options:\n"
          "  --results-file=PATH  append one line per check to PATH (env EMBER_GRADE_RESULTS)\n"
          "  --seed=N             the grading seed: each test seeds the engine from N and its own name\n"
          "                       (env EMBER_SEED, default 0)\n"
          "  --plan               write the checks and their points, and run nothing\n"
          "Environment: EMBER_DEVICE=cpu|cuda|cuda:N  the device the checks run on (default "
          "cpu)\n");
      return 0;
    }
    if (options.seed_given) {
      const auto seed = parse_seed(options.seed_text);
      if (!seed) {
        std::fprintf(stderr, "grade: the seed must be a non-negative integer, got '%s'\n",
                     options.seed_text.c_str());
        return 2;
      }
      g_seed = *seed;
    }
    if (registry().failed) {
      std::fprintf(stderr, "grade: a GRADED_TEST was registered twice or with negative points\n");
      return 2;
    }
    std::FILE* results = nullptr;
    if (const char* fd = std::getenv("EMBER_GRADE_RESULTS_FD"); fd != nullptr && *fd != '\0') {
      // The driver's own file, inherited: it has no name a runner could find.
      results = ::fdopen(std::atoi(fd), "w");
      if (results == nullptr) {
        std::fprintf(stderr, "grade: cannot write to the results descriptor %s: %s\n", fd, std::strerror(errno));
        return 2;
      }
    } else if (!options.results_file.empty()) {
      results = std::fopen(options.results_file.c_str(), "w");
      if (results == nullptr) {
        std::fprintf(stderr, "grade: cannot open the results file %s: %s\n",
                     options.results_file.c_str(), std::strerror(errno));
        return 2;
      }
    }
    if (options.plan_only) {
      // The manifest: the driver reads it before any student code is compiled, so a question
      // whose code does not compile still lists every check it failed.
      std::FILE* out = results != nullptr ? results : stdout;
      std::fputs(protocol::header_line().c_str(), out);
      const ::testing::UnitTest& unit_test = *::testing::UnitTest::GetInstance();
      for (int i = 0; i < unit_test.total_test_suite_count(); ++i) {
        const ::testing::TestSuite* suite = unit_test.GetTestSuite(i);
        for (int j = 0; j < suite->total_test_count(); ++j) {
          const ::testing::TestInfo* test = suite->GetTestInfo(j);
          std::fputs(protocol::plan_line(test->test_suite_name(), test->name(),
                                         points_of(test->test_suite_name(), test->name())).c_str(), out);
        }
      }
      std::fputs(protocol::done_line().c_str(), out);
      if (results != nullptr) std::fclose(results);
      return 0;
    }
    // Orphans of the runners (a double fork, setsid) become our children, to be stopped.
    ember::sandbox::become_subreaper();
    // Not dumpable: a runner under the same user (the limits-only level) can neither ptrace
    // this process nor read its /proc entries (environment, open files).
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const DeviceChoice& device = device_choice();
    if (device.problem.empty()) {
      std::printf("[  DEVICE  ] %s\n", device.name.c_str());
    } else {
      std::printf("[  DEVICE  ] %s\n", device.problem.c_str());
    }
    std::fflush(stdout);
    // GoogleTest owns the listener from here on (and closes the file when it deletes it).
    ::testing::UnitTest::GetInstance()->listeners().Append(new GradingListener(results));
    const int status = RUN_ALL_TESTS();
    stop_runner();  // and every process it started
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grade: %s\n", e.what());
    return 2;
  }
}
