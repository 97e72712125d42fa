// ember_grade_class: grades a whole class, one submission per entry of a folder, by running
// the driver (ember_grade) once per submission, several at a time; writes gradebook.csv, a
// report per student and class.html. docs/instructors.md, "Grading a whole class".
//
// Each submission is graded exactly as `make grade STUDENT_DIR=` grades it: the driver
// compiles its runners in the sandbox and the trusted checkers decide every point. This
// program only finds the files (the Gradescope flow's collect step, run_autograder
// --collect-only), stages each submission in a folder of its own, and gathers the driver's
// results.json into the gradebook. It never runs student code itself.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "gradebook.h"
#include "grader.h"
#include "process.h"
#include "report.h"
#include "sandbox.h"
#include "sha256.h"

#ifndef EMBER_CLASS_SOURCE_DIR
#define EMBER_CLASS_SOURCE_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
using namespace ember::grade;
using namespace ember::grade::klass;
using ember::grading::sha256_file;
using ember::grading::sha256_hex;
using ember::grading::Sha256;

constexpr const char* kUsage = R"(Usage: ember_grade_class --build-dir DIR --submissions DIR [options]
       ember_grade_class --merge --out DIR SHARD_OUT_DIR...

Grades every submission in a folder with the driver (ember_grade), several at a time, and
writes a gradebook, a report per student and a class page. One submission per entry of the
folder: a folder or a .zip, named after the student (hidden entries are skipped).

Options:
  --build-dir DIR      the grader's build tree, built (make grade builds build/grade)
  --submissions DIR    the class's submissions
  --out DIR            where to write (default: build/class)
  --questions LIST     questions to grade, e.g. q0,q1 (default: all)
  --jobs N             submissions graded at once (default: the number of CPUs)
  --threads N          the engine's threads in each submission's programs
                       (EMBER_NUM_THREADS; default: CPUs / jobs, at least 1)
  --shard I/N          grade only every N-th student, starting with the I-th (1 <= I <= N),
                       in name order; merge the shards' folders with --merge
  --seed N             the grading seed (as ember_grade --seed; default: the one kept
                       in OUT/grading_seed, drawn at random on the first run; shards
                       need it given, the same for each)
  --device D           cpu, cuda or cuda:N (as ember_grade --device)
  --force              regrade every submission, changed or not
  --source DIR         the course source (its lessons/ and autograder/gradescope/
                       run_autograder; default: the checkout this was built from)
  --cmake PROGRAM      the cmake that unpacks zips (default: cmake)
  -h, --help           this text

Merging (--merge): joins the gradebooks, reports and records of the shards' output folders
into --out, refuses when a student was graded by two shards (nothing is written), and lists
the students that no shard graded (written, exit status 3).

Output: OUT/gradebook.csv, OUT/class.html, OUT/reports/<student>.{txt,html,json},
OUT/records/ (what a re-run needs to skip unchanged submissions), OUT/roster.csv.
Exit status: 0 when every submission was dealt with (whatever the grades); 1 on an error of
this program; 2 for a usage error; 3 (merge) when students are missing; 128+N when
interrupted by signal N (run it again to resume).
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string build_dir;
  std::string submissions;
  std::string out = "build/class";
  std::vector<QuestionSpec> questions = all_questions();
  int jobs = 0;
  int threads = 0;
  int shard = 1, shards = 1;
  std::string seed;
  std::string device;
  bool force = false;
  std::string source = EMBER_CLASS_SOURCE_DIR;
  std::string cmake = "cmake";
  bool merge = false;
  std::vector<std::string> merge_inputs;
  bool help = false;
};

int parse_count(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) < 1) {
    throw UsageError(fmt::format("{} must be a whole number of at least 1, got '{}'", what, text));
  }
  return std::stoi(text);
}

std::vector<QuestionSpec> parse_questions(const std::string& list) {
  std::vector<QuestionSpec> out;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(begin, end - begin);
    begin = end + 1;
    if (item.empty()) continue;
    if (item == "all") return all_questions();
    if (item[0] != 'q') item = "q" + item;
    bool found = false;
    for (const QuestionSpec& q : all_questions()) {
      if (q.id == item || q.lesson == item) {
        found = true;
        bool already = false;
        for (const QuestionSpec& o : out) already = already || o.id == q.id;
        if (!already) out.push_back(q);
      }
    }
    if (!found) throw UsageError(fmt::format("unknown question '{}'", item));
  }
  if (out.empty()) throw UsageError("--questions needs at least one question");
  // In the course's order, whatever order they were asked in.
  std::vector<QuestionSpec> ordered;
  for (const QuestionSpec& q : all_questions()) {
    for (const QuestionSpec& o : out) {
      if (o.id == q.id) ordered.push_back(q);
    }
  }
  return ordered;
}

