// The device the checks run on: the CPU unless the environment variable EMBER_DEVICE says
// otherwise (make grade DEVICE=cuda sets it; see docs/gpu.md, "Grading on a GPU").
//
//   const ember::Device device = ember::grading::device();    // cpu, cuda:0, ...
//
// Both halves of a question read it: the checker, to fail every check at once when the
// device cannot be used (and to say where the checks ran), and the runner, which moves the
// student's model, its inputs and its datasets there (runner/runner_main.cpp). The checker
// builds its inputs on the CPU (so a seed draws the same numbers whatever the device) and
// gets results back on the CPU, through the channel.
//
// When EMBER_DEVICE is not a device, or names a GPU that this build or this machine cannot
// use, no check runs anywhere, not even on the CPU: GRADED_TEST fails every check before its
// body with the reason (device_choice().problem in full for the first check, its headline
// for the others), and the report says so. So the question bodies never see that case;
// device() throws it if they ask anyway.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <ember/device.h>
#include <ember/error.h>
#include <ember/nn/module.h>
#include <ember/tensor.h>

namespace ember::grading {

struct DeviceChoice {
  std::string requested;  // EMBER_DEVICE as given; empty when unset
  std::string name;       // "cpu", "cuda:0", ...; the value as given when it names no device
  Device device;          // what it names (the CPU when it names nothing)
  std::string problem;    // empty when the checks can run on device; otherwise why not
  std::string headline;   // the first sentence of problem (the whole of it for a misspelling)
};

// Parses a value of EMBER_DEVICE: "" or "cpu" -> cpu, "cuda" -> cuda:0, "cuda:N" -> cuda:N.
// Throws ember::Error naming EMBER_DEVICE and the accepted values for anything else.
Device parse_device(std::string_view value);

// Empty when the checks can run on device in this build on this machine; otherwise a message
// for the report that says no CUDA device is available and why (the engine's own words:
// "Ember was built without CUDA", "no CUDA device: ... no usable GPU", "cuda:3 does not
// exist"). `requested` is EMBER_DEVICE as given, for the message.
std::string device_problem(Device device, std::string_view requested);

// Decides the device for a value of EMBER_DEVICE (nullptr: unset). Never throws.
DeviceChoice choose_device(const char* value);

// The choice for this program's EMBER_DEVICE, made on first use and kept.
const DeviceChoice& device_choice();

// The device the checks run on. Throws ember::Error with device_choice().problem when the
// checks cannot run (GRADED_TEST has already failed the check with it by then).
Device device();

// True when the checks run somewhere other than the CPU.
bool on_gpu();

}  // namespace ember::grading
