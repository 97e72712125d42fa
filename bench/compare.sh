#!/usr/bin/env bash
# Ember against PyTorch on the same workloads, in one run on this machine.
#
#   bench/compare.sh path/to/ember_bench [ember_bench arguments, e.g. --quick or --filter mlp]
#
# Runs ember_bench, then (when /usr/bin/python3 can import torch) the PyTorch reference
# scripts in shared/bench-reference, and this repository's bench/gpt.py (lesson q7's GPT, one
# training step), with torch on one thread and OpenBLAS on every core
# (BENCH_THREADS=1: the reference README's best setting for 2 cores), and prints one
# table: workload | Ember | PyTorch | ratio, where ratio = PyTorch time / Ember time
# (above 1 means Ember is faster). Both programs print `<name> median <s> s (min .. max ..)`
# lines (shared/bench-reference/common.py's report()), which is what the table is made of.
#
# Env: BENCH_REFERENCE_DIR (default: <repo>/../shared/bench-reference), BENCH_REPS and
# BENCH_WARMUP (both programs), BENCH_THREADS (torch's intra-op threads, default 1),
# OPENBLAS_CORETYPE=SkylakeX to let OpenBLAS use its AVX-512 kernel, BENCH_PYTHON (the
# interpreter, default /usr/bin/python3).
#
# BENCH_CLOCK=cpu compares single-core CPU time instead of wall time, for a machine busy
# with other work (where wall times mostly measure the wait for a core): Ember runs with
# EMBER_NUM_THREADS=1 --cpu-time, and the scripts with torch and OpenBLAS on one thread
# and their timer (time.perf_counter) replaced by time.process_time.
set -u -o pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 path/to/ember_bench [ember_bench arguments]" >&2
  exit 2
fi
EMBER_BENCH=$1
shift
REPO=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_DIR=${BENCH_REFERENCE_DIR:-$REPO/../shared/bench-reference}
PYTHON=${BENCH_PYTHON:-/usr/bin/python3}  # Debian's interpreter, where python3-torch installs
SCRIPTS="sgemm mlp regression rnn conv attention"

if [ ! -x "$EMBER_BENCH" ]; then
  echo "compare.sh: $EMBER_BENCH is not an executable; build it first (make bench builds it)" >&2
  exit 2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

CLOCK=${BENCH_CLOCK:-wall}
case $CLOCK in
  wall) ember_env=() ; ember_args=() ;;
  cpu) ember_env=(EMBER_NUM_THREADS=1) ; ember_args=(--cpu-time) ;;
  *) echo "compare.sh: BENCH_CLOCK must be wall or cpu, not '$CLOCK'" >&2; exit 2 ;;
esac

echo "== Ember: ${ember_env[*]} $EMBER_BENCH ${ember_args[*]} $*"
env "${ember_env[@]}" "$EMBER_BENCH" "${ember_args[@]}" "$@" | tee "$WORK/ember.txt"
ember_status=$?

torch_ran=0
if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
  echo
  echo "PyTorch column skipped: $PYTHON cannot import torch. Install Debian's PyTorch and"
  echo "OpenBLAS (without OpenBLAS torch falls back to a reference BLAS about 30x slower), as root:"
  echo "  apt-get install -y python3-torch libopenblas0-pthread"
