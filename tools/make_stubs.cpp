// ember_make_stubs: makes the student stubs (lessons/) from the instructors' solutions
// (solutions/, the same layout).
//
//   ember_make_stubs --solutions DIR --lessons DIR           write the stubs
//   ember_make_stubs --solutions DIR --lessons DIR --check   write nothing; exit 1 and show
//                                                            each file that would change
//
// In C++ sources, solution code sits between marker comments, each alone on its line:
//
//     // BEGIN SOLUTION q3 DigitClassificationModel::run
//     return model_->forward(x);
//     // END SOLUTION
//
// becomes, at the indentation of the BEGIN line,
//
//     // YOUR CODE HERE
//     throw ember::NotImplemented("q3: DigitClassificationModel::run");
//
// and a bare "// BEGIN SOLUTION" region (solution-only members or helpers) becomes a single
// "// YOUR CODE HERE" line. Everything outside the regions, and every file that is not a
// C++ source, is copied as it is. Files in lessons/ that have no counterpart in solutions/
// are left alone. Marker mistakes (nesting, END without BEGIN, a region never closed, a
// missing question or function, a question that does not match the folder) are reported
// as FILE:LINE: error: ..., and then nothing is written.
//
// Exit status: 0 done (or, with --check, nothing would change); 1 with --check when a file
// would change; 2 for marker errors, usage errors and I/O errors.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ember::stubs {

namespace fs = std::filesystem;

// A mistake in the markers of one file; what() is "FILE:LINE: error: message".
class MarkerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Line {
  std::string_view text;  // without the line ending
  std::string_view eol;   // "\n", "\r\n" or "" (last line without a newline)
};

inline std::vector<Line> split_lines_keeping_endings(std::string_view text) {
  std::vector<Line> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t newline = text.find('\n', begin);
    Line line;
    if (newline == std::string_view::npos) {
      line.text = text.substr(begin);
      begin = text.size();
    } else {
      line.text = text.substr(begin, newline - begin);
      line.eol = text.substr(newline, 1);
      begin = newline + 1;
    }
    if (!line.text.empty() && line.text.back() == '\r' && !line.eol.empty()) {
      line.text.remove_suffix(1);
      line.eol = text.substr(newline - 1, 2);
    }
    lines.push_back(line);
  }
  return lines;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

