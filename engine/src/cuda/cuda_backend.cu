// The CUDA backend's memory, the probe that tells whether a GPU can run our kernels, and
// how device.cpp finds the backends (cuda_device_count() and cuda_backend(), declared in
// backend_registry.h). The class and the files of its kernels: cuda_backend.cuh.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "backend_registry.h"
#include "cuda/caching_allocator.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/cuda_common.cuh"
#include "ember/error.h"

namespace ember {
namespace cuda {

void check_cuda(cudaError_t status, const char* op) {
  if (status == cudaSuccess) return;
  throw Error(fmt::format("cuda {}: {} ({})", op, cudaGetErrorString(status), cudaGetErrorName(status)));
}

namespace {

// What the probe kernel writes, so that a launch that "succeeds" without running is caught.
constexpr int kProbeValue = 0x5eed;

__global__ void probe_kernel(int* out) { *out = kProbeValue; }

// Empty when cuda:index runs a kernel: a one-thread launch, waited for, whose result is
// read back. Otherwise the sentence of unusable_gpu_message. Called once per GPU.
std::string probe_device(int index) {
  std::string gpu_name = "unknown GPU";
  int major = 0, minor = 0;
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, index) == cudaSuccess) {
    gpu_name = properties.name;
    major = properties.major;
    minor = properties.minor;
  }
  auto failed = [&](cudaError_t status, const char* step) {
    cudaGetLastError();  // not sticky errors (those stay; the context is unusable anyway)
    return unusable_gpu_message(
        index, gpu_name, major, minor,
        fmt::format("{} failed with \"{}\" ({})", step, cudaGetErrorString(status), cudaGetErrorName(status)),
        built_architectures());
  };
  int previous = 0;
  cudaError_t status = cudaGetDevice(&previous);
  if (status != cudaSuccess) return failed(status, "cudaGetDevice");
  if ((status = cudaSetDevice(index)) != cudaSuccess) return failed(status, "cudaSetDevice");
  std::string problem;
  int* flag = nullptr;
  int value = 0;
  if ((status = cudaMalloc(&flag, sizeof(int))) != cudaSuccess) {
    problem = failed(status, "cudaMalloc of 4 bytes");
  } else {
    probe_kernel<<<1, 1>>>(flag);
    if ((status = cudaGetLastError()) != cudaSuccess) {
      problem = failed(status, "launching a one-thread kernel");
    } else if ((status = cudaDeviceSynchronize()) != cudaSuccess) {
      problem = failed(status, "running a one-thread kernel");
    } else if ((status = cudaMemcpy(&value, flag, sizeof(int), cudaMemcpyDeviceToHost)) != cudaSuccess) {
      problem = failed(status, "reading the kernel's result");
    } else if (value != kProbeValue) {
      problem = unusable_gpu_message(
          index, gpu_name, major, minor,
          fmt::format("a one-thread kernel ran without writing its result (read {:#x}, expected {:#x})",
                      value, kProbeValue),
          built_architectures());
    }
    cudaFree(flag);
  }
  cudaSetDevice(previous);
  return problem;
}

// The matmul kernel in use; EMBER_CUDA_MATMUL=cublas picks cuBLAS when it is built in.
std::atomic<MatmulKernel>& selected_matmul_kernel() {
  static std::atomic<MatmulKernel> kernel{[] {
    const char* choice = std::getenv("EMBER_CUDA_MATMUL");
    bool want_cublas = choice != nullptr && std::string(choice) == "cublas";
    return want_cublas && has_cublas() ? MatmulKernel::Cublas : MatmulKernel::Tiled;
  }()};
  return kernel;
}

}  // namespace

// --- CudaBackend: memory and the probe (its kernels are in the files of cuda_backend.cuh) --

const std::string& CudaBackend::usability_problem() {
  std::call_once(probed_, [this] { problem_ = probe_device(index_); });
  return problem_;
}

float* CudaBackend::allocate(int64_t count) {
  constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max() / 8;
  check(count >= 0 && count <= kMaxCount, "cuda allocate: cannot allocate {} floats", count);
  // At least one element, so that data is never null (as on the CPU).
  size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(float);
  return static_cast<float*>(allocator_.allocate(bytes));
}

void CudaBackend::deallocate(float* data) { allocator_.deallocate(data); }

void CudaBackend::copy_from_host(const float* host, float* device_data, int64_t count) {
  if (count <= 0) return;
  DeviceGuard guard(index_, "copy_from_host");
  check_cuda(cudaMemcpy(device_data, host, static_cast<size_t>(count) * sizeof(float),
                        cudaMemcpyHostToDevice),
             "copy_from_host");
}

void CudaBackend::copy_to_host(const float* device_data, float* host, int64_t count) {
  if (count <= 0) return;
  DeviceGuard guard(index_, "copy_to_host");
  // Waits for every kernel queued before it: this is where results reach the host.
  check_cuda(cudaMemcpy(host, device_data, static_cast<size_t>(count) * sizeof(float),
                        cudaMemcpyDeviceToHost),
             "copy_to_host");
}

