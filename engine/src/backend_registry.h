// The backends the engine was built with. backend_for() in device.cpp picks among them.
#pragma once

#include "ember/backend.h"

namespace ember {

Backend& cpu_backend();  // engine/src/cpu/cpu_backend.cpp

#ifdef EMBER_WITH_CUDA
Backend& cuda_backend(int index);  // engine/src/cuda/cuda_backend.cu; throws without a device
int cuda_device_count();           // 0 when the driver finds no GPU
#endif

}  // namespace ember
