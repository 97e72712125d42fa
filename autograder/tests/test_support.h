// Helpers shared by the end-to-end tests of the autograder: the JSON reader (for
// results.json), temporary folders, and running shell commands with their output.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "json_reader.h"

namespace ember_test {

namespace fs = std::filesystem;

// results.json is read with the grader's own reader (autograder/driver/json_reader.h).
using ember::grade::Json;
using ember::grade::parse_json;

// ---- helpers ----------------------------------------------------------------------------

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ember_grade_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line with stdout and stderr captured.
inline Outcome run_shell(const std::string& command, const TempDir& dir) {
  const std::string out = dir / "captured.stdout";
  const std::string err = dir / "captured.stderr";
  const int raw = std::system((command + " >" + quote(out) + " 2>" + quote(err)).c_str());
  Outcome outcome;
  outcome.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  outcome.out = read_text(out);
  outcome.err = read_text(err);
  return outcome;
}

}  // namespace ember_test

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing: " << (needle) << "\nin:\n" << (haystack)
#define EXPECT_NOT_CONTAINS(haystack, needle) \
  EXPECT_EQ((haystack).find(needle), std::string::npos) << "unexpected: " << (needle) << "\nin:\n" << (haystack)
