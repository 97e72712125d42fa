#!/usr/bin/env bash
# tools/gpu/gpu_check.sh (`make gpu-check`): the CUDA backend's check on a machine with a GPU,
# in one command: builds Ember with the CUDA backend for that GPU, runs every test that needs
# a device with EMBER_REQUIRE_CUDA=1 (a skip for want of a GPU is a failure), grades
# solutions/ with EMBER_DEVICE=cuda, runs the CUDA benchmarks and, in the time left,
# compute-sanitizer on the parity suite, and writes one summary in Markdown (for docs/gpu.md,
# "GPU runs"). See docs/gpu.md, "make gpu-check".
#
#   tools/gpu/gpu_check.sh [--dry-run] [--build-dir DIR] [--jobs N] [--arch ARCHS]
#                          [--no-bench] [--no-grade] [--no-sanitizer]
#
#   --dry-run        check the prep folder, the tools and the GPU (nvidia-smi), print the
#                    plan, and stop: nothing is configured or built
#   --build-dir DIR  the build tree (default build/gpu)
#   --jobs N         build and test jobs (default: every core)
#   --arch ARCHS     EMBER_CUDA_ARCHITECTURES (default: the GPU's compute capability as
#                    nvidia-smi reports it, e.g. 90 on an H100/H200; 90 when it cannot tell)
#   --no-bench       skip the benchmarks
#   --no-grade       skip the grading
#   --no-sanitizer   skip compute-sanitizer (memcheck on CudaParity.*, last, in the time left)
#
# Environment: OUT (a folder: the summary, and an archive of the logs, are also written
# there), GPU_DEPS_DIR (the prep folder, default .gpu-deps), GPU_CHECK_BUDGET_S (seconds the
# whole check may take, default 470; each step gets what is left), NVCC, NVIDIA_SMI, CMAKE,
# CTEST, COMPUTE_SANITIZER (the programs used; default: found in PATH or /usr/local/cuda/bin),
# GPU_CHECK_IGNORE_NO_DEVICE=1
# (go on to the GPU steps without a GPU, to try the steps and the summary: they fail).
#
# Exit status:
#   0  every step ran on the GPU and passed (tests, full marks, benchmarks ran)
#   1  the GPU steps ran and something failed (see the summary); also when nvidia-smi lists
#      a GPU that Ember cannot use (the steps still run, to record how they fail)
#   2  usage error
#   3  no CUDA device: stopped before the GPU steps (with --dry-run: as nvidia-smi says;
#      otherwise after the build, as the CUDA runtime says)
#   4  the machine lacks something the build needs (prep folder or packages, nvcc, cmake)
#   5  configure or build failed
set -uo pipefail

readonly EXIT_OK=0 EXIT_FAILED=1 EXIT_USAGE=2 EXIT_NO_DEVICE=3 EXIT_MISSING=4 EXIT_BUILD=5

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
repo_root=$(cd "$(dirname "$self")/../.." && pwd)
cd "$repo_root" || exit $EXIT_MISSING
start_seconds=$SECONDS

usage() { sed -n '9,20p' "$self" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "gpu-check: $1" >&2; usage >&2; exit $EXIT_USAGE; }
say() { echo "gpu-check: $*"; }

# ---- arguments ------------------------------------------------------------------------------
dry_run=0 build_dir=build/gpu jobs="" arch="" run_bench=1 run_grade=1 run_sanitizer=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --dry-run) dry_run=1 ;;
    --build-dir) [[ $# -ge 2 && -n $2 ]] || die_usage "--build-dir needs a folder"; build_dir=$2; shift ;;
    --build-dir=*) build_dir=${1#*=} ;;
    --jobs) [[ $# -ge 2 ]] || die_usage "--jobs needs a number"; jobs=$2; shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --arch) [[ $# -ge 2 ]] || die_usage "--arch needs architectures, e.g. 90"; arch=$2; shift ;;
    --arch=*) arch=${1#*=} ;;
    --no-bench) run_bench=0 ;;
    --no-grade) run_grade=0 ;;
    --no-sanitizer) run_sanitizer=0 ;;
    -h|--help) usage; exit $EXIT_OK ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
  shift
