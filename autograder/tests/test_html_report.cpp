// Unit tests of the HTML report: the SVG sanitiser, captions, picture collection and the page.
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

}  // namespace

TEST(SanitizeSvg, KeepsShapesAndText) {
  const std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\" viewBox=\"0 0 10 10\">"
      "<g transform=\"scale(2)\"><rect x=\"1\" y=\"1\" width=\"3\" height=\"3\" fill=\"#f00\"/>"
      "<text x=\"1\" y=\"9\" font-size=\"2\">a &lt; b &amp; c</text></g></svg>";
  EXPECT_EQ(sanitize_svg(svg, "p-"), svg);
}

TEST(SanitizeSvg, DropsWhatCouldRunOrLoad) {
  const std::string out = sanitize_svg(
      "<?xml version=\"1.0\"?><!DOCTYPE svg><!-- a comment -->"
      "<svg onload=\"alert(1)\" xmlns:evil=\"http://evil\">"
      "<script type=\"text/javascript\">if (a < b) { document.write('</svg><b>') }</script>"
      "<SCRIPT>alert(2)</SCRIPT>"
      "<style>body { display: none }</style>"
      "<foreignObject><div><p>html inside</p><rect/></div></foreignObject>"
      "<a href=\"javascript:alert(3)\"><rect width=\"1\" height=\"1\" onClick=\"alert(4)\"/></a>"
      "<use href=\"http://example.com/x.svg#a\"/>"
      "<use xlink:href=\"&#106;avascript:alert(5)\"/>"
      "<rect style=\"fill: url(http://example.com/pattern)\" width=\"2\" height=\"2\"/>"
      "<image href=\"http://example.com/tracker.png\"/>"
      "<image href=\"data:image/png;base64,AAAA\"/>"
      "<iframe src=\"http://example.com\"></iframe>"
      "</svg>",
      "p-");
  EXPECT_EQ(out,
            "<svg><rect width=\"1\" height=\"1\"/><use/><use/><rect width=\"2\" height=\"2\"/>"
            "<image/><image href=\"data:image/png;base64,AAAA\"/></svg>");
  EXPECT_NOT_CONTAINS(out, "alert");
  EXPECT_NOT_CONTAINS(out, "example.com");
}

TEST(SanitizeSvg, PrefixesIdsAndReferences) {
  EXPECT_EQ(sanitize_svg("<svg><defs><linearGradient id=\"g\"/><clipPath id='c'/></defs>"
                         "<rect fill=\"url(#g)\" clip-path=\"url( '#c' )\"/>"
                         "<use href=\"#g\"/><use xlink:href=\"#c\"/></svg>",
                         "pic-q3-x-"),
            "<svg><defs><linearGradient id=\"pic-q3-x-g\"/><clipPath id=\"pic-q3-x-c\"/></defs>"
            "<rect fill=\"url(#pic-q3-x-g)\" clip-path=\"url(&#39;#pic-q3-x-c&#39; )\"/>"
            "<use href=\"#pic-q3-x-g\"/><use xlink:href=\"#pic-q3-x-c\"/></svg>");
}

