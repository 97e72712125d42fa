// The CUDA backend: every kernel of backend.h on an NVIDIA GPU, one CudaBackend per GPU.
//
// Each method makes its GPU current (DeviceGuard), launches its kernel(s) on the device's
// default stream and checks the launch; memory comes from the caching allocator. Ops never
// wait for the GPU: kernels run in order, and only copies to the host (item(), to_vector(),
// .cpu()) wait for them. The methods live in the file of their kernels, as the reference
// backend's do (engine/src/reference/), file for file:
//
//   cuda_backend.cu  memory, the probe of a GPU, finding the backends
//   elementwise.cu   fill, copy, unary, binary, where
//   reduce.cu        reduce
//   matmul.cu        matmul (our tiled kernel; cuBLAS to compare against, when built in)
//   softmax.cu       softmax, softmax_backward
//   layer_norm.cu    layer_norm, layer_norm_backward
//   attention.cu     attention, attention_backward
//   indexing.cu      gather_rows, scatter_add_rows
//   random.cu        fill_uniform, fill_normal
//   optimizer.cu     sgd_step, adam_step, adamw_step
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "cuda/caching_allocator.cuh"
#include "cuda/cuda_backend.h"
#include "ember/backend.h"

namespace ember::cuda {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index), allocator_(index) {}

  Device device() const override { return Device::cuda(index_); }
  const char* name() const override { return "cuda"; }
  CachingAllocator& allocator() { return allocator_; }
  // Empty when this GPU ran the probe kernel; otherwise why not. Probed on first use only.
  const std::string& usability_problem();

  // cuda_backend.cu
  float* allocate(int64_t count) override;
  void deallocate(float* data) override;
  void copy_from_host(const float* host, float* device_data, int64_t count) override;
  void copy_to_host(const float* device_data, float* host, int64_t count) override;

  // elementwise.cu
  void fill(float* out, int64_t count, float value) override;
  void copy(const float* in, const StridedLayout& in_layout, float* out,
            const StridedLayout& out_layout) override;
  void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b) override;
  void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
              const StridedLayout& y_layout, float* out, const StridedLayout& out_layout) override;
  void where(const float* condition, const StridedLayout& condition_layout, const float* x,
             const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout,
             float* out, const StridedLayout& out_layout) override;

  // reduce.cu
  void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n,
              int64_t inner) override;

  // matmul.cu
  void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
              const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c,
              int64_t batch, int64_t m, int64_t n, int64_t k) override;

  // softmax.cu
  void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log) override;
  void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                        int64_t cols, bool log) override;

  // layer_norm.cu
  void layer_norm(const float* in, const float* weight, const float* bias, float* out,
                  float* mean, float* rstd, int64_t rows, int64_t cols, float eps) override;
  void layer_norm_backward(const float* grad, const float* in, const float* weight,
                           const float* mean, const float* rstd, float* grad_in,
                           float* grad_weight, float* grad_bias, int64_t rows,
                           int64_t cols) override;

  // attention.cu
  void attention(const float* q, const StridedLayout& q_layout, const float* k,
                 const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                 float* out, const StridedLayout& out_layout, float* probs, float scale,
                 bool causal) override;
  void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                          const StridedLayout& k_layout, const float* v,
                          const StridedLayout& v_layout, const float* probs,
                          const float* grad_out, const StridedLayout& grad_out_layout,
                          float* grad_q, const StridedLayout& grad_q_layout, float* grad_k,
                          const StridedLayout& grad_k_layout, float* grad_v,
                          const StridedLayout& grad_v_layout, float scale, bool causal) override;

  // indexing.cu
  void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                   float* out) override;
  void scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                        int64_t count, float* table) override;

  // random.cu
  void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                    uint64_t offset) override;
  void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                   uint64_t offset) override;

  // optimizer.cu
  void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count,
                float lr, float momentum, float dampening, float weight_decay, bool nesterov,
                bool first_step) override;
  void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                 int64_t count, float lr, float beta1, float beta2, float eps,
                 float weight_decay, int64_t step) override;
  void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                  int64_t count, float lr, float beta1, float beta2, float eps,
                  float weight_decay, int64_t step) override;

 private:
  int index_;
  CachingAllocator allocator_;
  std::once_flag probed_;
  std::string problem_;
};

}  // namespace ember::cuda
