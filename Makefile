# The commands people type. CMake does the building; this file only wraps it.
#
#   make grade            grade every question of lessons/ (the student's work); also
#                         writes an HTML report (build/grade/grade-report.html)
#   make grade q3         grade one question (also: make grade Q=q3)
#   make grade DEVICE=cuda  run the checks on the GPU (cuda:N for another; docs/gpu.md)
#   make test             build everything and run the whole test suite
#   make test SANITIZE=1  the same under AddressSanitizer and UBSan
#   make grade-solutions  grade the instructors' solutions/
#   make grade STUDENT_DIR=path/to/submission
#   make grade q6 CHECK=q6.layer_norm_matches_reference   one check (SEED=2: another seed)
#   make stubs            regenerate lessons/ from solutions/
#   make bench            run the benchmarks (and time a student-style grade)
#   make gpt              train q7's GPT with nanoGPT's laptop settings (make gpt-compare: and PyTorch)
#                         (PRECISION=medium: products in bfloat16 on a CPU with AMX or AVX512-BF16)
#   make gradescope       the autograder zip to upload to Gradescope (docs/instructors.md)
#
# Missing Debian packages are installed with apt-get when run as root; otherwise the
# exact command to run is printed.

SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SANITIZE ?= 0
DEVICE ?= cpu
MUTE ?= 0
ifeq ($(SANITIZE),1)
  BUILD_DIR ?= build/sanitize
  BUILD_TYPE ?= RelWithDebInfo
else
  BUILD_DIR ?= build/release
  BUILD_TYPE ?= Release
endif

# `make grade q3`: the question names are goals too; they do nothing by themselves.
QUESTIONS := q0 q1 q2 q3 q4 q5 q6 q7
GOAL_QUESTIONS := $(filter $(QUESTIONS),$(MAKECMDGOALS))
Q ?= $(subst $(eval) ,$(comma),$(GOAL_QUESTIONS))
comma := ,

# Debian packages the build needs, and a file each one installs (to test for it).
PACKAGES := cmake:/usr/bin/cmake g++:/usr/bin/g++ make:/usr/bin/make \
            libgtest-dev:/usr/include/gtest/gtest.h libfmt-dev:/usr/include/fmt/format.h \
            zlib1g-dev:/usr/include/zlib.h bubblewrap:/usr/bin/bwrap
# ... and the ones only `make test` needs: Chromium, for the test that opens the HTML grade
# report in a browser. (Kept apart so that `make grade` does not ask students for a browser.)
TEST_PACKAGES := chromium:/usr/bin/chromium

.PHONY: all build configure deps test-deps test grade grade-solutions stubs bench bench-compare gpt gpt-compare \
        gradescope clean $(QUESTIONS)

all: build

deps:
	@$(call install_missing,$(PACKAGES))

test-deps:
	@$(call install_missing,$(PACKAGES) $(TEST_PACKAGES))