TEST(SanitizeSvg, RepairsBrokenMarkup) {
  // Unclosed elements are closed, stray end tags dropped, everything after the root ignored.
  EXPECT_EQ(sanitize_svg("junk <b>before</b><svg><g><text>cut", "p-"),
            "<svg><g><text>cut</text></g></svg>");
  EXPECT_EQ(sanitize_svg("<svg><g></div></g></svg><script>x</script><svg/>", "p-"),
            "<svg><g></g></svg>");
  EXPECT_EQ(sanitize_svg("<svg><g></svg>", "p-"), "<svg><g></g></svg>");
  EXPECT_EQ(sanitize_svg("<svg/>", "p-"), "<svg/>");
  // Unknown elements are unwrapped; their SVG children stay.
  EXPECT_EQ(sanitize_svg("<svg><sodipodi:namedview><rect/></sodipodi:namedview></svg>", "p-"),
            "<svg><rect/></svg>");
  // Quotes and markup in attribute values and text are escaped again.
  EXPECT_EQ(sanitize_svg("<svg><text data-x='a\"b'>1 < 2 > 0 &bogus; \x01</text></svg>", "p-"),
            "<svg><text data-x=\"a&quot;b\">1 &lt; 2 &gt; 0 &amp;bogus; \xEF\xBF\xBD</text></svg>");
  EXPECT_EQ(sanitize_svg("<svg><text><![CDATA[<b>&]]></text></svg>", "p-"),
            "<svg><text>&lt;b&gt;&amp;</text></svg>");
  // Unquoted values end at a space or '>', as a browser reads them.
  EXPECT_EQ(sanitize_svg("<svg width=10 height=20 />", "p-"), "<svg width=\"10\" height=\"20\"/>");
  EXPECT_EQ(sanitize_svg("<svg width=10/>", "p-"), "<svg width=\"10/\"></svg>");
  EXPECT_EQ(sanitize_svg("no picture here", "p-"), "");
  EXPECT_EQ(sanitize_svg("", "p-"), "");
  EXPECT_EQ(sanitize_svg("<svg", "p-"), "<svg></svg>");
  EXPECT_EQ(sanitize_svg("<svg><rect x=\"1", "p-"), "<svg><rect x=\"1\"></rect></svg>");
}

TEST(Pictures, Captions) {
  EXPECT_EQ(picture_caption("q3_misclassified.svg", "q3"), "misclassified");
  EXPECT_EQ(picture_caption("q3_decision_boundary-epoch_5.svg", "q3"), "decision boundary epoch 5");
  EXPECT_EQ(picture_caption("q3_.svg", "q3"), "q3_.svg");
}

TEST(Pictures, CollectedInNameOrderAndRemoved) {
  TempDir dir;
  const fs::path d = dir.path();
  write(d / "q3_b_second.svg", "<svg><circle r=\"1\" id=\"dot\"/></svg>");
  write(d / "q3_a_first.svg", "<?xml version=\"1.0\"?><svg><rect/><script>x()</script></svg>");
  write(d / "q3_not_a_picture.svg", "just text");
  write(d / "q3_notes.txt", "<svg/>");
  write(d / "q30_other.svg", "<svg/>");
  write(d / "q4_other.svg", "<svg/>");
  write(d / "q3_huge.svg", "<svg>" + std::string(kMaxPictureBytes, ' ') + "</svg>");

  const std::vector<Picture> pictures = collect_pictures(d.string(), "q3");
  ASSERT_EQ(pictures.size(), 4u);
  EXPECT_EQ(pictures[0].file_name, "q3_a_first.svg");
  EXPECT_EQ(pictures[0].caption, "a first");
  EXPECT_EQ(pictures[0].svg, "<svg><rect/></svg>");
  EXPECT_EQ(pictures[1].file_name, "q3_b_second.svg");
  EXPECT_EQ(pictures[1].svg, "<svg><circle r=\"1\" id=\"pic-q3-b-second-dot\"/></svg>");
  EXPECT_EQ(pictures[2].file_name, "q3_huge.svg");
  EXPECT_EQ(pictures[2].svg, "");
  EXPECT_CONTAINS(pictures[2].note, "too big");
  EXPECT_EQ(pictures[3].file_name, "q3_not_a_picture.svg");
  EXPECT_EQ(pictures[3].note, "not an SVG picture (no <svg> element)");

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
  EXPECT_EQ(pictures.back().svg, "");
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
  q3.pictures.push_back({"q3_misclassified.svg", "misclassified", "<svg><rect/></svg>", ""});
  q3.pictures.push_back({"q3_huge.svg", "huge", "", "the picture is too big"});

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
  EXPECT_CONTAINS(html, "<figure>\n<svg><rect/></svg>\n<figcaption>misclassified"
                        "<span class=\"file\">q3_misclassified.svg</span></figcaption>");
  EXPECT_CONTAINS(html, "<p class=\"note\">the picture is too big</p>");
  EXPECT_NOT_CONTAINS(html, "<script");
  EXPECT_NOT_CONTAINS(html, "src=");
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