Options parse_command_line(int argc, char** argv) {
  Options o;
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
    if (arg == "-h" || arg == "--help") o.help = true;
    else if (arg == "--build-dir") o.build_dir = value();
    else if (arg == "--submissions") o.submissions = value();
    else if (arg == "--out") o.out = value();
    else if (arg == "--questions") o.questions = parse_questions(value());
    else if (arg == "--jobs" || arg == "-j") o.jobs = parse_count(value(), "--jobs");
    else if (arg == "--threads") o.threads = parse_count(value(), "--threads");
    else if (arg == "--seed") {
      o.seed = value();
      if (o.seed.empty() || o.seed.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--seed must be a non-negative integer, got '" + o.seed + "'");
      }
    } else if (arg == "--device") o.device = value();
    else if (arg == "--force") o.force = true;
    else if (arg == "--source") o.source = value();
    else if (arg == "--cmake") o.cmake = value();
    else if (arg == "--merge") o.merge = true;
    else if (arg == "--shard") {
      const std::string text = value();
      const size_t slash = text.find('/');
      if (slash == std::string::npos) throw UsageError("--shard must be I/N, e.g. 2/4, got '" + text + "'");
      o.shard = parse_count(text.substr(0, slash), "--shard's I");
      o.shards = parse_count(text.substr(slash + 1), "--shard's N");
      if (o.shard > o.shards) throw UsageError("--shard I/N needs I <= N, got '" + text + "'");
    } else if (!arg.empty() && arg[0] != '-' && o.merge) {
      o.merge_inputs.push_back(arg);
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (o.help) return o;
  if (o.out.empty()) throw UsageError("--out needs a folder");
  if (o.merge) {
    if (o.merge_inputs.empty()) throw UsageError("--merge needs the shards' output folders");
    return o;
  }
  // The seed may come in the environment (make grade-class SEED=N), which other processes
  // cannot read as they can a command line; it counts in the resume hash either way.
  if (o.seed.empty()) {
    if (const char* seed = std::getenv("EMBER_SEED"); seed != nullptr && *seed != '\0') {
      o.seed = seed;
      if (o.seed.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("EMBER_SEED must be a non-negative integer, got '" + o.seed + "'");
      }
    }
  }
  if (o.build_dir.empty()) throw UsageError("--build-dir is required (make grade builds build/grade)");
  if (o.submissions.empty()) throw UsageError("--submissions is required");
  if (!fs::is_directory(o.submissions)) throw UsageError(fmt::format("--submissions {} is not a folder", o.submissions));
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  if (o.jobs == 0) o.jobs = static_cast<int>(cpus);
  if (o.threads == 0) o.threads = std::max(1, static_cast<int>(cpus) / o.jobs);
  if (o.shards > 1 && o.seed.empty()) {
    throw UsageError("the shards of a class must use the same grading seed: give one (--seed N, or make grade-class "
                     "SEED=N), a random number below 2^63 (od -An -N8 -tu8 /dev/urandom gives one; keep its first 18 "
                     "digits)");
  }
  return o;
}

// ---- small file helpers --------------------------------------------------------------------

std::string read_file(const fs::path& path, size_t limit = 64 << 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string data(limit, '\0');
  in.read(data.data(), static_cast<std::streamsize>(limit));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

// Written under a temporary name, then renamed: a reader (or a re-run after an interruption)
// sees the old file or the new one, never half of one.
// owner_only: the file is readable by its owner only from before anything is written to it.
void write_file_atomically(const fs::path& path, const std::string& text, bool owner_only = false) {
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (owner_only) fs::permissions(partial, fs::perms::owner_read | fs::perms::owner_write);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}: {}", partial.string(), std::strerror(errno)));
  }
  fs::rename(partial, path);
}

std::mutex g_print;
void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_print);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

// ---- the roster ------------------------------------------------------------------------------

struct Student {
  std::string raw;      // the name as the entry has it (bytes)
  std::string name;     // shown: valid UTF-8, control characters escaped
  std::string stem;     // report file names
  std::vector<std::string> entries;  // more than one: a duplicate name
  bool zip = false;
  int shard = 1;
};

bool ends_with_zip(const std::string& name) {
  if (name.size() < 5) return false;
  std::string tail = name.substr(name.size() - 4);
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".zip";
}

std::string display_name(const std::string& raw) { return sanitize_utf8(show_controls(raw)); }

// A file name for the student's reports: letters, digits, '.', '-', '_' and non-ASCII
// letters stay; anything else becomes '_', and then a hash of the real name is added so that
// "a b" and "a_b" do not share a report.
std::string make_stem(const std::string& raw, const std::string& shown) {
  std::string stem;
  for (unsigned char c : shown) {
    const bool keep = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80;
    stem += keep ? static_cast<char>(c) : '_';
  }
  if (stem.size() > 80) stem.resize(80);  // whole UTF-8 sequences or not: a hash follows
  const bool changed = stem != raw || stem.empty() || stem[0] == '.';
  if (stem.empty() || stem[0] == '.') stem.insert(stem.begin(), 's');
  if (changed) {
    stem = sanitize_utf8(stem);
    // sanitize_utf8 may bring back U+FFFD, which is fine in a file name.
    stem += "-" + sha256_hex(raw).substr(0, 8);
  }
  return stem;
}

