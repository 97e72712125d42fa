// Picking rows of a table (gather_rows, behind index_select and embeddings) and adding
// rows back into it (scatter_add_rows, their gradient).
//
// scatter_add_rows is deterministic, and even bit for bit the CPU's result. The obvious
// GPU version, one atomicAdd per element, adds repeated indices in whatever order the
// threads happen to run, so a gradient's last bits would change from run to run. Instead
// the host groups the positions by target row (a stable sort of the indices, which it
// has to read anyway), and one thread per (target row, column) adds that row's sources in
// increasing position, exactly the order of the CPU loop.
#include <algorithm>
#include <numeric>
#include <vector>

#include "cuda/cuda_common.cuh"
#include "cuda/kernels.cuh"

namespace ember::cuda {
namespace {

// out (count, row_size) = table[indices[i]], one thread per element of out.
__global__ void gather_rows_kernel(const float* table, int64_t row_size, const float* indices,
                                   int64_t count, float* out) {
  int64_t total = count * row_size;
  for (int64_t t = first_index(); t < total; t += index_stride()) {
    int64_t i = t / row_size, column = t % row_size;
    out[t] = table[static_cast<int64_t>(indices[i]) * row_size + column];
  }
}

// For each distinct target row s: table[targets[s]] += rows[order[q]] for q in
// [starts[s], starts[s + 1]), in that order. One thread per (s, column).
__global__ void scatter_add_rows_kernel(const float* rows, int64_t row_size,
                                        const int64_t* targets, const int64_t* starts,
                                        const int64_t* order, int64_t target_count,
                                        float* table) {
  int64_t total = target_count * row_size;
  for (int64_t t = first_index(); t < total; t += index_stride()) {
    int64_t s = t / row_size, column = t % row_size;
    float* target = table + targets[s] * row_size + column;
    float sum = *target;
    for (int64_t q = starts[s]; q < starts[s + 1]; ++q) sum += rows[order[q] * row_size + column];
    *target = sum;
  }
}

}  // namespace

void gather_rows(const float* table, int64_t row_size, const float* indices, int64_t count,
                 float* out) {
  if (count == 0 || row_size == 0) return;
  gather_rows_kernel<<<blocks_for(count * row_size), kThreadsPerBlock>>>(table, row_size, indices,
                                                                        count, out);
  check_launch("gather_rows");
}

void scatter_add_rows(const float* rows, int64_t row_size, const float* indices, int64_t count,
                      float* table, CachingAllocator& scratch) {
  if (count == 0 || row_size == 0) return;
  // Group the positions by target row on the host: order lists positions sorted by index
  // (stable, so repeats keep their order), and each run of equal indices is one target.
  std::vector<float> index_values(static_cast<size_t>(count));
  check_cuda(cudaMemcpy(index_values.data(), indices, static_cast<size_t>(count) * sizeof(float),
                        cudaMemcpyDeviceToHost),
             "scatter_add_rows");
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t p, int64_t q) { return index_values[p] < index_values[q]; });
  std::vector<int64_t> targets, starts;
  for (int64_t q = 0; q < count; ++q) {
    if (q == 0 || index_values[order[q]] != index_values[order[q - 1]]) {
      targets.push_back(static_cast<int64_t>(index_values[order[q]]));
      starts.push_back(q);
    }
  }
  starts.push_back(count);
  int64_t target_count = static_cast<int64_t>(targets.size());

  // One upload: [targets | starts | order].
  std::vector<int64_t> plan;
  plan.reserve(targets.size() + starts.size() + order.size());
  plan.insert(plan.end(), targets.begin(), targets.end());
  plan.insert(plan.end(), starts.begin(), starts.end());
  plan.insert(plan.end(), order.begin(), order.end());
  ScratchBuffer device_plan(scratch, plan.size() * sizeof(int64_t));
  int64_t* plan_data = device_plan.as<int64_t>();
  check_cuda(cudaMemcpy(plan_data, plan.data(), plan.size() * sizeof(int64_t), cudaMemcpyHostToDevice),
             "scatter_add_rows");

  scatter_add_rows_kernel<<<blocks_for(target_count * row_size), kThreadsPerBlock>>>(
      rows, row_size, plan_data, plan_data + target_count, plan_data + 2 * target_count + 1,
      target_count, table);
  check_launch("scatter_add_rows");
}

}  // namespace ember::cuda
