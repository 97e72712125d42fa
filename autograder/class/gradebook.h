// Grading a whole class (ember_grade_class): what is kept about each student, the gradebook
// (CSV), the class page (HTML), reading the driver's results.json, and merging the
// gradebooks of shards. The grading itself is the driver's (ember_grade, one submission per
// run); nothing here decides a point.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ember::grade::klass {

struct QuestionPoints {
  std::string id;  // "q3"
  int earned = 0;
  int max = 0;
};

struct FailedCheck {
  std::string check;    // "q3.accuracy_on_test_half"
  std::string message;  // the check's message, shortened, control characters escaped
};

// Everything the gradebook and the class page need about one student, kept in
// records/<stem>.record so that a later run can skip an unchanged submission.
struct StudentRecord {
  std::string student;     // the name shown (valid UTF-8, control characters escaped)
  std::string entry;       // the entry of the submissions folder it came from
  std::string stem;        // the file name of its reports (reports/<stem>.txt)
  std::string key;         // SHA-256 of the submission's files and of the grading setup
  std::string sha256;      // SHA-256 of the submission's files alone
  std::string status;      // graded, does not compile, timed out, no lesson files, ...
  std::string detail;      // why, in a sentence (which questions, what went wrong)
  std::string protection;  // the driver's "Protection: ..." line ("" when it did not run)
  double seconds = 0;
  std::vector<QuestionPoints> questions;  // empty when the driver did not run
  std::vector<FailedCheck> failures;
  bool graded() const { return !questions.empty(); }
  int total() const;
  int max() const;
};

// Statuses, as they appear in the gradebook's status column.
inline constexpr const char* kGraded = "graded";
inline constexpr const char* kDoesNotCompile = "does not compile";
inline constexpr const char* kTimedOut = "timed out";
inline constexpr const char* kNoLessonFiles = "no lesson files";
inline constexpr const char* kBadZip = "bad zip";
inline constexpr const char* kDuplicateName = "duplicate name";
inline constexpr const char* kGraderError = "grader error";
inline constexpr const char* kNotGraded = "not graded yet";

// One record file: "field<TAB>value" lines, values with \\, \t and \n escaped. Written to a
// temporary name and renamed, so a record is either whole or absent (an interrupted run
// resumes from the records that exist).
std::string serialize_record(const StudentRecord& record);
// Throws std::runtime_error when the text is not a record.
StudentRecord parse_record(const std::string& text);

// Fills questions, failures, status, detail and protection from the driver's results.json.
// Throws std::runtime_error when the text is not the driver's results.json.
void read_results_json(const std::string& json, const std::vector<std::string>& question_ids,
                       StudentRecord& record);

// The protection level in a word ("sandbox", "limits") from the driver's line.
std::string protection_level(const std::string& protection_line);

// The text as a spreadsheet should show it: a leading =, +, -, @ or tab (a formula to a
// spreadsheet) gets an apostrophe in front; a negative number stays as it is.
std::string spreadsheet_safe(std::string_view text);
// A CSV cell: quoted when it holds a comma, quote, line break or edge space; a cell that a
// spreadsheet would read as a formula (=, +, -, @, tab) gets a leading apostrophe.
std::string csv_cell(std::string_view text);
// Splits CSV text into rows of cells (RFC 4180, quoted cells may span lines).
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

// gradebook.csv: a header (student, q0.., total, max, status, protection, seconds, sha256,
// detail) and one row per record, in the order given.
std::string render_gradebook(const std::vector<StudentRecord>& records,
                             const std::vector<std::string>& question_ids);

struct ClassPageInput {
  std::vector<StudentRecord> records;
  std::vector<std::string> question_ids;
  std::vector<std::string> notes;    // lines about the run: ignored entries, missing students
  std::string title = "Ember class grades";
  std::string reports_prefix = "reports/";  // where <stem>.html is, relative to the page
};

// class.html: one self-contained page (inline CSS, no scripts).
std::string render_class_page(const ClassPageInput& input);

// Groups messages that differ only in their numbers: the first line, digits as '#'.
std::string message_key(std::string_view message);

}  // namespace ember::grade::klass
