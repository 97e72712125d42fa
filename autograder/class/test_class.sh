#!/usr/bin/env bash
# The test of ember_grade_class (CTest: autograder.grade_class): grades a small generated class
# with the real driver and checkers (q0 and q1 only, to stay fast), and checks the gradebook's
# totals and statuses, the class page, the reports, an interrupted run resumed, a re-run that
# skips unchanged submissions and regrades a changed one, and two shards merged (plus a merge
# that must be refused and one with a missing shard).
#
# Usage: test_class.sh EMBER_GRADE_CLASS BUILD_DIR WORK_DIR REPO_ROOT
set -uo pipefail
CLASS=$1
BUILD=$2
WORK=$3
REPO=$4
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# row STUDENT [DIR]: the student's gradebook row, as written (first cell matched exactly).
row() { grep -F -- "$1," "${2:-$WORK/out}/gradebook.csv" | head -n 1; }
expect_row() {  # STUDENT EXPECTED_PREFIX_AFTER_NAME [DIR]
  local got
  got=$(row "$1" "${3:-}")
  case $got in
    "$1,$2"*) ;;
    *) fail "gradebook row of $1: expected '$1,$2...', got '$got'" ;;
  esac
}
grade() { "$CLASS" --build-dir "$BUILD" --questions q0,q1 --jobs 2 "$@"; }

rm -rf "$WORK"
mkdir -p "$WORK/subs"
S=$WORK/subs
# alice: the solutions, laid out like lessons/. "=frank": the same files (a name a spreadsheet
# would take for a formula). bob: the stubs in a GitHub Classroom-like clone. carol: q0 does
# not compile. José Núñez: q0 and q1's files loose in a zip. dave.zip: not a zip. erin and
# erin.zip: one name twice. empty: nothing. notes.txt: not a submission.
mkdir -p "$S/alice" "$S/=frank" "$S/bob/repo" "$S/carol" "$S/empty" "$S/erin"
cp -R "$REPO/solutions/q0_shapes" "$REPO/solutions/q1_perceptron" "$S/alice/"
cp -R "$S/alice/." "$S/=frank/"
cp -R "$REPO/lessons" "$S/bob/repo/lessons"
cp -R "$S/alice/." "$S/carol/"
echo 'this is not C++' >>"$S/carol/q0_shapes/tensor_shapes.hpp"
tmp=$WORK/zip
mkdir -p "$tmp"
cp "$REPO/solutions/q0_shapes/tensor_shapes.hpp" "$REPO/solutions/q1_perceptron/perceptron.hpp" "$tmp/"
(cd "$tmp" && cmake -E tar cf "$S/José Núñez.zip" --format=zip tensor_shapes.hpp perceptron.hpp) ||
  fail "cannot make the zip"
# A folder named like José Núñez's report ("José_Núñez-" and a hash of his name), with the
# solutions laid out like lessons/: each must keep a report of its own.
jose_stem="José_Núñez-$(printf '%s' 'José Núñez' | sha256sum | cut -c1-8)"
mkdir -p "$S/$jose_stem"
cp -R "$S/alice/." "$S/$jose_stem/"
printf 'PK\003\004 and then not a zip' >"$S/dave.zip"  # a zip's first bytes, then garbage
# hank.zip: a tar file named .zip (cmake -E tar would read it): refused as not a zip.
(cd "$tmp" && cmake -E tar cf "$S/hank.zip" perceptron.hpp) || fail "cannot make hank.zip"
# gus.zip: the solutions and 129 MiB of zeros (a zip of a few hundred KiB): refused before
# it is unpacked.
cp "$REPO/solutions/q1_perceptron/perceptron.hpp" "$tmp/"
head -c $((129 << 20)) /dev/zero >"$tmp/zeros.bin"
(cd "$tmp" && cmake -E tar cf "$S/gus.zip" --format=zip perceptron.hpp zeros.bin) || fail "cannot make gus.zip"
rm -f "$tmp/zeros.bin"
cp -R "$S/alice/." "$S/erin/"
(cd "$tmp" && cmake -E tar cf "$S/erin.zip" --format=zip tensor_shapes.hpp)
echo 'a note' >"$S/notes.txt"

