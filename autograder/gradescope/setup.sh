#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (the zip is
# unpacked in /autograder/source). It installs what Ember needs to build (the same package
# names on Debian and on Ubuntu, Gradescope's base image), then builds the engine and the
# grading driver in advance so that each submission only compiles its own code.
# See docs/instructors.md, "Grading on Gradescope".
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  cmake g++ make libgtest-dev libfmt-dev zlib1g-dev bubblewrap

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The grading seed, if the zip has one, is for root's eyes only.
[ -f "$here/grading_seed" ] && chmod 600 "$here/grading_seed"
chmod +x "$here/run_autograder"
# The source is wherever this script is (Gradescope: /autograder/source).
EMBER_GRADESCOPE_SOURCE=${EMBER_GRADESCOPE_SOURCE:-$here} bash "$here/run_autograder" --prebuild
