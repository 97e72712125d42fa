#include "html_report.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

namespace ember::grade {

namespace {

namespace fs = std::filesystem;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view lower_prefix) {
  return text.size() >= lower_prefix.size() && lower(text.substr(0, lower_prefix.size())) == lower_prefix;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// The five XML entities and numeric character references; any other '&' stays a literal '&'.
std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    const size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos || semicolon - i > 12) {
      out += text[i++];
      continue;
    }
    const std::string_view name = text.substr(i + 1, semicolon - i - 1);
    static const std::pair<std::string_view, char> kNamed[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    bool decoded = false;
    for (const auto& [entity, c] : kNamed) {
      if (name == entity) {
        out += c;
        decoded = true;
      }
    }
    if (!decoded && name.size() >= 2 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t code = 0;
      bool valid = !digits.empty();
      for (char c : digits) {
        const int digit = std::isdigit(static_cast<unsigned char>(c))    ? c - '0'
                          : hex && c >= 'a' && c <= 'f'                  ? c - 'a' + 10
                          : hex && c >= 'A' && c <= 'F'                  ? c - 'A' + 10
                                                                         : -1;
        if (digit < 0 || code > 0x10FFFF) {
          valid = false;
          break;
        }
        code = code * (hex ? 16 : 10) + static_cast<std::uint32_t>(digit);
      }
      if (valid) {
        const bool usable = code != 0 && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
        append_utf8(out, usable ? code : 0xFFFD);
        decoded = true;
      }
    }
    if (decoded) {
      i = semicolon + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// ---- the SVG sanitiser ------------------------------------------------------------------

// Elements kept as they are (SVG names are case-sensitive).
const std::set<std::string_view>& allowed_elements() {
  static const std::set<std::string_view> kAllowed = {
      "svg", "g", "defs", "symbol", "use", "title", "desc", "rect", "circle", "ellipse", "line",
      "polyline", "polygon", "path", "text", "tspan", "textPath", "linearGradient",
      "radialGradient", "stop", "clipPath", "mask", "pattern", "marker", "image", "filter",
      "feGaussianBlur", "feOffset", "feBlend", "feFlood", "feComposite", "feMerge",
      "feMergeNode", "feColorMatrix", "feDropShadow"};
  return kAllowed;
}

// Elements dropped with everything inside them (compared in lower case). Other unknown
// elements are unwrapped: the tag goes, what it contains stays (and is filtered in turn).
bool dropped_with_content(std::string_view name) {
  static const std::set<std::string> kDropped = {
      "script", "style", "foreignobject", "metadata", "iframe", "object", "embed",
      "noscript", "template", "textarea", "xmp", "plaintext", "noembed", "noframes"};
  return kDropped.count(lower(name)) != 0;
}

// Elements whose content is raw text up to their end tag (an HTML parser reads them so).
bool raw_text(std::string_view name) {
  const std::string l = lower(name);
  return l == "script" || l == "style" || l == "xmp" || l == "plaintext" || l == "textarea" ||
         l == "noembed" || l == "noframes" || l == "iframe" || l == "noscript";
}

bool valid_attribute_name(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == ':';
  });
}

// Lower case, without whitespace and control characters: how a browser might read a URL.
std::string compact(std::string_view value) {
  std::string out;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) continue;
    out += static_cast<char>(std::tolower(byte));
  }
  return out;
}

// Rewrites every url(...) in value to url(#<prefix>id). False when one points outside the
// picture (then the attribute is dropped).
bool rewrite_urls(std::string& value, std::string_view prefix) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t found = std::string::npos;
    for (size_t j = i; j + 4 <= value.size(); ++j) {
      if (lower(std::string_view(value).substr(j, 4)) == "url(") {
        found = j;
        break;
      }
    }
    if (found == std::string::npos) break;
    out.append(value, i, found + 4 - i);
    size_t k = found + 4;
    while (k < value.size() && std::isspace(static_cast<unsigned char>(value[k]))) ++k;
    char quote = 0;
    if (k < value.size() && (value[k] == '"' || value[k] == '\'')) quote = value[k++];
    if (k >= value.size() || value[k] != '#') return false;
    if (quote != 0) out += quote;
    out += '#';
    out += prefix;
    i = k + 1;
  }
  out.append(value, i, std::string::npos);
  value = std::move(out);
  return true;
}

