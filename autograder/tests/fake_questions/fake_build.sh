#!/bin/sh
# A stand-in for `cmake --build` in the driver tests (ember_grade --build-command):
# "building" grade_q4 compiles a source file with an error, every other target builds.
# usage: fake_build.sh TARGET CXX BROKEN_SOURCE
target=$1
cxx=$2
broken=$3
echo "[ 50%] Building CXX object autograder/CMakeFiles/$target.dir/questions/fake.cpp.o"
if [ "$target" = grade_q4 ]; then
  if ! "$cxx" -fsyntax-only -x c++ "$broken"; then
    echo "make[2]: *** [autograder/CMakeFiles/$target.dir/build.make:76: fake.cpp.o] Error 1"
    exit 2
  fi
fi
exit 0
