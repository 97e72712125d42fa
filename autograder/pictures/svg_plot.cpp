#include "svg_plot.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include <ember/error.h>
#include <ember/shape.h>

namespace ember::course::svg {

namespace {

namespace fs = std::filesystem;

constexpr const char* kAxisColour = "#4a5568";
constexpr const char* kGridColour = "#e2e8f0";
constexpr const char* kTextColour = "#1a202c";
constexpr const char* kMutedText = "#4a5568";
constexpr const char* kHighlight = "#c53030";

// Distinct colours for series, in order (chosen to stay apart for common colour blindness
// when paired with different markers or dashes).
const std::array<const char*, 8> kPalette = {"#2b6cb0", "#dd6b20", "#2f855a", "#c53030",
                                             "#6b46c1", "#718096", "#b7791f", "#d53f8c"};

bool finite(double v) { return std::isfinite(v); }

// Code points in UTF-8 text (continuation bytes not counted).
size_t code_points(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A rough width of text in pixels (no font metrics here; a little generous).
double text_width(std::string_view text, double size) {
  size_t widest = 0;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    widest = std::max(widest, code_points(text.substr(begin, end - begin)));
    begin = end + 1;
  }
  return static_cast<double>(widest) * size * 0.6;
}

const char* anchor_name(Anchor anchor) {
  switch (anchor) {
    case Anchor::Middle: return "middle";
    case Anchor::End: return "end";
    case Anchor::Start: break;
  }
  return "start";
}

struct Rgb {
  double r, g, b;  // 0..1
};

std::string hex(const Rgb& c) {
  auto byte = [](double v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(c.r), byte(c.g), byte(c.b));
}

Rgb parse_hex(std::string_view colour) {
  if (colour.size() != 7 || colour[0] != '#') return {0, 0, 0};
  auto part = [&](size_t at) {
    return static_cast<double>(std::strtol(std::string(colour.substr(at, 2)).c_str(), nullptr, 16)) / 255.0;
  };
  return {part(1), part(3), part(5)};
}

double luminance(std::string_view colour) {
  const Rgb c = parse_hex(colour);
  return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

// Linear interpolation along colour stops at t in [0, 1].
Rgb along(const std::vector<std::pair<double, Rgb>>& stops, double t) {
  t = std::clamp(t, 0.0, 1.0);
  for (size_t i = 1; i < stops.size(); ++i) {
    if (t <= stops[i].first) {
      const double span = stops[i].first - stops[i - 1].first;
      const double u = span > 0 ? (t - stops[i - 1].first) / span : 0.0;
      const Rgb& a = stops[i - 1].second;
      const Rgb& b = stops[i].second;
      return {a.r + (b.r - a.r) * u, a.g + (b.g - a.g) * u, a.b + (b.b - a.b) * u};
    }
  }
  return stops.back().second;
}

// The lowest and highest finite values, or none.
std::optional<std::pair<double, double>> finite_range(const std::vector<double>& values) {
  std::optional<std::pair<double, double>> range;
  for (double v : values) {
    if (!finite(v)) continue;
    if (!range) {
      range = std::make_pair(v, v);
    } else {
      range->first = std::min(range->first, v);
      range->second = std::max(range->second, v);
    }
  }
  return range;
}

// An axis range: the data's with 4% room on each side, unless given.
std::pair<double, double> axis_range(const std::vector<double>& values, std::optional<double> low,
                                     std::optional<double> high) {
  double lo = 0, hi = 1;
  if (const auto range = finite_range(values)) {
    lo = range->first;
    hi = range->second;
    if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {
      const double room = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
      lo -= room;
      hi += room;
    } else {
      const double room = (hi - lo) * 0.04;
      lo -= room;
      hi += room;
    }
  }
  if (low && finite(*low)) lo = *low;
  if (high && finite(*high)) hi = *high;
  if (!(hi > lo)) hi = lo + 1;
  return {lo, hi};
}

// Decimals enough to tell ticks `step` apart.
int decimals_for(double step) {
  if (!(step > 0) || !finite(step)) return 0;
  return std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 8);
}

std::string tick_label(double value, int decimals) {
  if (std::fabs(value) < 1e-12) value = 0;  // no "-0.0"
  return fmt::format("{:.{}f}", value, decimals);
}

// Paints a grid of cells (rows x columns, each cell_w x cell_h, top-left at (x0, y0)),
// merging neighbours of one colour in a row into one rectangle and leaving out white
// ones (the background shows through), which keeps image files small.
void paint_cells(Document& document, double x0, double y0, double cell_w, double cell_h,
                 int64_t rows, int64_t columns,
                 const std::function<std::string(int64_t, int64_t)>& colour_of) {
  document.open_group(0, 0, {}, /*crisp_edges=*/true);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t c = 0;
    while (c < columns) {
      const std::string colour = colour_of(r, c);
      int64_t end = c + 1;
      while (end < columns && colour_of(r, end) == colour) ++end;
      if (colour != "#ffffff") {
        document.rect(x0 + static_cast<double>(c) * cell_w, y0 + static_cast<double>(r) * cell_h,
                      static_cast<double>(end - c) * cell_w, cell_h, colour);
      }
      c = end;
    }
  }
  document.close_group();
}

bool valid_name_part(std::string_view part) {
  if (part.empty()) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// Labels 0, 1, ... for n rows or columns, every stride-th one only, so at most about 16.
std::vector<std::string> index_labels_for(int64_t n) {
  std::vector<std::string> labels(static_cast<size_t>(n));
  const int64_t stride = std::max<int64_t>(1, (n + 15) / 16);
  for (int64_t i = 0; i < n; i += stride) labels[static_cast<size_t>(i)] = std::to_string(i);
  return labels;
}

double widest(const std::vector<std::string>& labels, double size) {
  double w = 0;
  for (const std::string& label : labels) w = std::max(w, text_width(label, size));
  return w;
}

}  // namespace

// ---- helpers ------------------------------------------------------------------------------

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = bytes[i];
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
          // XML 1.0 allows no control characters but tab and line ends.
          if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: check its length, continuation bytes and range.
    size_t length = 0;
    uint32_t code = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code = c & 0x07;
    }
    bool ok = length > 0 && i + length <= n;
    for (size_t k = 1; ok && k < length; ++k) {
      ok = (bytes[i + k] & 0xC0) == 0x80;
      code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    if (ok) {
      const uint32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
      ok = code >= smallest && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF) &&
           code != 0xFFFE && code != 0xFFFF;
    }
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD, the replacement character
      ++i;
    }
  }
  return out;
}