std::string lower_ascii(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The stem itself if no earlier student (in name order) has it, else one made unique: a folder
// may be named like another student's stem ("John_Smith-ef61a579" beside "John Smith"), and two
// students must never share a report. Compared in lower case, as on a case-insensitive disk.
std::string unique_stem(const std::string& stem, const std::string& raw, std::set<std::string>& taken) {
  std::string candidate = stem;
  for (int n = 1; !taken.insert(lower_ascii(candidate)).second; ++n) {
    candidate = fmt::format("{}-{}{}", stem, sha256_hex(raw).substr(0, 16), n > 1 ? fmt::format("-{}", n) : "");
  }
  return candidate;
}

// Whether an earlier run could have given `old` to the student named `raw` (whose own stem is
// `own`): the plain stem, or unique_stem's long form of it.
bool could_be_stem_of(const std::string& old, const std::string& own, const std::string& raw) {
  return old == own || old.rfind(fmt::format("{}-{}", own, sha256_hex(raw).substr(0, 16)), 0) == 0;
}

std::optional<StudentRecord> load_record(const fs::path& path);

// The stems of an earlier run into the same output folder, by the student's shown name (from
// records/<stem>.record).
std::map<std::string, std::vector<std::string>> earlier_stems(const fs::path& records) {
  std::map<std::string, std::vector<std::string>> stems;
  std::error_code error;
  for (fs::directory_iterator it(records, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() != ".record") continue;
    if (auto r = load_record(it->path()); r && it->path().stem().string() == r->stem) {
      stems[r->student].push_back(r->stem);
    }
  }
  return stems;
}

struct Roster {
  std::vector<Student> students;  // sorted by raw name
  std::vector<std::string> ignored;  // lines for entries that are not submissions
};

Roster read_roster(const Options& o) {
  Roster roster;
  std::map<std::string, Student> by_name;
  std::error_code error;
  for (fs::directory_iterator it(o.submissions, error), end; !error && it != end; it.increment(error)) {
    const std::string entry = it->path().filename().string();
    if (entry.empty() || entry[0] == '.' || entry == "__MACOSX") continue;
    std::error_code e;
    const fs::file_status status = it->symlink_status(e);
    std::string raw;
    bool zip = false;
    if (fs::is_directory(status)) {
      raw = entry;
    } else if (fs::is_regular_file(status) && ends_with_zip(entry)) {
      raw = entry.substr(0, entry.size() - 4);
      zip = true;
    } else {
      roster.ignored.push_back(fmt::format("{}: skipped, not a folder or a .zip{}", display_name(entry),
                                           fs::is_symlink(status) ? " (a symbolic link is not followed)" : ""));
      continue;
    }
    if (raw.empty()) raw = entry;  // ".zip" alone: name it by the entry
    Student& s = by_name[raw];
    s.raw = raw;
    s.zip = zip;
    s.entries.push_back(entry);
  }
  if (error) throw std::runtime_error(fmt::format("cannot list {}: {}", o.submissions, error.message()));
  // Stems: first every student keeps the one an earlier run into this folder gave them, so that
  // a newcomer whose name collides with theirs ("Alice" beside "alice") never moves their reports
  // (leaving the old files behind, and regrading them); then the others, in name order. Not for
  // shards: each sees only its own folder's records, and two shards must give every student the
  // same stem (a merge puts all the reports in one folder), so there the stems depend on the
  // roster alone.
  const auto earlier = o.shards == 1 ? earlier_stems(fs::path(o.out) / "records")
                                     : std::map<std::string, std::vector<std::string>>{};
  std::set<std::string> stems;
  for (auto& [raw, s] : by_name) {
    s.name = display_name(raw);
    const auto found = earlier.find(s.name);
    if (found == earlier.end()) continue;
    for (const std::string& old : found->second) {
      if (could_be_stem_of(old, make_stem(raw, s.name), raw) && stems.insert(lower_ascii(old)).second) {
        s.stem = old;
        break;
      }
    }
  }
  int index = 0;
  for (auto& [raw, s] : by_name) {
    std::sort(s.entries.begin(), s.entries.end());
    if (s.stem.empty()) s.stem = unique_stem(make_stem(raw, s.name), raw, stems);
    s.shard = index++ % o.shards + 1;
    roster.students.push_back(std::move(s));
  }
  return roster;
}

// ---- hashing -------------------------------------------------------------------------------

// The submission's files: every path under the entry (symbolic links by their target), and
// every regular file's contents, in name order. A zip: its bytes.
std::string submission_sha(const fs::path& entry) {
  if (!fs::is_directory(fs::symlink_status(entry))) return sha256_file(entry.string());
  std::vector<std::pair<std::string, std::string>> items;
  std::error_code error;
  for (fs::recursive_directory_iterator it(entry, fs::directory_options::none, error), end; !error && it != end;
       it.increment(error)) {
    const std::string relative = fs::relative(it->path(), entry).string();
    std::error_code e;
    const fs::file_status status = it->symlink_status(e);
    if (fs::is_symlink(status)) {
      items.emplace_back(relative, "link " + fs::read_symlink(it->path(), e).string());
    } else if (fs::is_regular_file(status)) {
      std::string digest;
      try {
        digest = "file " + sha256_file(it->path().string());
      } catch (const std::exception&) {
        digest = "unreadable";
      }
      items.emplace_back(relative, digest);
    } else if (fs::is_directory(status)) {
      items.emplace_back(relative, "folder");
    } else {
      items.emplace_back(relative, "other");
    }
  }
  std::sort(items.begin(), items.end());
  Sha256 hash;
  for (const auto& [path, what] : items) hash.update(path).update(std::string(1, '\0')).update(what).update("\n");
  return hash.hex();
}

std::string file_stamp(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  const auto time = fs::last_write_time(path, error).time_since_epoch().count();
  return fmt::format("{} {} {}\n", path.string(), error ? 0 : size, error ? 0 : time);
}

// What else decides a grade: the questions, the seed, the device, the driver, the checkers,
// the runner toolchain, the stubs and the collect step. A change to any of them regrades.
std::string setup_sha(const Options& o, const fs::path& exe_dir) {
  Sha256 hash;
  hash.update("ember-class 1\n");
  for (const QuestionSpec& q : o.questions) hash.update(q.id + "\n");
  hash.update("seed " + o.seed + "\ndevice " + o.device + "\n");
  hash.update(file_stamp(exe_dir / "ember_grade"));
  for (const QuestionSpec& q : o.questions) hash.update(file_stamp(exe_dir / ("grade_" + q.id)));
  const std::string toolchain = read_file(exe_dir / "runner_toolchain.txt");
  hash.update(toolchain);
  // What a runner is built from besides the student's file: the libraries and the
  // precompiled headers the toolchain names (a rebuilt engine regrades everyone).
  for (const std::string& line : split_lines(toolchain)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const fs::path path = line.substr(eq + 1);
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      hash.update(file_stamp(path));
    } else if (line.rfind("visible=", 0) == 0 && fs::is_directory(path, error)) {
      for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
        if (it->is_regular_file(error)) hash.update(file_stamp(it->path()));
      }
    }
  }
  hash.update(read_file(fs::path(o.source) / "autograder/gradescope/run_autograder"));
  for (const QuestionSpec& q : o.questions) {
    for (const std::string& file : q.files) hash.update(read_file(fs::path(o.source) / "lessons" / q.lesson / file));
  }
  return hash.hex();
}

// ---- staging one submission ----------------------------------------------------------------

