// The HTML grade report: one self-contained page (inline CSS, no scripts, no external
// resources) with the summary table, every check of every question, and the pictures the
// question programs drew.
//
// Pictures: the driver gives every question program the environment variable
// EMBER_PICTURES_DIR (a folder). A program draws SVG files there, named
// <question>_<what>.svg (q3_misclassified.svg, q5_feature_maps.svg); the report inlines each
// q3_*.svg under question q3, in file-name order, with the caption "misclassified". Before a
// question runs, its old pictures are removed, so a picture always belongs to this run.
//
// The markup is sanitised before it is inlined (see sanitize_svg): only SVG elements are
// kept; <script>, <style>, <foreignObject>, event handlers (onload=...), and links or url()
// references that leave the picture are removed. So draw with presentation attributes
// (fill="...", stroke="...") or style="..." attributes, not <style> sheets. The ids of each
// picture get a prefix, so two pictures can both use id="clip" without clashing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report.h"

namespace ember::grade {

inline constexpr size_t kMaxPictureBytes = 4 << 20;  // a bigger SVG is listed, not inlined
inline constexpr size_t kMaxPicturesPerQuestion = 24;

// Removes <question>_*.svg from dir (a missing dir is fine). Never throws.
void remove_pictures(const std::string& dir, const std::string& question);

// Reads <question>_*.svg from dir, sorted by name, sanitised and ready to inline.
// Never throws: an unreadable or oversized file becomes a Picture with a note.
std::vector<Picture> collect_pictures(const std::string& dir, const std::string& question);

// "q3_misclassified_digits.svg" -> "misclassified digits".
std::string picture_caption(std::string_view file_name, std::string_view question);

// The first <svg> element of `markup` and what it contains, rebuilt from an allow-list of
// SVG elements and attributes, every tag closed, text and attribute values escaped again.
// Ids (and the #id / url(#id) references to them) get id_prefix. Empty when there is no
// <svg> element.
std::string sanitize_svg(std::string_view markup, std::string_view id_prefix);

// &, <, >, " and ' escaped; invalid UTF-8 replaced.
std::string html_escape(std::string_view text);

struct HtmlStyle {
  bool timings = true;
  std::string title = "Ember grade report";
  std::string preface;  // shown above the summary (e.g. which files were graded)
  std::string device;   // "Device: cpu" (DeviceSummary::line()), under the grade; empty: none
};

// The whole page.
std::string render_html(const std::vector<QuestionResult>& questions, const HtmlStyle& style);

}  // namespace ember::grade
