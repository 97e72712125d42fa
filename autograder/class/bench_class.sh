#!/usr/bin/env bash
# The class workload of `make bench-class` (docs/performance.md, "Grading a class"): grades a
# generated class of N submissions (make_class.sh: copies of the solutions, the stubs, one
# question that does not compile; every file unique, so no compiled runner is reused) with
# ember_grade_class, and says where one submission's time goes: the driver grading the
# solutions with an empty runner cache (compile and run), then again with every runner cached
# (run only: training and checks), per question.
#
# Usage: bench_class.sh BUILD_DIR WORK_DIR N JOBS
set -euo pipefail
BUILD=$1
WORK=$2
N=$3
JOBS=$4
REPO=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK"
mkdir -p "$WORK"

echo "== one submission (the solutions), alone: compile + run, then run only (runners cached)"
mkdir -p "$WORK/alone"
cp "$BUILD/autograder/runner_toolchain.txt" "$WORK/alone/"
for pass in compile+run run-only; do
  start=$(date +%s.%N)
  EMBER_MUTE=1 "$BUILD/autograder/ember_grade" --no-build --exe-dir "$BUILD/autograder" \
    --toolchain "$WORK/alone/runner_toolchain.txt" --student-dir "$REPO/solutions" --no-html \
    --color never --quiet --jobs 1 >"$WORK/alone/$pass.txt"
  end=$(date +%s.%N)
  printf '%-12s total %6.1f s   ' "$pass" "$(echo "$end - $start" | bc)"
  grep -o '^(q[0-9]: [0-9.]* s)' "$WORK/alone/$pass.txt" | tr -d '()' | tr '\n' ' '
  echo
done

echo "== the class: $N submissions, $JOBS at a time"
bash "$REPO/autograder/class/make_class.sh" "$REPO" "$WORK/submissions" "$N"
start=$(date +%s.%N)
"$BUILD/autograder/ember_grade_class" --build-dir "$BUILD" --submissions "$WORK/submissions" \
  --out "$WORK/out" --jobs "$JOBS" >"$WORK/class.log"
end=$(date +%s.%N)
tail -n 1 "$WORK/class.log"
wall=$(echo "$end - $start" | bc)
# Per status: how many, mean seconds (columns: student, q0..q7, total, max, status, protection, seconds).
awk -F, 'NR > 1 { n[$12]++; s[$12] += $14 } END { for (k in n) printf "  %-18s %3d submissions, %5.1f s each\n", k, n[k], s[k] / n[k] }' \
  "$WORK/out/gradebook.csv"
printf 'class of %d graded in %.0f s (%.1f min); %.1f s per submission; target 900 s for 100\n' \
  "$N" "$wall" "$(echo "$wall / 60" | bc -l)" "$(echo "$wall / $N" | bc -l)"