std::string escape_attribute(std::string_view value) { return html_escape(value); }

struct Attribute {
  std::string name;
  std::string value;
};

// The attribute as it may be written out, or nothing.
bool clean_attribute(std::string_view element, Attribute& attribute, std::string_view prefix) {
  const std::string name = lower(attribute.name);
  if (!valid_attribute_name(attribute.name) || starts_with(name, "on")) return false;
  if (attribute.name.find(':') != std::string::npos && name != "xlink:href" &&
      name != "xml:space" && name != "xml:lang" && name != "xmlns:xlink") {
    return false;
  }
  if (name == "xmlns") return attribute.value == "http://www.w3.org/2000/svg";
  if (name == "xmlns:xlink") return attribute.value == "http://www.w3.org/1999/xlink";
  if (name == "src" || name == "formaction" || name == "action") return false;
  const std::string seen = compact(attribute.value);
  for (std::string_view bad : {"javascript:", "vbscript:", "expression(", "@import", "behavior:",
                               "-moz-binding"}) {
    if (seen.find(bad) != std::string::npos) return false;
  }
  if (name == "href" || name == "xlink:href") {
    if (starts_with(attribute.value, "#")) {
      attribute.value = "#" + std::string(prefix) + attribute.value.substr(1);
      return true;
    }
    // Pictures may embed bitmaps, but only as data: URLs of plain image types.
    if (element == "image") {
      for (std::string_view kind : {"data:image/png;", "data:image/jpeg;", "data:image/gif;",
                                    "data:image/webp;"}) {
        if (starts_with(seen, kind)) return true;
      }
    }
    return false;
  }
  if (name == "id") {
    attribute.value = std::string(prefix) + attribute.value;
    return true;
  }
  return rewrite_urls(attribute.value, prefix);
}

class SvgSanitizer {
 public:
  SvgSanitizer(std::string_view markup, std::string_view prefix) : text_(markup), prefix_(prefix) {}

  std::string run() {
    while (pos_ < text_.size() && !finished_) {
      if (text_[pos_] != '<') {
        const size_t end = std::min(text_.find('<', pos_), text_.size());
        emit_text(decode_entities(text_.substr(pos_, end - pos_)));
        pos_ = end;
      } else if (starts_with(text_.substr(pos_), "<!--")) {
        skip_past("-->", 4);
      } else if (starts_with(text_.substr(pos_), "<![CDATA[")) {
        const size_t end = text_.find("]]>", pos_ + 9);
        const size_t stop = end == std::string_view::npos ? text_.size() : end;
        emit_text(text_.substr(pos_ + 9, stop - pos_ - 9));
        pos_ = end == std::string_view::npos ? text_.size() : end + 3;
      } else if (starts_with(text_.substr(pos_), "<!") || starts_with(text_.substr(pos_), "<?")) {
        skip_past(">", 2);
      } else if (starts_with(text_.substr(pos_), "</")) {
        end_tag();
      } else if (pos_ + 1 < text_.size() &&
                 std::isalpha(static_cast<unsigned char>(text_[pos_ + 1]))) {
        start_tag();
      } else {
        emit_text("<");
        ++pos_;
      }
    }
    while (!stack_.empty()) pop();
    return out_;
  }

 private:
  struct Open {
    std::string name;
    bool emitted = false;
  };

  bool skipping() const { return skip_depth_ != 0; }

  void skip_past(std::string_view terminator, size_t from) {
    const size_t end = text_.find(terminator, pos_ + from);
    pos_ = end == std::string_view::npos ? text_.size() : end + terminator.size();
  }

  void emit_text(std::string_view text) {
    if (stack_.empty() || skipping()) return;
    out_ += html_escape(text);
  }

