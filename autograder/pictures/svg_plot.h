// Pictures as SVG files: charts (lines and scatter), image grids, heatmaps and confusion
// matrices, written by hand into plain SVG that any browser shows.
//
//   svg::Chart chart;
//   chart.title = "sin(x) and the model";
//   chart.x_label = "x";
//   chart.add({"sin(x)", xs, sines});
//   chart.add({"model", xs, predictions});
//   svg::save_picture("q2", "fit", chart.svg(), dir);     // dir/q2_fit.svg
//
// Every picture is a Plot: it knows its size and draws itself into a Document; svg() gives
// it as a whole file, and row_svg() puts several side by side in one file.
//
// The output is deliberately plain: only presentation attributes (fill=, stroke=), no
// <style>, no scripts, no external references; text is escaped; non-finite numbers are
// never written (a point or cell that is not finite is left out). The grade report shows each
// file as an image (autograder/driver/html_report.h).
//
// Graders draw through draw_picture(), which does nothing unless the environment variable
// EMBER_PICTURES_DIR names a folder, and which turns any failure into a message instead of
// an exception, so a picture can never cost a point.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ember/tensor.h>

#include "ember_course/progress.h"

namespace ember::course::svg {

// ---- the document ---------------------------------------------------------------------

enum class Anchor { Start, Middle, End };

struct TextStyle {
  double size = 12;
  Anchor anchor = Anchor::Start;
  std::string colour = "#1a202c";
  bool bold = false;
  double rotate = 0;  // degrees, clockwise, about the text's (x, y)
};

struct Point {
  double x = 0;
  double y = 0;
};

// An SVG file being written. Coordinates are pixels, y pointing down. Colours are CSS
// colours ("#2b6cb0", "none"). An element with a coordinate that is not finite is skipped.
class Document {
 public:
  Document(double width, double height);

  void rect(double x, double y, double width, double height, std::string_view fill,
            std::string_view stroke = "none", double stroke_width = 1);
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double width = 1, bool dashed = false);
  // Non-finite points break the line into pieces.
  void polyline(const std::vector<Point>& points, std::string_view stroke, double width = 1.5,
                bool dashed = false);
  void circle(double cx, double cy, double r, std::string_view fill,
              std::string_view stroke = "none", double stroke_width = 1);
  // Lines of text separated by '\n' go one under the other.
  void text(double x, double y, std::string_view content, const TextStyle& style = {});

  // A clipping rectangle; returns its id for open_group.
  std::string clip_rect(double x, double y, double width, double height);
  // Everything until close_group() is moved by (dx, dy) and, with a clip id, clipped.
  // crisp_edges: no anti-aliasing of edges (cells that touch then show no seams).
  void open_group(double dx, double dy, std::string_view clip_id = {}, bool crisp_edges = false);
  void close_group();

  double width() const { return width_; }
  double height() const { return height_; }
  // The whole file (unclosed groups are closed).
  std::string str() const;

 private:
  double width_;
  double height_;
  std::string body_;
  int open_groups_ = 0;
  int next_id_ = 0;
};

// ---- plots ------------------------------------------------------------------------------

class Plot {
 public:
  virtual ~Plot() = default;
  virtual double width() const = 0;
  virtual double height() const = 0;
  // Draws the plot with its top-left corner at (x, y).
  virtual void draw(Document& document, double x, double y) const = 0;
  // The plot alone, as a whole SVG file.
  std::string svg() const;
};

// Several plots side by side (top-aligned), with an optional title above them.
std::string row_svg(const std::vector<const Plot*>& plots, const std::string& title = {});

enum class Marker { None, Circle, Cross, Square };

struct Series {
  Series() = default;
  Series(std::string name, std::vector<double> x, std::vector<double> y)
      : name(std::move(name)), x(std::move(x)), y(std::move(y)) {}

  std::string name;  // in the legend; empty: not listed
  std::vector<double> x;
  std::vector<double> y;  // as many as x
  std::string colour;     // empty: the next colour of the palette
  bool line = true;       // join the points
  Marker marker = Marker::None;
  bool dashed = false;
  double line_width = 2;
};

// Line plots and scatter plots: axes with ticks and labels, a grid, series drawn as
// lines and/or markers (clipped to the axes), and a legend in the emptiest corner.
class Chart : public Plot {
 public:
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  // The ranges of the axes; by default the data's, with a little room.
  std::optional<double> x_min, x_max, y_min, y_max;
  double chart_width = 560;
  double chart_height = 380;

  Chart& add(Series s);

  double width() const override { return chart_width; }
  double height() const override { return chart_height; }
  void draw(Document& document, double x, double y) const override;
};

enum class ColourScale {
  Blues,     // low: white, high: dark blue
  Diverging, // negative: blue, 0: white, positive: red (the range is symmetric about 0)
  Ink,       // 0: white paper, 1: black ink (pictures of digits)
};

