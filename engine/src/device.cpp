// Device names and the map from a device to its backend.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "backend_registry.h"
#include "ember/backend.h"
#include "ember/device.h"
#include "ember/error.h"

namespace ember {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

Backend& cpu_backend() {
  // Chosen once: memory allocated by one backend must be freed by the same one.
  static Backend* chosen = [] {
    const char* choice = std::getenv("EMBER_BACKEND");
    const std::string name = choice == nullptr ? "" : choice;
    if (name.empty() || name == "fast") return &fast_cpu_backend();
    if (name == "reference") return &reference_backend();
    throw Error(fmt::format(
        "EMBER_BACKEND={}: unknown CPU backend; use 'fast' (the default) or 'reference' (plain "
        "loops, for reading and checking)",
        name));
  }();
  return *chosen;
}

Backend& backend_for(Device device) {
  if (device.is_cpu()) return cpu_backend();
#ifdef EMBER_WITH_CUDA
  return cuda_backend(device.index);
#else
  throw Error(fmt::format(
      "{}: Ember was built without CUDA, so no tensor can live on a GPU (rebuild with "
      "nvcc installed and EMBER_CUDA=ON or AUTO; see docs/gpu.md)",
      device.str()));
#endif
}

namespace cuda {
#ifdef EMBER_WITH_CUDA
bool is_available() { return cuda_device_count() > 0; }
int device_count() { return cuda_device_count(); }
#else
bool is_available() { return false; }
int device_count() { return 0; }
#endif

std::string usability_problem(int index) {
  try {
    backend_for(Device::cuda(index));  // runs the kernel-launch probe on first use
    return {};
  } catch (const Error& e) {
    return e.what();
  }
}
}  // namespace cuda

}  // namespace ember
