#!/usr/bin/env bash
# The HTML grade report in a real browser: ember_grade grades the fake questions (one of
# them draws SVG pictures), then headless Chromium loads grade-report.html. The test checks
# that the page loads, that it logs nothing to the console (the page's Content-Security-
# Policy turns any script or outside resource into a console error), that the rendered DOM
# shows every question and the picture, and it takes a screenshot (OUT_DIR/grade-report.png,
# kept for a look).
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
# q4 has no program: it shows up as a failed question too, worth nothing (its points are
# its checker's, and there is none), so the total is out of 32.
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

url="file://$(printf '%s' "$html" | sed 's/%/%25/g; s/ /%20/g; s/#/%23/g')"
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
for question in q0 q1 q2 q3 q4 q5 q6; do
  grep -q "<h2>Question $question <span" "$out/dom.html" || fail "the page has no heading for Question $question"
  grep -q ">Question $question</a>" "$out/dom.html" || fail "the summary table has no row for Question $question"
done
for expected in \
  "Provisional grade: <strong>20/32</strong>" \
  "<figcaption>feature maps<span class=\"file\">q5_feature_maps.svg</span></figcaption>" \
  "feature map &amp; filter</text>" \
  "exception: q1: PerceptronModel::get_prediction is not implemented" \
  "crashed with signal SIGSEGV" \
  "grade_q4 not found in"; do
  grep -qF "$expected" "$out/dom.html" || fail "the page does not show: $expected"
done
[ "$(grep -o '<svg' "$out/dom.html" | wc -l)" -eq 2 ] || fail "the page should hold exactly the 2 pictures of q5"
if grep -qiE '<script|alert\(|example\.invalid' "$out/dom.html"; then
  fail "something the sanitiser should have removed is in the page"
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

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed; the files are in $out"
  exit 1
fi
echo "The HTML report loads in $("$browser" --version 2>/dev/null | head -n 1) and shows every question; screenshot: $out/grade-report.png"
exit 0