else
  # Run only the scripts that hold a workload the filter selected (all without a filter).
  filter=""
  prev=""
  for arg in "$@"; do
    case $prev in --filter) filter=$arg ;; esac
    case $arg in --filter=*) filter=${arg#--filter=} ;; esac
    prev=$arg
  done
  echo
  : > "$WORK/torch.txt"
  if [ "$CLOCK" = cpu ]; then
    echo "== PyTorch: $REFERENCE_DIR and $REPO/bench/gpt.py (torch and OpenBLAS on one thread, timed by process CPU time)"
    # The script's own code, run as __main__ with common.timeit's clock swapped.
    runner='import sys, time; time.perf_counter = time.process_time; path = sys.argv[1]; sys.argv = [path] + sys.argv[2:]; sys.path.insert(0, "."); exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__", "__file__": path})'
    torch_env=(BENCH_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1)
  else
    echo "== PyTorch: $REFERENCE_DIR and $REPO/bench/gpt.py (BENCH_THREADS=${BENCH_THREADS:-1})"
    runner=""
    torch_env=(BENCH_THREADS=${BENCH_THREADS:-1})
  fi
  # The reference scripts (from $REFERENCE_DIR), then gpt.py (from this repository's bench/).
  if [ ! -d "$REFERENCE_DIR" ]; then
    echo "(no reference scripts in $REFERENCE_DIR: set BENCH_REFERENCE_DIR; only gpt.py runs)"
  fi
  for script in $SCRIPTS gpt; do
    dir=$REFERENCE_DIR
    [ "$script" = gpt ] && dir=$REPO/bench
    [ -f "$dir/$script.py" ] || continue
    if [ -n "$filter" ] && ! grep -q -- "^# $script\$" "$WORK/ember.txt"; then continue; fi
    if [ -n "$runner" ]; then
      (cd "$dir" && env "${torch_env[@]}" "$PYTHON" -c "$runner" "$script.py") 2>&1
    else
      (cd "$dir" && env "${torch_env[@]}" "$PYTHON" "$script.py") 2>&1
    fi | tee -a "$WORK/torch.txt"
    # The GPT once more with bfloat16 products (torch.autocast), against Ember's "bf16" row.
    # On the wall clock it gets 2 threads unless BENCH_THREADS says otherwise: under autocast
    # that is PyTorch's faster setting on two cores (in float32, OpenBLAS is faster on one).
    if [ "$script" = gpt ]; then
      if [ -n "$runner" ]; then
        (cd "$dir" && env "${torch_env[@]}" "$PYTHON" -c "$runner" "$script.py" --precision medium) 2>&1
      else
        (cd "$dir" && env BENCH_THREADS=${BENCH_THREADS:-2} "$PYTHON" "$script.py" --precision medium) 2>&1
      fi | tee -a "$WORK/torch.txt"
    fi
  done
  torch_ran=1
fi

# The table. A workload's key is its name with the few spellings that differ between the
# two programs made equal; rows follow Ember's order, then PyTorch-only lines.
echo
awk -v torch_ran="$torch_ran" '
  function key(name) {
    sub(/^torch\.matmul /, "matmul ", name)
    sub(/ python-loop Convolve$/, " Convolve", name)
    sub(/ \([0-9None]+ ep\)$/, "", name)
    return name
  }
  function seconds_str(s) {
    if (s >= 1) return sprintf("%.3f s", s)
    if (s >= 0.001) return sprintf("%.3f ms", s * 1e3)
    return sprintf("%.1f us", s * 1e6)
  }
  # One result line: remembers its median (and GFLOP/s, or epochs to converge) under its key.
  function parse(line, side,    name, rest, fields, k, extra) {
    name = substr(line, 1, index(line, " median ") - 1)
    sub(/ +$/, "", name)
    rest = substr(line, index(line, " median ") + 8)
    split(rest, fields, " ")
    k = key(name)
    extra = ""
    if (match(name, /\([0-9None]+ ep\)$/)) extra = substr(name, RSTART)
    if (rest ~ /GFLOP\/s/) extra = sprintf("(%.0f GFLOP/s)", fields[7])
    if (rest ~ /ns\/op/) extra = sprintf("(%.0f ns/op)", fields[7])
    median[side, k] = fields[1]
    cell[side, k] = seconds_str(fields[1]) (extra == "" ? "" : " " extra)
    if (!((side, k) in seen)) { seen[side, k] = 1; order[side, ++count[side]] = k }
  }
  FNR == 1 { side = (FILENAME ~ /ember\.txt$/) ? "ember" : "torch" }
  / median / && $0 !~ /^#/ { parse($0, side) }
  END {
    rows = 0
    for (i = 1; i <= count["ember"]; ++i) row[++rows] = order["ember", i]
    for (i = 1; i <= count["torch"]; ++i) {
      k = order["torch", i]
      if (!(("ember", k) in seen)) row[++rows] = k
    }
    printf "%-40s | %-24s | %-24s | %s\n", "workload", "Ember", "PyTorch", "ratio (PyTorch/Ember)"
    printf "%-40s-|-%-24s-|-%-24s-|-%s\n", "----------------------------------------", \
      "------------------------", "------------------------", "---------------------"
    for (r = 1; r <= rows; ++r) {
      k = row[r]
      e = (("ember", k) in seen) ? cell["ember", k] : "-"
      t = (("torch", k) in seen) ? cell["torch", k] : (torch_ran ? "-" : "(not run)")
      ratio = "-"
      if ((("ember", k) in seen) && (("torch", k) in seen) && median["ember", k] > 0)
        ratio = sprintf("%.2fx", median["torch", k] / median["ember", k])
      printf "%-40s | %-24s | %-24s | %s\n", k, e, t, ratio
    }
  }
' "$WORK/ember.txt" $([ "$torch_ran" = 1 ] && echo "$WORK/torch.txt")

exit "$ember_status"
