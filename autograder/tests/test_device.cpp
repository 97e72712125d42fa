// The grading device (EMBER_DEVICE, autograder/harness/grade_device.h): parsing and the
// checks against this build and machine (unit tests), the helpers that move models and data,
// and the real grade_qN programs (compiled against solutions/) run by the driver with
// EMBER_DEVICE=cuda: on a machine without a GPU every check must fail with the reason and the
// report must say so; on one with a GPU every question must earn full marks there.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <ember/ember.h>

#include "grade_device.h"
#include "test_support.h"

using namespace ember_test;
namespace grading = ember::grading;
using ember::Device;

namespace {

// What moving to cuda:0 says here when it cannot work.
const char* kNoCudaMessage =
#ifdef EMBER_HAS_CUDA_BACKEND
    "no CUDA device: cannot use cuda:0";
#else
    "cuda:0: Ember was built without CUDA";
#endif

std::string message_of(const char* value) {
  try {
    grading::parse_device(value);
  } catch (const ember::Error& e) {
    return e.what();
  }
  return "";
}


}  // namespace

// ---- parsing ------------------------------------------------------------------------------

TEST(GradeDevice, ParsesCpuCudaAndCudaN) {
  EXPECT_EQ(grading::parse_device(""), Device::cpu());
  EXPECT_EQ(grading::parse_device("cpu"), Device::cpu());
  EXPECT_EQ(grading::parse_device("cuda"), Device::cuda(0));
  EXPECT_EQ(grading::parse_device("cuda:0"), Device::cuda(0));
  EXPECT_EQ(grading::parse_device("cuda:1"), Device::cuda(1));
  EXPECT_EQ(grading::parse_device("cuda:15"), Device::cuda(15));
}

TEST(GradeDevice, RejectsJunkNamingTheVariableAndTheAcceptedValues) {
  for (const char* junk : {"gpu", "GPU", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:01", "cuda1",
                           "cpu ", "metal", "cuda:0:1"}) {
    const std::string message = message_of(junk);
    EXPECT_CONTAINS(message, std::string("EMBER_DEVICE='") + junk + "' is not a device");
    EXPECT_CONTAINS(message, "use cpu (the default), cuda (the first GPU, cuda:0) or cuda:N");
  }
  const grading::DeviceChoice choice = grading::choose_device("gpu");
  EXPECT_EQ(choice.requested, "gpu");
  EXPECT_EQ(choice.name, "gpu");
  EXPECT_EQ(choice.device, Device::cpu());
  EXPECT_CONTAINS(choice.problem, "EMBER_DEVICE='gpu' is not a device");
}

TEST(GradeDevice, TheCpuIsAlwaysUsable) {
  for (const char* value : {static_cast<const char*>(nullptr), "", "cpu"}) {
    const grading::DeviceChoice choice = grading::choose_device(value);
    EXPECT_EQ(choice.device, Device::cpu());
    EXPECT_EQ(choice.name, "cpu");
    EXPECT_EQ(choice.problem, "");
  }
  EXPECT_EQ(grading::device_problem(Device::cpu(), "cpu"), "");
}