// Copies the folder's directories and regular files (not symbolic links, FIFOs or devices:
// the collect step takes only regular files anyway, and a link could lead out of the
// submission, into another student's).
void copy_plain(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  std::error_code error;
  for (fs::recursive_directory_iterator it(from, fs::directory_options::none, error), end; !error && it != end;
       it.increment(error)) {
    const fs::path target = to / fs::relative(it->path(), from);
    std::error_code e;
    const fs::file_status status = it->symlink_status(e);
    if (fs::is_directory(status)) {
      fs::create_directories(target, e);
    } else if (fs::is_regular_file(status)) {
      fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing, e);
    }
  }
  if (error) throw std::runtime_error(fmt::format("cannot read {}: {}", from.string(), error.message()));
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return fs::absolute(name).string();
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(begin, end - begin)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    begin = end + 1;
  }
  return name;
}

struct Sandboxing {
  ember::sandbox::Level level = ember::sandbox::Level::Limits;
  std::optional<ember::sandbox::StudentUser> user;
  std::string cmake;               // absolute
  std::vector<std::string> cmake_visible;  // cmake's prefix when it is not under /usr
};

// The most a submission's zip may unpack to (its listing's sizes added up; at the sandbox level
// also the room it is unpacked in). Lesson files are at most 1 MiB each.
constexpr unsigned long long kMaxUnpackedBytes = 128ULL << 20;
constexpr size_t kMaxZipEntries = 10000;
// The most of cmake's output that is read: a longer listing is refused, never read in part.
constexpr size_t kMaxListingBytes = 4 << 20;