inline bool is_question_id(std::string_view text) {
  if (text.size() < 2 || text[0] != 'q') return false;
  return std::all_of(text.begin() + 1, text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// "q3" for a path whose first folder is "q3_digits"; empty otherwise.
inline std::string question_of_path(const fs::path& relative) {
  if (relative.begin() == relative.end()) return {};
  const std::string first = relative.begin()->string();
  const size_t underscore = first.find('_');
  if (underscore == std::string::npos || std::next(relative.begin()) == relative.end()) return {};
  const std::string id = first.substr(0, underscore);
  return is_question_id(id) ? id : std::string();
}

inline bool is_cpp_source(const fs::path& path) {
  static const char* const kExtensions[] = {".h",   ".hh",  ".hpp", ".hxx", ".h++", ".c",
                                            ".cc",  ".cpp", ".cxx", ".c++", ".ipp", ".inl",
                                            ".tpp", ".cu",  ".cuh"};
  const std::string extension = path.extension().string();
  return std::any_of(std::begin(kExtensions), std::end(kExtensions),
                     [&](const char* known) { return extension == known; });
}

struct Marker {
  enum class Kind { Begin, End } kind = Kind::Begin;
  std::string question;  // empty for a bare BEGIN
  std::string function;
};

// Recognises a marker line. Returns nullopt for ordinary lines; throws (with `where`) for
// a line that mentions a marker but is not a well-formed one.
inline std::optional<Marker> parse_marker(std::string_view line, const std::string& where) {
  constexpr std::string_view kBegin = "BEGIN SOLUTION";
  constexpr std::string_view kEnd = "END SOLUTION";
  const bool mentions = line.find(kBegin) != std::string_view::npos ||
                        line.find(kEnd) != std::string_view::npos;
  if (!mentions) return std::nullopt;
  auto fail = [&](const std::string& message) -> MarkerError {
    return MarkerError(where + ": error: " + message);
  };
  std::string_view rest = trim(line);
  if (rest.substr(0, 2) != "//") {
    throw fail("a solution marker must be a // comment alone on its line, e.g. "
               "'// BEGIN SOLUTION q3 DigitClassificationModel::run' or '// END SOLUTION'");
  }
  rest = trim(rest.substr(2));
  Marker marker;
  if (rest.substr(0, kBegin.size()) == kBegin) {
    marker.kind = Marker::Kind::Begin;
    rest = rest.substr(kBegin.size());
  } else if (rest.substr(0, kEnd.size()) == kEnd) {
    marker.kind = Marker::Kind::End;
    rest = rest.substr(kEnd.size());
  } else {
    throw fail("a solution marker must be a // comment alone on its line, e.g. "
               "'// BEGIN SOLUTION q3 DigitClassificationModel::run' or '// END SOLUTION'");
  }
  if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front()))) {
    throw fail("unknown marker '" + std::string(trim(line).substr(2)) +
               "' (expected BEGIN SOLUTION or END SOLUTION)");
  }
  rest = trim(rest);
  if (marker.kind == Marker::Kind::End) {
    if (!rest.empty()) {
      throw fail("END SOLUTION takes nothing after it, got '" + std::string(rest) + "'");
    }
    return marker;
  }
  if (rest.empty()) return marker;  // a bare region
  const size_t space = rest.find_first_of(" \t");
  const std::string_view question = rest.substr(0, space);
  if (!is_question_id(question)) {
    throw fail("BEGIN SOLUTION must be followed by a question and a function, e.g. "
               "'BEGIN SOLUTION q3 DigitClassificationModel::run'; '" +
               std::string(question) + "' is not a question like q3");
  }
  const std::string_view function =
      space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
  if (function.empty()) {
    throw fail("BEGIN SOLUTION " + std::string(question) +
               " needs the function it is in too, e.g. 'BEGIN SOLUTION " + std::string(question) +
               " DigitClassificationModel::run'");
  }
  marker.question = std::string(question);
  marker.function = std::string(function);
  return marker;
}

inline std::string cpp_string_literal(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The stub of one C++ source. display_name names the file in errors; expected_question
// (e.g. "q3", may be empty) is the question the file's folder belongs to.
inline std::string make_stub(std::string_view text, const std::string& display_name,
                             const std::string& expected_question = {}) {
  std::string out;
  out.reserve(text.size());
  bool in_region = false;
  size_t region_line = 0;
  const std::vector<Line> lines = split_lines_keeping_endings(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const std::string where = display_name + ":" + std::to_string(i + 1);
    const std::optional<Marker> marker = parse_marker(line.text, where);
    if (!marker) {
      if (!in_region) {
        out += line.text;
        out += line.eol;
      }
      continue;
    }
    if (marker->kind == Marker::Kind::End) {
      if (!in_region) throw MarkerError(where + ": error: END SOLUTION without a BEGIN SOLUTION");
      in_region = false;
      continue;
    }
    if (in_region) {
      throw MarkerError(where + ": error: BEGIN SOLUTION inside the region opened at line " +
                        std::to_string(region_line) + " (regions cannot nest)");
    }
    if (!marker->question.empty() && !expected_question.empty() &&
        marker->question != expected_question) {
      throw MarkerError(where + ": error: the marker is for " + marker->question +
                        ", but the file belongs to " + expected_question);
    }
    in_region = true;
    region_line = i + 1;
    const std::string_view indent =
        line.text.substr(0, line.text.find_first_not_of(" \t"));
    const std::string eol = line.eol.empty() ? std::string("\n") : std::string(line.eol);
    out += std::string(indent) + "// YOUR CODE HERE" + eol;
    if (!marker->question.empty()) {
      out += std::string(indent) + "throw ember::NotImplemented(" +
             cpp_string_literal(marker->question + ": " + marker->function) + ");" + eol;
    }
  }
  if (in_region) {
    throw MarkerError(display_name + ":" + std::to_string(region_line) +
                      ": error: BEGIN SOLUTION is never closed by an END SOLUTION");
  }
  return out;
}

// ---- directories -------------------------------------------------------------------------

struct PlannedFile {
  fs::path relative;
  fs::path source;  // in solutions/
  std::string content;
  fs::perms permissions = fs::perms::owner_read | fs::perms::owner_write;
};

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return data.str();
}