done
if [[ -n $jobs ]] && ! [[ $jobs =~ ^[1-9][0-9]*$ ]]; then die_usage "--jobs '$jobs' is not a whole number above 0"; fi
if [[ -n $arch ]] && ! [[ $arch =~ ^[0-9]+(-real|-virtual)?(\;[0-9]+(-real|-virtual)?)*$ ]]; then
  die_usage "--arch '$arch' is not a list of CUDA architectures such as 90 or '80-real;90'"
fi
[[ -n $jobs ]] || jobs=$(nproc 2>/dev/null || echo 2)
budget=${GPU_CHECK_BUDGET_S:-470}
[[ $budget =~ ^[0-9]+$ ]] || die_usage "GPU_CHECK_BUDGET_S='$budget' is not a number of seconds"
case $build_dir in /*) ;; *) build_dir=$repo_root/$build_dir ;; esac

# ---- what the build needs: the prep folder, or the system's own packages --------------------
deps_dir=${GPU_DEPS_DIR:-$repo_root/.gpu-deps}
prefix=$deps_dir/prefix
libdir=$prefix/usr/lib/x86_64-linux-gnu
prep_files=(usr/include/gtest/gtest.h usr/include/fmt/format.h usr/include/zlib.h usr/include/zconf.h
            usr/lib/x86_64-linux-gnu/libgtest.a usr/lib/x86_64-linux-gnu/libgtest_main.a
            usr/lib/x86_64-linux-gnu/libz.a usr/lib/x86_64-linux-gnu/libfmt.so.9
            usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake
            usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config.cmake)
system_headers=(gtest/gtest.h fmt/format.h zlib.h)
system_include=${GPU_CHECK_SYSTEM_INCLUDE:-/usr/include}  # for the test: where the system's headers are
deps_args=()
if [[ -d $deps_dir ]]; then
  missing=()
  for f in "${prep_files[@]}"; do [[ -e $prefix/$f ]] || missing+=("$f"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    say "the prep folder $deps_dir is incomplete: no ${missing[*]}"
    say "run 'make gpu-prep' (tools/gpu/prep.sh --force) on the Debian machine again"
    exit $EXIT_MISSING
  fi
  deps_note="prep folder $deps_dir ($(sed -n 's/^date: //p' "$deps_dir/manifest.txt" 2>/dev/null || echo 'no manifest'))"
  deps_args=(-DCMAKE_PREFIX_PATH="$prefix/usr" -DGTest_DIR="$libdir/cmake/GTest" -Dfmt_DIR="$libdir/cmake/fmt"
             -DZLIB_INCLUDE_DIR="$prefix/usr/include" -DZLIB_LIBRARY="$libdir/libz.a"
             -DCMAKE_BUILD_RPATH="$libdir")
  say "using $deps_note"
else
  missing=()
  for h in "${system_headers[@]}"; do [[ -e $system_include/$h ]] || missing+=("$h"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    say "no prep folder ($deps_dir) and this machine lacks ${missing[*]} in $system_include"
    say "run 'make gpu-prep' on a Debian machine with the package registry, and carry .gpu-deps here"
    exit $EXIT_MISSING
  fi
  deps_note="the system's packages (no prep folder at $deps_dir)"
  say "using $deps_note"
fi

# ---- tools ----------------------------------------------------------------------------------
find_tool() {  # find_tool VAR NAME: $VAR if set, else NAME in PATH, else /usr/local/cuda/bin/NAME
  local given=${!1:-}
  if [[ -n $given ]]; then echo "$given"; return; fi
  command -v "$2" 2>/dev/null || { [[ -x /usr/local/cuda/bin/$2 ]] && echo "/usr/local/cuda/bin/$2"; } || true
}
nvcc=$(find_tool NVCC nvcc)
cmake_exe=$(find_tool CMAKE cmake)
nvidia_smi=$(find_tool NVIDIA_SMI nvidia-smi)
ctest_exe=${CTEST:-$(dirname "$cmake_exe")/ctest}
[[ -x $ctest_exe ]] || ctest_exe=$(command -v ctest || echo ctest)
if [[ -z $cmake_exe ]] || ! "$cmake_exe" --version >/dev/null 2>&1; then
  say "no working cmake (set CMAKE=/path/to/cmake)"; exit $EXIT_MISSING
fi
if [[ -z $nvcc ]] || ! nvcc_version=$("$nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\), V\([0-9.]*\).*/\2/p') \
   || [[ -z $nvcc_version ]]; then
  say "no working nvcc (put the CUDA toolkit's bin on PATH, or set NVCC=/path/to/nvcc)"; exit $EXIT_MISSING
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
say "cmake $("$cmake_exe" --version | sed -n '1s/cmake version //p'), nvcc $nvcc_version, ${generator[1]:-make}, $jobs jobs"