# 1. Interrupted as soon as the first record is written (the bad zip and the duplicate come
#    at once): nothing half-written, and the next run resumes.
grade --submissions "$S" --out "$WORK/out" >"$WORK/run0.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  compgen -G "$WORK/out/records/*.record" >/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || [ "$rc" = 0 ] || fail "the interrupted run exited with $rc"
[ "$rc" = 130 ] && ! grep -q 'not graded yet' "$WORK/out/gradebook.csv" &&
  fail "an interrupted run's gradebook should list the students not graded yet"
ls "$WORK/out/records" | grep -q partial && fail "a half-written record was left behind"

# 2. The run that resumes it.
grade --submissions "$S" --out "$WORK/out" >"$WORK/run1.log" 2>&1 || fail "ember_grade_class exited with $?"
cat "$WORK/run1.log"
expect_row alice "4,6,10,10,graded,sandbox,"
expect_row "'=frank" "4,6,10,10,graded,"
expect_row bob "0,0,0,10,graded,"
expect_row carol "0,6,6,10,does not compile,"
expect_row "José Núñez" "4,6,10,10,graded,"
expect_row "$jose_stem" "4,6,10,10,graded,"
expect_row dave ",,0,,bad zip,"
expect_row gus ",,0,,bad zip,"
expect_row hank ",,0,,bad zip,"
expect_row erin ",,0,,duplicate name,"
expect_row empty ",,0,,no lesson files,"
[ "$(wc -l <"$WORK/out/gradebook.csv")" = 12 ] || fail "the gradebook should have a header and 11 rows"
grep -q 'notes.txt: skipped, not a folder or a .zip' "$WORK/run1.log" || fail "notes.txt was not reported"
grep -q 'the folder is empty' "$WORK/out/gradebook.csv" || fail "no reason for the empty folder"
grep -q 'erin and erin.zip both belong to erin' "$WORK/out/gradebook.csv" || fail "no reason for the duplicate"
grep -q 'dave.zip: it does not unpack' "$WORK/out/gradebook.csv" || fail "no reason for the bad zip"
grep -q 'gus.zip: it would unpack to more than 128 MiB' "$WORK/out/gradebook.csv" || fail "no reason for the zip bomb"
grep -q 'hank.zip: it is not a zip file' "$WORK/out/gradebook.csv" || fail "no reason for the tar file"
head -n 1 "$WORK/out/reports/alice.txt" | grep -q '^Files graded' || fail "alice's report lacks the files graded"
grep -q '^Protection: sandbox' "$WORK/out/reports/alice.txt" || fail "alice's report lacks the protection line"
grep -q 'q0_shapes/tensor_shapes.hpp *<- tensor_shapes.hpp' "$WORK/out/reports/"José*.txt ||
  fail "the zip's loose file was not collected"
[ -f "$WORK/out/reports/alice.html" ] || fail "no HTML report for alice"
grep -q 'q0_shapes/tensor_shapes.hpp *<- tensor_shapes.hpp' "$WORK/out/reports/$jose_stem.txt" ||
  fail "José Núñez's report ($jose_stem.txt) is not his"
grep -l 'q0_shapes/tensor_shapes.hpp *<- q0_shapes/tensor_shapes.hpp' "$WORK/out/reports/$jose_stem"-*.txt >/dev/null ||
  fail "the folder $jose_stem has no report of its own"

page=$WORK/out/class.html
grep -q '<script' "$page" && fail "the class page has a script"
grep -q 'José Núñez' "$page" || fail "the class page lacks José Núñez"
grep -q '=frank' "$page" || fail "the class page lacks =frank"
grep -q 'q0.broadcast_shape_matches_engine: failed by 2 of 6 students' "$page" ||
  fail "the class page does not count q0.broadcast_shape_matches_engine's failures (bob, carol)"
grep -q 'the code for q0 does not compile' "$page" || fail "the class page lacks the compile failure's message"
grep -q '<h2>Points per question</h2>' "$page" || fail "no distribution of points"
grep -q '<h2>Slowest submissions</h2>' "$page" || fail "no slowest submissions"
grep -q 'dave.zip: it does not unpack' "$page" || fail "the class page lacks the bad zip's line"

# 3. Nothing changed: every single-entry submission is skipped. Then carol fixes q0.
grade --submissions "$S" --out "$WORK/out" >"$WORK/run2.log" 2>&1 || fail "the re-run exited with $?"
grep -q 'graded 1, skipped 10 unchanged' "$WORK/run2.log" || fail "the re-run did not skip the 10 unchanged: $(tail -n 1 "$WORK/run2.log")"
cp "$REPO/solutions/q0_shapes/tensor_shapes.hpp" "$S/carol/q0_shapes/"
grade --submissions "$S" --out "$WORK/out" >"$WORK/run3.log" 2>&1 || fail "the third run exited with $?"
grep -q 'graded 2, skipped 9 unchanged' "$WORK/run3.log" || fail "carol's change was not regraded: $(tail -n 1 "$WORK/run3.log")"
expect_row carol "4,6,10,10,graded,"

# The runs above were given no seed: the first drew one and kept it, for its owner's eyes only.
[ -f "$WORK/out/grading_seed" ] || fail "no grading_seed was kept in the output folder"
[ "$(stat -c %a "$WORK/out/grading_seed")" = 600 ] || fail "grading_seed is readable by others"
grep -q 'drew one at random' "$WORK/run1.log" && fail "the second run drew another seed"
seed=$(cat "$WORK/out/grading_seed")

# 4. Two shards, one after the other, merged: the same rows as the whole class. Shards need
# the seed given (each would draw its own).
grade --submissions "$S" --out "$WORK/shard0" --shard 1/2 >"$WORK/shard0.log" 2>&1 &&
  fail "a shard without a seed was graded"
grep -q 'must use the same grading seed' "$WORK/shard0.log" || fail "no reason for refusing a shard without a seed"
grade --submissions "$S" --out "$WORK/shard1" --shard 1/2 --seed "$seed" >"$WORK/shard1.log" 2>&1 ||
  fail "shard 1 exited with $?"
grade --submissions "$S" --out "$WORK/shard2" --shard 2/2 --seed "$seed" >"$WORK/shard2.log" 2>&1 ||
  fail "shard 2 exited with $?"
"$CLASS" --merge --out "$WORK/merged" "$WORK/shard1" "$WORK/shard2" >"$WORK/merge.log" 2>&1 || fail "the merge exited with $?"
strip() { cut -d, -f1-7 "$1" | sort; }  # student, q0, q1, total, max, status, protection
diff <(strip "$WORK/out/gradebook.csv") <(strip "$WORK/merged/gradebook.csv") >/dev/null ||
  fail "the merged gradebook differs from the whole class's: $(diff <(strip "$WORK/out/gradebook.csv") <(strip "$WORK/merged/gradebook.csv"))"
[ -f "$WORK/merged/reports/alice.txt" ] || fail "the merge did not bring alice's report"
grep -q 'failed by' "$WORK/merged/class.html" || fail "the merged class page lacks the failed checks"
"$CLASS" --merge --out "$WORK/merged2" "$WORK/shard1" "$WORK/shard1" >"$WORK/overlap.log" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'graded by more than one shard' "$WORK/overlap.log" || fail "an overlapping merge was not refused (exit $rc)"
[ -e "$WORK/merged2/gradebook.csv" ] && fail "a refused merge wrote a gradebook"
# A shard graded with another seed is not merged.
grade --submissions "$S" --out "$WORK/shard2b" --shard 2/2 --seed 12345 >"$WORK/shard2b.log" 2>&1 ||
  fail "shard 2b exited with $?"
"$CLASS" --merge --out "$WORK/merged4" "$WORK/shard1" "$WORK/shard2b" >"$WORK/seeds.log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q 'were graded with different seeds' "$WORK/seeds.log" ||
  fail "shards of two seeds were merged (exit $rc): $(cat "$WORK/seeds.log")"
[ -e "$WORK/merged4/gradebook.csv" ] && fail "a refused merge wrote a gradebook"
"$CLASS" --merge --out "$WORK/merged3" "$WORK/shard1" >"$WORK/missing.log" 2>&1
rc=$?
[ "$rc" = 3 ] && grep -q 'missing' "$WORK/missing.log" || fail "a merge without shard 2 did not report the missing students (exit $rc)"

# 5. A newcomer, "Alice", whose name differs from alice's only in case and sorts before it: alice
# keeps her reports and her record (not regraded), the newcomer gets a stem of her own.
cp -R "$S/alice" "$S/Alice"
grade --submissions "$S" --out "$WORK/out" >"$WORK/run4.log" 2>&1 || fail "the fourth run exited with $?"
grep -q 'graded 2, skipped 10 unchanged' "$WORK/run4.log" ||
  fail "alice was regraded when Alice came: $(tail -n 1 "$WORK/run4.log")"
ls "$WORK/out/reports" | grep -q '^alice-' && fail "alice's reports moved: $(ls "$WORK/out/reports")"
ls "$WORK/out/records" | grep -q '^alice-' && fail "alice's record moved: $(ls "$WORK/out/records")"
ls "$WORK/out/reports" | grep -q '^Alice-[0-9a-f]\{16\}\.txt$' ||
  fail "Alice has no report of her own: $(ls "$WORK/out/reports")"
expect_row Alice "4,6,10,10,graded,"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
