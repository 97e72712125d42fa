// What the driver reports: the CS188-shaped text report, the summary, Gradescope's
// results.json, and the text helpers they need (compiler-error extraction, UTF-8 cleaning).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember::grade {

struct CheckResult {
  std::string name;  // "q3.accuracy_on_test_half"
  int earned = 0;
  int max = 0;
  bool passed = false;
  std::string message;  // may span several lines
};

// A picture a question program drew (see html_report.h), ready for the HTML report.
struct Picture {
  std::string file_name;  // "q3_misclassified.svg"
  std::string caption;    // "misclassified"
  std::string svg;        // sanitised markup to inline; empty when it cannot be shown
  std::string note;       // why it is not shown (too big, unreadable, not an SVG)
};

struct QuestionResult {
  std::string id;  // "q3"
  int max = 0;
  int earned = 0;  // already capped at max
  std::vector<CheckResult> checks;
  double seconds = 0;  // wall time (build and run)
  std::vector<Picture> pictures;  // only for the HTML report
};

struct ReportStyle {
  bool color = false;
  bool timings = true;
};

// "Question q3\n===========\n*** PASS: ...\n\n### Question q3: 2/6 ###\n\n"
std::string render_question(const QuestionResult& question, const ReportStyle& style);
// "Provisional grades\n==================\nQuestion q0: 4/4\n...\n------------------\nTotal: .../...\n"
std::string render_summary(const std::vector<QuestionResult>& questions);
// Gradescope's results.json; `output` is the whole plain-text report.
std::string render_results_json(const std::vector<QuestionResult>& questions,
                                const std::string& output);

// The first compiler errors in a build log: up to max_lines lines starting a little before
// the first line that mentions an error, without build-tool chatter. Falls back to the last
// lines when nothing mentions an error.
std::string extract_compiler_errors(std::string_view build_output, size_t max_lines = 25);

// What a crashed program said last: from the first sanitizer report if there is one,
// otherwise its last max_lines lines, without GoogleTest's own "[ RUN      ]"-style lines.
// With check_marker (e.g. "[ RUN      ] q3.accuracy"), only what came after its last
// occurrence, i.e. the output of the check that was running.
std::string output_excerpt(std::string_view output, size_t max_lines = 15,
                           std::string_view check_marker = {});

std::string strip_ansi(std::string_view text);
std::string sanitize_utf8(std::string_view text);  // invalid sequences -> U+FFFD
std::string json_quote(std::string_view text);     // "..." with JSON escapes, valid UTF-8
std::vector<std::string> split_lines(std::string_view text);

}  // namespace ember::grade
