// Grading one question: build its checker grade_qN (trusted: no student code in it); take
// the student's files and compile the runner from them in the sandbox; run the checker,
// which starts the runner and asks it for values; read the checker's results; stop every
// process the question started; and turn all of that (including compile errors, crashes and
// timeouts) into a QuestionResult. docs/security.md says what protects what.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report.h"
#include "sandbox.h"

namespace ember::grade {

struct QuestionSpec {
  std::string id;      // "q3"
  std::string lesson;  // "q3_digits"
  std::vector<std::string> files;  // what the student hands in: {"digit_classification.hpp"}
  double timeout_seconds = 0;      // before scaling
  // The points are the checker's (its GRADED_TESTs): it lists them before any student code
  // runs, and the driver never declares them a second time.
};

// q0..q7 in order.
const std::vector<QuestionSpec>& all_questions();

struct GradeOptions {
  bool build = true;
  std::string build_dir;      // for the default build command and {build_dir}
  std::string build_command;  // shell command with {target}, {question}, {build_dir}; empty: cmake
  std::string cmake = "cmake";
  int jobs = 0;  // cmake --build --parallel N; 0: leave it to CMake
  double build_timeout_seconds = 1200;
  // Compiling one question's runner (the student's code): a few seconds honestly, but a header
  // can make the compiler evaluate constexpr loops for hours.
  double compile_timeout_seconds = 300;
  std::string exe_dir;   // where grade_qN lives
  std::string work_dir;  // logs and results files
  double timeout_scale = 1.0;
  std::string seed;      // EMBER_SEED for the questions; empty: inherit
  std::string check_filter;  // only the checks matching this GoogleTest filter ("q6.layer_norm*"); empty: all
  std::string device;    // EMBER_DEVICE for the questions ("cpu", "cuda", "cuda:1"); empty: inherit
  // EMBER_PICTURES_DIR for the questions: where they draw their SVG pictures. A question's
  // old pictures (qN_*.svg) are removed before it runs and read back after. Empty: none.
  std::string pictures_dir;
  bool progress = false;  // say what is happening on stderr
  // The student's side. With a student_dir, each question's files are taken from
  // student_dir/<lesson>/ and its runner is compiled (toolchain: runner_toolchain.txt), in
  // student_root (a folder the student user may read), under `level`, as `user`.
  std::string student_dir;
  std::string toolchain;
  std::string student_root;
  sandbox::Level level = sandbox::Level::Limits;
  std::optional<sandbox::StudentUser> user;
};

// Never throws: a failure of the driver itself becomes a failed check in the result.
QuestionResult grade_question(const QuestionSpec& question, const GradeOptions& options);

// Replaces {target}, {question} and {build_dir} in a build-command template, each value
// quoted for /bin/sh.
std::string expand_build_command(const std::string& pattern, const std::string& target,
                                 const std::string& question, const std::string& build_dir);
std::string shell_quote(const std::string& text);

// "180", "1.5": how a time budget is shown.
std::string format_seconds(double seconds);

}  // namespace ember::grade
