// Where a tensor's numbers live: main memory (the CPU) or a GPU's memory.
#pragma once

#include <string>

namespace ember {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }

  // "cpu" or "cuda:0", as PyTorch writes devices.
  std::string str() const;
};

namespace cuda {
// True when Ember was built with its CUDA backend and a CUDA device is present.
bool is_available();
// The number of CUDA devices; 0 without a GPU or in a build without CUDA.
int device_count();
// Empty when cuda:index can run Ember's kernels; otherwise why not, in one sentence (the
// same text backend_for(Device::cuda(index)) throws). The first call for a device launches
// a one-thread kernel there and waits for it, so a GPU the build has no code for (say
// sm_75 in a build for sm_80 and sm_90), or a driver too old for the runtime, is reported
// here with the GPU's compute capability and the architectures built, instead of failing
// every op later with "no kernel image is available".
std::string usability_problem(int index = 0);
}  // namespace cuda

}  // namespace ember
