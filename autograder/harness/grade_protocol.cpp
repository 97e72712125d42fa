#include "grade_protocol.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace ember::grading::protocol {

namespace {

// The largest number of points a record may carry; anything bigger is treated as corrupt.
constexpr int kMaxPoints = 1000000;

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    const size_t tab = line.find('\t', begin);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(begin));
      return fields;
    }
    fields.push_back(line.substr(begin, tab - begin));
    begin = tab + 1;
  }
}

std::optional<int> parse_points(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > kMaxPoints) {
    return std::nullopt;
  }
  return value;
}

std::string join_fields(std::initializer_list<std::string_view> fields) {
  std::string line;
  bool first = true;
  for (std::string_view field : fields) {
    if (!first) line += '\t';
    line += field;
    first = false;
  }
  line += '\n';
  return line;
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    const char next = field[++i];
    switch (next) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      default:  // Not something escape() writes: keep it as it was.
        out += '\\';
        out += next;
    }
  }
  return out;
}

std::string header_line() {
  return join_fields({kHeaderTag, std::to_string(kVersion)});
}

std::string device_line(std::string_view device, std::string_view problem) {
  return join_fields({"device", escape(device), escape(problem)});
}

std::string plan_line(std::string_view question, std::string_view name, int max) {
  return join_fields({"plan", escape(question), escape(name), std::to_string(max)});
}

std::string start_line(std::string_view question, std::string_view name, int max) {
  return join_fields({"start", escape(question), escape(name), std::to_string(max)});
}

std::string check_line(std::string_view question, std::string_view name, int earned, int max,
                       bool passed, std::string_view message) {
  return join_fields({"check", escape(question), escape(name), std::to_string(earned),
                      std::to_string(max), passed ? "PASS" : "FAIL", escape(message)});
}

std::string done_line() { return join_fields({"done"}); }

std::optional<Record> parse_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::vector<std::string_view> f = split_tabs(line);
  Record record;
  const std::string_view tag = f[0];
  if (tag == kHeaderTag) {
    if (f.size() != 2) return std::nullopt;
    const auto version = parse_points(f[1]);
    if (!version) return std::nullopt;
    record.kind = Kind::Header;
    record.version = *version;
    return record;
  }
  if (tag == "device") {
    if (f.size() != 3 || f[1].empty()) return std::nullopt;
    record.kind = Kind::Device;
    record.name = unescape(f[1]);
    record.message = unescape(f[2]);
    return record;
  }
  if (tag == "plan" || tag == "start") {
    if (f.size() != 4 || f[1].empty() || f[2].empty()) return std::nullopt;
    const auto max = parse_points(f[3]);
    if (!max) return std::nullopt;
    record.kind = tag == "plan" ? Kind::Plan : Kind::Start;
    record.question = unescape(f[1]);
    record.name = unescape(f[2]);
    record.max = *max;
    return record;
  }
  if (tag == "check") {
    if (f.size() != 7 || f[1].empty() || f[2].empty()) return std::nullopt;
    const auto earned = parse_points(f[3]);
    const auto max = parse_points(f[4]);
    if (!earned || !max) return std::nullopt;
    if (f[5] != "PASS" && f[5] != "FAIL") return std::nullopt;
    record.kind = Kind::Check;
    record.question = unescape(f[1]);
    record.name = unescape(f[2]);
    record.earned = *earned;
    record.max = *max;
    record.passed = f[5] == "PASS";
    record.message = unescape(f[6]);
    return record;
  }
  if (tag == "done") {
    if (f.size() != 1) return std::nullopt;
    record.kind = Kind::Done;
    return record;
  }
  return std::nullopt;
}

std::optional<std::string> normalize_device(std::string_view value) {
  if (value.empty() || value == "cpu") return std::string("cpu");
  if (value == "cuda") return std::string("cuda:0");
  constexpr std::string_view kCuda = "cuda:";
  if (!starts_with(value, kCuda)) return std::nullopt;
  const std::string_view number = value.substr(kCuda.size());
  if (number.empty() || number.size() > 4 || (number.size() > 1 && number[0] == '0')) {
    return std::nullopt;
  }
  for (char c : number) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::string(value);
}

std::string bad_device_message(std::string_view value) {
  std::string message = kDeviceVariable;
  message += "='";
  message += value;
  message +=
      "' is not a device: use cpu (the default), cuda (the first GPU, cuda:0) or cuda:N (GPU "
      "number N), e.g. make grade DEVICE=cuda";
  return message;
}

// The UTF-8 of a character that changes how the text around it reads without showing itself:
// the bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069: a
// right-to-left override makes "exe.txt" of "txt.exe") and the line and paragraph separators
// (U+2028, U+2029), which some viewers break lines at. Its length in bytes, or 0.
static size_t invisible_control_at(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  if (byte(i) == 0xd8 && byte(i + 1) == 0x9c) return 2;  // U+061C
  if (byte(i) != 0xe2) return 0;
  const unsigned second = byte(i + 1), third = byte(i + 2);
  if (second == 0x80 && (third == 0x8e || third == 0x8f || (third >= 0xa8 && third <= 0xae))) return 3;
  if (second == 0x81 && third >= 0xa6 && third <= 0xa9) return 3;
  return 0;
}

std::string show_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // C0 controls, DEL, and the C1 controls as UTF-8 (C2 80 to C2 9F: C2 9B is an escape).
    const bool c1 = c == 0xc2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c1) {
      out += fmt::format("\\xc2\\x{:02x}", static_cast<unsigned char>(text[++i]));
    } else if (const size_t length = invisible_control_at(text, i); length > 0) {
      for (size_t k = 0; k < length; ++k) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i + k]));
      i += length - 1;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string tidy_failure_message(std::string_view message) {
  // GoogleTest may append a stack trace; it only helps the person who wrote the grader.
  const size_t trace = message.find("\nStack trace:\n");
  if (trace != std::string_view::npos) message = message.substr(0, trace);
  message = trim_right(message);
  // FAIL() and ADD_FAILURE() put a line "Failed" before the text they were given.
  if (starts_with(message, "Failed\n")) message.remove_prefix(7);

  constexpr std::string_view kWith = "C++ exception with description \"";
  constexpr std::string_view kUnknown = "Unknown C++ exception thrown in ";
  constexpr std::string_view kThrownIn = "\" thrown in ";
  constexpr std::string_view kBody = "the test body";
  if (starts_with(message, kWith)) {
    const size_t end = message.rfind(kThrownIn);
    if (end != std::string_view::npos && end >= kWith.size()) {
      const std::string_view description = message.substr(kWith.size(), end - kWith.size());
      std::string_view where = message.substr(end + kThrownIn.size());
      if (!where.empty() && where.back() == '.') where.remove_suffix(1);
      std::string out = "exception: ";
      out += description;
      if (where != kBody) {
        out += " (thrown in ";
        out += where;
        out += ')';
      }
      return out;
    }
  }
  if (starts_with(message, kUnknown)) {
    std::string_view where = message.substr(kUnknown.size());
    if (!where.empty() && where.back() == '.') where.remove_suffix(1);
    std::string out = "exception: an exception not derived from std::exception";
    if (where != kBody) {
      out += " (thrown in ";
      out += where;
      out += ')';
    }
    return out;
  }
  return std::string(message);
}

}  // namespace ember::grading::protocol
