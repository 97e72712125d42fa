#include "report.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

namespace ember::grade {

namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

constexpr size_t kMaxCompilerLineChars = 300;
constexpr size_t kMaxOutputLineChars = 200;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool contains_ignoring_case(std::string_view text, std::string_view lower_part) {
  if (lower_part.size() > text.size()) return false;
  for (size_t i = 0; i + lower_part.size() <= text.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < lower_part.size() && match; ++j) {
      match = std::tolower(static_cast<unsigned char>(text[i + j])) == lower_part[j];
    }
    if (match) return true;
  }
  return false;
}

std::string shorten(std::string_view line, size_t limit) {
  if (line.size() <= limit) return std::string(line);
  std::string out(line.substr(0, limit));
  // Do not cut a UTF-8 sequence in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
  return out + " ...";
}

// "[ 50%]" (make) or "[3/7]" (ninja) at the start of a line.
bool starts_with_progress(std::string_view line) {
  if (!starts_with(line, "[")) return false;
  const size_t close = line.find(']');
  if (close == std::string_view::npos || close < 2) return false;
  const std::string_view inside = trim(line.substr(1, close - 1));
  if (inside.empty()) return false;
  bool digits = false;
  for (char c : inside) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c != '%' && c != '/') {
      return false;
    }
  }
  return digits;
}

// Lines a build tool prints around the compiler's own messages.
bool is_build_chatter(std::string_view raw) {
  const std::string_view line = trim(raw);
  if (line.empty()) return false;
  static const std::string_view kPrefixes[] = {
      "make[", "make:", "gmake[", "gmake:", "ninja: build stopped", "ninja: Entering",
      "ninja: no work to do", "Scanning dependencies", "Consolidate compiler generated",
      "Building CXX object", "Building C object", "Linking CXX", "Linking C ", "Built target",
      "FAILED: ", "-- "};
  for (std::string_view prefix : kPrefixes) {
    if (starts_with(line, prefix)) return true;
  }
  if (starts_with_progress(line)) return true;
  // A compiler command line, as ninja echoes it after FAILED:.
  return contains(line, " -c ") && contains(line, " -o ");
}

// GoogleTest's progress lines: "[==========] ...", "[ RUN      ] q3.x", "[       OK ] ...".
bool is_gtest_chatter(const std::string& line) {
  if (line.size() < 13 || line[0] != '[' || line[11] != ']' || line[12] != ' ') return false;
  for (size_t i = 1; i < 11; ++i) {
    const char c = line[i];
    if (!(c == ' ' || c == '=' || c == '-' || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

bool mentions_error(std::string_view line) {
  return !is_build_chatter(line) && contains_ignoring_case(line, "error");
}

void drop_trailing_blank(std::vector<std::string>& lines) {
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(byte));
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    begin = end + 1;
  }
  return lines;
}

std::string strip_ansi(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\033') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '[') {
      // CSI: parameters and intermediates, then one final byte in 0x40..0x7E.
      size_t j = i + 2;
      while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7E)) ++j;
      i = j;
    } else {
      ++i;  // a two-byte escape
    }
  }
  return out;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    size_t length = 0;
    std::uint32_t code = 0;
    std::uint32_t minimum = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, code = lead & 0x1F, minimum = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, code = lead & 0x0F, minimum = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, code = lead & 0x07, minimum = 0x10000;
    }
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    valid = valid && code >= minimum && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  append_json_escaped(out, sanitize_utf8(text));
  out += '"';
  return out;
}

std::string extract_compiler_errors(std::string_view build_output, size_t max_lines) {
  const std::vector<std::string> lines = split_lines(strip_ansi(build_output));
  size_t first_error = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (mentions_error(lines[i])) {
      first_error = i;
      break;
    }
  }
  std::vector<std::string> picked;
  if (first_error == lines.size()) {
    // Nothing says "error": show how the build ended.
    for (const std::string& line : lines) {
      if (!is_build_chatter(line)) picked.push_back(shorten(line, kMaxCompilerLineChars));
    }
    if (picked.empty()) {
      for (const std::string& line : lines) picked.push_back(shorten(line, kMaxCompilerLineChars));
    }
    drop_trailing_blank(picked);
    if (picked.size() > max_lines) picked.erase(picked.begin(), picked.end() - max_lines);
    return join(picked);
  }
  // Walk back over the context the compiler prints before an error
  // ("In file included from ...", "...: In member function ...").
  size_t begin = first_error;
  for (int steps = 0; steps < 8 && begin > 0; ++steps) {
    const std::string& previous = lines[begin - 1];
    if (trim(previous).empty() || is_build_chatter(previous)) break;
    --begin;
  }
  bool cut = false;
  for (size_t i = begin; i < lines.size(); ++i) {
    if (is_build_chatter(lines[i])) continue;
    if (picked.size() == max_lines) {
      cut = true;
      break;
    }
    picked.push_back(shorten(lines[i], kMaxCompilerLineChars));
  }
  drop_trailing_blank(picked);
  if (cut) picked.push_back("...");
  return join(picked);
}

