// Tests of the SVG pictures: well-formed XML, escaped text, only finite numbers, and files
// written where they are asked for (and nowhere when pictures are off).
#include "svg_plot.h"
#include "scoped_env.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <ember/creation.h>
#include <ember/error.h>
#include <ember/random.h>

namespace {

namespace fs = std::filesystem;
namespace svg = ember::course::svg;

// True when text[at] is '&' starting an entity: &amp; &lt; &gt; &quot; &apos; &#N; &#xN;.
bool entity_at(const std::string& text, size_t at) {
  const size_t semicolon = text.find(';', at);
  if (semicolon == std::string::npos || semicolon - at > 10) return false;
  const std::string name = text.substr(at + 1, semicolon - at - 1);
  for (const char* known : {"amp", "lt", "gt", "quot", "apos"}) {
    if (name == known) return true;
  }
  if (name.size() < 2 || name[0] != '#') return false;
  const bool hex = name[1] == 'x';
  const std::string digits = name.substr(hex ? 2 : 1);
  return !digits.empty() && std::all_of(digits.begin(), digits.end(), [&](char c) {
    return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::string ampersand_problem(const std::string& part) {
  for (size_t k = part.find('&'); k != std::string::npos; k = part.find('&', k + 1)) {
    if (!entity_at(part, k)) return "a bare '&' in: " + part.substr(k, 20);
  }
  return "";
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':' || c == '-' || c == '.';
}

// A small checker of XML well-formedness, enough for what the writer produces: one root
// element, properly nested and closed tags, quoted attributes without '<', and text and
// attribute values in which '&' only starts an entity. Returns "" or what is wrong.
std::string xml_problem(const std::string& text) {
  std::vector<std::string> open;
  size_t i = 0;
  int roots = 0;
  while (i < text.size()) {
    if (text[i] != '<') {
      const size_t end = std::min(text.find('<', i), text.size());
      const std::string chunk = text.substr(i, end - i);
      if (open.empty() && chunk.find_first_not_of(" \n\t\r") != std::string::npos) {
        return "text outside the root element: " + chunk.substr(0, 20);
      }
      if (chunk.find('>') != std::string::npos) return "a bare '>' in text: " + chunk.substr(0, 30);
      if (std::string why = ampersand_problem(chunk); !why.empty()) return why;
      i = end;
      continue;
    }
    if (text.compare(i, 5, "<?xml") == 0) {
      if (i != 0) return "an XML declaration that is not at the start";
      i = text.find("?>", i);
      if (i == std::string::npos) return "an unclosed XML declaration";
      i += 2;
      continue;
    }
    const size_t end = text.find('>', i);
    if (end == std::string::npos) return "an unclosed tag";
    std::string tag = text.substr(i + 1, end - i - 1);
    i = end + 1;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes " + (open.empty() ? std::string("nothing") : "<" + open.back() + ">");
      }
      open.pop_back();
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.pop_back();
    size_t k = 0;
    while (k < tag.size() && name_char(tag[k])) ++k;
    const std::string name = tag.substr(0, k);
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return "a bad tag: <" + tag + ">";
    // Attributes: name="value", each after white space.
    std::vector<std::string> names;
    while (k < tag.size()) {
      const size_t space = k;
      while (k < tag.size() && std::isspace(static_cast<unsigned char>(tag[k]))) ++k;
      if (k == tag.size()) break;
      if (k == space) return "no space before an attribute in <" + tag + ">";
      const size_t name_start = k;
      while (k < tag.size() && name_char(tag[k])) ++k;
      const std::string attribute = tag.substr(name_start, k - name_start);
      if (attribute.empty() || tag.compare(k, 2, "=\"") != 0) return "a bad attribute in <" + tag + ">";
      const size_t close = tag.find('"', k + 2);
      if (close == std::string::npos) return "an unclosed attribute value in <" + tag + ">";
      const std::string value = tag.substr(k + 2, close - k - 2);
      if (value.find('<') != std::string::npos) return "'<' in an attribute value in <" + tag + ">";
      if (std::string why = ampersand_problem(value); !why.empty()) return why;
      if (std::find(names.begin(), names.end(), attribute) != names.end()) {
        return "attribute " + attribute + " twice in <" + name + ">";
      }
      names.push_back(attribute);
      k = close + 1;
    }
    if (open.empty()) {
      if (++roots > 1) return "more than one root element";
    }
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return "no root element";
  return "";
}

// Every number in the attributes that hold coordinates, sizes and points must be finite.
std::string number_problem(const std::string& text) {
  for (const char* attribute : {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height",
                                "font-size", "stroke-width", "points", "viewBox"}) {
    const std::string key = std::string(" ") + attribute + "=\"";
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      const size_t begin = at + key.size();
      const size_t close = text.find('"', begin);
      if (close == std::string::npos) return "an unclosed value";
      std::string values = text.substr(begin, close - begin);
      for (char& c : values) {
        if (c == ',') c = ' ';
      }
      std::istringstream in(values);
      std::string word;
      while (in >> word) {
        char* end = nullptr;
        const double value = std::strtod(word.c_str(), &end);
        if (end == word.c_str() || *end != '\0' || !std::isfinite(value)) {
          return std::string(attribute) + "=\"" + text.substr(begin, close - begin) + "\" holds '" + word + "'";
        }
      }
    }
  }
  return "";
}

void expect_good_svg(const std::string& text) {
  EXPECT_EQ(xml_problem(text), "");
  EXPECT_EQ(number_problem(text), "");
  EXPECT_NE(text.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  for (const char* bad : {"nan", "inf", "<script", "<style", "href="}) {
    EXPECT_EQ(text.find(bad), std::string::npos) << "found " << bad;
  }
}

// A fresh folder under the system's temporary folder, removed afterwards.
class TemporaryDir {
 public:
  TemporaryDir() {
    std::string pattern = (fs::temp_directory_path() / "ember_svg_XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TemporaryDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  TemporaryDir(const TemporaryDir&) = delete;
  TemporaryDir& operator=(const TemporaryDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

svg::Chart sample_chart() {
  svg::Chart chart;
  chart.title = "loss";
  chart.x_label = "epoch";
  chart.y_label = "mean loss";
  std::vector<double> x, y;
  for (int i = 0; i <= 20; ++i) {
    x.push_back(i * 0.15);
    y.push_back(std::exp(-i * 0.2));
  }
  chart.add({"training", x, y});
  svg::Series points{"epochs", {1, 2, 3}, {0.4, 0.2, 0.1}};
  points.line = false;
  points.marker = svg::Marker::Circle;
  chart.add(points);
  return chart;
}

}  // namespace

TEST(SvgPlot, TheCheckerCatchesBrokenXml) {
  EXPECT_EQ(xml_problem("<svg><g></g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg a=\"1\" a=\"2\"/>"), "");
  EXPECT_NE(xml_problem("<svg/><svg/>"), "");
  EXPECT_NE(number_problem("<rect x=\"nan\"/>"), "");
  EXPECT_NE(number_problem("<polyline points=\"1,2 inf,3\"/>"), "");
}

TEST(SvgPlot, ChartIsWellFormedWithAxesAndLegend) {
  const std::string text = sample_chart().svg();
  expect_good_svg(text);
  EXPECT_NE(text.find(">loss</text>"), std::string::npos);
  EXPECT_NE(text.find(">epoch</text>"), std::string::npos);
  EXPECT_NE(text.find(">mean loss</text>"), std::string::npos);
  EXPECT_NE(text.find(">training</text>"), std::string::npos) << "the legend";
  EXPECT_NE(text.find("<polyline"), std::string::npos);
  EXPECT_NE(text.find("<circle"), std::string::npos);
  EXPECT_NE(text.find("clip-path=\"url(#clip0)\""), std::string::npos);
  EXPECT_NE(text.find(">0.2</text>"), std::string::npos) << "a tick label";
}

TEST(SvgPlot, LabelsAreEscaped) {
  svg::Chart chart;
  chart.title = "a < b & \"c\" 'd' > e";
  chart.x_label = std::string("tab\tbell\x07 ok");
  chart.y_label = "bad \xff\xfe utf-8, good \xc5\x82\xc3\xb3" "d\xc5\xba";  // ends in "łódź"
  chart.add({"</text><script>alert(1)</script>", {0, 1}, {0, 1}});
  const std::string text = chart.svg();
  expect_good_svg(text);
  EXPECT_NE(text.find("a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e"), std::string::npos);
  EXPECT_NE(text.find("&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("bad \xEF\xBF\xBD\xEF\xBF\xBD utf-8, good \xc5\x82\xc3\xb3" "d\xc5\xba"), std::string::npos);
  EXPECT_EQ(svg::xml_escape("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "an overlong '/'";
  EXPECT_EQ(svg::xml_escape("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
  EXPECT_EQ(svg::xml_escape("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "cut short";
}

TEST(SvgPlot, NonFiniteDataIsLeftOut) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  svg::Chart chart;
  chart.add({"gaps", {0, 1, 2, 3, 4, 5}, {1, nan, 2, 3, inf, 4}});
  svg::Series only_nan{"nothing", {nan, nan}, {nan, inf}};
  only_nan.marker = svg::Marker::Cross;
  chart.add(only_nan);
  const std::string text = chart.svg();
  expect_good_svg(text);
  // 0..5 with gaps at 1 and 4: one piece (2, 3) long enough to draw a line.
  size_t polylines = 0;
  for (size_t at = text.find("<polyline"); at != std::string::npos; at = text.find("<polyline", at + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, 1u);

  svg::Chart empty;
  empty.title = "no data";
  expect_good_svg(empty.svg());

  svg::Chart fixed;
  fixed.add({"flat", {1, 1}, {2, 2}});
  fixed.y_min = nan;  // ignored
  expect_good_svg(fixed.svg());

  svg::Heatmap map(2, 2, {1.0, nan, -inf, 2.0});
  map.show_values = true;
  map.scale = svg::ColourScale::Diverging;
  expect_good_svg(map.svg());
}

TEST(SvgPlot, HeatmapHasCellsLabelsAndAColourBar) {
  ember::manual_seed(3);
  svg::Heatmap map(ember::randn({3, 3}));
  map.title = "kernel";
  map.scale = svg::ColourScale::Diverging;
  map.show_values = true;
  map.colour_bar_label = "weight";
  const std::string text = map.svg();
  expect_good_svg(text);
  EXPECT_NE(text.find(">kernel</text>"), std::string::npos);
  EXPECT_NE(text.find(">weight</text>"), std::string::npos);
  EXPECT_NE(text.find(">2</text>"), std::string::npos) << "row and column numbers";
  EXPECT_NE(text.find("shape-rendering=\"crispEdges\""), std::string::npos);
  EXPECT_GT(map.width(), 3 * 48.0);
  EXPECT_THROW(svg::Heatmap(2, 3, {1.0, 2.0}), ember::Error);
  EXPECT_THROW(svg::Heatmap(ember::zeros({2, 2, 2})), ember::Error);
}

TEST(SvgPlot, ConfusionMatrixShowsCounts) {
  const svg::Heatmap map = svg::confusion_matrix({{90, 7, 3}, {5, 80, 15}, {0, 1, 99}},
                                                 {"English", "Spanish", "Finnish"}, "languages");
  const std::string text = map.svg();
  expect_good_svg(text);
  for (const char* expected : {">90</text>", ">15</text>", ">99</text>", ">English</text>",
                               ">predicted</text>", ">true</text>"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected;
  }
  EXPECT_THROW(svg::confusion_matrix({{1, 2}, {3}}, {"a", "b"}), ember::Error);
}

TEST(SvgPlot, ImageGridFromPixelTensors) {
  ember::manual_seed(5);
  const ember::Tensor images = ember::rand({5, 28, 28});
  svg::ImageGrid grid(images, {"7 (true 2)", "1", "3", "4", "5\nsecond line"}, 3);
  grid.title = "misclassified";
  grid.highlighted = {true, false, false, false, true};
  const std::string text = grid.svg();
  expect_good_svg(text);
  EXPECT_NE(text.find(">7 (true 2)</text>"), std::string::npos);
  EXPECT_NE(text.find(">second line</text>"), std::string::npos);
  EXPECT_NE(text.find("#c53030"), std::string::npos) << "highlighted captions";
  EXPECT_GT(grid.height(), 2 * 28 * 2.5) << "two rows of three";
  // Paper (0) is not drawn: an empty image costs only its frame.
  const std::string blank = svg::ImageGrid(ember::zeros({1, 28, 28})).svg();
  expect_good_svg(blank);
  EXPECT_LT(blank.size(), 1000u);
  EXPECT_THROW(svg::ImageGrid(ember::zeros({2, 784})), ember::Error);
  EXPECT_THROW(svg::ImageGrid(images, {"one caption"}), ember::Error);
  expect_good_svg(svg::ImageGrid(ember::zeros({0, 28, 28})).svg());
}

TEST(SvgPlot, RowPutsPlotsSideBySide) {
  const svg::Chart left = sample_chart();
  svg::Heatmap right(2, 2, {0, 1, 2, 3});
  const std::string text = svg::row_svg({&left, &right}, "two & two");
  expect_good_svg(text);
  EXPECT_NE(text.find(">two &amp; two</text>"), std::string::npos);
  EXPECT_NE(text.find("translate("), std::string::npos);
  EXPECT_NE(text.find("width=\"" + svg::number(8 + left.width() + 16 + right.width() + 8) + "\""),
            std::string::npos);
}

TEST(SvgPlot, NumbersTicksAndColours) {
  EXPECT_EQ(svg::number(12.5), "12.5");
  EXPECT_EQ(svg::number(3.0), "3");
  EXPECT_EQ(svg::number(-0.001), "0");
  EXPECT_EQ(svg::number(-0.25), "-0.25");
  EXPECT_EQ(svg::number(std::numeric_limits<double>::quiet_NaN()), "0");
  const std::vector<double> unit = svg::nice_ticks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * static_cast<double>(i), 1e-12);
  const std::vector<double> narrow = svg::nice_ticks(0.953, 0.981, 6);
  ASSERT_GE(narrow.size(), 3u);
  EXPECT_NEAR(narrow[1] - narrow[0], 0.005, 1e-12);
  EXPECT_GE(narrow.front(), 0.953);
  EXPECT_LE(narrow.back(), 0.981);
  EXPECT_EQ(svg::nice_ticks(2, 2), (std::vector<double>{2}));
  EXPECT_TRUE(svg::nice_ticks(0, std::numeric_limits<double>::infinity()).empty());
  EXPECT_EQ(svg::colour_at(svg::ColourScale::Ink, 0), "#ffffff");
  EXPECT_EQ(svg::colour_at(svg::ColourScale::Ink, 1), "#000000");
  EXPECT_EQ(svg::colour_at(svg::ColourScale::Diverging, 0.5), "#ffffff");
  EXPECT_EQ(svg::colour_at(svg::ColourScale::Blues, -3), "#ffffff");
}

TEST(SvgPlot, SavePictureWritesWhereAsked) {
  TemporaryDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string text = sample_chart().svg();
  const fs::path nested = dir.path() / "pictures";
  const std::string path = svg::save_picture("q3", "training_curves", text, nested.string());
  EXPECT_EQ(fs::path(path), nested / "q3_training_curves.svg");
  EXPECT_EQ(read(path), text);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_THROW(svg::save_picture("q3", "../escape", text, nested.string()), ember::Error);
  EXPECT_THROW(svg::save_picture("", "x", text, nested.string()), ember::Error);
  // A folder that cannot be made (a file is in the way).
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_THROW(svg::save_picture("q3", "x", text, (dir.path() / "file" / "sub").string()), ember::Error);
}

TEST(SvgPlot, DrawPictureOnlyWhenAskedAndNeverThrows) {
  TemporaryDir dir;
  int calls = 0;
  auto make = [&] {
    ++calls;
    return sample_chart().svg();
  };
  {
    ScopedEnv off("EMBER_PICTURES_DIR", nullptr);
    EXPECT_FALSE(svg::pictures_dir());
    EXPECT_EQ(svg::draw_picture("q2", "fit", make), "");
    EXPECT_EQ(calls, 0) << "no picture is made when pictures are off";
  }
  {
    ScopedEnv empty("EMBER_PICTURES_DIR", "");
    EXPECT_FALSE(svg::pictures_dir());
  }
  ScopedEnv on("EMBER_PICTURES_DIR", dir.path().c_str());
  EXPECT_EQ(svg::draw_picture("q2", "fit", make), "");
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "q2_fit.svg"));
  const std::string failed = svg::draw_picture("q2", "broken", []() -> std::string {
    throw ember::NotImplemented("q2: RegressionModel::forward");
  });
  EXPECT_NE(failed.find("q2_broken.svg"), std::string::npos) << failed;
  EXPECT_NE(failed.find("RegressionModel::forward"), std::string::npos) << failed;
  EXPECT_FALSE(fs::exists(dir.path() / "q2_broken.svg"));
  EXPECT_NE(svg::draw_picture("q2", "odd", [] () -> std::string { throw 42; }), "");
  EXPECT_NE(svg::draw_picture("q2", "bad name", make), "");
}