# ---- the GPU, as nvidia-smi sees it -------------------------------------------------------
gpu_name="" gpu_driver="" gpu_memory="" gpu_cc="" smi_problem=""
if [[ -z $nvidia_smi || ! -x $nvidia_smi ]]; then
  smi_problem="nvidia-smi is not installed (no NVIDIA driver on this machine)"
elif ! smi_out=$("$nvidia_smi" --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1); then
  smi_problem="nvidia-smi says: $(echo "$smi_out" | head -n 2 | tr '\n' ' ' | sed 's/ *$//')"
elif [[ -z $smi_out ]]; then
  smi_problem="nvidia-smi lists no GPU"
else
  IFS=',' read -r gpu_name gpu_driver gpu_memory gpu_cc <<<"$(echo "$smi_out" | head -n 1)"
  gpu_name=$(echo "$gpu_name" | xargs) gpu_driver=$(echo "$gpu_driver" | xargs)
  gpu_memory=$(echo "$gpu_memory" | xargs) gpu_cc=$(echo "$gpu_cc" | xargs)
  gpu_count=$(echo "$smi_out" | grep -c .)
  say "GPU: $gpu_name (driver $gpu_driver, $gpu_memory, compute capability $gpu_cc)$([[ $gpu_count -gt 1 ]] && echo ", $gpu_count GPUs; the check uses cuda:0")"
fi
if [[ -z $arch ]]; then
  if [[ $gpu_cc =~ ^([0-9]+)\.([0-9])$ ]]; then arch=${BASH_REMATCH[1]}${BASH_REMATCH[2]}; else arch=90; fi
fi

