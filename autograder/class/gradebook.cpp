#include "gradebook.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "html_report.h"
#include "json_reader.h"
#include "report.h"

namespace ember::grade::klass {

namespace {

// ---- record files --------------------------------------------------------------------------

std::string escape_field(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string unescape_field(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    out += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
  }
  return out;
}

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t tab = line.find('\t', begin);
    parts.push_back(unescape_field(line.substr(begin, tab == std::string_view::npos ? line.npos : tab - begin)));
    if (tab == std::string_view::npos) break;
    begin = tab + 1;
  }
  return parts;
}

// A failed check's message for the class page: its first lines (a compiler's error list can
// be long), shown the way the driver's report shows it.
std::string short_message(const std::string& message) {
  constexpr size_t kMaxLines = 8, kMaxBytes = 1200;
  std::string out;
  size_t lines = 0;
  for (const std::string& line : split_lines(message)) {
    if (lines++ == kMaxLines || out.size() + line.size() > kMaxBytes) {
      out += "\n...";
      break;
    }
    if (!out.empty()) out += '\n';
    out += line;
  }
  return sanitize_utf8(show_controls(out));
}

std::string question_of(const std::string& check) { return check.substr(0, check.find('.')); }

std::string seconds_text(double seconds) { return fmt::format("{:.1f}", seconds); }

}  // namespace

int StudentRecord::total() const {
  int sum = 0;
  for (const QuestionPoints& q : questions) sum += q.earned;
  return sum;
}

int StudentRecord::max() const {
  int sum = 0;
  for (const QuestionPoints& q : questions) sum += q.max;
  return sum;
}

std::string serialize_record(const StudentRecord& r) {
  std::string out = "ember-class-record\t1\n";
  auto field = [&](const char* name, const std::string& value) {
    out += std::string(name) + "\t" + escape_field(value) + "\n";
  };
  field("student", r.student);
  field("entry", r.entry);
  field("stem", r.stem);
  field("key", r.key);
  field("sha256", r.sha256);
  field("status", r.status);
  field("detail", r.detail);
  field("protection", r.protection);
  field("seconds", fmt::format("{:.3f}", r.seconds));
  for (const QuestionPoints& q : r.questions) {
    out += fmt::format("question\t{}\t{}\t{}\n", escape_field(q.id), q.earned, q.max);
  }
  for (const FailedCheck& f : r.failures) {
    out += "failed\t" + escape_field(f.check) + "\t" + escape_field(f.message) + "\n";
  }
  out += "end\n";
  return out;
}

StudentRecord parse_record(const std::string& text) {
  StudentRecord r;
  bool header = false, end = false;
  for (const std::string& line : split_lines(text)) {
    if (line.empty()) continue;
    const std::vector<std::string> p = split_tabs(line);
    const std::string& name = p[0];
    const std::string value = p.size() > 1 ? p[1] : std::string();
    if (name == "ember-class-record") header = value == "1";
    else if (name == "student") r.student = value;
    else if (name == "entry") r.entry = value;
    else if (name == "stem") r.stem = value;
    else if (name == "key") r.key = value;
    else if (name == "sha256") r.sha256 = value;
    else if (name == "status") r.status = value;
    else if (name == "detail") r.detail = value;
    else if (name == "protection") r.protection = value;
    else if (name == "seconds") r.seconds = std::strtod(value.c_str(), nullptr);
    else if (name == "question" && p.size() == 4) {
      r.questions.push_back({p[1], std::atoi(p[2].c_str()), std::atoi(p[3].c_str())});
    } else if (name == "failed" && p.size() == 3) {
      r.failures.push_back({p[1], p[2]});
    } else if (name == "end") {
      end = true;
    }
  }
  if (!header || !end || r.student.empty()) throw std::runtime_error("not a whole class record");
  return r;
}

