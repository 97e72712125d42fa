// The CUDA backend: every kernel of backend.h on an NVIDIA GPU.
//
// One CudaBackend per GPU. Each call makes its GPU current (DeviceGuard) and hands over to
// the kernel files listed in kernels.cuh; memory comes from the caching allocator. Ops
// never wait for the GPU: kernels are queued on the device's default stream and run in
// order, and only copies to the host (item(), to_vector(), .cpu()) wait for them.
//
// cuda_device_count() and cuda_backend() are how device.cpp finds this backend
// (backend_registry.h).
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
#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"
#include "cuda/kernels.cuh"
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

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index), allocator_(index) {}

  Device device() const override { return Device::cuda(index_); }
  const char* name() const override { return "cuda"; }
  CachingAllocator& allocator() { return allocator_; }

  // Empty when this GPU ran the probe kernel; otherwise why not. Probed on first use only.
  const std::string& usability_problem() {
    std::call_once(probed_, [this] { problem_ = probe_device(index_); });
    return problem_;
  }

  // --- memory -------------------------------------------------------------------------
  float* allocate(int64_t count) override {
    constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max() / 8;
    check(count >= 0 && count <= kMaxCount, "cuda allocate: cannot allocate {} floats", count);
    // At least one element, so that data is never null (as on the CPU).
    size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(float);
    return static_cast<float*>(allocator_.allocate(bytes));
  }
  void deallocate(float* data) override { allocator_.deallocate(data); }

  void copy_from_host(const float* host, float* device_data, int64_t count) override {
    if (count <= 0) return;
    DeviceGuard guard(index_, "copy_from_host");
    check_cuda(cudaMemcpy(device_data, host, bytes_of(count), cudaMemcpyHostToDevice),
               "copy_from_host");
  }
  void copy_to_host(const float* device_data, float* host, int64_t count) override {
    if (count <= 0) return;
    DeviceGuard guard(index_, "copy_to_host");
    // Waits for every kernel queued before it: this is where results reach the host.
    check_cuda(cudaMemcpy(host, device_data, bytes_of(count), cudaMemcpyDeviceToHost),
               "copy_to_host");
  }

  // --- fill and copy ----------------------------------------------------------------------
  void fill(float* out, int64_t count, float value) override {
    DeviceGuard guard(index_, "fill");
    cuda::fill(out, count, value);
  }
  void copy(const float* in, const StridedLayout& in_layout, float* out,
            const StridedLayout& out_layout) override {
    DeviceGuard guard(index_, "copy");
    cuda::copy(in, in_layout, out, out_layout);
  }

  // --- element-wise -----------------------------------------------------------------------
  void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) override {
    DeviceGuard guard(index_, "unary");
    cuda::unary(op, in, out, count, a, b);
  }
  void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
              const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) override {
    DeviceGuard guard(index_, "binary");
    cuda::binary(op, x, x_layout, y, y_layout, out, out_layout);
  }
  void where(const float* condition, const StridedLayout& condition_layout, const float* x,
             const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout,
             float* out, const StridedLayout& out_layout) override {
    DeviceGuard guard(index_, "where");
    cuda::where(condition, condition_layout, x, x_layout, y, y_layout, out, out_layout);
  }

  // --- reductions -----------------------------------------------------------------------
  void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
              int64_t inner) override {
    DeviceGuard guard(index_, "reduce");
    cuda::reduce(op, in, out, outer, n, inner, allocator_);
  }

  // --- matrix multiply ----------------------------------------------------------------------
  void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
              const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c,
              int64_t batch, int64_t m, int64_t n, int64_t k) override {
    DeviceGuard guard(index_, "matmul");
    if (selected_matmul_kernel().load() == MatmulKernel::Cublas) {
      cuda::matmul_cublas(index_, a, a_batch_stride, lda, transpose_a, b, b_batch_stride, ldb,
                          transpose_b, c, batch, m, n, k);
    } else {
      cuda::matmul(a, a_batch_stride, lda, transpose_a, b, b_batch_stride, ldb, transpose_b, c,
                   batch, m, n, k, allocator_);
    }
  }

  // --- softmax ------------------------------------------------------------------------------
  void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) override {
    DeviceGuard guard(index_, "softmax");
    cuda::softmax(in, out, rows, cols, log);
  }
  void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                        int64_t cols, bool log) override {
    DeviceGuard guard(index_, "softmax_backward");
    cuda::softmax_backward(y, grad, grad_in, rows, cols, log);
  }

  // --- indexing -----------------------------------------------------------------------------
  void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                   float* out) override {
    DeviceGuard guard(index_, "gather_rows");
    cuda::gather_rows(table, row_size, indices, count, out);
  }
  void scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                        int64_t count, float* table) override {
    DeviceGuard guard(index_, "scatter_add_rows");
    cuda::scatter_add_rows(rows, row_size, indices, count, table, allocator_);
  }

  // --- random fills ---------------------------------------------------------------------------
  void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                    uint64_t offset) override {
    DeviceGuard guard(index_, "fill_uniform");
    cuda::fill_uniform(out, count, low, high, seed, offset);
  }
  void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                   uint64_t offset) override {
    DeviceGuard guard(index_, "fill_normal");
    cuda::fill_normal(out, count, mean, std, seed, offset);
  }

  // --- optimizer updates ------------------------------------------------------------------------
  void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count,
                float lr, float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step) override {
    DeviceGuard guard(index_, "sgd_step");
    cuda::sgd_step(param, grad, momentum_buffer, count, lr, momentum, dampening, weight_decay,
                   nesterov, first_step);
  }
  void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                 int64_t count, float lr, float beta1, float beta2, float eps,
                 float weight_decay, int64_t step) override {
    DeviceGuard guard(index_, "adam_step");
    cuda::adam_step(param, grad, exp_avg, exp_avg_sq, count, lr, beta1, beta2, eps, weight_decay,
                    step);
  }
  void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                  int64_t count, float lr, float beta1, float beta2, float eps,
                  float weight_decay, int64_t step) override {
    DeviceGuard guard(index_, "adamw_step");
    cuda::adamw_step(param, grad, exp_avg, exp_avg_sq, count, lr, beta1, beta2, eps, weight_decay,
                     step);
  }

 private:
  static size_t bytes_of(int64_t count) { return static_cast<size_t>(count) * sizeof(float); }

  int index_;
  CachingAllocator allocator_;
  std::once_flag probed_;
  std::string problem_;
};

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