  std::string read_name() {
    const size_t begin = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == '>' || c == '/') break;
      ++pos_;
    }
    return std::string(text_.substr(begin, pos_ - begin));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // After "<name": attributes up to '>' or "/>".
  std::vector<Attribute> read_attributes(bool& self_closing) {
    std::vector<Attribute> attributes;
    self_closing = false;
    while (true) {
      skip_space();
      if (pos_ >= text_.size()) return attributes;
      if (text_[pos_] == '>') {
        ++pos_;
        return attributes;
      }
      if (text_[pos_] == '/') {
        ++pos_;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '>') {
          self_closing = true;
          ++pos_;
          return attributes;
        }
        continue;
      }
      Attribute attribute;
      const size_t begin = pos_;
      while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (std::isspace(static_cast<unsigned char>(c)) || c == '=' || c == '>' || c == '/') break;
        ++pos_;
      }
      if (pos_ == begin) {  // a stray '=': skip it
        ++pos_;
        continue;
      }
      attribute.name = std::string(text_.substr(begin, pos_ - begin));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '=') {
        ++pos_;
        skip_space();
        if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
          const char quote = text_[pos_++];
          const size_t end = std::min(text_.find(quote, pos_), text_.size());
          attribute.value = decode_entities(text_.substr(pos_, end - pos_));
          pos_ = std::min(end + 1, text_.size());
        } else {
          const size_t value_begin = pos_;
          while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
                 text_[pos_] != '>') {
            ++pos_;
          }
          attribute.value = decode_entities(text_.substr(value_begin, pos_ - value_begin));
        }
      }
      attributes.push_back(std::move(attribute));
    }
  }

  void start_tag() {
    ++pos_;  // '<'
    const std::string name = read_name();
    bool self_closing = false;
    std::vector<Attribute> attributes = read_attributes(self_closing);
    if (stack_.empty()) {
      // Nothing before the root <svg> is kept.
      if (name != "svg" && lower(name) != "svg") return;
    }
    if (raw_text(name) && !self_closing) {
      // Skip the raw text up to </name, whatever it contains.
      const std::string closing = "</" + lower(name);
      size_t k = pos_;
      while (k < text_.size() && !starts_with_ignoring_case(text_.substr(k), closing)) ++k;
      pos_ = k < text_.size() ? text_.find('>', k) : std::string_view::npos;
      pos_ = pos_ == std::string_view::npos ? text_.size() : pos_ + 1;
      return;
    }
    const bool root = stack_.empty();
    const bool allowed = !skipping() && (root || allowed_elements().count(name) != 0);
    if (!skipping() && !allowed && dropped_with_content(name) && !self_closing) {
      skip_depth_ = stack_.size() + 1;
    }
    if (allowed) {
      out_ += '<';
      out_ += root ? std::string("svg") : name;
      for (Attribute& attribute : attributes) {
        if (!clean_attribute(name, attribute, prefix_)) continue;
        out_ += ' ';
        out_ += attribute.name;
        out_ += "=\"";
        out_ += escape_attribute(attribute.value);
        out_ += '"';
      }
      out_ += self_closing ? "/>" : ">";
    }
    if (self_closing) {
      if (root) finished_ = true;
      return;
    }
    stack_.push_back({root ? std::string("svg") : name, allowed});
  }

  void end_tag() {
    pos_ += 2;
    const std::string name = read_name();
    skip_past(">", 0);
    if (stack_.empty()) return;
    // Close up to the nearest open element of that name; an end tag nothing matches is dropped.
    for (size_t i = stack_.size(); i > 0; --i) {
      if (stack_[i - 1].name != name && lower(stack_[i - 1].name) != lower(name)) continue;
      while (stack_.size() >= i) pop();
      if (stack_.empty()) finished_ = true;
      return;
    }
  }

  void pop() {
    const Open open = stack_.back();
    stack_.pop_back();
    if (open.emitted) out_ += "</" + open.name + ">";
    if (skip_depth_ != 0 && stack_.size() < skip_depth_) skip_depth_ = 0;
  }

  std::string_view text_;
  std::string_view prefix_;
  size_t pos_ = 0;
  std::string out_;
  std::vector<Open> stack_;
  size_t skip_depth_ = 0;  // while non-zero: inside a dropped element opened at this depth
  bool finished_ = false;
};