TEST(GradeDevice, CudaWithoutADeviceSaysSo) {
  if (ember::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  for (const char* value : {"cuda", "cuda:1"}) {
    const grading::DeviceChoice choice = grading::choose_device(value);
    EXPECT_EQ(choice.requested, value);
    EXPECT_EQ(choice.device, grading::parse_device(value));
    EXPECT_EQ(choice.name, choice.device.str());
    EXPECT_CONTAINS(choice.problem, std::string("EMBER_DEVICE=") + value +
                                        ": no CUDA device is available, so no check was run "
                                        "(not on the CPU either)");
    EXPECT_CONTAINS(choice.problem, "Grade on the CPU with DEVICE=cpu");
  }
  EXPECT_CONTAINS(grading::choose_device("cuda").problem, kNoCudaMessage);
}

TEST(GradeDevice, CudaWithADeviceIsUsable) {
  if (!ember::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or on this machine";
  const grading::DeviceChoice choice = grading::choose_device("cuda");
  EXPECT_EQ(choice.device, Device::cuda(0));
  EXPECT_EQ(choice.name, "cuda:0");
  EXPECT_EQ(choice.problem, "");
  const int missing = ember::cuda::device_count();
  const grading::DeviceChoice beyond = grading::choose_device(("cuda:" + std::to_string(missing)).c_str());
  EXPECT_CONTAINS(beyond.problem, "cannot be used, so no check was run");
  EXPECT_CONTAINS(beyond.problem, "does not exist");
}

// ---- this process's device -----------------------------------------------------------------

TEST(GradeDevice, OnGpuFollowsThisProcesssDevice) {
  const grading::DeviceChoice& choice = grading::device_choice();
  if (!choice.problem.empty()) GTEST_SKIP() << "EMBER_DEVICE cannot be used here: " << choice.problem;
  EXPECT_EQ(grading::on_gpu(), !grading::device().is_cpu());
}

// ---- a question program and the driver ------------------------------------------------------

TEST(GradeDevice, AQuestionWithoutTheDeviceFailsEveryCheckWithTheReason) {
  if (ember::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  TempDir dir;
  const std::string results = dir / "results.txt";
  const Outcome outcome = run_shell("EMBER_DEVICE=cuda EMBER_GRADE_RESULTS=" + quote(results) + " " +
                                        quote(FAKE_PASS_Q0),
                                    dir);
  EXPECT_EQ(outcome.status, 1) << outcome.out << outcome.err;  // failed checks, not a crash
  EXPECT_CONTAINS(outcome.out, "[  DEVICE  ] EMBER_DEVICE=cuda: no CUDA device is available");
  EXPECT_CONTAINS(outcome.out, "[  POINTS  ] q0: 0/4");
  const std::string protocol = read_text(results);
  EXPECT_CONTAINS(protocol, "ember-grade\t1\ndevice\tcuda:0\tEMBER_DEVICE=cuda: no CUDA device is available");
  EXPECT_CONTAINS(protocol, "check\tq0\tshapes_add_up\t0\t1\tFAIL\tnot run: EMBER_DEVICE=cuda: no CUDA "
                            "device is available, so no check was run (not on the CPU either)");
  EXPECT_CONTAINS(protocol, "done\n");
}

TEST(GradeDevice, TheDriverReportsTheDeviceItGradedOn) {
  TempDir dir;
  fs::create_directories(dir.path() / "exe");
  fs::create_symlink(FAKE_PASS_Q0, dir.path() / "exe" / "grade_q0");
  const std::string args = quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " + quote(dir / "exe") +
                           " --questions q0 --no-timings --color never --results-json " +
                           quote(dir / "r.json") + " --html " + quote(dir / "r.html");

  const Outcome cpu = run_shell("EMBER_DEVICE=cpu " + args, dir);
  ASSERT_EQ(cpu.status, 0) << cpu.err;
  EXPECT_CONTAINS(cpu.out, "Total: 4/4\nDevice: cpu\n");
  Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("extra_data").at("device").string, "cpu");
  EXPECT_EQ(results.at("extra_data").at("device_problem").string, "");
  EXPECT_CONTAINS(read_text(dir / "r.html"), "<p class=\"subtitle\">Device: cpu</p>");

  // A misspelt device stops the driver before anything is built or run.
  for (const std::string& bad : {std::string("EMBER_DEVICE=gpu ") + args, args + " --device cuda:x"}) {
    const Outcome junk = run_shell(bad, dir);
    EXPECT_EQ(junk.status, 2) << bad;
    EXPECT_CONTAINS(junk.err, "is not a device: use cpu (the default), cuda (the first GPU, cuda:0) or cuda:N");
    EXPECT_EQ(junk.out, "");
  }

  const Outcome cuda = run_shell(args + " --device cuda", dir);
  ASSERT_EQ(cuda.status, 0) << cuda.err;  // grading ran, and the report was written
  results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("extra_data").at("device").string, "cuda:0");
  if (ember::cuda::is_available()) {
    EXPECT_CONTAINS(cuda.out, "Total: 4/4\nDevice: cuda:0\n");
    EXPECT_EQ(results.at("score").number, 4);
  } else {
    EXPECT_CONTAINS(cuda.out, "*** FAIL: q0.shapes_add_up (0/1)\n***     not run: EMBER_DEVICE=cuda: no CUDA "
                              "device is available, so no check was run (not on the CPU either)");
    EXPECT_CONTAINS(cuda.out, "Total: 0/4\nDevice: cuda:0 could not be used: EMBER_DEVICE=cuda: no CUDA "
                              "device is available");
    EXPECT_EQ(results.at("score").number, 0);
    EXPECT_CONTAINS(results.at("extra_data").at("device_problem").string, "no CUDA device is available");
    EXPECT_CONTAINS(read_text(dir / "r.html"), "Device: cuda:0 could not be used: EMBER_DEVICE=cuda: no CUDA");
  }
}

// ---- the real graders -----------------------------------------------------------------------

#ifdef REAL_GRADERS_DIR
namespace {

Outcome grade_solutions_on_cuda(const TempDir& dir, const std::string& questions) {
  return run_shell("EMBER_DEVICE=cuda EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " +
                       quote(REAL_GRADERS_DIR) + " --student-dir " + quote(SOLUTIONS_DIR) + " --toolchain " +
                       quote(RUNNER_TOOLCHAIN) + " --questions " + questions +
                       " --no-timings --color never --no-html --pictures-dir " + quote(dir / "pictures") +
                       " --results-json " + quote(dir / "r.json"),
                   dir);
}

}  // namespace
#endif

TEST(GradeSolutionsOnCuda, WithoutADeviceNoCheckPassesAndTheReportSaysWhy) {
#ifndef REAL_GRADERS_DIR
  GTEST_SKIP() << "this checkout has no solutions/ to grade";
#else
  if (ember::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  TempDir dir;
  const Outcome outcome = grade_solutions_on_cuda(dir, "all");
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_NOT_CONTAINS(outcome.out, "*** PASS");
  for (const char* question : {"q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7"}) {
    EXPECT_CONTAINS(outcome.out, std::string("Question ") + question + ": 0/");
  }
  EXPECT_CONTAINS(outcome.out, "Total: 0/50\nDevice: cuda:0 could not be used: EMBER_DEVICE=cuda: no "
                               "CUDA device is available");
  EXPECT_CONTAINS(outcome.out, kNoCudaMessage);
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("score").number, 0);
  EXPECT_EQ(results.at("max_score").number, 50);
  for (const Json& test : results.at("tests").array) {
    EXPECT_EQ(test.at("status").string, "failed") << test.at("name").string;
    EXPECT_CONTAINS(test.at("output").string, "not run: EMBER_DEVICE=cuda: no CUDA device is available");
  }
#endif
}

TEST(GradeSolutionsOnCuda, WithADeviceTheSolutionsEarnFullMarksThere) {
#ifndef REAL_GRADERS_DIR
  GTEST_SKIP() << "this checkout has no solutions/ to grade";
#else
  if (!ember::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or on this machine";
  // Every question, the trained ones included: the course datasets of q3, q4 and q5 move to
  // the GPU with the model (MnistDigits::to, LanguageIDDataset::to).
  TempDir dir;
  const Outcome outcome = grade_solutions_on_cuda(dir, "all");
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_NOT_CONTAINS(outcome.out, "*** FAIL");
  EXPECT_CONTAINS(outcome.out, "Question q0: 4/4\nQuestion q1: 6/6\nQuestion q2: 6/6\nQuestion q3: 6/6\n"
                               "Question q4: 7/7\nQuestion q5: 4/4\nQuestion q6: 6/6\nQuestion q7: 11/11\n"
                               "------------------\nTotal: 50/50\nDevice: cuda:0\n");
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("score").number, 50);
  EXPECT_EQ(results.at("max_score").number, 50);
  EXPECT_EQ(results.at("extra_data").at("device").string, "cuda:0");
#endif
}
