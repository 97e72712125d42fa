// Fake question for the driver tests that draws pictures into EMBER_PICTURES_DIR (no
// harness, the protocol by hand): q5_feature_maps.svg, a well-formed picture that also holds
// what must never reach the report's page (a script, event handlers, a javascript: link and
// an outside image; the script and the onload handler mark the page and ask for a URL, so
// browser_test.sh sees whether they ran), and q5_activations.svg. Its check passes only when
// the driver removed an old picture (q5_stale.svg) before the run.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

bool write_file(const std::string& path, const char* text) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return false;
  std::fputs(text, out);
  return std::fclose(out) == 0;
}

}  // namespace

int main() {
  // The driver passes its results file as an open descriptor (EMBER_GRADE_RESULTS_FD).
  const char* fd = std::getenv("EMBER_GRADE_RESULTS_FD");
  if (fd == nullptr) return 2;
  std::FILE* out = fdopen(std::atoi(fd), "w");
  if (out == nullptr) return 2;
  std::fputs("ember-grade\t1\nplan\tq5\tdraws_pictures\t4\nstart\tq5\tdraws_pictures\t4\n", out);

  const char* dir = std::getenv("EMBER_PICTURES_DIR");
  std::string verdict = "PASS\tdrew 2 pictures";
  if (dir == nullptr || *dir == '\0') {
    verdict = "FAIL\tEMBER_PICTURES_DIR is not set";
  } else if (std::FILE* stale = std::fopen((std::string(dir) + "/q5_stale.svg").c_str(), "r")) {
    std::fclose(stale);
    verdict = "FAIL\tthe old picture q5_stale.svg is still there";
  } else {
    const bool ok =
        write_file(std::string(dir) + "/q5_feature_maps.svg",
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"120\" "
                   "viewBox=\"0 0 240 120\" onload=\"document.documentElement.setAttribute("
                   "'data-ran-onload', 'yes'); new Image().src = "
                   "'http://example.invalid/onload-ran.png'\">\n"
                   "<script><![CDATA[if (1 < 2) { document.documentElement.setAttribute("
                   "'data-ran-script', 'yes'); new Image().src = "
                   "'http://example.invalid/script-ran.png'; }]]></script>\n"
                   "<defs><linearGradient id=\"ramp\"><stop offset=\"0\" stop-color=\"#fde725\"/>"
                   "<stop offset=\"1\" stop-color=\"#440154\"/></linearGradient></defs>\n"
                   "<rect x=\"0\" y=\"0\" width=\"240\" height=\"120\" fill=\"url(#ramp)\"/>\n"
                   "<a href=\"javascript:alert(1)\"><circle cx=\"60\" cy=\"60\" r=\"30\" "
                   "fill=\"#ffffff\" onclick=\"alert(2)\"/></a>\n"
                   "<image href=\"http://example.invalid/tracker.png\" width=\"1\" height=\"1\"/>\n"
                   "<text x=\"120\" y=\"66\" font-size=\"16\">feature map &amp; filter</text>\n"
                   "</svg>\n") &&
        write_file(std::string(dir) + "/q5_activations.svg",
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"120\" "
                   "viewBox=\"0 0 12 12\"><rect width=\"6\" height=\"6\" fill=\"#3b528b\"/>"
                   "<rect x=\"6\" y=\"6\" width=\"6\" height=\"6\" fill=\"#21918c\"/></svg>\n");
    if (!ok) verdict = "FAIL\tcannot write the pictures";
  }
  const std::string earned = verdict.compare(0, 4, "PASS") == 0 ? "4" : "0";
  std::fputs(("check\tq5\tdraws_pictures\t" + earned + "\t4\t" + verdict + "\n").c_str(), out);
  std::fputs("done\n", out);
  std::fclose(out);
  return 0;
}