std::string number(double value) {
  if (!finite(value)) return "0";
  std::string text = fmt::format("{:.2f}", value);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

std::vector<double> nice_ticks(double low, double high, int target) {
  std::vector<double> ticks;
  if (!finite(low) || !finite(high) || target < 1) return ticks;
  if (low > high) std::swap(low, high);
  if (high - low <= 0) return {low};
  const double rough = (high - low) / target;
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * power;
    if (step >= rough) break;
  }
  const double first = std::ceil(low / step - 1e-9);
  for (double k = first; k * step <= high + step * 1e-9 && ticks.size() < 100; k += 1) {
    double tick = k * step;
    if (std::fabs(tick) < step * 1e-9) tick = 0;
    ticks.push_back(tick);
  }
  return ticks;
}

std::string colour_at(ColourScale scale, double t) {
  if (!finite(t)) t = 0;
  switch (scale) {
    case ColourScale::Ink: {
      const double v = 1.0 - std::clamp(t, 0.0, 1.0);
      return hex({v, v, v});
    }
    case ColourScale::Diverging: {
      static const std::vector<std::pair<double, Rgb>> kStops = {
          {0.0, {0.13, 0.30, 0.62}}, {0.25, {0.50, 0.68, 0.86}}, {0.5, {1.0, 1.0, 1.0}},
          {0.75, {0.93, 0.60, 0.50}}, {1.0, {0.66, 0.11, 0.13}}};
      return hex(along(kStops, t));
    }
    case ColourScale::Blues: break;
  }
  static const std::vector<std::pair<double, Rgb>> kStops = {
      {0.0, {1.0, 1.0, 1.0}}, {0.35, {0.66, 0.80, 0.91}}, {0.7, {0.22, 0.50, 0.76}},
      {1.0, {0.04, 0.19, 0.44}}};
  return hex(along(kStops, t));
}

// ---- Document ---------------------------------------------------------------------------

Document::Document(double width, double height)
    : width_(finite(width) && width > 0 ? width : 1), height_(finite(height) && height > 0 ? height : 1) {}

void Document::rect(double x, double y, double width, double height, std::string_view fill,
                    std::string_view stroke, double stroke_width) {
  if (!finite(x) || !finite(y) || !finite(width) || !finite(height) || width < 0 || height < 0) return;
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"", number(x),
                       number(y), number(width), number(height), xml_escape(fill));
  if (stroke != "none" && !stroke.empty() && finite(stroke_width)) {
    body_ += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", xml_escape(stroke), number(stroke_width));
  }
  body_ += "/>\n";
}

void Document::line(double x1, double y1, double x2, double y2, std::string_view stroke,
                    double width, bool dashed) {
  if (!finite(x1) || !finite(y1) || !finite(x2) || !finite(y2) || !finite(width)) return;
  body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
                       number(x1), number(y1), number(x2), number(y2), xml_escape(stroke), number(width),
                       dashed ? " stroke-dasharray=\"6 4\"" : "");
}

void Document::polyline(const std::vector<Point>& points, std::string_view stroke, double width,
                        bool dashed) {
  if (!finite(width)) return;
  std::string run;
  size_t in_run = 0;
  auto flush = [&] {
    if (in_run >= 2) {
      body_ += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" "
          "stroke-linejoin=\"round\" stroke-linecap=\"round\"{}/>\n",
          run, xml_escape(stroke), number(width), dashed ? " stroke-dasharray=\"6 4\"" : "");
    }
    run.clear();
    in_run = 0;
  };
  for (const Point& p : points) {
    if (!finite(p.x) || !finite(p.y)) {
      flush();
      continue;
    }
    if (!run.empty()) run += ' ';
    run += number(p.x) + "," + number(p.y);
    ++in_run;
  }
  flush();
}

void Document::circle(double cx, double cy, double r, std::string_view fill, std::string_view stroke,
                      double stroke_width) {
  if (!finite(cx) || !finite(cy) || !finite(r) || r < 0) return;
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"", number(cx), number(cy),
                       number(r), xml_escape(fill));
  if (stroke != "none" && !stroke.empty() && finite(stroke_width)) {
    body_ += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", xml_escape(stroke), number(stroke_width));
  }
  body_ += "/>\n";
}

