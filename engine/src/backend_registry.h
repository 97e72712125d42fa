// The backends the engine was built with. backend_for() in device.cpp picks among them.
#pragma once

#include "ember/backend.h"

namespace ember {

Backend& fast_cpu_backend();   // engine/src/fast_cpu/cpu_backend.cpp
Backend& reference_backend();  // engine/src/reference/reference_backend.cpp

// The CPU backend tensors on Device::cpu() use: the fast one, or the reference one when the
// environment says EMBER_BACKEND=reference. Read once, at the first use; any other value
// throws (the message lists the choices).
Backend& cpu_backend();

#ifdef EMBER_WITH_CUDA
Backend& cuda_backend(int index);  // engine/src/cuda/cuda_backend.cu; throws without a device
int cuda_device_count();           // 0 when the driver finds no GPU
#endif

}  // namespace ember
