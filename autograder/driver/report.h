// What the driver reports: the CS188-shaped text report, the summary, Gradescope's
// results.json, and the text helpers they need (compiler-error extraction, UTF-8 cleaning).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grade_protocol.h"

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
  std::string data_url;   // the SVG file as a data: URL for an <img>; empty when not shown
  std::string note;       // why it is not shown (too big, unreadable, not an SVG)
};

struct QuestionResult {
  std::string id;  // "q3"
  int max = 0;
  int earned = 0;  // already capped at max
  std::vector<CheckResult> checks;
  double seconds = 0;  // wall time (build and run)
  std::vector<Picture> pictures;  // only for the HTML report
  // The device the question program ran its checks on ("cpu", "cuda:0"), as it reported it;
  // empty when it reported none (it did not build or did not start). device_problem: why
  // the checks could not run there (then every check failed with that reason).
  std::string device;
  std::string device_problem;
  // Lines about the submission's files (what was ignored and why), shown above the checks.
  std::vector<std::string> notes;
};

// Which device the checks ran on, for the summary, the HTML report and results.json.
struct DeviceSummary {
  std::string name;       // "cpu", "cuda:0"
  std::string problem;    // empty when the checks ran on it; otherwise why none could
  bool reported = false;  // a question program said so (false: name is only what was asked for)
  // "Device: cpu", "Device: cuda:0 could not be used: <problem>", or for a GPU that no
  // question program reported on (none built or started), "Device: cuda:0 was asked for, ...".
  std::string line() const;
};

// The device the questions reported (the first problem any of them reported wins), or
// `requested` (EMBER_DEVICE normalised, e.g. "cpu") when none reported one.
DeviceSummary summarize_device(const std::string& requested,
                               const std::vector<QuestionResult>& questions);

struct ReportStyle {
  bool color = false;
  bool timings = true;
};

// "Question q3\n===========\n*** PASS: ...\n\n### Question q3: 2/6 ###\n\n"
std::string render_question(const QuestionResult& question, const ReportStyle& style);
// "Provisional grades\n==================\nQuestion q0: 4/4\n...\n------------------\nTotal: .../...\n"
// followed by device->line() when a device is given.
std::string render_summary(const std::vector<QuestionResult>& questions,
                           const std::optional<DeviceSummary>& device = std::nullopt);
// Gradescope's results.json; `output` is the whole plain-text report. With a device, also
// "extra_data": {"device": ..., "device_problem": ...}.
std::string render_results_json(const std::vector<QuestionResult>& questions,
                                const std::string& output,
                                const std::optional<DeviceSummary>& device = std::nullopt);

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
// Text from student code made safe for a terminal (grade_protocol.h).
using ::ember::grading::protocol::show_controls;
std::string sanitize_utf8(std::string_view text);  // invalid sequences -> U+FFFD
std::string json_quote(std::string_view text);     // "..." with JSON escapes, valid UTF-8
std::vector<std::string> split_lines(std::string_view text);

}  // namespace ember::grade
