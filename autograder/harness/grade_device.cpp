// The grading device: EMBER_DEVICE parsed, checked against this build and machine, kept.
#include "grade_device.h"

#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include <ember/backend.h>
#include <ember/error.h>

#include "grade_protocol.h"

namespace ember::grading {

namespace protocol = ::ember::grading::protocol;

Device parse_device(std::string_view value) {
  const auto name = protocol::normalize_device(value);
  if (!name) throw Error(protocol::bad_device_message(value));
  if (*name == "cpu") return Device::cpu();
  return Device::cuda(std::stoi(name->substr(5)));  // "cuda:N"; at most 4 digits
}

namespace {

// The first sentence of the message for a device that cannot be used.
std::string unusable_headline(Device device, std::string_view requested) {
  const std::string asked = fmt::format("{}={}", protocol::kDeviceVariable,
                                        requested.empty() ? device.str() : std::string(requested));
  if (!cuda::is_available()) {
    return asked + ": no CUDA device is available, so no check was run (not on the CPU either)";
  }
  return fmt::format("{}: {} cannot be used, so no check was run (not on the CPU either)", asked,
                     device.str());
}

}  // namespace

std::string device_problem(Device device, std::string_view requested) {
  if (device.is_cpu()) return {};
  // The engine's check launches a one-thread kernel on the GPU and waits for it (not only
  // counting devices), so a GPU this build has no code for, or a driver too old, is
  // reported here once, with its compute capability and the architectures built, instead
  // of every check failing on its own with "no kernel image is available".
  const std::string why = cuda::usability_problem(device.index);
  if (why.empty()) return {};
  return fmt::format(
      "{}. The engine says: {}. Grade on the CPU with DEVICE=cpu (the default), or on a machine "
      "with an NVIDIA GPU and a build with CUDA (docs/gpu.md)",
      unusable_headline(device, requested), why);
}

DeviceChoice choose_device(const char* value) {
  DeviceChoice choice;
  choice.requested = value != nullptr ? value : "";
  try {
    choice.device = parse_device(choice.requested);
    choice.name = choice.device.str();
  } catch (const std::exception& e) {
    choice.device = Device::cpu();
    choice.name = choice.requested;
    choice.problem = e.what();
    choice.headline = choice.problem;
    return choice;
  }
  try {
    choice.problem = device_problem(choice.device, choice.requested);
    if (!choice.problem.empty()) choice.headline = unusable_headline(choice.device, choice.requested);
  } catch (const std::exception& e) {  // only std::bad_alloc and the like
    choice.problem = choice.headline = e.what();
  }
  return choice;
}

const DeviceChoice& device_choice() {
  static const DeviceChoice choice = choose_device(std::getenv(protocol::kDeviceVariable));
  return choice;
}

Device device() {
  const DeviceChoice& choice = device_choice();
  if (!choice.problem.empty()) throw Error(choice.problem);
  return choice.device;
}

bool on_gpu() { return !device().is_cpu(); }


}  // namespace ember::grading
