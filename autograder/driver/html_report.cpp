#include "html_report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

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
figure img { display: block; max-width: 100%; height: auto; }
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
  if (!picture.data_url.empty()) {
    // The caption says what it shows, so the image itself needs no alt text.
    out += "<img src=\"" + html_escape(picture.data_url) + "\" alt=\"\">\n";
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
  for (const std::string& note : question.notes) {
    out += "<p class=\"note\">Note: " + html_escape(show_controls(note)) + "</p>\n";  // as the text report
  }
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

std::string base64(std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  // Three bytes (24 bits) become four digits of 6 bits each.
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned group = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
    out += kDigits[group >> 18];
    out += kDigits[(group >> 12) & 63];
    out += kDigits[(group >> 6) & 63];
    out += kDigits[group & 63];
  }
  // One or two bytes left: two or three digits, padded with '=' to four.
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const unsigned group = static_cast<unsigned char>(bytes[i]) << 16 |
                           (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0u);
    out += kDigits[group >> 18];
    out += kDigits[(group >> 12) & 63];
    out += two ? kDigits[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string svg_data_url(std::string_view svg) { return "data:image/svg+xml;base64," + base64(svg); }

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
        if (!ok) {
          picture.note = "the picture could not be read";
        } else if (markup.find("<svg") == std::string::npos) {
          picture.note = "not an SVG picture (no <svg> element)";
        } else {
          picture.data_url = svg_data_url(markup);
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
  // Belt and braces: the page has no script and loads nothing from outside itself, and the
  // browser is told to refuse both (images may only be data: URLs: the pictures).
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
