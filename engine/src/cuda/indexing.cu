// Picking rows of a table (gather_rows, behind index_select and embeddings) and adding
// rows back into it (scatter_add_rows, their gradient).
//
// scatter_add_rows is deterministic, and even bit for bit the CPU's result. The obvious
// GPU version, one atomicAdd per element, adds repeated indices in whatever order the
// threads happen to run, so a gradient's last bits would change from run to run. Instead
// the positions are grouped by target row on the GPU (a radix sort of (index, position)
// pairs, which is stable, so equal indices keep their positions in increasing order), and
// one thread per (group, column) adds that group's rows in that order, exactly the order
// of the CPU loop. Nothing is copied to the host and nothing waits for the GPU.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"

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

// keys[i] = the target row of position i, positions[i] = i: the pairs to sort.
__global__ void scatter_plan_kernel(const float* indices, int64_t count, int64_t* keys,
                                    int64_t* positions) {
  for (int64_t i = first_index(); i < count; i += index_stride()) {
    keys[i] = static_cast<int64_t>(indices[i]);
    positions[i] = i;
  }
}

// keys (count,) sorted, order (count,) the positions in that order. A thread (q, column)
// whose q starts a run of equal keys adds the run's rows, in order, into that target row;
// the other threads have nothing to do.
__global__ void scatter_add_rows_kernel(const float* rows, int64_t row_size, const int64_t* keys,
                                        const int64_t* order, int64_t count, float* table) {
  const int64_t total = count * row_size;
  for (int64_t t = first_index(); t < total; t += index_stride()) {
    const int64_t q = t / row_size, column = t % row_size;
    const int64_t target_row = keys[q];
    if (q > 0 && keys[q - 1] == target_row) continue;  // not the first of its run
    float* target = table + target_row * row_size + column;
    float sum = *target;
    for (int64_t r = q; r < count && keys[r] == target_row; ++r) sum += rows[order[r] * row_size + column];
    *target = sum;
  }
}

}  // namespace

void CudaBackend::gather_rows(const float* table, int64_t row_size, const float* indices,
                              int64_t count, float* out) {
  DeviceGuard guard(index_, "gather_rows");
  if (count == 0 || row_size == 0) return;
  gather_rows_kernel<<<blocks_for(count * row_size), kThreadsPerBlock>>>(table, row_size, indices,
                                                                        count, out);
  check_launch("gather_rows");
}

void CudaBackend::scatter_add_rows(const float* rows, int64_t row_size, const float* indices,
                                   int64_t count, float* table) {
  DeviceGuard guard(index_, "scatter_add_rows");
  if (count == 0 || row_size == 0) return;
  // Scratch: [keys | positions | sorted keys | sorted positions], count each, then CUB's.
  ScratchBuffer plan(allocator_, static_cast<size_t>(4 * count) * sizeof(int64_t));
  int64_t* keys = plan.as<int64_t>();
  int64_t* positions = keys + count;
  int64_t* sorted_keys = keys + 2 * count;
  int64_t* order = keys + 3 * count;
  scatter_plan_kernel<<<blocks_for(count), kThreadsPerBlock>>>(indices, count, keys, positions);
  check_launch("scatter_add_rows");

  size_t sort_bytes = 0;  // asked first, then given
  check_cuda(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys, sorted_keys, positions, order,
                                             count),
             "scatter_add_rows");
  ScratchBuffer sort_space(allocator_, sort_bytes);
  check_cuda(cub::DeviceRadixSort::SortPairs(sort_space.as<void>(), sort_bytes, keys, sorted_keys,
                                             positions, order, count),
             "scatter_add_rows");

  scatter_add_rows_kernel<<<blocks_for(count * row_size), kThreadsPerBlock>>>(
      rows, row_size, sorted_keys, order, count, table);
  check_launch("scatter_add_rows");
}

}  // namespace ember::cuda