# cuBLAS, to compare our matmul kernel with: when the toolkit has it.
nvcc_root=$(cd "$(dirname "$nvcc")/.." 2>/dev/null && pwd)
cublas=OFF
for d in "$nvcc_root/lib64" "$nvcc_root/lib" "$nvcc_root"/targets/*/lib; do
  compgen -G "$d/libcublas.so*" >/dev/null && cublas=ON && break
done

no_device() {  # the engine's reason starts with "no CUDA device: " too
  echo "no CUDA device: ${1#no CUDA device: }; stopping before the GPU steps"
  exit $EXIT_NO_DEVICE
}

# Tests that need a device: their names say Cuda, Gpu or Device (CudaParity, CudaDevice,
# DevicesOnCuda, NnModule.ToCuda..., CourseDevices, GradeDevice, GradeSolutionsOnCuda, ...).
device_tests='Cuda|Gpu|Device'
# What the steps run, and the graders of solutions/ (grade_qN, and runner_qN where the
# autograder has them), so that grading builds nothing more. Targets this tree lacks are
# left out at build time.
build_targets=(ember_tests course_tests ember_grade_device_tests ember_grade ember_runner_kit ember_bench
               ember_cuda_probe)
grader_targets='^(grade|runner)_q[0-9]+$'
configure_args=(-S "$repo_root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
                -DEMBER_SANITIZE=OFF -DEMBER_CUDA=ON
                -DCMAKE_CUDA_COMPILER="$nvcc" -DEMBER_CUDA_ARCHITECTURES="$arch"
                -DEMBER_CUDA_CUBLAS=$cublas "${deps_args[@]}")

if [[ $dry_run == 1 ]]; then
  say "plan:"
  echo "  configure: cmake ${configure_args[*]}"
  echo "  build:     cmake --build $build_dir -j $jobs --target ${build_targets[*]}"
  echo "  probe:     $build_dir/tools/ember_cuda_probe (a kernel on cuda:0)"
  echo "  tests:     EMBER_REQUIRE_CUDA=1 ctest -R '$device_tests' -j $jobs"
  [[ $run_grade == 1 ]] && echo "  grade:     make -o deps grade-solutions DEVICE=cuda BUILD_DIR=$build_dir (without make: ember_grade --device cuda)"
  [[ $run_bench == 1 ]] && echo "  bench:     ember_bench --filter cuda (matmul ours and cuBLAS $cublas, MLP epoch, attention)"
  [[ $run_sanitizer == 1 ]] && echo "  sanitizer: compute-sanitizer --tool memcheck ember_tests on CudaParity.* but the largest sizes (in the time left)"
  echo "  summary:   $build_dir/gpu-check/summary.md${OUT:+ and $OUT/gpu-check-summary.md}"
  [[ -n $smi_problem ]] && no_device "$smi_problem"
  say "dry run: a GPU is there ($gpu_name); nothing was built"
  exit $EXIT_OK
fi

# ---- configure and build --------------------------------------------------------------------
log_dir=$build_dir/gpu-check
mkdir -p "$log_dir" || exit $EXIT_BUILD
rm -f "$log_dir"/*.log "$log_dir/summary.md"
step_start=$SECONDS
say "configuring $build_dir (CUDA architectures $arch, cuBLAS $cublas)"
configured=0
"$cmake_exe" "${configure_args[@]}" >"$log_dir/configure.log" 2>&1 && configured=1
if [[ $configured == 0 && $cublas == ON ]]; then
  say "configure failed with cuBLAS; trying without it (see $log_dir/configure-cublas.log)"
  mv "$log_dir/configure.log" "$log_dir/configure-cublas.log"
  cublas=OFF
  configure_args=("${configure_args[@]/-DEMBER_CUDA_CUBLAS=ON/-DEMBER_CUDA_CUBLAS=OFF}")
  "$cmake_exe" "${configure_args[@]}" >"$log_dir/configure.log" 2>&1 && configured=1
fi
if [[ $configured == 0 ]]; then
  tail -n 30 "$log_dir/configure.log"; say "configure failed ($log_dir/configure.log)"; exit $EXIT_BUILD
fi
grep -m1 'Ember: CUDA backend' "$log_dir/configure.log" | sed 's/^-- /gpu-check: /'
# The targets of this tree: "name: phony" (Ninja) or "... name" (Makefiles) in its help.
known_targets=$("$cmake_exe" --build "$build_dir" --target help 2>/dev/null |
                sed -E -n 's/^([A-Za-z0-9_.-]+): .*/\1/p; s/^\.\.\. ([A-Za-z0-9_.-]+).*/\1/p' | sort -u)
wanted=()
for t in "${build_targets[@]}"; do
  grep -qx "$t" <<<"$known_targets" && wanted+=("$t") || say "note: this tree has no target $t"
done
while read -r t; do [[ -n $t ]] && wanted+=("$t"); done < <(grep -E "$grader_targets" <<<"$known_targets")
build_targets=("${wanted[@]}")
say "building ${build_targets[*]} with $jobs jobs"
if ! "$cmake_exe" --build "$build_dir" -j "$jobs" --target "${build_targets[@]}" >"$log_dir/build.log" 2>&1; then
  grep -E -m 20 'error|Error' "$log_dir/build.log"; tail -n 20 "$log_dir/build.log"
  say "build failed ($log_dir/build.log)"; exit $EXIT_BUILD
fi
build_seconds=$((SECONDS - step_start))
warnings=$(grep -c -E 'warning( #|:)' "$log_dir/build.log" || true)
say "built in ${build_seconds} s ($warnings warning lines)"

# ---- the GPU, as the CUDA runtime sees it -------------------------------------------------
probe_problem=""
probe_out=$("$build_dir/tools/ember_cuda_probe" 2>&1)
probe_status=$?
echo "$probe_out" >"$log_dir/probe.log"
if [[ $probe_status -ne 0 ]]; then
  reason=$(sed -n 's/^problem: //p' <<<"$probe_out")
  [[ -n $reason ]] || reason="ember_cuda_probe exited with status $probe_status: $probe_out"
  [[ -n $smi_problem ]] && reason="$reason; $smi_problem"
  probe_problem=$reason
  # A GPU that nvidia-smi lists but Ember cannot use is a failure, not an absence: the steps
  # run all the same, so that the summary records what fails and how.
  if [[ -n $gpu_name ]]; then
    say "the GPU ($gpu_name) is there, but Ember cannot use it: $reason; going on so that the summary says what fails"
  elif [[ ${GPU_CHECK_IGNORE_NO_DEVICE:-0} == 1 ]]; then
    say "no CUDA device: ${reason#no CUDA device: }; going on all the same (GPU_CHECK_IGNORE_NO_DEVICE=1): what needs one will fail"
  else
    no_device "$reason"
  fi
else
  say "$(sed -n 's/^ok: //p' <<<"$probe_out")"
fi

# ---- from here on, a GPU is there ----------------------------------------------------------
summary=$log_dir/summary.md
date_text=$(date -u '+%Y-%m-%d %H:%M UTC')
if commit_short=$(git -C "$repo_root" rev-parse --short=12 HEAD 2>/dev/null); then
  commit=$commit_short
  git -C "$repo_root" diff --quiet HEAD -- 2>/dev/null || commit="$commit (with uncommitted changes)"
else
  prep_commit=$(sed -n 's/^commit: //p' "$deps_dir/manifest.txt" 2>/dev/null)
  commit_short="${prep_commit:-?} (at gpu-prep)"
  commit="not known here (no git in this copy of the tree); make gpu-prep ran at ${prep_commit:-?}"
fi
cuda_runtime=$("$nvidia_smi" 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)
remaining() { echo $((budget - (SECONDS - start_seconds))); }
# step_timeout CAP: the seconds a step may take: CAP, or what is left of the budget less
# 15 s for the summary, whichever is less (never under 10).
step_timeout() { local left=$(( $(remaining) - 15 )); (( left < $1 )) || left=$1; (( left >= 10 )) || left=10; echo $left; }

tests_line="not run" tests_failed_list="" tests_skipped_list="" tests_status=1 tests_seconds=0
grade_line="not run" grade_details="" grade_status=1 grade_seconds=0
bench_block="" bench_status=1 bench_seconds=0 bench_lines="not run"
matmul_ratio_line="" mlp_line=""
sanitizer_line="not run" sanitizer_block="" sanitizer_status=0

write_summary() {
  {
    echo "## GPU check: $date_text"
    echo
    echo "Written by \`make gpu-check\` (tools/gpu/gpu_check.sh). Total time so far: $((SECONDS - start_seconds)) s."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| Commit | $commit |"
    echo "| GPU | ${gpu_name:-?}${gpu_memory:+, $gpu_memory}, compute capability ${gpu_cc:-?} |"
    echo "| Driver / CUDA | driver ${gpu_driver:-?}, CUDA ${cuda_runtime:-?} (driver); nvcc $nvcc_version |"
    echo "| Build | architectures $arch, cuBLAS $cublas, ${generator[1]:-make} -j $jobs, $build_seconds s, $warnings warning lines; $deps_note |"
    [[ -n $probe_problem ]] && echo "| Probe | **Ember could not use cuda:0:** $probe_problem |"
    echo "| Host | $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1) |"
    echo
    echo "### Tests that need a device (EMBER_REQUIRE_CUDA=1, ctest -R '$device_tests'): $tests_line"
    echo
    [[ -n $tests_failed_list ]] && { echo "Failed:"; echo; echo "$tests_failed_list"; echo; }
    [[ -n $tests_skipped_list ]] && { echo "Skipped (on a GPU, only the tests of life without one should be):"; echo; echo "$tests_skipped_list"; echo; }
    echo "### make grade-solutions DEVICE=cuda: $grade_line"
    echo
    [[ -n $grade_details ]] && { echo '```text'; echo "$grade_details"; echo '```'; echo; }
    echo "### Benchmarks (ember_bench --filter cuda): $bench_lines"
    echo
    [[ -n $matmul_ratio_line ]] && echo "- $matmul_ratio_line"
    [[ -n $mlp_line ]] && echo "- $mlp_line"
    [[ -n $matmul_ratio_line$mlp_line ]] && echo
    [[ -n $bench_block ]] && { echo '```text'; echo "$bench_block"; echo '```'; echo; }
    echo "### compute-sanitizer --tool memcheck, ember_tests --gtest_filter='${sanitizer_filter:-CudaParity.*}': $sanitizer_line"
    echo
    [[ -n $sanitizer_block ]] && { echo '```text'; echo "$sanitizer_block"; echo '```'; echo; }
    echo "### The row for docs/gpu.md"
    echo
    echo "| $(date -u +%Y-%m-%d) | $commit_short | ${gpu_name:-?} | ${gpu_driver:-?} / ${cuda_runtime:-?} | $tests_line | $grade_line | $bench_lines |"
    if [[ -n ${failure_output:-} ]]; then
      echo
      echo "### Output of the failed tests (last lines of each)"
      echo
      echo '```text'; echo "$failure_output"; echo '```'
    fi
  } >"$summary"
  if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT" && cp "$summary" "$OUT/gpu-check-summary.md"
  fi
}
write_summary