// Every file of solutions/ with the content it should have in lessons/, sorted by path.
// Marker errors are collected into `errors` (one per file at most).
inline std::vector<PlannedFile> plan_lessons(const fs::path& solutions,
                                             std::vector<std::string>& errors) {
  std::vector<PlannedFile> planned;
  std::error_code error;
  fs::recursive_directory_iterator it(solutions, error);
  if (error) {
    throw std::runtime_error("cannot list " + solutions.string() + ": " + error.message());
  }
  for (fs::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) break;
    if (!it->is_regular_file(error)) continue;
    PlannedFile file;
    file.source = it->path();
    file.relative = it->path().lexically_relative(solutions);
    file.permissions = fs::status(it->path()).permissions();
    planned.push_back(std::move(file));
  }
  if (error) {
    throw std::runtime_error("cannot list " + solutions.string() + ": " + error.message());
  }
  std::sort(planned.begin(), planned.end(),
            [](const PlannedFile& a, const PlannedFile& b) { return a.relative < b.relative; });
  for (PlannedFile& file : planned) {
    const std::string text = read_bytes(file.source);
    if (!is_cpp_source(file.relative)) {
      file.content = text;
      continue;
    }
    try {
      file.content = make_stub(text, file.source.string(), question_of_path(file.relative));
    } catch (const MarkerError& e) {
      errors.push_back(e.what());
    }
  }
  return planned;
}

inline bool same_content(const fs::path& path, const std::string& content) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return false;
  if (fs::file_size(path, error) != content.size() || error) return false;
  return read_bytes(path) == content;
}

// Writes through a temporary file and a rename, so a reader never sees half a file.
inline void write_file(const fs::path& path, const std::string& content, fs::perms permissions) {
  fs::create_directories(path.parent_path());
  fs::path temporary = path;
  temporary += ".ember_make_stubs.tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
  }
  std::error_code error;
  fs::permissions(temporary, permissions, error);
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    throw std::runtime_error("cannot write " + path.string());
  }
}

// A unified-diff-like view of where `actual` first differs from `expected`.
inline std::string describe_difference(const std::string& actual, const std::string& expected,
                                       const std::string& actual_name,
                                       const std::string& expected_name) {
  constexpr size_t kMaxShown = 6;
  std::vector<Line> a = split_lines_keeping_endings(actual);
  std::vector<Line> b = split_lines_keeping_endings(expected);
  size_t first = 0;
  while (first < a.size() && first < b.size() && a[first].text == b[first].text &&
         a[first].eol == b[first].eol) {
    ++first;
  }
  size_t a_end = a.size();
  size_t b_end = b.size();
  while (a_end > first && b_end > first && a[a_end - 1].text == b[b_end - 1].text &&
         a[a_end - 1].eol == b[b_end - 1].eol) {
    --a_end;
    --b_end;
  }
  std::string out = "--- " + actual_name + "\n+++ " + expected_name + "\n";
  out += "@@ line " + std::to_string(first + 1) + " @@\n";
  auto show = [&](const std::vector<Line>& lines, size_t begin, size_t end, char sign) {
    for (size_t i = begin; i < end && i < begin + kMaxShown; ++i) {
      out += sign;
      out += lines[i].text;
      if (lines[i].eol == "\r\n") out += "\\r";
      if (lines[i].eol.empty()) out += "  (no newline at end of file)";
      out += '\n';
    }
    if (end - begin > kMaxShown) out += std::string(1, sign) + "... (" +
                                        std::to_string(end - begin - kMaxShown) + " more lines)\n";
  };
  show(a, first, a_end, '-');
  show(b, first, b_end, '+');
  return out;
}

struct Options {
  fs::path solutions;
  fs::path lessons;
  bool check = false;
  bool quiet = false;
};

