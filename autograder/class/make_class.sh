#!/usr/bin/env bash
# Generates a class of submissions for ember_grade_class: the workload of `make bench-class`
# and the submissions of its test. Usage:
#
#   make_class.sh REPO OUT N     N submissions in OUT, cycling through: a copy of the
#                                solutions (60%), the stubs (20%), the solutions with one
#                                question that does not compile (20%, a different one each
#                                time), in the layouts students hand in (lessons/ contents, a
#                                GitHub Classroom clone with lessons/, loose files in a zip)
#
# Every file of every submission gets a comment naming its student, so no two submissions
# are the same bytes: the driver's runner cache cannot make a copy free, as it could not in a
# real class.
set -euo pipefail
REPO=$1
OUT=$2
N=$3
CMAKE=${CMAKE:-cmake}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
lessons=(q0_shapes q1_perceptron q2_regression q3_digits q4_language_id q5_convolution q6_attention q7_gpt)

# copy_tree SRC DEST STUDENT [BROKEN_LESSON]: SRC's lesson folders into DEST, each file tagged.
copy_tree() {
  local src=$1 dest=$2 student=$3 broken=${4:-} lesson file
  for lesson in "${lessons[@]}"; do
    mkdir -p "$dest/$lesson"
    for file in "$src/$lesson"/*; do
      [ -f "$file" ] || continue
      { cat "$file"; printf '\n// handed in by %s\n' "$student"; } >"$dest/$lesson/$(basename "$file")"
      if [ "$lesson" = "$broken" ]; then
        printf 'this line is not C++ (%s)\n' "$student" >>"$dest/$lesson/$(basename "$file")"
      fi
    done
  done
}

for ((i = 0; i < N; i++)); do
  student=$(printf 'student%03d' "$i")
  case $((i % 5)) in
    0 | 1 | 2)  # the solutions; layouts: lessons/ contents, a GitHub Classroom clone, a zip
      case $((i % 3)) in
        0) copy_tree "$REPO/solutions" "$OUT/$student" "$student" ;;
        1) copy_tree "$REPO/solutions" "$OUT/$student/course-repo/lessons" "$student" ;;
        2)
          tmp=$(mktemp -d)
          copy_tree "$REPO/solutions" "$tmp" "$student"
          (cd "$tmp" && "$CMAKE" -E tar cf "$OUT/$student.zip" --format=zip -- */*.hpp)
          rm -rf "$tmp"
          ;;
      esac
      ;;
    3) copy_tree "$REPO/lessons" "$OUT/$student/lessons" "$student" ;;
    4) copy_tree "$REPO/solutions" "$OUT/$student" "$student" "${lessons[$((i / 5 % 7))]}" ;;
  esac
done
