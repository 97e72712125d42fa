#!/usr/bin/env bash
# Makes the zip to upload to Gradescope (`make gradescope`): setup.sh and run_autograder at
# the top, beside the course source the grader builds: CMakeLists.txt, README.md, cmake/,
# engine/, course/, autograder/ (without its tests), datasets/, and lessons/ (the stubs,
# which stand in for lesson files a submission leaves out). Never solutions/ (students
# can download what an autograder contains) and never build trees.
#
# Usage: autograder/gradescope/package.sh OUTPUT.zip
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTPUT.zip" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
output=$1
case $output in
  /*) ;;
  *) output=$PWD/$output ;;
esac
CMAKE=${CMAKE:-cmake}
command -v "$CMAKE" >/dev/null || {
  echo "package.sh: cmake is needed to write the zip (sudo apt-get install -y cmake)" >&2
  exit 1
}

contents=(CMakeLists.txt README.md cmake engine course autograder datasets lessons)
for item in "${contents[@]}"; do
  [ -e "$repo/$item" ] || { echo "package.sh: $repo/$item is missing" >&2; exit 1; }
done
for lesson in "$repo"/lessons/q*_*/; do
  [ -d "$lesson" ] || { echo "package.sh: $repo/lessons has no lessons" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/ember_gradescope.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# tar keeps modification times, so a build tree made from an unpacked zip stays incremental.
tar -C "$repo" -cf - \
  --exclude='build' --exclude='build-*' --exclude='.git' --exclude='__pycache__' \
  --exclude='*.o' --exclude='*.pyc' --exclude='.DS_Store' --exclude='*.swp' \
  --exclude='autograder/tests' --exclude='autograder/gradescope' \
  "${contents[@]}" | tar -C "$stage" -xf -
cp -p "$here/setup.sh" "$here/run_autograder" "$stage/"
chmod 755 "$stage/setup.sh" "$stage/run_autograder"
# The grading seed (make gradescope SEED=N): the checkers draw their inputs from it, and no
# student sees it (the zip is the instructor's; the runner never gets the seed). Without one, a
# random seed: a small one could be found by trying seeds until one draws the inputs a check
# sends (checker_seed in grading.h). (The first 18 digits of a random 64-bit number: below 2^63,
# and about 2^59 possibilities.)
seed=${EMBER_GRADING_SEED:-}
if [ -z "$seed" ]; then
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' \n')
  seed=${seed:0:18}
  echo "package.sh: no SEED given: drew a random grading seed (it is in the zip only: unzip -p ZIP grading_seed)"
fi
case $seed in
  ''|*[!0-9]*) echo "package.sh: the seed must be a whole number, got '$seed'" >&2; exit 2 ;;
esac
printf '%s\n' "$seed" >"$stage/grading_seed"
chmod 600 "$stage/grading_seed"
extra=(grading_seed)

if [ -n "$(find "$stage" -name solutions -print -quit)" ]; then
  echo "package.sh: refusing to ship a solutions folder" >&2
  exit 1
fi

mkdir -p "$(dirname "$output")"
rm -f "$output"
(cd "$stage" && LC_ALL=C "$CMAKE" -E tar cf "$output" --format=zip -- setup.sh run_autograder \
  "${extra[@]}" "${contents[@]}")
echo "Wrote $output ($(du -h "$output" | cut -f1)): upload it to Gradescope as the autograder."