namespace {

// What the CUDA runtime said when asked for devices: the count, or why there are none.
struct DeviceCensus {
  int count = 0;
  std::string reason;  // empty when count > 0
};

// Asked once: the set of devices does not change while the process runs. Never destroyed,
// like the backends below, so that it outlives every tensor.
const DeviceCensus& device_census() {
  static const DeviceCensus* census = [] {
    auto* result_pointer = new DeviceCensus();
    DeviceCensus& result = *result_pointer;
    cudaError_t status = cudaGetDeviceCount(&result.count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // a failed query must not show up as a later kernel's error
      result.count = 0;
      result.reason = fmt::format("the CUDA runtime reports \"{}\" ({})", cudaGetErrorString(status),
                                  cudaGetErrorName(status));
      if (status == cudaErrorInsufficientDriver) {
        result.reason += fmt::format(
            ": no NVIDIA driver is loaded, or it is older than CUDA {}.{} needs",
            CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
      }
    } else if (result.count == 0) {
      result.reason = "the CUDA runtime found no GPU";
    }
    return result_pointer;
  }();
  return *census;
}

// One backend per GPU, made together on first use. They are never destroyed: a tensor
// in a static object may free its storage after main() returns, and must still find its
// backend (freeing only returns the block to the cache, with no CUDA call).
const std::vector<CudaBackend*>& all_backends() {
  static const std::vector<CudaBackend*>* backends = [] {
    auto* list = new std::vector<CudaBackend*>();
    for (int i = 0; i < device_census().count; ++i) list->push_back(new CudaBackend(i));
    return list;
  }();
  return *backends;
}

CudaBackend& backend_at(int index) {
  const DeviceCensus& census = device_census();
  if (census.count == 0) {
    throw Error(fmt::format(
        "no CUDA device: cannot use cuda:{}, this machine has no usable GPU ({}). Ember's "
        "CUDA backend is built in; keep tensors on the CPU here (see docs/gpu.md)",
        index, census.reason));
  }
  if (index < 0 || index >= census.count) {
    throw Error(fmt::format("cuda:{} does not exist ({} device{}: cuda:0{})", index, census.count,
                            census.count == 1 ? "" : "s",
                            census.count == 1 ? "" : fmt::format(" to cuda:{}", census.count - 1)));
  }
  CudaBackend& backend = *all_backends()[static_cast<size_t>(index)];
  const std::string& problem = backend.usability_problem();
  if (!problem.empty()) throw Error(problem);
  return backend;
}

}  // namespace

// --- cuda_backend.h ---------------------------------------------------------------------

AllocatorStats allocator_stats(int device) { return backend_at(device).allocator().stats(); }

void empty_cache(int device) { backend_at(device).allocator().empty_cache(); }

bool has_cublas() {
#ifdef EMBER_CUDA_CUBLAS
  return true;
#else
  return false;
#endif
}

void set_matmul_kernel(MatmulKernel kernel) {
  check(kernel != MatmulKernel::Cublas || has_cublas(),
        "cuda matmul: this build has no cuBLAS; configure with -DEMBER_CUDA_CUBLAS=ON to "
        "compare against it");
  selected_matmul_kernel().store(kernel);
}

MatmulKernel matmul_kernel() { return selected_matmul_kernel().load(); }

std::string built_architectures() {
  // cuda.cmake passes EMBER_CUDA_ARCHITECTURES with commas (a ';' would split the define).
  std::string list = EMBER_CUDA_ARCHITECTURE_LIST;
  std::replace(list.begin(), list.end(), ',', ';');
  return list;
}

bool architectures_cover(const std::string& architectures, int major, int minor) {
  const int capability = major * 10 + minor;
  std::istringstream entries(architectures);
  std::string entry;
  while (std::getline(entries, entry, ';')) {
    // "80-real": machine code only; "90-virtual": PTX only; "90": both.
    const size_t dash = entry.find('-');
    const std::string number = entry.substr(0, dash);
    const std::string kind = dash == std::string::npos ? "" : entry.substr(dash + 1);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
    const int built = std::stoi(number);  // e.g. 86 for sm_86
    const bool machine_code = kind.empty() || kind == "real";
    const bool ptx = kind.empty() || kind == "virtual";
    if (machine_code && built / 10 == major && built <= capability) return true;
    if (ptx && built <= capability) return true;
  }
  return false;
}

std::string unusable_gpu_message(int index, const std::string& gpu_name, int major, int minor,
                                 const std::string& failure, const std::string& architectures) {
  std::string message = fmt::format(
      "cuda:{} ({}, compute capability {}.{}) cannot run Ember's kernels: {}. This build has GPU "
      "code for the architectures {} (EMBER_CUDA_ARCHITECTURES)",
      index, gpu_name, major, minor, failure, architectures);
  if (major > 0 && !architectures_cover(architectures, major, minor)) {
    message += fmt::format(
        ", none of which runs on compute capability {}.{}: rebuild with "
        "-DEMBER_CUDA_ARCHITECTURES=\"{}{}-real\" (see docs/gpu.md)",
        major, minor, architectures.empty() ? "" : architectures + ";", major * 10 + minor);
  } else {
    message += ", which covers this GPU; the driver or the GPU itself failed (see docs/gpu.md)";
  }
  return message;
}

}  // namespace cuda

// --- backend_registry.h -------------------------------------------------------------------

int cuda_device_count() { return cuda::device_census().count; }

Backend& cuda_backend(int index) { return cuda::backend_at(index); }

}  // namespace ember
