// The HTML grade report: one self-contained page (inline CSS, no scripts, no external
// resources) with the summary table, every check of every question, and the pictures the
// question programs drew.
//
// Pictures: the driver gives every question program the environment variable
// EMBER_PICTURES_DIR (a folder). A program draws SVG files there, named
// <question>_<what>.svg (q3_misclassified.svg, q5_feature_maps.svg); the report shows each
// q3_*.svg under question q3, in file-name order, with the caption "misclassified". Before a
// question runs, its old pictures are removed, so a picture always belongs to this run.
//
// Each picture is embedded as an image, <img src="data:image/svg+xml;base64,...">, never as
// markup in the page. A browser shows an SVG image in its own document, without running its
// scripts or event handlers, loading anything it refers to outside itself, or following its
// links; nothing in it can reach the page. So the files are embedded byte for byte, whoever
// wrote them (docs/security.md, "The HTML report's pictures"), and each may use its own ids,
// <style> sheets included, without clashing with another picture.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report.h"

namespace ember::grade {

inline constexpr size_t kMaxPictureBytes = 4 << 20;  // a bigger SVG is listed, not shown
inline constexpr size_t kMaxPicturesPerQuestion = 24;

// Removes <question>_*.svg from dir (a missing dir is fine). Never throws.
void remove_pictures(const std::string& dir, const std::string& question);

// Reads <question>_*.svg from dir, sorted by name, each as a data: URL for an <img>.
// Never throws: an unreadable or oversized file becomes a Picture with a note.
std::vector<Picture> collect_pictures(const std::string& dir, const std::string& question);

// "q3_misclassified_digits.svg" -> "misclassified digits".
std::string picture_caption(std::string_view file_name, std::string_view question);

// RFC 4648 base64, with padding.
std::string base64(std::string_view bytes);

// "data:image/svg+xml;base64,..." holding `svg` as it is.
std::string svg_data_url(std::string_view svg);

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
