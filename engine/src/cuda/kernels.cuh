// The CUDA kernels, one host function per kernel of backend.h with the same name and its
// arguments (reduce, matmul and scatter_add_rows also take the allocator for scratch
// memory); each launches its kernel(s) on the current device and checks the launch.
// CudaBackend (cuda_backend.cu) picks the device and calls these.
//
//   elementwise.cu  fill, copy, unary, binary, where
//   reduce.cu       reduce
//   matmul.cu       matmul (our tiled kernel) and matmul_cublas (optional)
//   softmax.cu      softmax, softmax_backward
//   indexing.cu     gather_rows, scatter_add_rows
//   random.cu       fill_uniform, fill_normal
//   optimizer.cu    sgd_step, adam_step, adamw_step
#pragma once

#include <cstdint>

#include "cuda/caching_allocator.cuh"
#include "ember/backend.h"

namespace ember::cuda {

// ---- elementwise.cu ----------------------------------------------------------------
void fill(float* out, int64_t count, float value);
void copy(const float* in, const StridedLayout& in_layout, float* out,
          const StridedLayout& out_layout);
void unary(UnaryOp op, const float* in, float* out, int64_t count, float a, float b);
void binary(BinaryOp op, const float* x, const StridedLayout& x_layout, const float* y,
            const StridedLayout& y_layout, float* out, const StridedLayout& out_layout);
void where(const float* condition, const StridedLayout& condition_layout, const float* x,
           const StridedLayout& x_layout, const float* y, const StridedLayout& y_layout,
           float* out, const StridedLayout& out_layout);

// ---- reduce.cu ----------------------------------------------------------------------
// scratch holds partial results when one output's reduction is split across blocks.
void reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t n, int64_t inner,
            CachingAllocator& scratch);

// ---- matmul.cu ----------------------------------------------------------------------
// scratch holds partial products when a long K is split across blocks.
void matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
            const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c,
            int64_t batch, int64_t m, int64_t n, int64_t k, CachingAllocator& scratch);
// The same product through cuBLAS; throws in a build without EMBER_CUDA_CUBLAS.
void matmul_cublas(int device, const float* a, int64_t a_batch_stride, int64_t lda,
                   bool transpose_a, const float* b, int64_t b_batch_stride, int64_t ldb,
                   bool transpose_b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k);

// ---- softmax.cu ---------------------------------------------------------------------
void softmax(const float* in, float* out, int64_t rows, int64_t cols, bool log);
void softmax_backward(const float* y, const float* grad, float* grad_in, int64_t rows,
                      int64_t cols, bool log);

// ---- indexing.cu --------------------------------------------------------------------
void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                 float* out);
void scatter_add_rows(const float* rows, int64_t row_size, const float* indices, int64_t count,
                      float* table, CachingAllocator& scratch);

// ---- random.cu ----------------------------------------------------------------------
void fill_uniform(float* out, int64_t count, float low, float high, uint64_t seed,
                  uint64_t offset);
void fill_normal(float* out, int64_t count, float mean, float std, uint64_t seed,
                 uint64_t offset);

// ---- optimizer.cu -------------------------------------------------------------------
void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t count, float lr,
              float momentum, float dampening, float weight_decay, bool nesterov,
              bool first_step);
void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               int64_t count, float lr, float beta1, float beta2, float eps, float weight_decay,
               int64_t step);
void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                int64_t count, float lr, float beta1, float beta2, float eps, float weight_decay,
                int64_t step);

}  // namespace ember::cuda