std::string output_excerpt(std::string_view output, size_t max_lines,
                           std::string_view check_marker) {
  std::vector<std::string> lines = split_lines(strip_ansi(output));
  if (!check_marker.empty()) {
    for (size_t i = lines.size(); i > 0; --i) {
      if (lines[i - 1] == check_marker) {
        lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  lines.erase(std::remove_if(lines.begin(), lines.end(), is_gtest_chatter), lines.end());
  static const std::string_view kSanitizerMarks[] = {
      "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
      "ERROR: ThreadSanitizer", ": runtime error: "};
  std::vector<std::string> picked;
  for (size_t i = 0; i < lines.size() && picked.empty(); ++i) {
    for (std::string_view mark : kSanitizerMarks) {
      if (!contains(lines[i], mark)) continue;
      for (size_t j = i; j < lines.size() && picked.size() < max_lines; ++j) {
        picked.push_back(shorten(lines[j], kMaxOutputLineChars));
      }
      break;
    }
  }
  if (picked.empty()) {
    size_t end = lines.size();
    while (end > 0 && trim(lines[end - 1]).empty()) --end;
    const size_t begin = end > max_lines ? end - max_lines : 0;
    for (size_t i = begin; i < end; ++i) picked.push_back(shorten(lines[i], kMaxOutputLineChars));
  }
  drop_trailing_blank(picked);
  return join(picked);
}

std::string render_question(const QuestionResult& question, const ReportStyle& style) {
  std::string out;
  const std::string title = "Question " + question.id;
  out += title + "\n" + std::string(title.size(), '=') + "\n";
  for (const std::string& note : question.notes) out += "*** Note: " + show_controls(note) + "\n";
  for (const CheckResult& check : question.checks) {
    const char* verdict = check.passed ? "PASS" : "FAIL";
    std::string shown = verdict;
    if (style.color) shown = std::string(check.passed ? kGreen : kRed) + verdict + kReset;
    out += fmt::format("*** {}: {} ({}/{})\n", shown, check.name, check.earned, check.max);
    for (const std::string& line : split_lines(check.message)) {
      out += trim(line).empty() ? std::string("***\n") : fmt::format("***     {}\n", line);
    }
  }
  out += fmt::format("\n### Question {}: {}/{} ###\n", question.id, question.earned, question.max);
  if (style.timings) out += fmt::format("({}: {:.1f} s)\n", question.id, question.seconds);
  out += "\n";
  return out;
}

std::string DeviceSummary::line() const {
  if (!problem.empty()) return fmt::format("Device: {} could not be used: {}", name, problem);
  // The CPU can always be used; a GPU only counts once a question program has run on it.
  if (name == "cpu") {
    // EMBER_BACKEND reaches every question program (runner_client.cpp); say which CPU backend ran.
    const char* backend = std::getenv("EMBER_BACKEND");
    const bool reference = backend != nullptr && std::string(backend) == "reference";
    return reference ? "Device: cpu (reference backend)" : "Device: cpu";
  }
  if (reported) return "Device: " + name;
  return fmt::format("Device: {} was asked for, but no question program ran to use it", name);
}

DeviceSummary summarize_device(const std::string& requested,
                               const std::vector<QuestionResult>& questions) {
  DeviceSummary summary;
  for (const QuestionResult& question : questions) {
    if (question.device.empty()) continue;
    summary.reported = true;
    if (summary.name.empty()) summary.name = question.device;
    if (!question.device_problem.empty()) {
      summary.name = question.device;
      summary.problem = question.device_problem;
      break;
    }
  }
  if (summary.name.empty()) summary.name = requested;
  return summary;
}

std::string render_summary(const std::vector<QuestionResult>& questions,
                           const std::optional<DeviceSummary>& device) {
  std::string out = "Provisional grades\n==================\n";
  int earned = 0;
  int max = 0;
  for (const QuestionResult& question : questions) {
    out += fmt::format("Question {}: {}/{}\n", question.id, question.earned, question.max);
    earned += question.earned;
    max += question.max;
  }
  out += "------------------\n";
  out += fmt::format("Total: {}/{}\n", earned, max);
  if (device) out += device->line() + "\n";
  return out;
}

std::string render_results_json(const std::vector<QuestionResult>& questions,
                                const std::string& output,
                                const std::optional<DeviceSummary>& device) {
  int earned = 0;
  int max = 0;
  for (const QuestionResult& question : questions) {
    earned += question.earned;
    max += question.max;
  }
  std::string out = "{\n";
  out += fmt::format("  \"score\": {},\n", earned);
  out += fmt::format("  \"max_score\": {},\n", max);
  out += "  \"output\": " + json_quote(output) + ",\n";
  if (device) {
    out += "  \"extra_data\": {\"device\": " + json_quote(device->name) +
           ", \"device_problem\": " + json_quote(device->problem) + "},\n";
  }
  out += "  \"tests\": [";
  bool first = true;
  for (const QuestionResult& question : questions) {
    for (const CheckResult& check : question.checks) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "    {\n";
      out += "      \"name\": " + json_quote(check.name) + ",\n";
      out += fmt::format("      \"score\": {},\n", check.earned);
      out += fmt::format("      \"max_score\": {},\n", check.max);
      out += fmt::format("      \"status\": \"{}\",\n", check.passed ? "passed" : "failed");
      out += "      \"output\": " + json_quote(check.message) + "\n";
      out += "    }";
    }
  }
  out += first ? "]\n" : "\n  ]\n";
  out += "}\n";
  return out;
}

}  // namespace ember::grade
