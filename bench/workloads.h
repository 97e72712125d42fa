// The workloads, one file per reference script (shared/bench-reference/<script>.py), each
// with the same shapes, data, seeds and repetition counts as its script; plus the GPU
// versions of some, and a per-op overhead measurement that has no script.
#pragma once

#include <cstdint>

#include <ember/ember.h>

#include "harness.h"

namespace ember::bench {

void add_sgemm_workloads(Registry& registry);       // sgemm_bench.cpp
void add_mlp_workloads(Registry& registry);         // mlp_bench.cpp
void add_regression_workloads(Registry& registry);  // regression_bench.cpp
void add_rnn_workloads(Registry& registry);         // rnn_bench.cpp
void add_conv_workloads(Registry& registry);        // conv_bench.cpp
void add_attention_workloads(Registry& registry);   // attention_bench.cpp
void add_gpt_workloads(Registry& registry);         // gpt_bench.cpp (bench/gpt.py)
// Ember-only: the fixed cost of one op, without and with autograd.
void add_overhead_workloads(Registry& registry);    // overhead_bench.cpp
// The GPU versions of matmul, the MLP epoch and attention; adds nothing without a
// CUDA device (main prints "cuda: skipped" then).
void add_cuda_workloads(Registry& registry);        // cuda_bench.cpp

// The workloads that also run on the GPU take the device, so both run the same code.
Measurement measure_matmul(int64_t n, Device device);
Measurement measure_mlp_epoch(int64_t batch_size, Device device);
Measurement measure_attention(int64_t T, Device device);

// Waits for the device to finish the work that produced t by reading one element back
// to the host. Nothing to do on the CPU, where a kernel has finished when it returns.
void synchronize(const Tensor& t);

}  // namespace ember::bench
