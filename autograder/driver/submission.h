// Taking a question's files from a submission, and compiling its runner in the sandbox.
//
// Only the files a lesson expects are taken (q3: q3_digits/digit_classification.hpp), and
// only as regular files of a sensible size: a symlink (which could point at /etc/passwd or
// at another student's work), a missing file or an extra one gets a line in the report. The
// files are copied into a folder of the grader's, so nothing the submission does later can
// change what was compiled.
#pragma once

#include <string>
#include <vector>

#include "sandbox.h"

namespace ember::grade {

struct Intake {
  bool complete = false;           // every expected file was taken
  std::vector<std::string> notes;  // for the report: what was ignored or missing, and why
  std::string problem;             // when not complete: the failing check's message
};

// Copies student_dir/lesson/<each expected file> into dest (created). At most 1 MiB a file.
Intake take_files(const std::string& student_dir, const std::string& lesson,
                  const std::vector<std::string>& expected, const std::string& dest);

// What runner_toolchain.txt (written by CMake) says: how to compile and link a runner.
struct Toolchain {
  std::string compiler;
  std::vector<std::string> flags;
  std::vector<std::string> includes;  // the grader's, ahead of the student's
  std::string sources;                // autograder/runners
  std::vector<std::string> libs;
  std::vector<std::string> link;
  std::vector<std::string> visible;   // what the compiler must see in the sandbox
};

// Reads it; throws std::runtime_error naming the file and the line when it is malformed.
Toolchain read_toolchain(const std::string& path);

// The compiler's command line for runner `lesson`, with the student's folder `stage` last on
// the include path, writing `output`.
std::vector<std::string> runner_compile_command(const Toolchain& toolchain, const std::string& lesson,
                                                const std::string& stage, const std::string& output);

}  // namespace ember::grade