void Document::text(double x, double y, std::string_view content, const TextStyle& style) {
  if (!finite(x) || !finite(y) || !finite(style.size) || !finite(style.rotate)) return;
  size_t begin = 0;
  double line_y = y;
  while (begin <= content.size()) {
    size_t end = content.find('\n', begin);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(begin, end - begin);
    if (!line.empty()) {
      body_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"", number(x),
                           number(line_y), number(style.size), xml_escape(style.colour));
      if (style.anchor != Anchor::Start) body_ += fmt::format(" text-anchor=\"{}\"", anchor_name(style.anchor));
      if (style.bold) body_ += " font-weight=\"bold\"";
      if (style.rotate != 0) {
        body_ += fmt::format(" transform=\"rotate({} {} {})\"", number(style.rotate), number(x), number(line_y));
      }
      body_ += ">" + xml_escape(line) + "</text>\n";
    }
    line_y += style.size * 1.25;
    begin = end + 1;
  }
}

std::string Document::clip_rect(double x, double y, double width, double height) {
  const std::string id = fmt::format("clip{}", next_id_++);
  body_ += fmt::format("<clipPath id=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n",
                       id, number(x), number(y), number(std::max(0.0, width)), number(std::max(0.0, height)));
  return id;
}

void Document::open_group(double dx, double dy, std::string_view clip_id, bool crisp_edges) {
  body_ += "<g";
  if ((dx != 0 || dy != 0) && finite(dx) && finite(dy)) {
    body_ += fmt::format(" transform=\"translate({} {})\"", number(dx), number(dy));
  }
  if (!clip_id.empty()) body_ += fmt::format(" clip-path=\"url(#{})\"", xml_escape(clip_id));
  if (crisp_edges) body_ += " shape-rendering=\"crispEdges\"";
  body_ += ">\n";
  ++open_groups_;
}

void Document::close_group() {
  if (open_groups_ == 0) return;
  body_ += "</g>\n";
  --open_groups_;
}

std::string Document::str() const {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
      number(width_), number(height_));
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", number(width_),
                     number(height_));
  out += body_;
  for (int i = 0; i < open_groups_; ++i) out += "</g>\n";
  out += "</svg>\n";
  return out;
}

// ---- Plot and row_svg ---------------------------------------------------------------------

std::string Plot::svg() const {
  Document document(width(), height());
  draw(document, 0, 0);
  return document.str();
}

std::string row_svg(const std::vector<const Plot*>& plots, const std::string& title) {
  constexpr double kMargin = 8, kGap = 16;
  const double top = title.empty() ? kMargin : 34;
  double width = kMargin, height = 0;
  for (const Plot* plot : plots) {
    if (plot == nullptr) continue;
    width += plot->width() + kGap;
    height = std::max(height, plot->height());
  }
  width = std::max(width - kGap + kMargin, text_width(title, 16) + 2 * kMargin);
  Document document(width, top + height + kMargin);
  if (!title.empty()) {
    TextStyle style;
    style.size = 16;
    style.bold = true;
    style.anchor = Anchor::Middle;
    document.text(width / 2, 22, title, style);
  }
  double x = kMargin;
  for (const Plot* plot : plots) {
    if (plot == nullptr) continue;
    plot->draw(document, x, top);
    x += plot->width() + kGap;
  }
  return document.str();
}

// ---- Chart --------------------------------------------------------------------------------

Chart& Chart::add(Series s) {
  series.push_back(std::move(s));
  return *this;
}

namespace {

void draw_marker(Document& document, Marker marker, double x, double y, const std::string& colour) {
  switch (marker) {
    case Marker::Circle: document.circle(x, y, 3.2, colour, "#ffffff", 0.6); break;
    case Marker::Square: document.rect(x - 3, y - 3, 6, 6, colour, "#ffffff", 0.6); break;
    case Marker::Cross:
      document.line(x - 3.5, y - 3.5, x + 3.5, y + 3.5, colour, 1.8);
      document.line(x - 3.5, y + 3.5, x + 3.5, y - 3.5, colour, 1.8);
      break;
    case Marker::None: break;
  }
}

}  // namespace