// Runs cmake -E tar (a zip is the student's: its parser runs confined, like the compiler
// does). Returns cmake's exit status (-1: could not start, -2: too slow) and its output.
int run_tar(const Sandboxing& box, const std::vector<std::string>& args, const fs::path& zip,
            const fs::path& cwd, std::string& output, bool extract_through_tmp = false) {
  ember::sandbox::Confinement c;
  c.level = box.level;
  c.user = box.user;
  c.limits.address_space_bytes = 2ULL << 30;
  c.limits.cpu_seconds = 60;
  c.limits.file_bytes = 256ULL << 20;
  c.limits.processes = box.user ? 64 : 0;
  c.read_only = box.cmake_visible;
  c.read_only.push_back(zip.string());
  c.writable = {cwd.string()};
  c.cwd = cwd.string();
  c.env = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TMPDIR=/tmp", "HOME=/tmp"};
  const fs::path log_path = cwd.parent_path() / "tar.log";
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ember::sandbox::ChildFds fds;
  fds.out = log;
  std::vector<std::string> argv = {box.cmake, "-E", "tar"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(zip.string());
  if (extract_through_tmp && box.level == ember::sandbox::Level::Sandbox) {
    // Unpacked into the sandbox's private /tmp, a memory file system of kMaxUnpackedBytes, and
    // only then copied out: a zip whose entries lie about their sizes runs out of room there,
    // not on the grader's disk.
    c.tmp_bytes = kMaxUnpackedBytes + kMaxZipEntries * 4096;  // and a block for each entry's inode
    std::vector<std::string> shell = {"/bin/sh", "-c",
                                      "mkdir /tmp/unpacked && cd /tmp/unpacked && \"$@\" && cp -R . \"$0\"",
                                      cwd.string()};
    shell.insert(shell.end(), argv.begin(), argv.end());  // "$@": cmake -E tar ... zip
    argv = std::move(shell);
  }
  std::string error;
  const pid_t pid = ember::sandbox::spawn(c, argv, fds, &error);
  if (log >= 0) ::close(log);
  if (pid < 0) {
    output = error;
    return -1;
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while (true) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) break;
    if (interrupted() || std::chrono::steady_clock::now() - start > std::chrono::seconds(120)) {
      ember::sandbox::kill_and_reap(pid);
      output = "unpacking took longer than 120 s";
      return -2;
    }
    ::usleep(10000);
  }
  output = read_file(log_path, kMaxListingBytes + 1);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string first_lines(const std::string& text, size_t n) {
  std::string out;
  size_t count = 0;
  for (const std::string& line : split_lines(text)) {
    if (line.empty()) continue;
    if (count++ == n) break;
    out += (out.empty() ? "" : " / ") + line;
  }
  return display_name(out);
}

// Unpacks the zip into dest. Returns why it could not ("" when it did). The listing is
// checked first: an entry with an absolute path or "..", or a link, is refused, since
// CMake's extraction follows them (outside the sandbox, that would write anywhere).
std::string unpack_zip(const Sandboxing& box, const fs::path& zip, const fs::path& dest) {
  fs::create_directories(dest);
  if (box.user && ::chown(dest.c_str(), box.user->uid, box.user->gid) != 0) {
    return fmt::format("cannot give the scratch folder to {}", box.user->name);
  }
  // A zip starts with a file's header, or with the end record when it is empty. (cmake -E tar
  // reads tar files too, whose listing has owner names that may hold spaces.)
  {
    std::string magic = read_file(zip, 4);
    if (magic != std::string("PK\x03\x04", 4) && magic != std::string("PK\x05\x06", 4)) {
      return "it is not a zip file";
    }
  }
  std::string names, long_list;
  int rc = run_tar(box, {"tf"}, zip, dest, names);
  if (rc == 0) rc = run_tar(box, {"tvf"}, zip, dest, long_list);
  if (rc != 0) return "it does not unpack: " + first_lines(rc == -2 ? names : names + long_list, 2);
  if (names.size() > kMaxListingBytes || long_list.size() > kMaxListingBytes) {
    return fmt::format("its listing is longer than {} MiB", kMaxListingBytes >> 20);
  }
  const std::vector<std::string> name_lines = split_lines(names), long_lines = split_lines(long_list);
  size_t entries = 0;
  for (size_t i = 0; i < name_lines.size(); ++i) {
    const std::string& name = name_lines[i];
    if (name.empty()) continue;
    ++entries;
    if (name[0] == '/' || name == ".." || name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
        (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0)) {
      return fmt::format("it holds {}, a path that leaves the zip's folder", display_name(name));
    }
  }
  unsigned long long bytes = 0;
  for (const std::string& line : long_lines) {
    if (line.empty()) continue;
    if (line[0] != '-' && line[0] != 'd') {
      return fmt::format("it holds something other than files and folders: {}", display_name(line));
    }
    // "-rw-r--r--  0 0      0        3750  7 Dec 23:26 name": the fifth field is the size.
    std::istringstream fields(line);
    std::string mode, links, owner, group;
    unsigned long long size = 0;
    if (!(fields >> mode >> links >> owner >> group >> size)) {
      return fmt::format("its listing gives no size for {}", display_name(line));
    }
    bytes += std::min(size, kMaxUnpackedBytes + 1);  // each term at most 2^27 + 1: no overflow
  }
  if (long_lines.size() != name_lines.size()) return "its listing is inconsistent (a file name with a line break?)";
  if (entries > kMaxZipEntries) {
    return fmt::format("it holds {} entries (at most {} are unpacked)", entries, kMaxZipEntries);
  }
  if (bytes > kMaxUnpackedBytes) {
    return fmt::format("it would unpack to more than {} MiB (the lesson files need far less)", kMaxUnpackedBytes >> 20);
  }
  if (entries == 0) return {};  // an empty zip: "no lesson files" says the rest
  std::string output;
  rc = run_tar(box, {"xf"}, zip, dest, output, /*extract_through_tmp=*/true);
  if (rc != 0) return "it does not unpack: " + first_lines(output, 2);
  return {};
}

// ---- grading one student -------------------------------------------------------------------

struct Context {
  Options options;
  fs::path exe_dir;
  fs::path out;
  std::string setup;
  Sandboxing box;
  std::vector<std::string> question_ids;
  double driver_timeout = 0;
};

// The collect step of the Gradescope flow (the same rules): lays the submission out like
// lessons/ in student/, and says where each file came from (the driver's preface).
bool collect(const Context& ctx, const fs::path& root, std::string& preface, std::string& problem) {
  ProcessSpec spec;
  spec.argv = {"bash", (fs::path(ctx.options.source) / "autograder/gradescope/run_autograder").string(),
               "--collect-only"};
  spec.env = {{"EMBER_AUTOGRADER_ROOT", root.string()},
              {"EMBER_GRADESCOPE_SOURCE", ctx.options.source},
              {"EMBER_GRADESCOPE_STUDENT_DIR", (root / "student").string()},
              {"LC_ALL", "C"}};
  spec.log_path = (root / "collect.log").string();
  spec.timeout_seconds = 300;
  const ProcessOutcome outcome = run_process(spec);
  preface = read_file(spec.log_path, 256 << 10);
  if (outcome.status != ProcessOutcome::Status::Exited || outcome.exit_code != 0) {
    problem = "collecting the lesson files failed: " + first_lines(preface, 3);
    return false;
  }
  // run_autograder's own progress lines ([run_autograder] ...) go to stderr, also in the log.
  std::string kept;
  for (const std::string& line : split_lines(preface)) {
    if (line.rfind("[run_autograder]", 0) != 0) kept += line + "\n";
  }
  preface = kept;
  return true;
}

// Worker w's student code runs as uid kFirstWorkerUid + w (no account needed: a number is enough).
constexpr int kFirstWorkerUid = 61000;

StudentRecord grade_student(const Context& ctx, const Student& s, int worker) {
  const Options& o = ctx.options;
  StudentRecord r;
  r.student = s.name;
  r.stem = s.stem;
  for (const std::string& e : s.entries) r.entry += (r.entry.empty() ? "" : ", ") + display_name(e);
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](const char* status, const std::string& detail) {
    r.status = status;
    r.detail = detail;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  };
  if (s.entries.size() > 1) {
    std::string list;
    for (const std::string& e : s.entries) list += (list.empty() ? "" : " and ") + display_name(e);
    return finish(kDuplicateName, fmt::format("{} both belong to {}; neither was graded: keep one and run again",
                                              list, s.name));
  }
  const fs::path entry = fs::path(o.submissions) / s.entries[0];
  r.sha256 = submission_sha(entry);
  r.key = sha256_hex(r.sha256 + " " + ctx.setup);

  // A scratch folder of the student's own: nothing of another submission is in it.
  // Named by a hash: an ASCII path (see the zip below), one per student.
  const fs::path root = ctx.out / "work" / sha256_hex(s.raw).substr(0, 16);
  std::error_code ignored;
  fs::remove_all(root, ignored);
  fs::create_directories(root);
  struct Cleanup {
    fs::path path;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(path, e);
    }
  } cleanup{root};
  const fs::path submission = root / "submission";
  if (s.zip) {
    // Unpacked from a copy with a plain name: CMake, in the C locale, silently lists nothing
    // for an archive whose path is not ASCII (José Núñez.zip).
    fs::copy_file(entry, root / "submission.zip");
    const std::string problem = unpack_zip(ctx.box, root / "submission.zip", submission);
    if (interrupted()) return r;
    if (!problem.empty()) return finish(kBadZip, display_name(s.entries[0]) + ": " + problem);
  } else {
    copy_plain(entry, submission);
  }
  size_t files = 0;
  for (fs::recursive_directory_iterator it(submission, ignored), end; !ignored && it != end; it.increment(ignored)) {
    if (it->is_regular_file()) ++files;
  }

  std::string preface, problem;
  if (!collect(ctx, root, preface, problem)) return finish(kGraderError, problem);
  size_t found = 0;
  for (const std::string& line : split_lines(preface)) {
    if (line.rfind("  ", 0) == 0 && line.find(" <- ") != std::string::npos && line.find("(not in the submission") == std::string::npos) ++found;
  }
  if (found == 0) {
    std::string expected;
    for (const QuestionSpec& q : all_questions()) expected += (expected.empty() ? "" : ", ") + q.files[0];
    return finish(kNoLessonFiles, files == 0 ? std::string(s.zip ? "the zip is empty" : "the folder is empty")
                                             : fmt::format("none of its {} files is a lesson file ({})", files, expected));
  }
  write_file_atomically(root / "preface.txt", preface);

  // The driver, exactly as make grade runs it, with the checkers built once for the class
  // (--no-build) and this worker's own copy of the runner toolchain, so that two drivers
  // never write the same runner cache entry at once.
  const fs::path reports = ctx.out / "reports";
  const fs::path toolchain = ctx.out / "runner-cache" / fmt::format("worker{}", worker) / "runner_toolchain.txt";
  ProcessSpec spec;
  spec.argv = {(ctx.exe_dir / "ember_grade").string(), "--no-build", "--exe-dir", ctx.exe_dir.string(),
               "--toolchain", toolchain.string(), "--student-dir", (root / "student").string(),
               "--preface", (root / "preface.txt").string(), "--pictures-dir", (root / "pictures").string(),
               "--results-json", (root / "results.json").string(), "--report", (root / "report.txt").string(),
               "--html", (root / "report.html").string(), "--color", "never", "--quiet", "--jobs", "1"};
  std::string list;
  for (const std::string& id : ctx.question_ids) list += (list.empty() ? "" : ",") + id;
  spec.argv.insert(spec.argv.end(), {"--questions", list});
  if (!o.device.empty()) spec.argv.insert(spec.argv.end(), {"--device", o.device});
  spec.env = {{"EMBER_MUTE", "1"}, {"EMBER_NUM_THREADS", std::to_string(o.threads)}};
  // The seed in the environment, not on the command line, which every process can read.
  if (!o.seed.empty()) spec.env.emplace_back("EMBER_SEED", o.seed);
  // As root, each worker's student code runs as a user of its own, so that submissions graded
  // at the same time cannot signal each other or share a process limit.
  if (::geteuid() == 0) spec.env.emplace_back("EMBER_STUDENT_UID", std::to_string(kFirstWorkerUid + worker));
  spec.log_path = (root / "driver.log").string();
  spec.timeout_seconds = ctx.driver_timeout;
  const ProcessOutcome outcome = run_process(spec);
  if (outcome.status == ProcessOutcome::Status::Interrupted || interrupted()) return r;
  const std::string json = read_file(root / "results.json");
  if (json.empty()) {
    return finish(kGraderError, fmt::format("the driver wrote no results ({}): {}",
                                            outcome.status == ProcessOutcome::Status::TimedOut
                                                ? "it ran past " + format_seconds(ctx.driver_timeout) + " s"
                                                : "exit status " + std::to_string(outcome.exit_code),
                                            first_lines(read_file(spec.log_path, 1 << 16), 3)));
  }
  try {
    read_results_json(json, ctx.question_ids, r);
  } catch (const std::exception& e) {
    return finish(kGraderError, e.what());
  }
  fs::copy_file(root / "results.json", reports / (s.stem + ".json"), fs::copy_options::overwrite_existing);
  fs::copy_file(root / "report.txt", reports / (s.stem + ".txt"), fs::copy_options::overwrite_existing);
  fs::copy_file(root / "report.html", reports / (s.stem + ".html"), fs::copy_options::overwrite_existing);
  const std::string status = r.status, detail = r.detail;
  return finish(status.c_str(), detail);
}