constexpr const char* kUsage =
    "Usage: ember_make_stubs --solutions DIR --lessons DIR [--check] [--quiet]\n"
    "\n"
    "Writes into --lessons the student version of every file in --solutions: the code\n"
    "between '// BEGIN SOLUTION [qN Function]' and '// END SOLUTION' is replaced by\n"
    "'// YOUR CODE HERE' (and a throw of ember::NotImplemented when the marker names a\n"
    "question and function). Files only in --lessons are left alone.\n"
    "\n"
    "  --check   write nothing; list the files that would change and exit 1 if any would\n"
    "  --quiet   do not list the files written\n";

inline int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options options;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string arg = args[i];
      std::optional<std::string> inline_value;
      if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      auto value = [&]() -> std::string {
        if (inline_value) return *inline_value;
        if (i + 1 >= args.size()) throw std::invalid_argument(arg + " needs a directory");
        return args[++i];
      };
      if (arg == "--help" || arg == "-h") {
        out << kUsage;
        return 0;
      } else if (arg == "--solutions") {
        options.solutions = value();
      } else if (arg == "--lessons") {
        options.lessons = value();
      } else if (arg == "--check" && !inline_value) {
        options.check = true;
      } else if (arg == "--quiet" && !inline_value) {
        options.quiet = true;
      } else {
        throw std::invalid_argument("unknown argument '" + args[i] + "'");
      }
    }
    if (options.solutions.empty() || options.lessons.empty()) {
      throw std::invalid_argument("both --solutions DIR and --lessons DIR are needed");
    }
  } catch (const std::invalid_argument& e) {
    err << "ember_make_stubs: " << e.what() << "\n\n" << kUsage;
    return 2;
  }

  try {
    std::error_code error;
    if (!fs::is_directory(options.solutions, error)) {
      err << "ember_make_stubs: " << options.solutions.string() << " is not a directory\n";
      return 2;
    }
    const fs::path solutions = fs::weakly_canonical(options.solutions);
    const fs::path lessons = fs::weakly_canonical(options.lessons);
    auto inside = [](const fs::path& child, const fs::path& parent) {
      const fs::path relative = child.lexically_relative(parent);
      return !relative.empty() && *relative.begin() != "..";
    };
    if (inside(lessons, solutions) || inside(solutions, lessons)) {
      err << "ember_make_stubs: --solutions and --lessons must be separate directories\n";
      return 2;
    }

    std::vector<std::string> errors;
    const std::vector<PlannedFile> planned = plan_lessons(options.solutions, errors);
    if (!errors.empty()) {
      for (const std::string& message : errors) err << message << "\n";
      err << "ember_make_stubs: " << errors.size() << " file(s) with marker errors; "
          << (options.check ? "nothing checked" : "nothing written") << "\n";
      return 2;
    }

    size_t changed = 0;
    for (const PlannedFile& file : planned) {
      const fs::path target = options.lessons / file.relative;
      if (same_content(target, file.content)) continue;
      ++changed;
      if (options.check) {
        if (!fs::exists(target, error)) {
          out << "missing: " << target.string() << " (the stub of " << file.source.string()
              << ")\n";
        } else {
          out << target.string() << " differs from the stub of " << file.source.string()
              << ":\n"
              << describe_difference(read_bytes(target), file.content, target.string(),
                                     "stub of " + file.source.string());
        }
        continue;
      }
      write_file(target, file.content, file.permissions);
      if (!options.quiet) out << "wrote " << target.string() << "\n";
    }
    if (options.check) {
      if (changed == 0) return 0;
      out << changed << " file(s) in " << options.lessons.string()
          << " differ from the stubs; to update them run:\n  ember_make_stubs --solutions "
          << options.solutions.string() << " --lessons " << options.lessons.string() << "\n";
      return 1;
    }
    if (!options.quiet) {
      out << changed << " file(s) written, " << planned.size() - changed << " already up to date\n";
    }
    return 0;
  } catch (const std::exception& e) {
    err << "ember_make_stubs: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace ember::stubs

#ifndef EMBER_MAKE_STUBS_NO_MAIN
int main(int argc, char** argv) {
  try {
    return ember::stubs::run(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc),
                             std::cout, std::cerr);
  } catch (...) {
    std::cerr << "ember_make_stubs: unexpected error\n";
    return 2;
  }
}
#endif