void Chart::draw(Document& document, double ox, double oy) const {
  const double left = y_label.empty() ? 56 : 74;
  const double right = chart_width - 20;
  const double top = title.empty() ? 16 : 40;
  const double bottom = chart_height - (x_label.empty() ? 30 : 50);
  const double plot_w = std::max(1.0, right - left), plot_h = std::max(1.0, bottom - top);

  std::vector<double> xs, ys;
  for (const Series& s : series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    xs.insert(xs.end(), s.x.begin(), s.x.begin() + static_cast<std::ptrdiff_t>(n));
    ys.insert(ys.end(), s.y.begin(), s.y.begin() + static_cast<std::ptrdiff_t>(n));
  }
  const auto [x_lo, x_hi] = axis_range(xs, x_min, x_max);
  const auto [y_lo, y_hi] = axis_range(ys, y_min, y_max);
  auto px = [&, x_lo = x_lo, x_hi = x_hi](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
  auto py = [&, y_lo = y_lo, y_hi = y_hi](double y) { return bottom - (y - y_lo) / (y_hi - y_lo) * plot_h; };

  document.open_group(ox, oy);
  document.rect(left, top, plot_w, plot_h, "#ffffff");
  TextStyle tick_style;
  tick_style.size = 11;
  tick_style.colour = kMutedText;

  const std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, std::max(2, static_cast<int>(plot_w / 70)));
  const int x_decimals = x_ticks.size() > 1 ? decimals_for(x_ticks[1] - x_ticks[0]) : 2;
  tick_style.anchor = Anchor::Middle;
  for (double t : x_ticks) {
    document.line(px(t), top, px(t), bottom, kGridColour, 1);
    document.line(px(t), bottom, px(t), bottom + 4, kAxisColour, 1);
    document.text(px(t), bottom + 16, tick_label(t, x_decimals), tick_style);
  }
  const std::vector<double> y_ticks = nice_ticks(y_lo, y_hi, std::max(2, static_cast<int>(plot_h / 40)));
  const int y_decimals = y_ticks.size() > 1 ? decimals_for(y_ticks[1] - y_ticks[0]) : 2;
  tick_style.anchor = Anchor::End;
  for (double t : y_ticks) {
    document.line(left, py(t), right, py(t), kGridColour, 1);
    document.line(left - 4, py(t), left, py(t), kAxisColour, 1);
    document.text(left - 7, py(t) + 4, tick_label(t, y_decimals), tick_style);
  }
  document.rect(left, top, plot_w, plot_h, "none", kAxisColour, 1);

  TextStyle label_style;
  label_style.size = 13;
  label_style.anchor = Anchor::Middle;
  if (!x_label.empty()) document.text(left + plot_w / 2, chart_height - 12, x_label, label_style);
  if (!y_label.empty()) {
    label_style.rotate = -90;
    document.text(18, top + plot_h / 2, y_label, label_style);
  }
  if (!title.empty()) {
    TextStyle title_style;
    title_style.size = 15;
    title_style.bold = true;
    title_style.anchor = Anchor::Middle;
    document.text(chart_width / 2, 24, title, title_style);
  }

  // The series, clipped to the plot area.
  std::vector<std::string> colours;
  size_t next_colour = 0;
  for (const Series& s : series) {
    colours.push_back(!s.colour.empty() ? s.colour : kPalette[next_colour++ % kPalette.size()]);
  }
  const std::string clip = document.clip_rect(left, top, plot_w, plot_h);
  document.open_group(0, 0, clip);
  std::vector<Point> all_points;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const size_t n = std::min(s.x.size(), s.y.size());
    std::vector<Point> points(n);
    for (size_t k = 0; k < n; ++k) {
      points[k] = finite(s.x[k]) && finite(s.y[k])
                      ? Point{px(s.x[k]), py(s.y[k])}
                      : Point{std::numeric_limits<double>::quiet_NaN(), 0};
    }
    if (s.line) document.polyline(points, colours[i], s.line_width, s.dashed);
    if (s.marker != Marker::None) {
      for (const Point& p : points) draw_marker(document, s.marker, p.x, p.y, colours[i]);
    }
    all_points.insert(all_points.end(), points.begin(), points.end());
  }
  document.close_group();

  // The legend, in the corner of the plot area that covers the fewest points.
  std::vector<size_t> named;
  for (size_t i = 0; i < series.size(); ++i) {
    if (!series[i].name.empty()) named.push_back(i);
  }
  if (!named.empty()) {
    double text_w = 0;
    for (size_t i : named) text_w = std::max(text_w, text_width(series[i].name, 12));
    const double box_w = text_w + 44, box_h = static_cast<double>(named.size()) * 18 + 10;
    const std::array<Point, 4> corners = {Point{right - box_w - 8, top + 8}, Point{right - box_w - 8, bottom - box_h - 8},
                                          Point{left + 8, top + 8}, Point{left + 8, bottom - box_h - 8}};
    size_t best = 0, best_count = std::numeric_limits<size_t>::max();
    for (size_t c = 0; c < corners.size(); ++c) {
      size_t count = 0;
      for (const Point& p : all_points) {
        count += p.x >= corners[c].x && p.x <= corners[c].x + box_w && p.y >= corners[c].y &&
                 p.y <= corners[c].y + box_h;
      }
      if (count < best_count) {
        best = c;
        best_count = count;
      }
    }
    const Point at = corners[best];
    document.rect(at.x, at.y, box_w, box_h, "#ffffff", "#cbd5e0", 1);
    TextStyle legend_style;
    legend_style.size = 12;
    for (size_t k = 0; k < named.size(); ++k) {
      const Series& s = series[named[k]];
      const double y = at.y + 14 + static_cast<double>(k) * 18;
      if (s.line) document.line(at.x + 8, y - 4, at.x + 30, y - 4, colours[named[k]], s.line_width, s.dashed);
      draw_marker(document, s.marker, at.x + 19, y - 4, colours[named[k]]);
      document.text(at.x + 36, y, s.name, legend_style);
    }
  }
  document.close_group();
}

// ---- Heatmap ------------------------------------------------------------------------------

Heatmap::Heatmap(int64_t rows, int64_t columns, std::vector<double> values)
    : rows_(rows), columns_(columns), values_(std::move(values)) {
  check(rows >= 0 && columns >= 0 && static_cast<int64_t>(values_.size()) == rows * columns,
        "svg::Heatmap: expected {} x {} = {} values, got {}", rows, columns, rows * columns,
        values_.size());
}

