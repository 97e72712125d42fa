// Unit tests of the HTML report: the pictures as data: URLs (base64), captions, picture
// collection and the page.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "html_report.h"
#include "report.h"
#include "test_support.h"

using namespace ember::grade;
namespace fs = std::filesystem;

namespace {

using ember_test::TempDir;  // test_support.h: a private temporary directory per test

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(Pictures, Base64) {
  // RFC 4648, section 10.
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  // Every bit of a byte counts, zero bytes and high bits included.
  EXPECT_EQ(base64(std::string("\x00\xff\xfe", 3)), "AP/+");
  EXPECT_EQ(base64(std::string("\x00\xff\xfe\x01", 4)), "AP/+AQ==");
}

TEST(Pictures, DataUrlHoldsTheFileAsItIs) {
  EXPECT_EQ(svg_data_url("<svg/>"), "data:image/svg+xml;base64,PHN2Zy8+");
  // Nothing is removed: shown as an image, the script cannot run (browser_test.sh).
  const std::string hostile = "<svg onload=\"alert(1)\"><script>alert(2)</script></svg>";
  EXPECT_EQ(svg_data_url(hostile), "data:image/svg+xml;base64," + base64(hostile));
}

TEST(Pictures, Captions) {
  EXPECT_EQ(picture_caption("q3_misclassified.svg", "q3"), "misclassified");
  EXPECT_EQ(picture_caption("q3_decision_boundary-epoch_5.svg", "q3"), "decision boundary epoch 5");
  EXPECT_EQ(picture_caption("q3_.svg", "q3"), "q3_.svg");
}

TEST(Pictures, CollectedInNameOrderAndRemoved) {
  TempDir dir;
  const fs::path d = dir.path();
  const std::string first = "<?xml version=\"1.0\"?><svg><rect/><script>x()</script></svg>";
  const std::string second = "<svg><circle r=\"1\" id=\"dot\"/></svg>";
  write(d / "q3_b_second.svg", second);
  write(d / "q3_a_first.svg", first);
  write(d / "q3_not_a_picture.svg", "just text");
  write(d / "q3_notes.txt", "<svg/>");
  write(d / "q30_other.svg", "<svg/>");
  write(d / "q4_other.svg", "<svg/>");
  write(d / "q3_huge.svg", "<svg>" + std::string(kMaxPictureBytes, ' ') + "</svg>");

  const std::vector<Picture> pictures = collect_pictures(d.string(), "q3");
  ASSERT_EQ(pictures.size(), 4u);
  EXPECT_EQ(pictures[0].file_name, "q3_a_first.svg");
  EXPECT_EQ(pictures[0].caption, "a first");
  EXPECT_EQ(pictures[0].data_url, svg_data_url(first));
  EXPECT_EQ(pictures[1].file_name, "q3_b_second.svg");
  EXPECT_EQ(pictures[1].data_url, svg_data_url(second));
  EXPECT_EQ(pictures[2].file_name, "q3_huge.svg");
  EXPECT_EQ(pictures[2].data_url, "");
  EXPECT_CONTAINS(pictures[2].note, "too big");
  EXPECT_EQ(pictures[3].file_name, "q3_not_a_picture.svg");
  EXPECT_EQ(pictures[3].note, "not an SVG picture (no <svg> element)");
  EXPECT_EQ(pictures[3].data_url, "");

  EXPECT_TRUE(collect_pictures((d / "missing").string(), "q3").empty());

  remove_pictures(d.string(), "q3");
  EXPECT_FALSE(fs::exists(d / "q3_a_first.svg"));
  EXPECT_FALSE(fs::exists(d / "q3_huge.svg"));
  EXPECT_TRUE(fs::exists(d / "q3_notes.txt"));
  EXPECT_TRUE(fs::exists(d / "q30_other.svg"));
  EXPECT_TRUE(fs::exists(d / "q4_other.svg"));
  remove_pictures((d / "missing").string(), "q3");  // no error
}

TEST(Pictures, AtMostAFixedNumberPerQuestion) {
  TempDir dir;
  for (size_t i = 0; i < kMaxPicturesPerQuestion + 3; ++i) {
    write(dir.path() / ("q1_" + std::to_string(100 + i) + ".svg"), "<svg/>");
  }
  const std::vector<Picture> pictures = collect_pictures(dir.path().string(), "q1");
  ASSERT_EQ(pictures.size(), kMaxPicturesPerQuestion + 1);
  EXPECT_EQ(pictures.back().caption, "3 more pictures");
  EXPECT_EQ(pictures.back().data_url, "");
}

TEST(HtmlReport, ThePage) {
  QuestionResult q0;
  q0.id = "q0";
  q0.max = 4;
  q0.earned = 4;
  q0.checks.push_back({"q0.shapes", 4, 4, true, "all <shapes> & \"sizes\"\n"});
  QuestionResult q3;
  q3.id = "q3";
  q3.max = 6;
  q3.earned = 2;
  q3.seconds = 12.44;
  q3.checks.push_back({"q3.gradients", 2, 2, true, ""});
  q3.checks.push_back({"q3.accuracy", 0, 4, false, "test accuracy 0.95 < 0.97\nsecond line"});
  q3.pictures.push_back(
      {"q3_misclassified.svg", "misclassified", svg_data_url("<svg><rect/></svg>"), ""});
  q3.pictures.push_back({"q3_huge.svg", "huge", "", "the picture is too big"});
  q3.pictures.push_back({"q3_hostile.svg", "hostile",
                         svg_data_url("<svg onload=\"alert(1)\"><script>alert(2)</script>"
                                      "<image href=\"http://example.invalid/x.png\"/></svg>"),
                         ""});

  const std::string html = render_html({q0, q3}, {});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_CONTAINS(html, "<meta charset=\"utf-8\">");
  EXPECT_CONTAINS(html, "Content-Security-Policy");
  EXPECT_CONTAINS(html, "<title>Ember grade report: 6/10</title>");
  EXPECT_CONTAINS(html, "<strong>6/10</strong>");
  // The summary table: one row per question and the total.
  EXPECT_CONTAINS(html, "<tr class=\"full\"><td><a href=\"#q0\">Question q0</a></td>"
                        "<td class=\"num\">4</td><td class=\"num\">4</td><td>1 of 1</td>");
  EXPECT_CONTAINS(html, "<tr class=\"partial\"><td><a href=\"#q3\">Question q3</a></td>"
                        "<td class=\"num\">2</td><td class=\"num\">6</td><td>1 of 2</td>");
  EXPECT_CONTAINS(html, "<span style=\"width: 33%\">");
  EXPECT_CONTAINS(html, "<th scope=\"row\">Total</th><td class=\"num\">6</td><td class=\"num\">10</td>");
  // The sections: every check, escaped messages, the timing, the pictures.
  EXPECT_CONTAINS(html, "<section class=\"question\" id=\"q3\">\n<h2>Question q3 "
                        "<span class=\"score partial\">2/6</span> <span class=\"time\">12.4 s</span></h2>");
  EXPECT_CONTAINS(html, "<span class=\"verdict\">PASS</span> <span class=\"check-name\">q0.shapes</span> "
                        "<span class=\"points\">4/4</span>");
  EXPECT_CONTAINS(html, "<pre class=\"message\">all &lt;shapes&gt; &amp; &quot;sizes&quot;</pre>");
  EXPECT_CONTAINS(html, "<li class=\"check fail\">");
  EXPECT_CONTAINS(html, "<pre class=\"message\">test accuracy 0.95 &lt; 0.97\nsecond line</pre>");
  EXPECT_CONTAINS(html, "<figure>\n<img src=\"data:image/svg+xml;base64,PHN2Zz48cmVjdC8+PC9zdmc+\" "
                        "alt=\"\">\n<figcaption>misclassified"
                        "<span class=\"file\">q3_misclassified.svg</span></figcaption>");
  EXPECT_CONTAINS(html, "<p class=\"note\">the picture is too big</p>");
  // The pictures are images, never markup: the hostile one's script is not in the page, and
  // the only things the page loads are the pictures, from data: URLs.
  EXPECT_NOT_CONTAINS(html, "<script");
  EXPECT_NOT_CONTAINS(html, "<svg");
  EXPECT_NOT_CONTAINS(html, "alert");
  EXPECT_EQ(count(html, "src="), 2u);
  EXPECT_EQ(count(html, "<img src=\"data:image/svg+xml;base64,"), 2u);
  EXPECT_NOT_CONTAINS(html, "http:");
  EXPECT_NOT_CONTAINS(html, "https:");
  EXPECT_LT(html.find("id=\"q0\""), html.find("id=\"q3\""));

  HtmlStyle no_timings;
  no_timings.timings = false;
  EXPECT_NOT_CONTAINS(render_html({q3}, no_timings), "class=\"time\"");
  EXPECT_CONTAINS(render_html({}, {}), "Provisional grade: <strong>0/0</strong>");
}

TEST(HtmlReport, Escaping) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(html_escape("line\r\nbad\xFF\x02"), "line\nbad\xEF\xBF\xBD\xEF\xBF\xBD");
}
