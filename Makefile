# The commands people type. CMake does the building; this file only wraps it.
#
#   make grade            grade every question of lessons/ (the student's work)
#   make grade q3         grade one question (also: make grade Q=q3)
#   make test             build everything and run the whole test suite
#   make test SANITIZE=1  the same under AddressSanitizer and UBSan
#   make grade-solutions  grade the instructors' solutions/
#   make grade STUDENT_DIR=path/to/submission
#   make stubs            regenerate lessons/ from solutions/
#   make bench            run the benchmarks
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
QUESTIONS := q0 q1 q2 q3 q4 q5 q6
GOAL_QUESTIONS := $(filter $(QUESTIONS),$(MAKECMDGOALS))
Q ?= $(subst $(eval) ,$(comma),$(GOAL_QUESTIONS))
comma := ,

# Debian packages the build needs, and a file each one installs (to test for it).
PACKAGES := cmake:/usr/bin/cmake g++:/usr/bin/g++ make:/usr/bin/make \
            libgtest-dev:/usr/include/gtest/gtest.h libfmt-dev:/usr/include/fmt/format.h \
            zlib1g-dev:/usr/include/zlib.h

.PHONY: all build configure deps test grade grade-solutions stubs bench bench-compare \
        gradescope clean $(QUESTIONS)

all: build

deps:
	@missing=""; \
	for entry in $(PACKAGES); do \
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

# The main tree compiles the graders against solutions/, so `make test` checks that the
# solutions earn full marks and `make grade-solutions` reuses it.
configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEMBER_STUDENT_DIR=solutions \
	  -DEMBER_SANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# ---- grading ------------------------------------------------------------------------
# Student code gets a build tree of its own (build/grade), configured for STUDENT_DIR.
# The driver builds and runs each question on its own, so a compile error, a crash or an
# endless loop costs that question only; it exits 0 whenever grading ran.
STUDENT_DIR ?= lessons
GRADE_DIR := build/grade
GRADE_ENV := EMBER_MUTE=$(MUTE) EMBER_DEVICE=$(DEVICE)
GRADE_ARGS = $(if $(Q),--questions $(Q)) --jobs $(JOBS)

grade: deps
	@test -d "$(STUDENT_DIR)" || { echo "make grade: STUDENT_DIR $(STUDENT_DIR) is not a directory"; exit 2; }
	@cmake -S . -B $(GRADE_DIR) -DCMAKE_BUILD_TYPE=Release \
	  -DEMBER_STUDENT_DIR=$(abspath $(STUDENT_DIR)) >/dev/null
	@cmake --build $(GRADE_DIR) -j $(JOBS) --target ember_grade >/dev/null
	@$(GRADE_ENV) $(GRADE_DIR)/autograder/ember_grade --build-dir $(GRADE_DIR) $(GRADE_ARGS) \
	  --results-json $(GRADE_DIR)/results.json --report $(GRADE_DIR)/report.txt

grade-solutions: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_grade >/dev/null
	@$(GRADE_ENV) $(BUILD_DIR)/autograder/ember_grade --build-dir $(BUILD_DIR) $(GRADE_ARGS) \
	  --results-json $(BUILD_DIR)/results.json --report $(BUILD_DIR)/report.txt

# lessons/ is generated: solutions/ is the one source.
stubs: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_make_stubs >/dev/null
	@$(BUILD_DIR)/tools/ember_make_stubs --solutions solutions --lessons lessons

# ---- benchmarks ---------------------------------------------------------------------
bench: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_bench
	@$(BUILD_DIR)/bench/ember_bench $(BENCH_ARGS)

bench-compare: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target ember_bench
	@bash bench/compare.sh $(BUILD_DIR)/bench/ember_bench

clean:
	rm -rf build

$(QUESTIONS):
	@:
