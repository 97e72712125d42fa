#!/usr/bin/env bash
# The HTML grade report in a real browser: ember_grade grades the fake questions (one of
# them draws SVG pictures, one of which is hostile), then headless Chromium loads
# grade-report.html. The test checks that the page loads, that it logs nothing to the console
# (the page's Content-Security-Policy turns any script or outside resource into a console
# error), that the rendered DOM shows every question and the pictures as images, and it takes
# a screenshot (OUT_DIR/grade-report.png, kept for a look).
#
# Then it shows that the pictures are inert because they are images, not because of the
# page's CSP: the hostile picture (a script and an onload handler that mark the page and ask
# for a URL, an <image> from outside) is embedded byte for byte, decodes to a 240x120 image,
# and, in the report with its CSP removed, neither marks the page nor makes Chromium ask for
# anything (its network log). A control page with the same picture inlined as markup must
# show both marks and the requests, so the detectors are known to work in this browser.
#
# usage: browser_test.sh EMBER_GRADE FAKES_DIR OUT_DIR
# The browser: $EMBER_CHROMIUM, else chromium, chromium-browser or google-chrome in PATH.
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 EMBER_GRADE FAKES_DIR OUT_DIR" >&2
  exit 2
fi
grade=$1
fakes=$2
out=$3
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

browser=${EMBER_CHROMIUM:-}
if [ -z "$browser" ]; then
  for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
      browser=$(command -v "$candidate")
      break
    fi
  done
fi
if [ -z "$browser" ] || ! [ -x "$browser" ]; then
  echo "FAIL: Chromium is not installed, and this test opens the HTML grade report in it."
  echo "Install it with:"
  echo "  sudo apt-get update && sudo apt-get install -y chromium"
  echo "(\`make test\` installs it when run as root), or point EMBER_CHROMIUM at a Chromium."
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/exe" "$out/pictures" || exit 1
# q4 and q7 have no program: they show up as failed questions too, worth nothing (their points
# are their checkers', and there are none), so the total is out of 32.
ln -s "$fakes/fake_pass_q0" "$out/exe/grade_q0"
ln -s "$fakes/fake_notimpl_q1" "$out/exe/grade_q1"
ln -s "$fakes/fake_segv_q2" "$out/exe/grade_q2"
ln -s "$fakes/fake_protocol_q3" "$out/exe/grade_q3"
ln -s "$fakes/fake_pictures_q5" "$out/exe/grade_q5"
ln -s "$fakes/fake_hang_q6" "$out/exe/grade_q6"

html=$out/grade-report.html
EMBER_GRADE_TIMEOUT_SCALE=0.03 "$grade" --no-build --exe-dir "$out/exe" --pictures-dir "$out/pictures" \
  --html "$html" --color never --no-timings >"$out/report.txt" 2>"$out/ember_grade.log"
status=$?
[ $status -eq 0 ] || fail "ember_grade exited with status $status: $(cat "$out/ember_grade.log")"
[ -s "$html" ] || { fail "ember_grade wrote no $html"; exit 1; }
grep -q "^HTML report: $html\$" "$out/report.txt" || fail "the text report does not end with the HTML report's path"

file_url() { printf 'file://%s' "$(printf '%s' "$1" | sed 's/%/%25/g; s/ /%20/g; s/#/%23/g')"; }
url=$(file_url "$html")
chrome() {
  timeout 120 "$browser" --headless --disable-gpu --no-sandbox --disable-dev-shm-usage \
    --no-first-run --no-default-browser-check --disable-extensions --hide-scrollbars \
    --user-data-dir="$out/profile" --enable-logging=stderr --v=0 "$@"
}

chrome --dump-dom "$url" >"$out/dom.html" 2>"$out/chromium-dom.log"
status=$?
if [ $status -ne 0 ] || ! [ -s "$out/dom.html" ]; then
  fail "Chromium could not load the report (status $status); its log:"
  tail -n 20 "$out/chromium-dom.log"
  exit 1
fi

# Console messages: script errors, blocked scripts or resources (the page's CSP), ...
if grep -E ':CONSOLE[:(]' "$out/chromium-dom.log" >"$out/console.log"; then
  fail "the page logged to the browser console:"
  cat "$out/console.log"
fi

# The DOM as the browser built it.
for question in q0 q1 q2 q3 q4 q5 q6 q7; do
  grep -q "<h2>Question $question <span" "$out/dom.html" || fail "the page has no heading for Question $question"
  grep -q ">Question $question</a>" "$out/dom.html" || fail "the summary table has no row for Question $question"
done
for expected in \
  "Provisional grade: <strong>20/32</strong>" \
  "<figcaption>feature maps<span class=\"file\">q5_feature_maps.svg</span></figcaption>" \
  "exception: q1: PerceptronModel::get_prediction is not implemented" \
  "crashed with signal SIGSEGV" \
  "grade_q4 not found in"; do
  grep -qF "$expected" "$out/dom.html" || fail "the page does not show: $expected"