// A grid of coloured cells with row and column labels and a colour bar.
class Heatmap : public Plot {
 public:
  // values: rows * columns numbers in row-major order.
  Heatmap(int64_t rows, int64_t columns, std::vector<double> values);
  // From a 2-D tensor.
  explicit Heatmap(const Tensor& values);

  std::string title;
  std::string x_label;  // under the columns
  std::string y_label;  // beside the rows
  std::vector<std::string> row_labels;     // empty: numbers 0, 1, ... when index_labels
  std::vector<std::string> column_labels;  // empty: numbers when index_labels
  bool index_labels = true;
  ColourScale scale = ColourScale::Blues;
  std::optional<double> colour_min, colour_max;  // default: the values' range
  bool colour_bar = true;
  std::string colour_bar_label;
  // Text in each cell: cell_text when given (rows * columns strings), else the value with
  // value_decimals decimals when show_values.
  bool show_values = false;
  int value_decimals = 2;
  std::vector<std::string> cell_text;
  double cell_size = 0;  // pixels; 0: chosen so the grid is about 320 pixels

  double width() const override;
  double height() const override;
  void draw(Document& document, double x, double y) const override;

  int64_t rows() const { return rows_; }
  int64_t columns() const { return columns_; }
  const std::vector<double>& values() const { return values_; }

 private:
  struct Layout;
  Layout layout() const;

  int64_t rows_;
  int64_t columns_;
  std::vector<double> values_;
};

// Counts (true class in rows, predicted class in columns) as a heatmap coloured by the
// fraction of each row, with the counts written in the cells.
Heatmap confusion_matrix(const std::vector<std::vector<int64_t>>& counts,
                         const std::vector<std::string>& class_names,
                         const std::string& title = "confusion matrix");

// Small pictures in a grid, each with a caption under it (lines separated by '\n').
class ImageGrid : public Plot {
 public:
  // images: (N, H, W) pixels, 0 paper .. 1 ink (values outside are clamped).
  // captions: none, or one per image.
  explicit ImageGrid(const Tensor& images, std::vector<std::string> captions = {},
                     int64_t columns = 8);

  std::string title;
  double pixel_size = 2.5;        // screen pixels per image pixel
  std::vector<bool> highlighted;  // per image: caption in red (e.g. a wrong prediction)

  double width() const override;
  double height() const override;
  void draw(Document& document, double x, double y) const override;

 private:
  double cell_width() const;
  double cell_height() const;
  int64_t grid_rows() const;
  int64_t caption_lines() const;

  int64_t count_;
  int64_t image_rows_;
  int64_t image_columns_;
  std::vector<float> pixels_;
  std::vector<std::string> captions_;
  int64_t columns_;
};

// ---- pictures of training ---------------------------------------------------------------

// What a TrainingProgress recorded, as two charts side by side: the loss (its mean per epoch,
// and the finer curve over groups of batches) and the accuracy given to end_epoch. Options:
// accuracy_goal draws a dashed line at a threshold, final_accuracy marks a figure on
// held-out data after the last epoch. Throws ember::Error for an empty history.
std::string training_curves(const TrainingHistory& history, const std::string& title,
                            std::optional<double> accuracy_goal = {},
                            std::optional<double> final_accuracy = {},
                            const std::string& final_accuracy_name = "test accuracy");

// ---- saving -----------------------------------------------------------------------------

// The folder named by EMBER_PICTURES_DIR, or none when it is unset or empty.
std::optional<std::string> pictures_dir();

// Writes svg to <dir>/<question>_<what>.svg (creating dir) and returns that path.
// question ("q3") and what ("misclassified") may hold letters, digits, '_' and '-'.
// Throws ember::Error naming the file when it cannot be written.
std::string save_picture(std::string_view question, std::string_view what,
                         const std::string& svg, const std::string& dir);

// For graders: when pictures_dir() is set, makes the picture with make() and saves it
// there. Never throws for a failure (an exception from make() included): returns "" when
// the picture was drawn or pictures are off, else a message that says what went wrong.
std::string draw_picture(std::string_view question, std::string_view what,
                         const std::function<std::string()>& make);

// ---- helpers (also used by the tests) ---------------------------------------------------

// &, <, >, " and ' as entities; control characters dropped; invalid UTF-8 replaced by U+FFFD.
std::string xml_escape(std::string_view text);
// A coordinate or size: at most 2 decimals, no trailing zeros ("12.5", "3", "-0.25").
std::string number(double value);
// About `target` round tick values (1, 2 or 5 times a power of ten apart) inside [low, high].
std::vector<double> nice_ticks(double low, double high, int target = 6);
// The colour of t in [0, 1] (values outside are clamped) on a scale, as "#rrggbb".
std::string colour_at(ColourScale scale, double t);

}  // namespace ember::course::svg