std::string summary_line(const StudentRecord& r) {
  std::string line = r.student + ": " + r.status;
  if (r.graded()) line += fmt::format(" {}/{}", r.total(), r.max());
  if (!r.detail.empty()) line += " (" + r.detail + ")";
  return line + fmt::format(", {:.1f} s", r.seconds);
}

std::optional<StudentRecord> load_record(const fs::path& path) {
  const std::string text = read_file(path, 4 << 20);
  if (text.empty()) return std::nullopt;
  try {
    return parse_record(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string roster_csv(const std::vector<Student>& students, const Options& o) {
  std::string out = "student,shard,entries\n";
  for (const Student& s : students) {
    std::string entries;
    for (const std::string& e : s.entries) entries += (entries.empty() ? "" : " | ") + display_name(e);
    out += csv_cell(s.name) + fmt::format(",{}/{},", s.shard, o.shards) + csv_cell(entries) + "\n";
  }
  return out;
}

void write_outputs(const fs::path& out, const std::vector<StudentRecord>& records,
                   const std::vector<std::string>& question_ids, const std::vector<std::string>& notes,
                   const std::string& title) {
  write_file_atomically(out / "gradebook.csv", render_gradebook(records, question_ids));
  ClassPageInput page;
  page.records = records;
  page.question_ids = question_ids;
  page.notes = notes;
  page.title = title;
  write_file_atomically(out / "class.html", render_class_page(page));
}

// The grading seed of an output folder, kept in OUT/grading_seed (readable by its owner only):
// the one given (--seed), else the one kept there, else one drawn at random and kept. Student code
// sees what a check draws from it, and could find a seed small enough to guess (0, 8731) by
// trying seeds. (Shards are refused without a seed when the options are read: each would draw
// its own.)
std::string folder_seed(const fs::path& out, const std::string& given) {
  const fs::path path = out / "grading_seed";
  std::error_code error;
  std::string kept;
  if (fs::exists(path, error)) {
    std::ifstream in(path);
    if (!in) throw UsageError(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    std::getline(in, kept);
    if (kept.empty() || kept.size() > 20 || kept.find_first_not_of("0123456789") != std::string::npos) {
      throw UsageError(fmt::format("{} should hold the grading seed, a whole number; remove it to draw a new one",
                                   path.string()));
    }
  }
  if (!given.empty() && given == kept) return given;
  std::string seed = given;
  if (seed.empty() && !kept.empty()) return kept;
  if (seed.empty()) {
    std::random_device device;
    const uint64_t drawn = (static_cast<uint64_t>(device()) << 32 | device()) >> 1;  // below 2^63
    seed = std::to_string(drawn);
  }
  write_file_atomically(path, seed + "\n", /*owner_only=*/true);
  say(given.empty()
          ? fmt::format("ember_grade_class: no seed given: drew one at random and kept it in {}", path.string())
          : fmt::format("ember_grade_class: the seed given is kept in {} for the runs after this one", path.string()));
  return seed;
}

int grade_class(const Options& o) {
  Context ctx;
  ctx.options = o;
  ctx.out = fs::absolute(o.out).lexically_normal();
  ctx.exe_dir = fs::absolute(fs::path(o.build_dir) / "autograder").lexically_normal();
  ctx.options.submissions = fs::absolute(o.submissions).lexically_normal().string();
  ctx.options.source = fs::absolute(o.source).lexically_normal().string();
  for (const QuestionSpec& q : o.questions) ctx.question_ids.push_back(q.id);
  // Per question: compiling the student's code, running it, and a margin for starting up.
  const double compile_seconds = GradeOptions{}.compile_timeout_seconds;
  for (const QuestionSpec& q : o.questions) ctx.driver_timeout += q.timeout_seconds + 70 + compile_seconds;
  if (ctx.options.source.empty() || !fs::is_regular_file(fs::path(ctx.options.source) / "autograder/gradescope/run_autograder")) {
    throw UsageError(fmt::format("--source {} is not the course source (no autograder/gradescope/run_autograder)",
                                 ctx.options.source));
  }
  std::vector<std::string> needed = {"ember_grade", "runner_toolchain.txt"};
  for (const QuestionSpec& q : o.questions) needed.push_back("grade_" + q.id);
  for (const std::string& name : needed) {
    if (!fs::is_regular_file(ctx.exe_dir / name)) {
      throw UsageError(fmt::format("{} is not in {}: build the grader first (make grade-class does: cmake --build "
                                   "{} --target ember_grade ember_runner_kit grade_q0 ... grade_q7)",
                                   name, ctx.exe_dir.string(), o.build_dir));
    }
  }
  if (ctx.out.string().rfind(ctx.options.submissions + "/", 0) == 0) {
    throw UsageError("--out must not be inside --submissions (it would become a submission)");
  }

  Roster roster = read_roster(ctx.options);
  fs::create_directories(ctx.out / "reports");
  fs::create_directories(ctx.out / "records");
  fs::create_directories(ctx.out / "work");
  ctx.options.seed = folder_seed(ctx.out, o.seed);
  ctx.setup = setup_sha(ctx.options, ctx.exe_dir);

  ctx.box.user = ember::sandbox::student_user_if_root();
  std::string why_not;
  ctx.box.level = ember::sandbox::detect_level(ctx.box.user, &why_not);
  ctx.box.cmake = find_program(o.cmake);
  const fs::path prefix = fs::path(ctx.box.cmake).parent_path().parent_path();
  if (prefix.string().rfind("/usr", 0) != 0) ctx.box.cmake_visible.push_back(prefix.string());
  for (int w = 0; w < o.jobs; ++w) {
    const fs::path dir = ctx.out / "runner-cache" / fmt::format("worker{}", w);
    fs::create_directories(dir);
    const std::string text = read_file(ctx.exe_dir / "runner_toolchain.txt");
    if (read_file(dir / "runner_toolchain.txt") != text) write_file_atomically(dir / "runner_toolchain.txt", text);
  }

  std::vector<const Student*> mine;
  for (const Student& s : roster.students) {
    if (s.shard == o.shard) mine.push_back(&s);
  }
  say(fmt::format("ember_grade_class: {} students in {}{}; grading {} at a time ({} engine thread{} each); "
                  "unpacking zips at the {} level",
                  roster.students.size(), display_name(ctx.options.submissions),
                  o.shards > 1 ? fmt::format(", shard {}/{} has {}", o.shard, o.shards, mine.size()) : "", o.jobs,
                  o.threads, o.threads == 1 ? "" : "s", ember::sandbox::level_name(ctx.box.level)));
  for (const std::string& line : roster.ignored) say("  " + line);

  std::vector<std::optional<StudentRecord>> results(mine.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::atomic<int> regraded{0}, skipped{0};
  std::atomic<bool> failed{false};
  std::string failure;
  std::mutex failure_lock;
  install_interrupt_handlers();
  const auto start = std::chrono::steady_clock::now();
  auto work = [&](int worker) {
    while (!interrupted() && !failed) {
      const size_t i = next++;
      if (i >= mine.size()) return;
      const Student& s = *mine[i];
      const fs::path record_path = ctx.out / "records" / (s.stem + ".record");
      try {
        // Skip what was graded before from the same files and the same setup.
        if (!o.force && s.entries.size() == 1) {
          if (auto old = load_record(record_path)) {
            const std::string sha = submission_sha(fs::path(ctx.options.submissions) / s.entries[0]);
            if (old->key == sha256_hex(sha + " " + ctx.setup) && old->student == s.name) {
              results[i] = *old;
              ++skipped;
              say(fmt::format("[{}/{}] {} (unchanged: skipped)", ++done, mine.size(), summary_line(*old)));
              continue;
            }
          }
        }
        StudentRecord r = grade_student(ctx, s, worker);
        if (interrupted()) return;  // no record: the next run grades this student again
        write_file_atomically(record_path, serialize_record(r));
        results[i] = r;
        ++regraded;
        say(fmt::format("[{}/{}] {}", ++done, mine.size(), summary_line(r)));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(failure_lock);
        failure = fmt::format("{}: {}", s.name, e.what());
        failed = true;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < o.jobs; ++w) workers.emplace_back(work, w);
  for (std::thread& t : workers) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<StudentRecord> records;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (results[i]) {
      records.push_back(*results[i]);
    } else {
      StudentRecord r;
      r.student = mine[i]->name;
      r.stem = mine[i]->stem;
      r.status = kNotGraded;
      r.detail = "the run was stopped before this submission was graded; run it again to resume";
      records.push_back(r);
    }
  }
  std::vector<std::string> notes = roster.ignored;
  if (o.shards > 1) {
    notes.insert(notes.begin(), fmt::format("Shard {}/{}: {} of the class's {} students (merge the shards with "
                                            "make gradebook-merge).",
                                            o.shard, o.shards, mine.size(), roster.students.size()));
  }
  write_file_atomically(ctx.out / "roster.csv", roster_csv(roster.students, o));
  write_outputs(ctx.out, records, ctx.question_ids, notes, "Ember class grades");
  say(fmt::format("ember_grade_class: graded {}, skipped {} unchanged, in {:.1f} s; wrote {}, {} and {}",
                  regraded.load(), skipped.load(), seconds, (ctx.out / "gradebook.csv").string(),
                  (ctx.out / "class.html").string(), (ctx.out / "reports/").string()));
  if (failed) {
    std::fprintf(stderr, "ember_grade_class: %s\n", failure.c_str());
    return 1;
  }
  if (interrupted()) {
    std::fprintf(stderr, "ember_grade_class: interrupted; run the same command again to resume\n");
    return 128 + interrupt_signal();
  }
  return 0;
}

// ---- merging shards ------------------------------------------------------------------------

int merge(const Options& o) {
  const fs::path out = fs::absolute(o.out).lexically_normal();
  std::vector<StudentRecord> records;
  std::map<std::string, std::string> graded_by;  // student -> shard folder
  std::set<std::string> roster;
  std::vector<std::string> overlaps, notes;
  std::vector<std::string> question_ids;
  // The shards must have drawn their inputs from one seed (each keeps it in grading_seed).
  std::string seed, seed_from;
  for (const std::string& input : o.merge_inputs) {
    std::string kept;
    std::ifstream in(fs::absolute(input) / "grading_seed");
    if (!std::getline(in, kept) || kept.empty()) continue;  // a shard graded before seeds were kept
    if (seed.empty()) {
      seed = kept;
      seed_from = input;
    } else if (kept != seed) {
      throw UsageError(fmt::format("{} and {} were graded with different seeds (their grading_seed files differ): "
                                   "grade every shard with the same SEED",
                                   seed_from, input));
    }
  }
  for (const std::string& input : o.merge_inputs) {
    const fs::path dir = fs::absolute(input).lexically_normal();
    const std::string gradebook = read_file(dir / "gradebook.csv");
    if (gradebook.empty()) throw UsageError(fmt::format("{} has no gradebook.csv", input));
    const auto rows = parse_csv(gradebook);
    std::vector<std::string> ids;
    for (size_t c = 1; c < rows[0].size() && rows[0][c] != "total"; ++c) ids.push_back(rows[0][c]);
    if (question_ids.empty()) question_ids = ids;
    if (ids != question_ids) {
      throw UsageError(fmt::format("{} graded other questions than {} (the columns differ)", input, o.merge_inputs[0]));
    }
    for (const auto& row : parse_csv(read_file(dir / "roster.csv"))) {
      if (!row.empty() && row[0] != "student") roster.insert(row[0]);
    }
    // The records carry what the class page needs (the failed checks); the CSV decides who
    // this shard graded.
    std::map<std::string, StudentRecord> by_cell;
    std::error_code error;
    for (fs::directory_iterator it(dir / "records", error), end; !error && it != end; it.increment(error)) {
      if (it->path().extension() != ".record") continue;
      if (auto r = load_record(it->path())) by_cell[spreadsheet_safe(r->student)] = *r;
    }
    for (size_t i = 1; i < rows.size(); ++i) {
      const std::string& cell = rows[i][0];
      const std::string status = rows[i].size() > question_ids.size() + 3 ? rows[i][question_ids.size() + 3] : "";
      if (status == kNotGraded) continue;  // an interrupted shard: missing, below
      if (graded_by.count(cell)) {
        overlaps.push_back(fmt::format("{} (in {} and {})", cell, graded_by[cell], input));
        continue;
      }
      graded_by[cell] = input;
      const auto r = by_cell.find(cell);
      if (r == by_cell.end()) throw UsageError(fmt::format("{}: {} has no record in {}/records", input, cell, input));
      records.push_back(r->second);
      for (const char* ext : {".txt", ".html", ".json"}) {
        const fs::path report = dir / "reports" / (r->second.stem + ext);
        if (fs::is_regular_file(report)) {
          fs::create_directories(out / "reports");
          fs::copy_file(report, out / "reports" / (r->second.stem + ext), fs::copy_options::overwrite_existing);
        }
      }
    }
  }
  if (!overlaps.empty()) {
    std::fprintf(stderr, "ember_grade_class --merge: refused, %zu student(s) graded by more than one shard:\n",
                 overlaps.size());
    for (const std::string& line : overlaps) std::fprintf(stderr, "  %s\n", line.c_str());
    return 1;
  }
  std::vector<std::string> missing;
  for (const std::string& cell : roster) {
    if (!graded_by.count(cell)) missing.push_back(cell);
  }
  std::sort(records.begin(), records.end(),
            [](const StudentRecord& a, const StudentRecord& b) { return a.student < b.student; });
  for (const std::string& m : missing) notes.push_back("Missing: no shard graded " + m + ".");
  fs::create_directories(out / "records");
  for (const StudentRecord& r : records) write_file_atomically(out / "records" / (r.stem + ".record"), serialize_record(r));
  write_outputs(out, records, question_ids, notes, "Ember class grades (merged)");
  std::printf("ember_grade_class --merge: %zu students from %zu shards into %s\n", records.size(),
              o.merge_inputs.size(), (out / "gradebook.csv").c_str());
  if (!missing.empty()) {
    std::printf("ember_grade_class --merge: %zu student(s) of the roster missing (no shard graded them):\n",
                missing.size());
    for (const std::string& m : missing) std::printf("  %s\n", m.c_str());
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_command_line(argc, argv);
    if (options.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return options.merge ? merge(options) : grade_class(options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ember_grade_class: %s\n(run ember_grade_class --help for the options)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember_grade_class: %s\n", e.what());
    return 1;
  }
}
