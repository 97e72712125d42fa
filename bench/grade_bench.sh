#!/usr/bin/env bash
# The student's path as a workload of `make bench` (docs/performance.md, "The student's
# path"): the whole grade of a submission, as `make grade` runs it (JOBS questions at a time),
# for the instructors' solutions and for bench/student_style (the lessons written the way a
# student coming from CS188's PyTorch project writes them: a per-pixel Convolve, loops that
# train until the validation accuracy is reached).
#
#   grade_bench.sh BUILD_DIR [REPS] [JOBS]
#
# For each submission: one grade to compile its runners (not timed), then REPS grades with
# every runner cached ("once built": what a second `make grade` costs). Then the edit loop:
# REPS times, one line added to the student's q5 file and `make grade q5`'s work (compile the
# runner again, then grade). Prints `<workload> median <s> s (min <s> max <s>)` lines, as
# ember_bench does, and the per-question medians of the cached grades.
set -euo pipefail
BUILD=$1
REPS=${2:-3}
JOBS=${3:-2}
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$BUILD/bench-grade
rm -rf "$WORK"
mkdir -p "$WORK"
# A toolchain file of its own, so the runner cache beside it starts empty and is ours alone.
cp "$BUILD/autograder/runner_toolchain.txt" "$WORK/"

# grade DIR QUESTIONS LOG: one grade, its output in LOG; prints the wall seconds.
grade() {
  local start end
  start=$(date +%s.%N)
  EMBER_MUTE=1 "$BUILD/autograder/ember_grade" --no-build --exe-dir "$BUILD/autograder" \
    --toolchain "$WORK/runner_toolchain.txt" --student-dir "$1" --questions "$2" --no-html \
    --color never --quiet --jobs "$JOBS" >"$3" 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

# median_line NAME TIMES...: the ember_bench line for these times.
median_line() {
  local name=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v name="$name" '
    { t[NR] = $1 }
    END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
          printf "%-40s median %9.3f s  (min %.3f max %.3f)\n", name, m, t[1], t[NR] }'
}

# The questions the student-style submission answers (q0-q6: the CS188 ports), for both; the
# solutions once more with every question built (q7 included).
student_questions=$(cd "$REPO/bench/student_style" && ls -d q[0-9]_* | cut -d_ -f1 | sort | paste -sd, -)
all_questions=$(cd "$BUILD/autograder" && ls grade_q* | sed 's/grade_//' | sort | paste -sd, -)
for run in "solutions $student_questions" "bench/student_style $student_questions" "solutions $all_questions"; do
  read -r submission questions <<<"$run"
  name=$([ "$submission" = solutions ] && echo solutions_grade || echo student_grade)
  grade "$REPO/$submission" "$questions" "$WORK/$name.build.txt" >/dev/null
  times=()
  rm -f "$WORK/$name".[0-9]*.txt
  for ((i = 0; i < REPS; i++)); do
    times+=("$(grade "$REPO/$submission" "$questions" "$WORK/$name.$i.txt")")
  done
  median_line "$name ($questions)" "${times[@]}"
  score=$(grep -o '^Total: [0-9]*/[0-9]*' "$WORK/$name.0.txt" || echo "Total: ?")
  per_question=$(cat "$WORK/$name".[0-9]*.txt | grep -o '^(q[0-9]: [0-9.]* s)' | tr -d '()s' |
    awk -F': ' '{ t[$1] = t[$1] " " $2 } END { for (q in t) print q, t[q] }' | sort |
    while read -r q rest; do
      printf '%s %s  ' "$q" "$(printf '%s\n' $rest | sort -g | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')"
    done)
  echo "    $score; per question (median s, questions run $JOBS at a time): $per_question"
done

# The edit loop: a changed q5 file compiles its runner again, then grades.
edited=$WORK/edited
cp -r "$REPO/bench/student_style" "$edited"
times=()
for ((i = 0; i < REPS; i++)); do
  echo "// edit $i" >>"$edited/q5_convolution/convolution.hpp"
  times+=("$(grade "$edited" q5 "$WORK/edit.$i.txt")")
done
median_line "student_edit_then_grade_q5" "${times[@]}"