namespace {

std::vector<double> doubles_of(const Tensor& t) {
  check(t.defined() && t.dim() == 2, "svg::Heatmap: expected a 2-D tensor, got {}",
        t.defined() ? shape_str(t.shape()) : std::string("an undefined tensor"));
  const std::vector<float> values = t.contiguous().to_vector();
  return std::vector<double>(values.begin(), values.end());
}

}  // namespace

Heatmap::Heatmap(const Tensor& values) : Heatmap(values.defined() && values.dim() == 2 ? values.size(0) : 0,
                                                 values.defined() && values.dim() == 2 ? values.size(1) : 0,
                                                 doubles_of(values)) {}

struct Heatmap::Layout {
  double cell = 0;
  double left = 0, top = 0;
  double grid_w = 0, grid_h = 0;
  double bar_x = 0;
  double width = 0, height = 0;
  double colour_lo = 0, colour_hi = 1;
  bool rotate_columns = false;
  double column_label_height = 0;
  std::vector<std::string> row_names, column_names;
  std::vector<double> bar_ticks;
  int bar_decimals = 0;
};

Heatmap::Layout Heatmap::layout() const {
  Layout l;
  const int64_t larger = std::max<int64_t>(1, std::max(rows_, columns_));
  l.cell = cell_size > 0 && finite(cell_size) ? cell_size : std::clamp(320.0 / static_cast<double>(larger), 3.0, 56.0);
  l.row_names = !row_labels.empty() ? row_labels : (index_labels ? index_labels_for(rows_) : std::vector<std::string>{});
  l.column_names = !column_labels.empty() ? column_labels
                                          : (index_labels ? index_labels_for(columns_) : std::vector<std::string>{});
  l.row_names.resize(static_cast<size_t>(rows_));
  l.column_names.resize(static_cast<size_t>(columns_));
  const double label_size = 11;
  const double row_label_w = widest(l.row_names, label_size);
  l.left = 10 + (y_label.empty() ? 0 : 22) + (row_label_w > 0 ? row_label_w + 8 : 0);
  l.top = title.empty() ? 10 : 36;
  l.grid_w = l.cell * static_cast<double>(columns_);
  l.grid_h = l.cell * static_cast<double>(rows_);
  const double column_label_w = widest(l.column_names, label_size);
  l.rotate_columns = column_label_w > l.cell - 2;
  l.column_label_height = column_label_w <= 0 ? 0 : (l.rotate_columns ? column_label_w * 0.71 + 14 : 18);

  // The colour range.
  const auto range = finite_range(values_);
  double lo = range ? range->first : 0, hi = range ? range->second : 1;
  if (scale == ColourScale::Ink) {
    lo = 0;
    hi = 1;
  }
  if (colour_min && finite(*colour_min)) lo = *colour_min;
  if (colour_max && finite(*colour_max)) hi = *colour_max;
  if (scale == ColourScale::Diverging && !colour_min && !colour_max) {
    const double m = std::max(std::fabs(lo), std::fabs(hi));
    lo = -m;
    hi = m;
  }
  if (!(hi > lo)) {
    const double room = lo == 0 ? 1.0 : std::fabs(lo) * 0.5;
    lo -= room;
    hi += room;
  }
  l.colour_lo = lo;
  l.colour_hi = hi;

  double right = l.left + l.grid_w;
  if (colour_bar) {
    l.bar_x = right + 14;
    l.bar_ticks = nice_ticks(lo, hi, std::max(2, static_cast<int>(std::max(l.grid_h, 60.0) / 40)));
    l.bar_decimals = l.bar_ticks.size() > 1 ? decimals_for(l.bar_ticks[1] - l.bar_ticks[0]) : 2;
    double tick_w = 0;
    for (double t : l.bar_ticks) tick_w = std::max(tick_w, text_width(tick_label(t, l.bar_decimals), 10));
    right = l.bar_x + 12 + 5 + tick_w + (colour_bar_label.empty() ? 0 : 20);
  }
  l.width = std::max(right + 10, text_width(title, 14) + 20);
  l.height = l.top + std::max(l.grid_h, colour_bar ? 60.0 : 0.0) + l.column_label_height +
             (x_label.empty() ? 0 : 20) + 10;
  return l;
}

double Heatmap::width() const { return layout().width; }
double Heatmap::height() const { return layout().height; }