void read_results_json(const std::string& json, const std::vector<std::string>& question_ids,
                       StudentRecord& record) {
  const Json doc = parse_json(json, "results.json");
  const Json* tests = doc.find("tests");
  const Json* output = doc.find("output");
  if (doc.type != Json::Type::Object || tests == nullptr || tests->type != Json::Type::Array) {
    throw std::runtime_error("results.json has no list of tests");
  }
  record.questions.clear();
  record.failures.clear();
  for (const std::string& id : question_ids) record.questions.push_back({id, 0, 0});
  std::vector<std::string> no_compile, timed_out, errors;
  auto note = [](std::vector<std::string>& list, const std::string& id) {
    if (std::find(list.begin(), list.end(), id) == list.end()) list.push_back(id);
  };
  for (const Json& test : tests->array) {
    const Json* name = test.find("name");
    const Json* score = test.find("score");
    const Json* max = test.find("max_score");
    const Json* status = test.find("status");
    const Json* message = test.find("output");
    if (name == nullptr || name->type != Json::Type::String) continue;
    const std::string id = question_of(name->string);
    auto q = std::find_if(record.questions.begin(), record.questions.end(),
                          [&](const QuestionPoints& p) { return p.id == id; });
    if (q == record.questions.end()) continue;
    if (score != nullptr) q->earned += static_cast<int>(score->number);
    if (max != nullptr) q->max += static_cast<int>(max->number);
    const bool passed = status != nullptr && status->string == "passed";
    const std::string text = message != nullptr ? message->string : std::string();
    if (passed) continue;
    record.failures.push_back({sanitize_utf8(show_controls(name->string)), short_message(text)});
    // The driver's own words for the two ways a question fails as a whole (grader.cpp:
    // compile_runner's "does not compile", the checker's "time budget ... ran out", the
    // driver's "timed out after").
    if (text.rfind("the code for " + id + " does not compile", 0) == 0) note(no_compile, id);
    if ((text.find("time budget") != std::string::npos && text.find("ran out") != std::string::npos) ||
        text.find("timed out after") != std::string::npos) {
      note(timed_out, id);
    }
    if (name->string == id + ".autograder") note(errors, id);
  }
  auto join = [](const std::vector<std::string>& ids) {
    std::string out;
    for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
    return out;
  };
  std::vector<std::string> parts;
  if (!no_compile.empty()) parts.push_back(join(no_compile) + " does not compile");
  if (!timed_out.empty()) parts.push_back(join(timed_out) + " timed out");
  if (!errors.empty()) parts.push_back("the autograder failed on " + join(errors));
  record.status = !errors.empty()       ? kGraderError
                  : !no_compile.empty() ? kDoesNotCompile
                  : !timed_out.empty()  ? kTimedOut
                                        : kGraded;
  record.detail.clear();
  for (const std::string& part : parts) record.detail += (record.detail.empty() ? "" : "; ") + part;
  record.protection.clear();
  if (output != nullptr) {
    for (const std::string& line : split_lines(output->string)) {
      if (line.rfind("Protection: ", 0) == 0) {
        record.protection = sanitize_utf8(show_controls(line));
        break;
      }
    }
  }
}

std::string protection_level(const std::string& line) {
  const std::string prefix = "Protection: ";
  if (line.rfind(prefix, 0) != 0) return {};
  const std::string rest = line.substr(prefix.size());
  return rest.substr(0, rest.find_first_of(" ,("));
}

std::string spreadsheet_safe(std::string_view text) {
  std::string cell(text);
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@' ||
                        cell[0] == '\t' || cell[0] == '\r')) {
    // A negative number is data, not a formula.
    const bool number = cell.size() > 1 && cell[0] == '-' &&
                        cell.find_first_not_of("0123456789.", 1) == std::string::npos;
    if (!number) cell.insert(cell.begin(), '\'');
  }
  return cell;
}

