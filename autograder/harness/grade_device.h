// The device the checks run on: the CPU unless the environment variable EMBER_DEVICE says
// otherwise (make grade DEVICE=cuda sets it; see docs/gpu.md, "Grading on a GPU").
//
//   const ember::Device device = ember::grading::device();    // cpu, cuda:0, ...
//   q3::DigitClassificationModel model;
//   ember::grading::move_to_device(model);                    // parameters and buffers
//   const Tensor x = ember::grading::on_device(ember::rand({8, 784}));
//   const std::vector<float> logits = model.run(x).to_vector();  // back on the CPU to compare
//
// A grader builds its inputs on the CPU, as it always has (so a seed draws the same numbers
// whatever the device), moves them with on_device, and reads results back with to_vector()
// or item(), which copy to the host. On the CPU every helper here returns what it was given.
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

// tensor on the grading device: the same tensor when it is already there (always, on the CPU).
Tensor on_device(const Tensor& tensor);
std::vector<Tensor> on_device(const std::vector<Tensor>& tensors);

// Moves a model's parameters and buffers to the grading device, in place (nn::Module::to),
// and returns it. Called through nn::Module, so a lesson's own to() cannot hide it.
template <typename Model>
Model& move_to_device(Model& model) {
  static_assert(std::is_base_of_v<nn::Module, Model>,
                "move_to_device: the model must derive from ember::nn::Module");
  static_cast<nn::Module&>(model).to(device());
  return model;
}

namespace detail {
template <typename T, typename = void>
struct HasTo : std::false_type {};
template <typename T>
struct HasTo<T, std::void_t<decltype(std::declval<T&>().to(std::declval<Device>()))>>
    : std::true_type {};
}  // namespace detail

// Moves a dataset to the grading device with its to(Device) (data::Dataset and its
// subclasses have one; see ember/data/dataset.h), so that the DataLoader a lesson walks it
// with delivers batches there. Returns false, doing nothing, for a type without to(Device):
// its batches stay wherever it makes them.
template <typename Dataset>
bool move_dataset_to_device(Dataset& dataset) {
  if constexpr (detail::HasTo<Dataset>::value) {
    dataset.to(device());
    return true;
  } else {
    (void)dataset;
    return false;
  }
}

}  // namespace ember::grading