void Heatmap::draw(Document& document, double ox, double oy) const {
  const Layout l = layout();
  document.open_group(ox, oy);
  const double span = l.colour_hi - l.colour_lo;
  auto colour_of_value = [&](double v) -> std::string {
    if (!finite(v)) return "#a0aec0";  // a missing value: grey
    double t = (v - l.colour_lo) / span;
    // Pictures of digits: 64 shades are plenty, and equal shades merge into one rectangle.
    if (scale == ColourScale::Ink) t = std::round(std::clamp(t, 0.0, 1.0) * 63.0) / 63.0;
    return colour_at(scale, t);
  };
  auto colour_of = [&](int64_t r, int64_t c) {
    return colour_of_value(values_[static_cast<size_t>(r * columns_ + c)]);
  };
  document.rect(l.left, l.top, l.grid_w, l.grid_h, "#ffffff");
  paint_cells(document, l.left, l.top, l.cell, l.cell, rows_, columns_, colour_of);
  document.rect(l.left, l.top, l.grid_w, l.grid_h, "none", kAxisColour, 1);

  // Text in the cells, light on dark cells.
  const bool any_text = !cell_text.empty() || show_values;
  if (any_text && l.cell >= 14) {
    TextStyle style;
    style.size = std::min(13.0, l.cell * 0.36);
    style.anchor = Anchor::Middle;
    for (int64_t r = 0; r < rows_; ++r) {
      for (int64_t c = 0; c < columns_; ++c) {
        const size_t i = static_cast<size_t>(r * columns_ + c);
        std::string text;
        if (!cell_text.empty()) {
          if (i < cell_text.size()) text = cell_text[i];
        } else if (finite(values_[i])) {
          text = tick_label(values_[i], std::clamp(value_decimals, 0, 8));
        }
        if (text.empty()) continue;
        style.colour = luminance(colour_of(r, c)) < 0.5 ? "#ffffff" : kTextColour;
        document.text(l.left + (static_cast<double>(c) + 0.5) * l.cell,
                      l.top + (static_cast<double>(r) + 0.5) * l.cell + style.size * 0.36, text, style);
      }
    }
  }

  // Row and column labels.
  TextStyle label_style;
  label_style.size = 11;
  label_style.colour = kMutedText;
  label_style.anchor = Anchor::End;
  for (int64_t r = 0; r < rows_; ++r) {
    const std::string& name = l.row_names[static_cast<size_t>(r)];
    if (!name.empty()) document.text(l.left - 6, l.top + (static_cast<double>(r) + 0.5) * l.cell + 4, name, label_style);
  }
  for (int64_t c = 0; c < columns_; ++c) {
    const std::string& name = l.column_names[static_cast<size_t>(c)];
    if (name.empty()) continue;
    const double x = l.left + (static_cast<double>(c) + 0.5) * l.cell;
    if (l.rotate_columns) {
      label_style.anchor = Anchor::End;
      label_style.rotate = -45;
      document.text(x + 3, l.top + l.grid_h + 10, name, label_style);
    } else {
      label_style.anchor = Anchor::Middle;
      label_style.rotate = 0;
      document.text(x, l.top + l.grid_h + 14, name, label_style);
    }
  }
  TextStyle axis_style;
  axis_style.size = 12;
  axis_style.anchor = Anchor::Middle;
  if (!x_label.empty()) {
    document.text(l.left + l.grid_w / 2, l.top + l.grid_h + l.column_label_height + 16, x_label, axis_style);
  }
  if (!y_label.empty()) {
    axis_style.rotate = -90;
    document.text(16, l.top + l.grid_h / 2, y_label, axis_style);
  }
  if (!title.empty()) {
    TextStyle title_style;
    title_style.size = 14;
    title_style.bold = true;
    title_style.anchor = Anchor::Middle;
    document.text(l.width / 2, 22, title, title_style);
  }

  // The colour bar: the scale from colour_lo (bottom) to colour_hi (top).
  if (colour_bar) {
    const double bar_h = std::max(l.grid_h, 60.0), bar_w = 12;
    constexpr int kSteps = 48;
    for (int k = 0; k < kSteps; ++k) {
      const double t = (static_cast<double>(k) + 0.5) / kSteps;
      const double y = l.top + bar_h - static_cast<double>(k + 1) * bar_h / kSteps;
      document.rect(l.bar_x, y, bar_w, bar_h / kSteps + 0.3, colour_at(scale, t));
    }
    document.rect(l.bar_x, l.top, bar_w, bar_h, "none", kAxisColour, 1);
    TextStyle tick_style;
    tick_style.size = 10;
    tick_style.colour = kMutedText;
    for (double t : l.bar_ticks) {
      const double y = l.top + bar_h - (t - l.colour_lo) / span * bar_h;
      document.line(l.bar_x + bar_w, y, l.bar_x + bar_w + 3, y, kAxisColour, 1);
      document.text(l.bar_x + bar_w + 5, y + 3.5, tick_label(t, l.bar_decimals), tick_style);
    }
    if (!colour_bar_label.empty()) {
      TextStyle bar_label;
      bar_label.size = 11;
      bar_label.anchor = Anchor::Middle;
      bar_label.rotate = 90;
      bar_label.colour = kMutedText;
      document.text(l.width - 14, l.top + bar_h / 2, colour_bar_label, bar_label);
    }
  }
  document.close_group();
}

Heatmap confusion_matrix(const std::vector<std::vector<int64_t>>& counts,
                         const std::vector<std::string>& class_names, const std::string& title) {
  const int64_t k = static_cast<int64_t>(counts.size());
  std::vector<double> fractions;
  std::vector<std::string> text;
  for (const std::vector<int64_t>& row : counts) {
    check(static_cast<int64_t>(row.size()) == k,
          "svg::confusion_matrix: expected a square table of counts, got a row of {} in a table of {} rows",
          row.size(), k);
    int64_t total = 0;
    for (int64_t count : row) total += count;
    for (int64_t count : row) {
      fractions.push_back(total > 0 ? static_cast<double>(count) / static_cast<double>(total) : 0.0);
      text.push_back(std::to_string(count));
    }
  }
  Heatmap map(k, k, std::move(fractions));
  map.title = title;
  map.x_label = "predicted";
  map.y_label = "true";
  map.row_labels = class_names;
  map.column_labels = class_names;
  map.cell_text = std::move(text);
  map.colour_min = 0;
  map.colour_max = 1;
  map.colour_bar_label = "fraction of the row";
  map.cell_size = std::clamp(360.0 / static_cast<double>(std::max<int64_t>(1, k)), 20.0, 64.0);
  return map;
}