done
[ "$(grep -o '<img src="data:image/svg+xml;base64,' "$out/dom.html" | wc -l)" -eq 2 ] ||
  fail "the page should hold exactly the 2 pictures of q5, as images"
if grep -qiE '<svg|<script|alert\(|example\.invalid|data-ran' "$out/dom.html"; then
  fail "the markup of a picture is in the page, or something in it ran"
fi

# A screenshot, to look at.
rm -f "$out/grade-report.png"
chrome --screenshot="$out/grade-report.png" --window-size=1100,2600 "$url" \
  >"$out/chromium-screenshot.log" 2>&1
if ! [ -s "$out/grade-report.png" ] || [ "$(head -c 4 "$out/grade-report.png" | od -An -c | tr -d ' ')" != '211PNG' ]; then
  fail "Chromium took no screenshot; its log:"
  tail -n 20 "$out/chromium-screenshot.log"
elif [ "$(wc -c <"$out/grade-report.png")" -lt 20000 ]; then
  fail "the screenshot is suspiciously small (a blank page?)"
fi

# ---- the pictures are inert as images, whatever the CSP ---------------------------------
# The hostile picture, byte for byte in the page.
hostile=$(base64 -w0 "$out/pictures/q5_feature_maps.svg")
grep -qF "src=\"data:image/svg+xml;base64,$hostile\"" "$html" ||
  fail "the report does not hold q5_feature_maps.svg byte for byte as a data: URL"
# It is a picture a browser shows: an image that holds nothing is trivially inert.
{
  printf '<!DOCTYPE html>\n<html><body><img id="picture" src="data:image/svg+xml;base64,%s">\n' "$hostile"
  printf '<script>\nconst picture = document.getElementById("picture");\n'
  printf 'const size = () => document.body.setAttribute("data-decoded", picture.naturalWidth + "x" + picture.naturalHeight);\n'
  printf 'if (picture.complete) size(); else picture.onload = picture.onerror = size;\n</script>\n</body></html>\n'
} >"$out/decode.html"
chrome --dump-dom "$(file_url "$out/decode.html")" >"$out/decode-dom.html" 2>"$out/chromium-decode.log"
grep -q 'data-decoded="240x120"' "$out/decode-dom.html" ||
  fail "the hostile picture does not decode to a 240x120 image: $(grep -o 'data-decoded="[^"]*"' "$out/decode-dom.html")"

# The report without its CSP, and a control page with the picture inlined as markup.
# A line of the network log that names example.invalid is a request the picture made.
inert_or_not() {  # NAME HTML: loads it, leaves NAME-dom.html and NAME-netlog.json
  rm -rf "$out/profile-$1"
  timeout 120 "$browser" --headless --disable-gpu --no-sandbox --disable-dev-shm-usage \
    --no-first-run --no-default-browser-check --disable-extensions --hide-scrollbars \
    --user-data-dir="$out/profile-$1" --log-net-log="$out/$1-netlog.json" \
    --dump-dom "$(file_url "$2")" >"$out/$1-dom.html" 2>"$out/chromium-$1.log"
  [ -s "$out/$1-dom.html" ] && [ -s "$out/$1-netlog.json" ] ||
    fail "Chromium could not load $2 or wrote no network log (see $out/chromium-$1.log)"
}
grep -v 'Content-Security-Policy' "$html" >"$out/report-without-csp.html"
grep -q 'Content-Security-Policy' "$out/report-without-csp.html" && fail "the CSP is still in report-without-csp.html"
inert_or_not without-csp "$out/report-without-csp.html"
if grep -q 'data-ran' "$out/without-csp-dom.html"; then
  fail "a picture's script or handler ran in the report without CSP: $(grep -o 'data-ran[a-z-]*' "$out/without-csp-dom.html" | sort -u | tr '\n' ' ')"
fi
if grep -q 'example\.invalid' "$out/without-csp-netlog.json"; then
  fail "the report without CSP made requests for a picture: $(grep -o 'example\.invalid/[a-z-]*\.png' "$out/without-csp-netlog.json" | sort -u | tr '\n' ' ')"
fi

{
  printf '<!DOCTYPE html>\n<html><body>\n'
  cat "$out/pictures/q5_feature_maps.svg"
  printf '</body></html>\n'
} >"$out/control-inlined.html"
inert_or_not control "$out/control-inlined.html"
for mark in data-ran-script data-ran-onload; do
  grep -q "$mark=\"yes\"" "$out/control-dom.html" ||
    fail "control: the picture inlined as markup did not set $mark, so the check above proves nothing"
done
for request in script-ran onload-ran tracker; do
  grep -q "example\.invalid/$request\.png" "$out/control-netlog.json" ||
    fail "control: the picture inlined as markup made no request for $request.png, so the check above proves nothing"
done

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed; the files are in $out"
  exit 1
fi
echo "The HTML report loads in $("$browser" --version 2>/dev/null | head -n 1) and shows every question;"
echo "a hostile picture shown as an image runs nothing and loads nothing; screenshot: $out/grade-report.png"
exit 0