# $(call install_missing,pkg:file ...): installs the packages whose file is missing (as root,
# with apt-get), or prints the command that does.
define install_missing
	missing=""; \
	for entry in $(1); do \
	  pkg=$${entry%%:*}; file=$${entry#*:}; \
	  [ -e "$$file" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing missing packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq $$missing >/dev/null || \
	      { echo "apt-get install failed for:$$missing"; exit 1; }; \
	  else \
	    echo "Ember needs these Debian packages:$$missing"; \
	    echo "Install them with:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef

# The main tree also builds the solutions' runners, so `make test` checks that the solutions
# earn full marks (grade_qN_full_marks).
configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DEMBER_SANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Under the sanitizers on a GPU machine, cudart needs ASan's shadow gap left unprotected, and
# the CUDA driver's lifetime allocations are not leaks; both settings are harmless elsewhere.
SANITIZE_ENV := $(if $(filter 1,$(SANITIZE)),ASAN_OPTIONS=protect_shadow_gap=0 \
  LSAN_OPTIONS=suppressions=$(abspath cmake/lsan_suppressions.txt))

test: test-deps build
	@cd $(BUILD_DIR) && $(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS)

# ---- grading ------------------------------------------------------------------------
# The grader's build tree (build/grade) holds no student code: the checkers (grade_qN), the
# driver and the libraries a runner links. The driver takes each question's file from
# STUDENT_DIR, compiles it into that question's runner in the sandbox (bubblewrap; see
# docs/security.md) and runs the checker, which asks the runner for values and decides every
# point. A compile error, a crash or an endless loop costs that question only; the driver
# exits 0 whenever grading ran. Besides the text report it writes grade-report.html (results
# and the questions' pictures, one page that any browser opens offline) and prints its path.
# DEVICE reaches the driver and every question program as EMBER_DEVICE: cpu (the default),
# cuda or cuda:N. The report's summary says where the checks ran; without a usable GPU
# every check fails with the reason rather than running on the CPU.
STUDENT_DIR ?= lessons
GRADE_DIR := build/grade
GRADE_ENV := EMBER_MUTE=$(MUTE) EMBER_DEVICE=$(DEVICE) $(if $(SEED),EMBER_SEED=$(SEED))
GRADE_ARGS = $(if $(Q),--questions $(Q)) $(if $(CHECK),--check '$(CHECK)') --jobs $(JOBS)
GRADER_TARGETS := ember_grade ember_runner_kit $(addprefix grade_,$(QUESTIONS))

grade: deps
	@test -d "$(STUDENT_DIR)" || { echo "make grade: STUDENT_DIR $(STUDENT_DIR) is not a directory"; exit 2; }
	@cmake -S . -B $(GRADE_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(GRADE_DIR) -j $(JOBS) --target $(GRADER_TARGETS) >/dev/null
	@$(GRADE_ENV) $(GRADE_DIR)/autograder/ember_grade --build-dir $(GRADE_DIR) --student-dir "$(STUDENT_DIR)" \
	  $(GRADE_ARGS) --results-json $(GRADE_DIR)/results.json --report $(GRADE_DIR)/report.txt \
	  --html $(GRADE_DIR)/grade-report.html

grade-solutions: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(GRADER_TARGETS) >/dev/null
	@$(GRADE_ENV) $(BUILD_DIR)/autograder/ember_grade --build-dir $(BUILD_DIR) --student-dir solutions \
	  $(GRADE_ARGS) --results-json $(BUILD_DIR)/results.json --report $(BUILD_DIR)/report.txt \
	  --html $(BUILD_DIR)/grade-report.html

# ---- grading a whole class (docs/instructors.md, "Grading a whole class") ---------------
#   make grade-class SUBMISSIONS=dir [OUT=build/class] [Q=q0,q1] [SHARD=i/n] [SEED=N] [FORCE=1]
# grades every folder or .zip of SUBMISSIONS (one per student) with the driver, as make grade
# does, JOBS at a time, in make grade's tree (built once for the class); writes
# OUT/gradebook.csv, OUT/class.html and OUT/reports/. A re-run skips unchanged submissions.
#   make gradebook-merge SHARDS="out1 out2 ..." [OUT=build/class]   joins shards' OUT folders
#   make bench-class [CLASS_SIZE=100]   the class workload (docs/performance.md); also
#                                       run by make bench BENCH_CLASS=1
OUT ?= build/class
CLASS_SIZE ?= 100
# The seed goes in the environment (EMBER_SEED), not on a command line every process can read.
CLASS_ARGS = $(if $(Q),--questions $(Q)) --jobs $(JOBS) $(if $(SHARD),--shard $(SHARD)) \
  $(if $(FORCE),--force) --device $(DEVICE)
CLASS_ENV = $(if $(SEED),EMBER_SEED=$(SEED))

.PHONY: grade-class gradebook-merge bench-class
grade-class: deps
	@test -d "$(SUBMISSIONS)" || { echo "make grade-class: SUBMISSIONS=$(SUBMISSIONS) is not a folder (give the folder holding one folder or .zip per student)"; exit 2; }
	@cmake -S . -B $(GRADE_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(GRADE_DIR) -j $(JOBS) --target $(GRADER_TARGETS) ember_grade_class >/dev/null
	@$(CLASS_ENV) $(GRADE_DIR)/autograder/ember_grade_class --build-dir $(GRADE_DIR) --submissions "$(SUBMISSIONS)" \
	  --out "$(OUT)" $(CLASS_ARGS)

gradebook-merge:
	@test -n "$(SHARDS)" || { echo 'make gradebook-merge: SHARDS="out1 out2 ..." (the shards'"'"' OUT folders)'; exit 2; }
	@cmake -S . -B $(GRADE_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(GRADE_DIR) -j $(JOBS) --target ember_grade_class >/dev/null
	@$(GRADE_DIR)/autograder/ember_grade_class --merge --out "$(OUT)" $(SHARDS)

bench-class: deps
	@cmake -S . -B $(GRADE_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(GRADE_DIR) -j $(JOBS) --target $(GRADER_TARGETS) ember_grade_class >/dev/null
	@bash autograder/class/bench_class.sh $(GRADE_DIR) build/bench-class $(CLASS_SIZE) $(JOBS)

bench: $(if $(BENCH_CLASS),bench-class)

# lessons/ is generated: solutions/ is the one source.
stubs: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_make_stubs >/dev/null
	@$(BUILD_DIR)/tools/ember_make_stubs --solutions solutions --lessons lessons

# ---- benchmarks ---------------------------------------------------------------------
# make bench also times the student's path (bench/grade_bench.sh): the whole grade of the
# solutions and of bench/student_style once their runners are built, and an edit of the
# student's q5 followed by its grade; BENCH_GRADE=0 leaves it out, BENCH_GRADE_REPS=N repeats.
BENCH_GRADE ?= 1
BENCH_GRADE_REPS ?= 3
bench: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_bench $(if $(filter 1,$(BENCH_GRADE)),$(GRADER_TARGETS))
	@$(BUILD_DIR)/bench/ember_bench $(BENCH_ARGS)
	@$(if $(filter 1,$(BENCH_GRADE)),bash bench/grade_bench.sh $(BUILD_DIR) $(BENCH_GRADE_REPS) $(JOBS))

bench-compare: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_bench
	@bash bench/compare.sh $(BUILD_DIR)/bench/ember_bench

# ---- q7: a GPT ----------------------------------------------------------------------
#   make gpt [DEVICE=cuda] [GPT_DIR=lessons] [GPT_ITERS=N] [GPT_ARGS=--baby]
# trains lesson q7's GPT with nanoGPT's laptop settings on tiny Shakespeare (tools/gpt/) and
# ends with `gpt: val loss L after N iterations in S s`. GPT_DIR=lessons trains your own
# model instead of the solution's; GPT_ARGS=--baby trains nanoGPT's baby GPT (for a GPU).
# PRECISION=medium lets the matrix products run in bfloat16 on a CPU with AMX or AVX512-BF16
# (ember/precision.h).
# make gpt-compare then runs bench/gpt.py, the same training in PyTorch, on the same machine
# (with PRECISION=medium: under torch.autocast in bfloat16, on 2 threads, its fastest here).
GPT_DIR ?= $(if $(wildcard solutions/q7_gpt),solutions,lessons)
GPT_ITERS ?=
PRECISION ?= highest
gpt: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEMBER_GPT_DIR=$(abspath $(GPT_DIR)) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_gpt >/dev/null
	@$(BUILD_DIR)/tools/ember_gpt --device $(DEVICE) $(if $(GPT_ITERS),--iters $(GPT_ITERS)) --precision $(PRECISION) $(GPT_ARGS)

gpt-compare: gpt
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "gpt-compare: PyTorch is missing; as root: apt-get install -y python3-torch libopenblas0-pthread"; exit 2; }
	@BENCH_THREADS=$${BENCH_THREADS:-$(if $(filter medium,$(PRECISION)),2,1)} /usr/bin/python3 bench/gpt.py --train $(or $(GPT_ITERS),2000) --precision $(PRECISION)

# ---- Gradescope -----------------------------------------------------------------------
# The zip to upload as the autograder: setup.sh, run_autograder and the course source,
# without solutions/ (see docs/instructors.md, "Grading on Gradescope").
GRADESCOPE_ZIP ?= build/gradescope/ember-autograder.zip

gradescope:
	@EMBER_GRADING_SEED=$(SEED) bash autograder/gradescope/package.sh $(GRADESCOPE_ZIP)

clean:
	rm -rf build

$(QUESTIONS):
	@:

# ---- the GPU check (docs/gpu.md, "make gpu-check") ------------------------------------
# gpu-prep (here, on Debian): GoogleTest, fmt and zlib from Debian's packages, unpacked into
# .gpu-deps/ (ignored; carry it to the GPU machine). gpu-check (there): build with the CUDA
# backend, every device test, DEVICE=cuda grading, the CUDA benchmarks, one summary. Exit
# status 3: no CUDA device (it stops before the GPU steps). GPU_CHECK_ARGS: e.g. --dry-run.
.PHONY: gpu-prep gpu-check
gpu-prep:
	@bash tools/gpu/prep.sh

gpu-check:
	@bash tools/gpu/gpu_check.sh $(GPU_CHECK_ARGS)