// ---- ImageGrid ----------------------------------------------------------------------------

ImageGrid::ImageGrid(const Tensor& images, std::vector<std::string> captions, int64_t columns)
    : captions_(std::move(captions)), columns_(std::max<int64_t>(1, columns)) {
  check(images.defined() && images.dim() == 3,
        "svg::ImageGrid: expected images (N, H, W), got {}",
        images.defined() ? shape_str(images.shape()) : std::string("an undefined tensor"));
  count_ = images.size(0);
  image_rows_ = images.size(1);
  image_columns_ = images.size(2);
  check(captions_.empty() || static_cast<int64_t>(captions_.size()) == count_,
        "svg::ImageGrid: {} captions for {} images (give none or one per image)", captions_.size(), count_);
  pixels_ = images.contiguous().to_vector();
}

int64_t ImageGrid::caption_lines() const {
  int64_t lines = 0;
  for (const std::string& caption : captions_) {
    lines = std::max<int64_t>(lines, 1 + static_cast<int64_t>(std::count(caption.begin(), caption.end(), '\n')));
  }
  return lines;
}

double ImageGrid::cell_width() const {
  double caption_w = 0;
  for (const std::string& caption : captions_) caption_w = std::max(caption_w, text_width(caption, 11));
  return std::max(static_cast<double>(image_columns_) * pixel_size, caption_w) + 12;
}

double ImageGrid::cell_height() const {
  return static_cast<double>(image_rows_) * pixel_size + 8 + static_cast<double>(caption_lines()) * 13.75 + 6;
}

int64_t ImageGrid::grid_rows() const { return (count_ + columns_ - 1) / columns_; }

double ImageGrid::width() const {
  const int64_t used = std::max<int64_t>(1, std::min(columns_, count_));
  return std::max(20 + static_cast<double>(used) * cell_width(), std::max(220.0, text_width(title, 14) + 20));
}

double ImageGrid::height() const {
  return (title.empty() ? 10 : 36) + static_cast<double>(std::max<int64_t>(1, grid_rows())) * cell_height() + 6;
}

void ImageGrid::draw(Document& document, double ox, double oy) const {
  document.open_group(ox, oy);
  const double top = title.empty() ? 10 : 36;
  if (!title.empty()) {
    TextStyle title_style;
    title_style.size = 14;
    title_style.bold = true;
    title_style.anchor = Anchor::Middle;
    document.text(width() / 2, 22, title, title_style);
  }
  if (count_ == 0) {
    TextStyle style;
    style.colour = kMutedText;
    document.text(20, top + 20, "(no images)", style);
  }
  const double cell_w = cell_width(), cell_h = cell_height();
  const double image_w = static_cast<double>(image_columns_) * pixel_size;
  const double image_h = static_cast<double>(image_rows_) * pixel_size;
  const int64_t per_image = image_rows_ * image_columns_;
  for (int64_t n = 0; n < count_; ++n) {
    const double x = 10 + static_cast<double>(n % columns_) * cell_w + (cell_w - image_w) / 2;
    const double y = top + static_cast<double>(n / columns_) * cell_h;
    document.rect(x, y, image_w, image_h, "#ffffff");
    const float* pixels = pixels_.data() + n * per_image;
    paint_cells(document, x, y, pixel_size, pixel_size, image_rows_, image_columns_, [&](int64_t r, int64_t c) {
      const double v = pixels[r * image_columns_ + c];
      return colour_at(ColourScale::Ink, finite(v) ? std::round(std::clamp(v, 0.0, 1.0) * 63.0) / 63.0 : 0.0);
    });
    const bool highlight = n < static_cast<int64_t>(highlighted.size()) && highlighted[static_cast<size_t>(n)];
    document.rect(x, y, image_w, image_h, "none", highlight ? kHighlight : "#cbd5e0", highlight ? 1.5 : 1);
    if (!captions_.empty()) {
      TextStyle style;
      style.size = 11;
      style.anchor = Anchor::Middle;
      style.colour = highlight ? kHighlight : kTextColour;
      document.text(x + image_w / 2, y + image_h + 15, captions_[static_cast<size_t>(n)], style);
    }
  }
  document.close_group();
}

// ---- pictures of training -------------------------------------------------------------------

