// What every runner includes before the student's header: the engine, the course's datasets
// and progress, and the runner harness. The grader's build compiles it once into a
// precompiled header (runner_prelude.h.gch, see autograder/CMakeLists.txt), which the driver
// passes with -include, so compiling a submission's runner parses only the student's code and
// one small file of glue.
// (No #pragma once: it is the precompiled file itself, and -include reads it once.)

#include <ember/ember.h>
#include <ember_course/convolution_dataset.h>
#include <ember_course/digit_dataset.h>
#include <ember_course/lang_id_dataset.h>
#include <ember_course/perceptron_dataset.h>
#include <ember_course/progress.h>
#include <ember_course/regression_dataset.h>
#include <ember_course/shakespeare.h>

#include "runner.h"