# ---- tests (in the background) and grading (meanwhile) ------------------------------------
step_start=$SECONDS
tests_timeout=$(step_timeout 300)
(
  cd "$build_dir" &&
  EMBER_REQUIRE_CUDA=1 timeout -k 10 "$tests_timeout" "$ctest_exe" -R "$device_tests" -E '_NOT_BUILT$' \
    -j "$jobs" --timeout 240 --output-on-failure >"$log_dir/tests.log" 2>&1
) &
tests_pid=$!
say "tests that need a device: running in the background (ctest -R '$device_tests', $tests_timeout s at most)"

if [[ $run_grade == 1 ]]; then
  grade_start=$SECONDS
  grade_timeout=$(step_timeout 300)
  say "grading solutions/ on cuda ($grade_timeout s at most)"
  # As `make grade-solutions DEVICE=cuda` does it (the Makefile says how the driver is
  # called); -o deps: the packages are in the prep folder, not where `make deps` looks.
  if command -v make >/dev/null 2>&1; then
    grade_command=(make --no-print-directory -o deps grade-solutions DEVICE=cuda MUTE=1
                   "BUILD_DIR=$build_dir" "JOBS=$jobs")
  else
    grade_command=(env EMBER_DEVICE=cuda EMBER_MUTE=1 "$build_dir/autograder/ember_grade"
                   --build-dir "$build_dir" --student-dir solutions --jobs "$jobs"
                   --results-json "$build_dir/results.json"
                   --report "$build_dir/report.txt" --html "$build_dir/grade-report.html")
  fi
  echo "${grade_command[*]}" >"$log_dir/grade.log"
  timeout -k 10 "$grade_timeout" "${grade_command[@]}" >>"$log_dir/grade.log" 2>&1
  grade_exit=$?
  grade_seconds=$((SECONDS - grade_start))
  total=$(sed -n 's/^Total: *//p' "$log_dir/grade.log" | tail -n 1)
  device_line=$(sed -n 's/^Device: *//p' "$log_dir/grade.log" | tail -n 1)
  if [[ $grade_exit -eq 124 ]]; then
    grade_line="timed out after $grade_timeout s"
  elif [[ -z $total ]]; then
    grade_line="no total (exit status $grade_exit; see grade.log)"
  else
    device_short=${device_line%% could not be used*}
    [[ $device_short == "$device_line" ]] || device_short="$device_short, which could not be used (see below)"
    grade_line="$total on ${device_short:-?}, $grade_seconds s"
    got=${total%%/*} max=${total##*/}
    [[ $grade_exit -eq 0 && $got == "$max" && $device_line == cuda* && $device_line != *"could not be used"* ]] &&
      grade_status=0
  fi
  # One line per question (its points) and every failed check.
  grade_details=$(grep -E -A1 '^(Question q[0-9]+: |\*\*\* FAIL|\(q[0-9]+: |Total: |Device: )' "$log_dir/grade.log" |
                  grep -v -E '^(--|\*\*\* PASS|### )' | cut -c 1-240 | head -n 80)
  [[ -n $grade_details ]] || grade_details=$(tail -n 30 "$log_dir/grade.log")
  say "grades: $grade_line"
  write_summary
else
  grade_line="skipped (--no-grade)" grade_status=0
fi

