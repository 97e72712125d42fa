#!/usr/bin/env bash
# The test of tools/gpu/gpu_check.sh that `make test` runs (tools.gpu_check_dry_run): its
# arguments, its checks of the prep folder and the tools, and its "no CUDA device" stop,
# all with --dry-run (nothing is configured or built) against fake prep folders, a fake nvcc
# and fake nvidia-smi programs, so that it gives the same answers on any machine, with a GPU
# or without one. Also checks the real .gpu-deps when `make gpu-prep` has made one.
#
#   test_gpu_check.sh GPU_CHECK_SH WORK_DIR CMAKE
set -uo pipefail

script=$1 work=$2 cmake_exe=$3
repo_root=$(cd "$(dirname "$script")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work" || exit 1
failures=0 checks=0

# expect NAME STATUS TEXT -- COMMAND...: runs COMMAND; its exit status must be STATUS and its
# output must contain TEXT (a fixed string; empty: anything).
expect() {
  local name=$1 want_status=$2 want_text=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  checks=$((checks + 1))
  if [[ $status -ne $want_status ]]; then
    echo "FAIL: $name: exit status $status, expected $want_status; output:"; echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  elif [[ -n $want_text && $out != *"$want_text"* ]]; then
    echo "FAIL: $name: the output lacks '$want_text'; output:"; echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $name"
  fi
}
# refute NAME TEXT -- COMMAND...: COMMAND's output must not contain TEXT.
refute() {
  local name=$1 text=$2
  shift 3
  local out
  out=$("$@" 2>&1)
  checks=$((checks + 1))
  if [[ $out == *"$text"* ]]; then
    echo "FAIL: $name: the output contains '$text'"; failures=$((failures + 1))
  else
    echo "ok: $name"
  fi
}

# A fake CUDA toolkit (nvcc answers --version as nvcc 13.0 does) with cuBLAS, and one without.
mkdir -p "$work/cuda/bin" "$work/cuda/lib64" "$work/cuda-nocublas/bin"
cat >"$work/cuda/bin/nvcc" <<'EOF'
#!/bin/sh
echo "nvcc: NVIDIA (R) Cuda compiler driver"
echo "Cuda compilation tools, release 13.0, V13.0.88"
EOF
chmod +x "$work/cuda/bin/nvcc"
cp "$work/cuda/bin/nvcc" "$work/cuda-nocublas/bin/nvcc"
touch "$work/cuda/lib64/libcublas.so.13"

# Fake nvidia-smi programs: none, one that finds no GPU (as the real one says and exits),
# one that lists an H100 (the real one's --query-gpu answer).
cat >"$work/smi-none" <<'EOF'
#!/bin/sh
echo "No devices were found"
exit 6
EOF
cat >"$work/smi-h100" <<'EOF'
#!/bin/sh
echo "NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB, 9.0"
EOF
chmod +x "$work/smi-none" "$work/smi-h100"

# A prep folder with every file the build needs (empty files: only the layout is checked),
# an incomplete one, and an empty "system include" folder.
prep_files=(usr/include/gtest/gtest.h usr/include/fmt/format.h usr/include/zlib.h usr/include/zconf.h
            usr/lib/x86_64-linux-gnu/libgtest.a usr/lib/x86_64-linux-gnu/libgtest_main.a
            usr/lib/x86_64-linux-gnu/libz.a usr/lib/x86_64-linux-gnu/libfmt.so.9
            usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake
            usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config.cmake)
for f in "${prep_files[@]}"; do mkdir -p "$(dirname "$work/prep/prefix/$f")" && touch "$work/prep/prefix/$f"; done
printf 'date: 2026-01-01 00:00 UTC\ncommit: abc1234\n' >"$work/prep/manifest.txt"
mkdir -p "$work/prep-incomplete/prefix/usr/include/fmt" "$work/empty-include"
touch "$work/prep-incomplete/prefix/usr/include/fmt/format.h"

export CMAKE=$cmake_exe NVCC=$work/cuda/bin/nvcc GPU_DEPS_DIR=$work/prep
unset OUT
build=$work/build
run() { bash "$script" --build-dir "$build" --jobs 3 "$@"; }

# ---- arguments ------------------------------------------------------------------------------
expect "--help prints the usage" 0 "--dry-run" -- bash "$script" --help
expect "an unknown argument is a usage error" 2 "unknown argument '--bogus'" -- run --bogus
expect "--jobs 0 is refused" 2 "--jobs '0' is not a whole number" -- run --jobs 0 --dry-run
expect "--jobs abc is refused" 2 "--jobs 'abc' is not a whole number" -- run --jobs abc --dry-run
expect "--arch native is refused" 2 "--arch 'native' is not a list" -- run --arch native --dry-run
expect "--build-dir needs a value" 2 "--build-dir needs a folder" -- bash "$script" --build-dir
expect "a bad GPU_CHECK_BUDGET_S is refused" 2 "GPU_CHECK_BUDGET_S='soon'" -- \
  env GPU_CHECK_BUDGET_S=soon bash "$script" --dry-run

# ---- what the build needs ------------------------------------------------------------------
expect "an incomplete prep folder names what it lacks" 4 "is incomplete: no usr/include/gtest/gtest.h" -- \
  env GPU_DEPS_DIR="$work/prep-incomplete" NVIDIA_SMI="$work/smi-h100" bash "$script" --dry-run --build-dir "$build"
expect "no prep folder and no system packages: run make gpu-prep" 4 "run 'make gpu-prep'" -- \
  env GPU_DEPS_DIR="$work/absent" GPU_CHECK_SYSTEM_INCLUDE="$work/empty-include" NVIDIA_SMI="$work/smi-h100" \
  bash "$script" --dry-run --build-dir "$build"
expect "no prep folder, system packages there: uses them" 0 "using the system's packages" -- \
  env GPU_DEPS_DIR="$work/absent" GPU_CHECK_SYSTEM_INCLUDE="$work/prep/prefix/usr/include" \
  NVIDIA_SMI="$work/smi-h100" bash "$script" --dry-run --build-dir "$build"
expect "no nvcc stops the check" 4 "no working nvcc" -- \
  env NVCC="$work/absent/nvcc" NVIDIA_SMI="$work/smi-h100" bash "$script" --dry-run --build-dir "$build"

# ---- no CUDA device: the stop, with its own exit status ------------------------------------
expect "no nvidia-smi: no CUDA device, exit status 3" 3 \
  "no CUDA device: nvidia-smi is not installed (no NVIDIA driver on this machine); stopping before the GPU steps" -- \
  env NVIDIA_SMI="$work/absent/nvidia-smi" bash "$script" --dry-run --build-dir "$build"
expect "nvidia-smi finds no GPU: its words, exit status 3" 3 \
  "no CUDA device: nvidia-smi says: No devices were found; stopping before the GPU steps" -- \
  env NVIDIA_SMI="$work/smi-none" bash "$script" --dry-run --build-dir "$build"

# ---- a GPU: the plan ----------------------------------------------------------------------
export NVIDIA_SMI=$work/smi-h100
expect "with a GPU the dry run says so" 0 "dry run: a GPU is there (NVIDIA H100 80GB HBM3)" -- run --dry-run
expect "the architecture comes from the compute capability" 0 "-DEMBER_CUDA_ARCHITECTURES=90 " -- run --dry-run
expect "the build is pointed at the prep folder" 0 "-DGTest_DIR=$work/prep/prefix/usr/lib/x86_64-linux-gnu/cmake/GTest" -- run --dry-run
expect "zlib is linked statically from the prep folder" 0 "-DZLIB_LIBRARY=$work/prep/prefix/usr/lib/x86_64-linux-gnu/libz.a" -- run --dry-run
expect "cuBLAS is used where the toolkit has it" 0 "-DEMBER_CUDA_CUBLAS=ON" -- run --dry-run
expect "and not where it has none" 0 "-DEMBER_CUDA_CUBLAS=OFF" -- env NVCC="$work/cuda-nocublas/bin/nvcc" bash "$script" --dry-run --build-dir "$build"
expect "--arch overrides the architectures" 0 "-DEMBER_CUDA_ARCHITECTURES=80-real;90 " -- run --dry-run --arch '80-real;90'
expect "the jobs are the build's" 0 "--build $build -j 3 --target" -- run --dry-run
expect "the device tests run with EMBER_REQUIRE_CUDA=1" 0 "EMBER_REQUIRE_CUDA=1 ctest -R 'Cuda|Gpu|Device'" -- run --dry-run
expect "the summary goes to OUT too" 0 "$work/out/gpu-check-summary.md" -- env OUT="$work/out" bash "$script" --dry-run --build-dir "$build"
refute "--no-bench leaves the benchmarks out" "bench:" -- run --dry-run --no-bench
refute "--no-grade leaves the grading out" "grade:" -- run --dry-run --no-grade
checks=$((checks + 1))
if [[ -e $build || -e $work/out ]]; then
  echo "FAIL: a dry run made $build or $work/out"; failures=$((failures + 1))
else
  echo "ok: a dry run builds nothing"
fi

# ---- the real prep folder, when `make gpu-prep` has made one -------------------------------
if [[ -d $repo_root/.gpu-deps ]]; then
  expect "the real .gpu-deps has every file the build needs" 3 "using prep folder $repo_root/.gpu-deps" -- \
    env GPU_DEPS_DIR="$repo_root/.gpu-deps" NVIDIA_SMI="$work/smi-none" bash "$script" --dry-run --build-dir "$build"
else
  echo "note: no .gpu-deps in $repo_root (make gpu-prep makes it); its layout is not checked"
fi

echo "$((checks - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