// "q3_misclassified.svg" -> "pic-q3-misclassified-": safe in an id, unique per file name.
std::string id_prefix_for(std::string_view file_name) {
  std::string out = "pic-";
  for (char c : file_name.substr(0, file_name.size() - (ends_with(file_name, ".svg") ? 4 : 0))) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  }
  return out + "-";
}

bool is_picture_of(const std::string& file_name, const std::string& question) {
  return file_name.size() > question.size() + 1 + 4 && starts_with(file_name, question + "_") &&
         ends_with(file_name, ".svg");
}

std::string read_whole(const fs::path& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  std::string data;
  ok = false;
  if (!in) return data;
  data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  ok = !in.bad();
  return data;
}

// ---- the page ------------------------------------------------------------------------------

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2430;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { font-size: 1.7em; margin: 0 0 2px; }
h2 { font-size: 1.3em; margin: 0 0 12px; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
a { color: #1f5fbf; }
.subtitle { margin: 0 0 20px; color: #4b5363; font-size: 1.1em; }
.subtitle strong { color: #1f2430; }
table.summary { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d7dbe2; }
table.summary th, table.summary td { padding: 7px 12px; border-bottom: 1px solid #e6e8ec; text-align: left; }
table.summary thead th { background: #eceff3; font-weight: 600; }
table.summary tfoot th, table.summary tfoot td { font-weight: 700; border-bottom: none; background: #f8f9fa; }
table.summary .num { text-align: right; font-variant-numeric: tabular-nums; width: 5em; }
table.summary .barcell { width: 30%; }
.bar { height: 10px; background: #e3e6ea; border-radius: 5px; overflow: hidden; }
.bar span { display: block; height: 100%; background: #2e9a55; }
.partial .bar span { background: #d9961a; }
.score { font-size: 0.8em; font-weight: 600; padding: 1px 9px; border-radius: 10px; background: #e3e6ea; }
.score.full { background: #dff3e5; color: #16632f; }
.score.partial { background: #fbefd5; color: #7a4d00; }
.score.zero { background: #fbe1e0; color: #8f1d19; }
.time { font-size: 0.75em; color: #6b7280; font-weight: normal; }
section.question { background: #fff; border: 1px solid #d7dbe2; margin-top: 22px; padding: 16px 18px; }
ol.checks { list-style: none; margin: 0; padding: 0; }
li.check { border-left: 4px solid #c9ccd2; padding: 6px 0 6px 12px; margin: 0 0 8px; }
li.check.pass { border-color: #2e9a55; }
li.check.fail { border-color: #cc3b33; }
.check-head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.verdict { font-weight: 700; font-size: 0.85em; padding: 0 6px; border-radius: 3px; }
.pass .verdict { background: #dff3e5; color: #16632f; }
.fail .verdict { background: #fbe1e0; color: #8f1d19; }
.check-name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
.points { color: #4b5363; font-variant-numeric: tabular-nums; }
pre.message { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0; padding: 8px 10px;
  background: #f5f6f8; border-radius: 4px; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
.pictures { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 14px; }
figure { margin: 0; padding: 10px; border: 1px solid #d7dbe2; background: #fff; max-width: 100%; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { margin-top: 6px; font-size: 0.9em; color: #1f2430; }
figcaption .file { color: #6b7280; font-size: 0.9em; margin-left: 6px; }
.note { color: #6b7280; font-style: italic; margin: 0; }
pre.preface { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 20px; padding: 10px 12px;
  background: #fff; border: 1px solid #d7dbe2; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
footer { margin-top: 28px; color: #6b7280; font-size: 0.85em; }
)";

const char* score_class(int earned, int max) {
  if (max > 0 && earned >= max) return "full";
  if (earned <= 0) return "zero";
  return "partial";
}

int percent(int earned, int max) {
  if (max <= 0) return 0;
  return std::clamp(static_cast<int>(100.0 * earned / max + 0.5), 0, 100);
}

void render_picture(std::string& out, const Picture& picture) {
  out += "<figure>\n";
  if (!picture.svg.empty()) {
    out += picture.svg;
    out += '\n';
  } else {
    out += "<p class=\"note\">" + html_escape(picture.note) + "</p>\n";
  }
  out += "<figcaption>" + html_escape(picture.caption);
  if (!picture.file_name.empty()) {
    out += "<span class=\"file\">" + html_escape(picture.file_name) + "</span>";
  }
  out += "</figcaption>\n</figure>\n";
}

void render_section(std::string& out, const QuestionResult& question, const HtmlStyle& style) {
  const std::string id = html_escape(question.id);
  out += fmt::format("<section class=\"question\" id=\"{}\">\n", id);
  out += fmt::format("<h2>Question {} <span class=\"score {}\">{}/{}</span>", id,
                     score_class(question.earned, question.max), question.earned, question.max);
  if (style.timings) out += fmt::format(" <span class=\"time\">{:.1f} s</span>", question.seconds);
  out += "</h2>\n";
  for (const std::string& note : question.notes) out += "<p class=\"note\">Note: " + html_escape(note) + "</p>\n";
  out += "<ol class=\"checks\">\n";
  for (const CheckResult& check : question.checks) {
    out += fmt::format(
        "<li class=\"check {}\"><div class=\"check-head\"><span class=\"verdict\">{}</span> "
        "<span class=\"check-name\">{}</span> <span class=\"points\">{}/{}</span></div>",
        check.passed ? "pass" : "fail", check.passed ? "PASS" : "FAIL", html_escape(check.name),
        check.earned, check.max);
    std::string message = check.message;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (!message.empty()) out += "<pre class=\"message\">" + html_escape(message) + "</pre>";
    out += "</li>\n";
  }
  out += "</ol>\n";
  if (!question.pictures.empty()) {
    out += "<div class=\"pictures\">\n";
    for (const Picture& picture : question.pictures) render_picture(out, picture);
    out += "</div>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\r': break;
      default:
        // Control characters other than tab and newline cannot appear in HTML text.
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string sanitize_svg(std::string_view markup, std::string_view id_prefix) {
  const std::string clean = sanitize_utf8(markup);
  return SvgSanitizer(clean, id_prefix).run();
}

std::string picture_caption(std::string_view file_name, std::string_view question) {
  std::string_view stem = file_name;
  if (ends_with(stem, ".svg")) stem.remove_suffix(4);
  if (!question.empty() && starts_with(stem, question) && stem.size() > question.size() &&
      stem[question.size()] == '_') {
    stem.remove_prefix(question.size() + 1);
  }
  std::string caption;
  for (char c : stem) caption += (c == '_' || c == '-') ? ' ' : c;
  while (!caption.empty() && caption.front() == ' ') caption.erase(caption.begin());
  while (!caption.empty() && caption.back() == ' ') caption.pop_back();
  return caption.empty() ? std::string(file_name) : caption;
}

void remove_pictures(const std::string& dir, const std::string& question) {
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) return;
  std::vector<fs::path> stale;
  for (const fs::directory_entry& entry : it) {
    if (is_picture_of(entry.path().filename().string(), question)) stale.push_back(entry.path());
  }
  for (const fs::path& path : stale) fs::remove(path, error);
}

std::vector<Picture> collect_pictures(const std::string& dir, const std::string& question) {
  std::vector<Picture> pictures;
  try {
    std::error_code error;
    fs::directory_iterator it(dir, error);
    if (error) return pictures;
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : it) {
      const std::string name = entry.path().filename().string();
      if (is_picture_of(name, question) && entry.is_regular_file(error)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    const size_t shown = std::min(names.size(), kMaxPicturesPerQuestion);
    for (size_t i = 0; i < shown; ++i) {
      Picture picture;
      picture.file_name = names[i];
      picture.caption = picture_caption(names[i], question);
      const fs::path path = fs::path(dir) / names[i];
      const auto size = fs::file_size(path, error);
      if (error) {
        picture.note = "the picture could not be read";
      } else if (size > kMaxPictureBytes) {
        picture.note = fmt::format("the picture is too big to show ({:.1f} MB; at most {} MB)",
                                   static_cast<double>(size) / (1 << 20), kMaxPictureBytes >> 20);
      } else {
        bool ok = false;
        const std::string markup = read_whole(path, ok);
        picture.svg = ok ? sanitize_svg(markup, id_prefix_for(names[i])) : std::string();
        if (!ok) {
          picture.note = "the picture could not be read";
        } else if (picture.svg.empty()) {
          picture.note = "not an SVG picture (no <svg> element)";
        }
      }
      pictures.push_back(std::move(picture));
    }
    if (names.size() > shown) {
      Picture more;
      more.caption = fmt::format("{} more pictures", names.size() - shown);
      more.note = fmt::format("only the first {} pictures of {} are shown", shown, question);
      pictures.push_back(std::move(more));
    }
  } catch (const std::exception& e) {
    Picture failed;
    failed.caption = "pictures";
    failed.note = std::string("the pictures could not be read: ") + e.what();
    pictures.push_back(std::move(failed));
  }
  return pictures;
}

std::string render_html(const std::vector<QuestionResult>& questions, const HtmlStyle& style) {
  int earned = 0;
  int max = 0;
  for (const QuestionResult& question : questions) {
    earned += question.earned;
    max += question.max;
  }
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Belt and braces: even if something slipped past the sanitiser, the browser runs no
  // script and loads nothing from outside the page.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}: {}/{}</title>\n", html_escape(style.title), earned, max);
  out += "<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n<header>\n";
  out += "<h1>" + html_escape(style.title) + "</h1>\n";
  out += fmt::format("<p class=\"subtitle\">Provisional grade: <strong>{}/{}</strong> points</p>\n",
                     earned, max);
  if (!style.device.empty()) {
    out += "<p class=\"subtitle\">" + html_escape(style.device) + "</p>\n";
  }
  if (!style.preface.empty()) out += "<pre class=\"preface\">" + html_escape(style.preface) + "</pre>\n";
  out += "</header>\n";

  out += "<table class=\"summary\">\n<thead><tr><th scope=\"col\">Question</th>"
         "<th scope=\"col\" class=\"num\">Points</th><th scope=\"col\" class=\"num\">Max</th>"
         "<th scope=\"col\">Checks passed</th><th scope=\"col\" class=\"barcell\">Score</th>"
         "</tr></thead>\n<tbody>\n";
  for (const QuestionResult& question : questions) {
    int passed = 0;
    for (const CheckResult& check : question.checks) passed += check.passed ? 1 : 0;
    const std::string id = html_escape(question.id);
    out += fmt::format(
        "<tr class=\"{}\"><td><a href=\"#{}\">Question {}</a></td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{} of {}</td><td class=\"barcell\"><div class=\"bar\">"
        "<span style=\"width: {}%\"></span></div></td></tr>\n",
        score_class(question.earned, question.max), id, id, question.earned, question.max, passed,
        question.checks.size(), percent(question.earned, question.max));
  }
  out += fmt::format(
      "</tbody>\n<tfoot><tr class=\"{}\"><th scope=\"row\">Total</th><td class=\"num\">{}</td>"
      "<td class=\"num\">{}</td><td></td><td class=\"barcell\"><div class=\"bar\">"
      "<span style=\"width: {}%\"></span></div></td></tr></tfoot>\n</table>\n",
      score_class(earned, max), earned, max, percent(earned, max));

  for (const QuestionResult& question : questions) render_section(out, question, style);

  out += "<footer>Written by ember_grade. These grades are provisional: the same checks run "
         "again when your work is graded.</footer>\n";
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace ember::grade