wait "$tests_pid"
tests_exit=$?
tests_seconds=$((SECONDS - step_start))
# ctest's own summary: "97% tests passed, 3 tests failed out of 120", then the lists
# "The following tests did not run:" / "The following tests FAILED:" ("  12 - Name (Failed)").
total=$(sed -n -E 's/.*tests passed, [0-9]+ tests? failed out of ([0-9]+).*/\1/p' "$log_dir/tests.log" | tail -n 1)
list_after() {  # the test names listed under the heading $1 of ctest's summary
  awk -v h="$1" 'index($0, h) { on = 1; next } on && /^[ \t]+[0-9]+ - / { sub(/^[ \t]+[0-9]+ - /, ""); sub(/ \([^()]*\)$/, ""); print; next } on { on = 0 }' \
    "$log_dir/tests.log"
}
skipped_names=$(list_after "The following tests did not run:")
failed_names=$(list_after "The following tests FAILED:")
skipped=$(grep -c . <<<"$skipped_names")
failed=$(grep -c . <<<"$failed_names")
passed=$(( ${total:-0} - failed - skipped ))
if [[ $tests_exit -eq 124 ]]; then
  passed=$(grep -c -E 'Test +#[0-9]+: .* Passed ' "$log_dir/tests.log")
  tests_line="TIMED OUT after $tests_timeout s ($passed passed before that)"
elif [[ -z $total || $total -eq 0 ]]; then
  tests_line="no test ran (ctest exit status $tests_exit; see tests.log)"
else
  tests_line="$passed passed, $failed failed, $skipped skipped of $total, $tests_seconds s"
  [[ $tests_exit -eq 0 && $failed -eq 0 ]] && tests_status=0
