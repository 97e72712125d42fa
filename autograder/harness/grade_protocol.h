// The line protocol between a question executable (grade_qN, via the harness) and the
// driver (ember_grade). It has no dependency on the engine, so the driver can use it
// without linking the library the students are working on.
//
// The results file is plain text, one record per line, fields separated by TABs.
// Free-text fields (names, messages) are escaped: '\\' -> "\\\\", newline -> "\\n",
// TAB -> "\\t", carriage return -> "\\r". Every line is flushed as soon as it is written,
// so a crash loses nothing that was already recorded.
//
//   ember-grade <TAB> 1                                         header: protocol version
//   device <TAB> cuda:0 <TAB> problem                           the device the checks run on
//                                                               (EMBER_DEVICE), and why they
//                                                               cannot when problem is not empty
//   plan  <TAB> q3 <TAB> accuracy_on_test_half <TAB> 4          one per check that will run,
//                                                               all written before the first check
//   start <TAB> q3 <TAB> accuracy_on_test_half <TAB> 4          a check begins
//   check <TAB> q3 <TAB> accuracy_on_test_half <TAB> 4 <TAB> 4 <TAB> PASS <TAB> message
//                                                               a check ended: earned, max, verdict,
//                                                               message (failure text and notes)
//   done                                                        the program finished every check
//
// A `start` without a matching `check` tells the driver which check was running when the
// program crashed or ran out of time. Readers ignore lines they do not understand (and a
// truncated last line), so the protocol can grow.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ember::grading::protocol {

inline constexpr int kVersion = 1;
inline constexpr const char* kHeaderTag = "ember-grade";

// Escaping of one free-text field; unescape(escape(s)) == s for every s.
std::string escape(std::string_view text);
std::string unescape(std::string_view field);

enum class Kind { Header, Device, Plan, Start, Check, Done };

struct Record {
  Kind kind = Kind::Done;
  std::string question;  // "q3"
  std::string name;      // "accuracy_on_test_half"; for Device, the device ("cuda:0")
  int earned = 0;        // Check only
  int max = 0;           // Plan, Start, Check
  bool passed = false;   // Check only
  std::string message;   // Check: failure text and notes; Device: the problem (both unescaped)
  int version = 0;       // Header only
};

// Each returns one complete line, including the trailing '\n'.
std::string header_line();
// device: "cpu", "cuda:0", or the value of EMBER_DEVICE as given when it names no device;
// problem: empty when the checks can run there, otherwise why they cannot.
std::string device_line(std::string_view device, std::string_view problem);
std::string plan_line(std::string_view question, std::string_view name, int max);
std::string start_line(std::string_view question, std::string_view name, int max);
std::string check_line(std::string_view question, std::string_view name, int earned, int max,
                       bool passed, std::string_view message);
std::string done_line();

// Parses one line (without its '\n'; a trailing '\r' is tolerated). Returns nullopt for
// anything malformed: unknown tag, wrong field count, bad numbers.
std::optional<Record> parse_line(std::string_view line);

// ---- the grading device ------------------------------------------------------------------
// The environment variable that chooses the device the checks run on (make grade DEVICE=...
// sets it). The driver checks its spelling before building anything; the harness reads it.
inline constexpr const char* kDeviceVariable = "EMBER_DEVICE";

// A value of EMBER_DEVICE, normalised: "" and "cpu" -> "cpu", "cuda" -> "cuda:0",
// "cuda:N" -> "cuda:N" (N a whole number, without a sign or leading zeros).
// std::nullopt for anything else.
std::optional<std::string> normalize_device(std::string_view value);

// Why a value that normalize_device refuses is not a device; names EMBER_DEVICE and the
// values it accepts.
std::string bad_device_message(std::string_view value);

// Text from student code made safe to show on a terminal: C0 control characters other than
// newline and tab (ESC, carriage return, ...), DEL and the C1 controls (as UTF-8) shown as
// \xNN, and so are the bytes of the invisible Unicode characters that change how text reads
// (bidirectional overrides and isolates, line and paragraph separators). One function for every
// place that shows such text: reports, logs, progress.
std::string show_controls(std::string_view text);

// Turns a GoogleTest failure text into what a student needs to read, e.g.
//   C++ exception with description "q3: f is not implemented" thrown in the test body.
// becomes
//   exception: q3: f is not implemented
// Other text is returned with trailing whitespace removed.
std::string tidy_failure_message(std::string_view gtest_message);

}  // namespace ember::grading::protocol
