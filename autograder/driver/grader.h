// Grading one question: build grade_qN, run it in isolation, read its results file, and
// turn all of that (including compile errors, crashes and timeouts) into a QuestionResult.
#pragma once

#include <string>
#include <vector>

#include "report.h"

namespace ember::grade {

struct QuestionSpec {
  std::string id;      // "q3"
  std::string lesson;  // "q3_digits"
  int max_points = 0;
  double timeout_seconds = 0;  // before scaling
};

// q0..q6 in order.
const std::vector<QuestionSpec>& all_questions();

struct GradeOptions {
  bool build = true;
  std::string build_dir;      // for the default build command and {build_dir}
  std::string build_command;  // shell command with {target}, {question}, {build_dir}; empty: cmake
  std::string cmake = "cmake";
  int jobs = 0;  // cmake --build --parallel N; 0: leave it to CMake
  double build_timeout_seconds = 1200;
  std::string exe_dir;   // where grade_qN lives
  std::string work_dir;  // logs and results files
  double timeout_scale = 1.0;
  std::string seed;      // EMBER_SEED for the questions; empty: inherit
  std::string device;    // EMBER_DEVICE for the questions ("cpu", "cuda", "cuda:1"); empty: inherit
  // EMBER_PICTURES_DIR for the questions: where they draw their SVG pictures. A question's
  // old pictures (qN_*.svg) are removed before it runs and read back after. Empty: none.
  std::string pictures_dir;
  bool progress = false;  // say what is happening on stderr
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