fi
tests_failed_list=$(sed 's/^/- /' <<<"$failed_names" | grep -v '^- $')
tests_skipped_list=$(sed 's/^/- /' <<<"$skipped_names" | grep -v '^- $')
# The end of each failed test's output (ctest --output-on-failure), at most 20 tests.
failure_output=""
for name in $(head -n 20 <<<"$failed_names"); do
  block=$(awk -v n="$name" '
    on && (/^ *Start +[0-9]+: / || /^ *[0-9]+\/[0-9]+ Test +#/ || /tests passed, /) { on = 0 }
    /Test +#[0-9]+: / && index($0, ": " n " ") { on = 1 }
    on { print }' "$log_dir/tests.log" |
    grep -v -E '^(Running main\(\)|Note: Google Test filter|\[(==========|----------)\]|\[  PASSED  \] 0 tests| *$| *1 FAILED TEST)' |
    tail -n 30)
  failure_output+="---- $name"$'\n'"$block"$'\n'
done
say "tests: $tests_line"
write_summary

# ---- benchmarks (alone on the GPU) ----------------------------------------------------------
if [[ $run_bench == 1 ]]; then
  bench_start=$SECONDS
  bench_timeout=$(step_timeout 180)
  say "benchmarks: ember_bench --filter cuda ($bench_timeout s at most)"
  timeout -k 10 "$bench_timeout" "$build_dir/bench/ember_bench" --filter cuda >"$log_dir/bench.log" 2>&1
  bench_exit=$?
  bench_seconds=$((SECONDS - bench_start))
  bench_block=$(grep -v '^# cpu:' "$log_dir/bench.log" | head -n 80)
  # median seconds and throughput of a workload: "NAME median 0.1 s (min ..) 123.45 GFLOP/s"
  figure() { grep -F "$1 " "$log_dir/bench.log" | grep -v FAILED | head -n 1 | sed -E "s/.* median +([0-9.]+) s .*\) +([0-9.]+) .*/\\$2/"; }
  ours=$(figure "cuda matmul n=4096" 2) theirs=$(figure "cuda cublas matmul n=4096" 2)
  if [[ -n $ours && -n $theirs ]]; then
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.0f", 100 * a / b }')
    matmul_ratio_line="matmul n=4096 (fp32): ours $ours GFLOP/s, cuBLAS $theirs GFLOP/s: $ratio% of cuBLAS (target: at least 50%)"
  elif [[ -n $ours ]]; then
    matmul_ratio_line="matmul n=4096 (fp32): ours $ours GFLOP/s; no cuBLAS figure (cuBLAS $cublas)"
  fi
  mlp=$(grep -F "cuda mlp epoch bs=256" "$log_dir/bench.log" | grep -v FAILED | head -n 1 | sed -E 's/.* median +([0-9.]+) s .*/\1/')
  if [[ -n $mlp ]]; then
    mlp_line="MLP epoch, batch 256: $mlp s (target: under 0.1 s)"
  fi
  bench_failed=$(grep -c 'FAILED' "$log_dir/bench.log" || true)
  bench_ran=$(grep -c -E ' median +[0-9.]+ s' "$log_dir/bench.log" || true)
  if [[ $bench_exit -eq 124 ]]; then
    bench_lines="$bench_ran workloads, then timed out after $bench_timeout s"
  else
    bench_lines="$bench_ran workloads, $bench_failed failed, $bench_seconds s"
    [[ $bench_exit -eq 0 && $bench_failed -eq 0 && $bench_ran -gt 0 ]] && bench_status=0
  fi
  bench_lines+="${ours:+; matmul 4096 ours $ours GFLOP/s}${theirs:+, cuBLAS $theirs}${mlp:+; MLP epoch bs=256 $mlp s}"
  say "benchmarks: $bench_lines"
else
  bench_lines="skipped (--no-bench)" bench_status=0
fi
write_summary

# ---- compute-sanitizer on the parity suite, in what is left of the budget -------------------
# Memory errors inside kernels (out of bounds, misaligned, uninitialised reads). It is slow
# (every access is checked), so it runs last, on what time is left; a time-out is reported,
# not counted as a failure. Errors it finds are failures. The tests of sizes past a grid's
# limits (millions of elements, K = 1e7) are left out: under memcheck they alone would take
# the time; the test step above ran them.
sanitizer_filter='CudaParity.*:-*ThanAGrid*:*LongK*:*SixtyFourBit*'
sanitizer=$(find_tool COMPUTE_SANITIZER compute-sanitizer)
if [[ $run_sanitizer == 0 ]]; then
  sanitizer_line="skipped (--no-sanitizer)"
elif [[ -z $sanitizer || ! -x $sanitizer ]]; then
  sanitizer_line="skipped: no compute-sanitizer on this machine"
elif (( $(remaining) < 75 )); then
  sanitizer_line="skipped: $(remaining) s of the budget left"
else
  sanitizer_timeout=$(step_timeout 150)
  say "compute-sanitizer (memcheck) on $sanitizer_filter ($sanitizer_timeout s at most)"
  sanitizer_start=$SECONDS
  EMBER_REQUIRE_CUDA=1 timeout -k 10 "$sanitizer_timeout" "$sanitizer" --tool memcheck --print-limit 20 \
    "$build_dir/engine/ember_tests" --gtest_filter="$sanitizer_filter" --gtest_brief=1 >"$log_dir/sanitizer.log" 2>&1
  sanitizer_exit=$?
  sanitizer_errors=$(sed -n -E 's/.*ERROR SUMMARY: ([0-9]+) error.*/\1/p' "$log_dir/sanitizer.log" | tail -n 1)
  if [[ $sanitizer_exit -eq 124 || $sanitizer_exit -eq 137 ]]; then
    sanitizer_line="timed out after $sanitizer_timeout s (not counted as a failure)"
    grep -q -E '^=+ +(Invalid|Program hit|Uninitialized|Misaligned)' "$log_dir/sanitizer.log" &&
      { sanitizer_line="errors found before the time-out"; sanitizer_status=1; }
  elif [[ -z $sanitizer_errors ]]; then
    sanitizer_line="no ERROR SUMMARY (exit status $sanitizer_exit; see sanitizer.log)"; sanitizer_status=1
  else
    sanitizer_line="$sanitizer_errors errors, $((SECONDS - sanitizer_start)) s"
    [[ $sanitizer_errors -eq 0 ]] || sanitizer_status=1
  fi
  sanitizer_block=$(grep -E '^=+ ' "$log_dir/sanitizer.log" | head -n 40)
fi
say "compute-sanitizer: $sanitizer_line"
write_summary

if [[ -n ${OUT:-} ]]; then
  tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$log_dir" . 2>/dev/null || true
fi
say "summary: $summary${OUT:+ (and $OUT/gpu-check-summary.md)}; total $((SECONDS - start_seconds)) s"
if [[ $tests_status -eq 0 && $grade_status -eq 0 && $bench_status -eq 0 && $sanitizer_status -eq 0 ]]; then
  say "everything passed on ${gpu_name:-cuda:0}"
  exit $EXIT_OK
fi
say "something failed on ${gpu_name:-cuda:0}: see the summary"
exit $EXIT_FAILED