std::string training_curves(const TrainingHistory& history, const std::string& title,
                            std::optional<double> accuracy_goal, std::optional<double> final_accuracy,
                            const std::string& final_accuracy_name) {
  check(!history.empty(), "svg::training_curves: the history is empty (no TrainingProgress recorded anything)");
  const double epochs = history.epochs.empty()
                            ? (history.loss_curve.empty() ? 1.0 : history.epoch_of_step(history.loss_curve.back().step))
                            : static_cast<double>(history.epochs.size());

  Chart loss;
  loss.title = "training loss";
  loss.x_label = "epoch";
  loss.y_label = "loss";
  loss.chart_width = 460;
  loss.chart_height = 340;
  loss.x_min = 0;
  loss.x_max = std::max(epochs, 1e-9);
  loss.y_min = 0;
  if (!history.loss_curve.empty()) {
    Series curve;
    curve.name = "every few batches";
    curve.colour = "#90cdf4";
    curve.line_width = 1.5;
    for (const LossPoint& point : history.loss_curve) {
      curve.x.push_back(history.epoch_of_step(point.step));
      curve.y.push_back(point.loss);
    }
    loss.add(std::move(curve));
  }
  Series per_epoch;
  per_epoch.name = "mean of the epoch";
  per_epoch.colour = "#2b6cb0";
  per_epoch.marker = Marker::Circle;
  bool any_accuracy = false;
  for (const EpochRecord& record : history.epochs) {
    per_epoch.x.push_back(static_cast<double>(record.epoch));
    per_epoch.y.push_back(record.loss);
    any_accuracy = any_accuracy || record.accuracy.has_value();
  }
  if (!per_epoch.x.empty()) loss.add(std::move(per_epoch));

  if (!any_accuracy && !final_accuracy) return row_svg({&loss}, title);

  Chart accuracy;
  accuracy.title = "accuracy";
  accuracy.x_label = "epoch";
  accuracy.y_label = "fraction correct";
  accuracy.chart_width = 460;
  accuracy.chart_height = 340;
  accuracy.x_min = 0;
  accuracy.x_max = std::max(epochs, 1e-9) + 0.25;
  Series validation;
  validation.name = "validation, each epoch";
  validation.colour = "#dd6b20";
  validation.marker = Marker::Circle;
  for (const EpochRecord& record : history.epochs) {
    if (!record.accuracy) continue;
    validation.x.push_back(static_cast<double>(record.epoch));
    validation.y.push_back(*record.accuracy);
  }
  // Room above and below, so a goal line at the edge of the data stays clear of the frame.
  std::vector<double> figures = validation.y;
  if (accuracy_goal) figures.push_back(*accuracy_goal);
  if (final_accuracy) figures.push_back(*final_accuracy);
  if (const auto range = finite_range(figures)) {
    const double room = std::max(0.01, (range->second - range->first) * 0.15);
    accuracy.y_min = range->first - room;
    accuracy.y_max = range->second + room;
  }
  if (!validation.x.empty()) accuracy.add(std::move(validation));
  if (accuracy_goal) {
    Series goal;
    goal.name = fmt::format("goal {}", *accuracy_goal);
    goal.colour = "#718096";
    goal.dashed = true;
    goal.line_width = 1.5;
    goal.x = {0, *accuracy.x_max};
    goal.y = {*accuracy_goal, *accuracy_goal};
    accuracy.add(std::move(goal));
  }
  if (final_accuracy) {
    Series final_point;
    final_point.name = fmt::format("{} {:.4f}", final_accuracy_name, *final_accuracy);
    final_point.colour = "#2f855a";
    final_point.line = false;
    final_point.marker = Marker::Square;
    final_point.x = {epochs};
    final_point.y = {*final_accuracy};
    accuracy.add(std::move(final_point));
  }
  return row_svg({&loss, &accuracy}, title);
}

// ---- saving -------------------------------------------------------------------------------

std::optional<std::string> pictures_dir() {
  const char* dir = std::getenv("EMBER_PICTURES_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::string(dir);
}

std::string save_picture(std::string_view question, std::string_view what, const std::string& svg,
                         const std::string& dir) {
  check(valid_name_part(question) && valid_name_part(what),
        "save_picture: '{}' and '{}' must be made of letters, digits, '_' and '-'", question, what);
  check(!dir.empty(), "save_picture: no folder given for {}_{}.svg", question, what);
  const fs::path folder(dir);
  const fs::path path = folder / fmt::format("{}_{}.svg", question, what);
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) throw Error(fmt::format("save_picture: cannot create the folder {}: {}", dir, error.message()));
  // Through a temporary file and a rename, so a reader never sees half a picture.
  fs::path temporary = path;
  temporary += ".tmp";
  std::FILE* out = std::fopen(temporary.c_str(), "wb");
  if (out == nullptr) {
    throw Error(fmt::format("save_picture: cannot write {}: {}", temporary.string(), std::strerror(errno)));
  }
  const bool written = std::fwrite(svg.data(), 1, svg.size(), out) == svg.size();
  const int saved_errno = errno;
  const bool closed = std::fclose(out) == 0;
  if (!written || !closed) {
    fs::remove(temporary, error);
    throw Error(fmt::format("save_picture: cannot write {}: {}", temporary.string(),
                            std::strerror(written ? errno : saved_errno)));
  }
  fs::rename(temporary, path, error);
  if (error) {
    const std::string why = error.message();
    fs::remove(temporary, error);
    throw Error(fmt::format("save_picture: cannot write {}: {}", path.string(), why));
  }
  return path.string();
}

std::string draw_picture(std::string_view question, std::string_view what,
                         const std::function<std::string()>& make) {
  const std::string name = fmt::format("{}_{}.svg", question, what);
  try {
    const std::optional<std::string> dir = pictures_dir();
    if (!dir) return {};
    save_picture(question, what, make(), *dir);
    return {};
  } catch (const std::exception& e) {
    return fmt::format("the picture {} was not drawn: {}", name, e.what());
  } catch (...) {
    return fmt::format("the picture {} was not drawn: an unknown exception", name);
  }
}

}  // namespace ember::course::svg