std::string csv_cell(std::string_view text) {
  const std::string cell = spreadsheet_safe(text);
  const bool quote = cell.find_first_of(",\"\n\r") != std::string::npos ||
                     (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      row.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (any || !cell.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string render_gradebook(const std::vector<StudentRecord>& records,
                             const std::vector<std::string>& question_ids) {
  std::string out = "student";
  for (const std::string& id : question_ids) out += "," + id;
  out += ",total,max,status,protection,seconds,sha256,detail\n";
  for (const StudentRecord& r : records) {
    out += csv_cell(r.student);
    for (const std::string& id : question_ids) {
      out += ",";
      for (const QuestionPoints& q : r.questions) {
        if (q.id == id) out += std::to_string(q.earned);
      }
    }
    out += fmt::format(",{},{},{},{},{},{},{}\n", r.total(), r.graded() ? std::to_string(r.max()) : "",
                       csv_cell(r.status), csv_cell(protection_level(r.protection)),
                       seconds_text(r.seconds), r.sha256, csv_cell(r.detail));
  }
  return out;
}

std::string message_key(std::string_view message) {
  std::string first(message.substr(0, message.find('\n')));
  std::string key;
  for (size_t i = 0; i < first.size(); ++i) {
    const bool digit = first[i] >= '0' && first[i] <= '9';
    if (!digit) {
      key += first[i];
    } else if (key.empty() || key.back() != '#') {
      key += '#';
    }
    if (key.size() > 240) break;
  }
  return key;
}

std::string render_class_page(const ClassPageInput& in) {
  const auto& records = in.records;
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>" + html_escape(in.title) + "</title>\n<style>\n"
         "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}\n"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
         "th,td{border:1px solid #ccc;padding:0.2em 0.6em;text-align:left;vertical-align:top}\n"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
         ".bar{background:#4a7bd0;height:0.9em;display:inline-block}\n"
         "pre{white-space:pre-wrap;margin:0.2em 0;font-size:0.9em}\n"
         ".bad{color:#a40000}\n</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(in.title) + "</h1>\n";

  // Who was graded, and how.
  std::map<std::string, int> statuses, protections;
  int graded = 0;
  double total_points = 0;
  for (const StudentRecord& r : records) {
    ++statuses[r.status];
    if (r.graded()) {
      ++graded;
      total_points += r.total();
      ++protections[r.protection.empty() ? "(none reported)" : r.protection];
    }
  }
  out += fmt::format("<p>{} students; {} graded by the driver", records.size(), graded);
  if (graded > 0) out += fmt::format(", mean total {:.1f}", total_points / graded);
  out += ".</p>\n<table><tr><th>status</th><th>students</th></tr>\n";
  for (const auto& [status, count] : statuses) {
    out += "<tr><td>" + html_escape(status) + fmt::format("</td><td class=\"n\">{}</td></tr>\n", count);
  }
  out += "</table>\n";
  for (const auto& [line, count] : protections) {
    out += "<p>" + html_escape(line) + fmt::format(" ({} students)</p>\n", count);
  }
  for (const std::string& note : in.notes) out += "<p class=\"bad\">" + html_escape(note) + "</p>\n";

  // Submissions that were not graded as a whole, or where a question did not compile or ran
  // out of time: one line each.
  bool any_problem = false;
  for (const StudentRecord& r : records) {
    if (r.status == kGraded) continue;
    if (!any_problem) {
      out += "<h2>Submissions with a problem</h2>\n<table><tr><th>student</th><th>entry</th>"
             "<th>status</th><th>what</th></tr>\n";
      any_problem = true;
    }
    out += "<tr><td>" + html_escape(r.student) + "</td><td>" + html_escape(r.entry) + "</td><td>" +
           html_escape(r.status) + "</td><td>" + html_escape(r.detail) + "</td></tr>\n";
  }
  if (any_problem) out += "</table>\n";

  // Each question's points: how many students earned each score.
  out += "<h2>Points per question</h2>\n";
  for (const std::string& id : in.question_ids) {
    std::map<int, int> counts;
    int max = 0, n = 0;
    for (const StudentRecord& r : records) {
      for (const QuestionPoints& q : r.questions) {
        if (q.id != id) continue;
        ++counts[q.earned];
        max = std::max(max, q.max);
        ++n;
      }
    }
    out += fmt::format("<h3>{} (out of {}, {} students)</h3>\n", html_escape(id), max, n);
    if (n == 0) continue;
    out += "<table><tr><th>points</th><th>students</th><th></th></tr>\n";
    for (int points = max; points >= 0; --points) {
      const int count = counts.count(points) ? counts[points] : 0;
      out += fmt::format("<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td><span class=\"bar\" "
                         "style=\"width:{}em\"></span></td></tr>\n",
                         points, count, count == 0 ? 0.0 : 0.2 + 20.0 * count / n);
    }
    out += "</table>\n";
  }

  // The checks most often failed, with what the checks said and how many students got each.
  struct Said {
    std::string example;
    int students = 0;
  };
  struct Check {
    std::string name;
    int students = 0;
    std::map<std::string, Said> said;
  };
  std::map<std::string, Check> checks;
  for (const StudentRecord& r : records) {
    for (const FailedCheck& f : r.failures) {
      Check& c = checks[f.check];
      c.name = f.check;
      ++c.students;
      Said& s = c.said[message_key(f.message)];
      if (s.students++ == 0) s.example = f.message;
    }
  }
  std::vector<const Check*> order;
  for (const auto& [name, check] : checks) order.push_back(&check);
  std::stable_sort(order.begin(), order.end(),
                   [](const Check* a, const Check* b) { return a->students > b->students; });
  out += "<h2>Checks most often failed</h2>\n";
  if (order.empty()) out += "<p>No check failed.</p>\n";
  constexpr size_t kMaxChecks = 25, kMaxMessages = 5;
  for (size_t i = 0; i < order.size() && i < kMaxChecks; ++i) {
    const Check& c = *order[i];
    out += fmt::format("<h3>{}: failed by {} of {} students</h3>\n", html_escape(c.name), c.students,
                       graded);
    std::vector<const Said*> messages;
    for (const auto& [key, said] : c.said) messages.push_back(&said);
    std::stable_sort(messages.begin(), messages.end(),
                     [](const Said* a, const Said* b) { return a->students > b->students; });
    out += "<table><tr><th>students</th><th>what the check said (one student's words)</th></tr>\n";
    for (size_t m = 0; m < messages.size() && m < kMaxMessages; ++m) {
      out += fmt::format("<tr><td class=\"n\">{}</td><td><pre>{}</pre></td></tr>\n", messages[m]->students,
                         html_escape(messages[m]->example));
    }
    if (messages.size() > kMaxMessages) {
      out += fmt::format("<tr><td></td><td>and {} other messages</td></tr>\n", messages.size() - kMaxMessages);
    }
    out += "</table>\n";
  }
  if (order.size() > kMaxChecks) out += fmt::format("<p>and {} other checks</p>\n", order.size() - kMaxChecks);

  // The slowest submissions.
  std::vector<const StudentRecord*> slow;
  for (const StudentRecord& r : records) {
    if (r.graded()) slow.push_back(&r);
  }
  std::stable_sort(slow.begin(), slow.end(),
                   [](const StudentRecord* a, const StudentRecord* b) { return a->seconds > b->seconds; });
  out += "<h2>Slowest submissions</h2>\n<table><tr><th>student</th><th>seconds</th><th>status</th></tr>\n";
  for (size_t i = 0; i < slow.size() && i < 10; ++i) {
    out += "<tr><td>" + html_escape(slow[i]->student) + "</td><td class=\"n\">" + seconds_text(slow[i]->seconds) +
           "</td><td>" + html_escape(slow[i]->status) + "</td></tr>\n";
  }
  out += "</table>\n";

  // The gradebook, with each student's report.
  out += "<h2>Gradebook</h2>\n<table><tr><th>student</th>";
  for (const std::string& id : in.question_ids) out += "<th>" + html_escape(id) + "</th>";
  out += "<th>total</th><th>status</th><th>report</th></tr>\n";
  for (const StudentRecord& r : records) {
    out += "<tr><td>" + html_escape(r.student) + "</td>";
    for (const std::string& id : in.question_ids) {
      std::string cell;
      for (const QuestionPoints& q : r.questions) {
        if (q.id == id) cell = fmt::format("{}/{}", q.earned, q.max);
      }
      out += "<td class=\"n\">" + cell + "</td>";
    }
    out += fmt::format("<td class=\"n\">{}</td><td>{}</td><td>", r.total(), html_escape(r.status));
    if (r.graded()) {
      // The stem holds only letters, digits, '.', '-', '_' and UTF-8; escaped all the same.
      out += "<a href=\"" + html_escape(in.reports_prefix + r.stem + ".html") + "\">html</a> <a href=\"" +
             html_escape(in.reports_prefix + r.stem + ".txt") + "\">text</a>";
    }
    out += "</td></tr>\n";
  }
  out += "</table>\n</body>\n</html>\n";
  return out;
}

}  // namespace ember::grade::klass
