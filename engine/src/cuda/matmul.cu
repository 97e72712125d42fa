// Matrix multiply: C_b (M x N) = op(A_b) (M x K) @ op(B_b) (K x N) for each batch entry b,
// row-major, with op() an optional transpose (see Backend::matmul in backend.h).
//
// Our own kernel, tiled through shared memory. Each block computes one 64x64 tile of C.
// It walks along K in steps of 16: the 256 threads copy a 64x16 slice of op(A) and a 16x64
// slice of op(B) into shared memory (fast, on-chip), then each thread multiplies them into
// its own 4x4 patch of the tile, kept in registers. Column tiles are the grid's x (no
// practical limit), row tiles its y with a loop past 65535, batch entries its z, several
// launches past 65535; a small C with a long K is split along K ("split-K"). Every element brought from global
// memory is used 64 times, instead of once as in the textbook one-thread-per-element loop.
//
//          K                       N (64 per block)
//      +-------+               +-------+
//   M  | A     |   @      K    | B     |     thread (tx, ty) owns rows ty + 16 r and
//      | 64x16 |               | 16x64 |     columns tx + 16 c of the tile, r, c in 0..3
//      +-------+               +-------+
//
// The sum over K runs in the same order every time, so results are reproducible. They are
// not bitwise the CPU's (a different order of additions, and fused multiply-adds).
//
// With -DEMBER_CUDA_CUBLAS=ON, matmul_cublas runs the same product through NVIDIA's cuBLAS
// (in plain FP32, no TF32), to compare speed; the tiled kernel stays the default.
#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

#ifdef EMBER_CUDA_CUBLAS
#include <cublas_v2.h>
#endif

#include "cuda/cuda_common.cuh"
#include "cuda/cuda_backend.cuh"
#include "ember/error.h"

namespace ember::cuda {
namespace {

constexpr int kTile = 64;         // rows and columns of C per block
constexpr int kTileK = 16;        // depth of the slices in shared memory
constexpr int kThreadsSide = 16;  // 16 x 16 = 256 threads per block
constexpr int kPatch = kTile / kThreadsSide;  // each thread: 4 x 4 elements of C
constexpr int64_t kMaxGridY = 65535;          // gridDim.y and gridDim.z limits
constexpr int64_t kMaxGridZ = 65535;

// How a kernel reads op(X): element (row, col) of batch entry b is at
// data[b * batch_stride + row * row_stride + col * col_stride]. A transposed operand just
// swaps the two strides.
struct MatrixView {
  const float* data;
  int64_t batch_stride;
  int64_t row_stride;
  int64_t col_stride;
};

// grid.x: column tiles of C (up to 2^31 - 1 of them, so any n a GPU can hold); grid.y:
// row tiles, each block looping over row tiles y, y + gridDim.y, ... (so m is unbounded
// too); grid.z: (batch entry in this launch) * splits + split. With splits > 1 the block
// sums only depths [split * split_size, ...) and writes its tile to out = the partials
// (batch, splits, m, n), which combine_splits_kernel adds up; otherwise out = C.
__global__ void __launch_bounds__(kThreadsSide * kThreadsSide)
    matmul_tiled_kernel(MatrixView a, MatrixView b, float* out, int64_t m, int64_t n, int64_t k,
                        int64_t first_batch, int64_t row_tiles, int64_t splits,
                        int64_t split_size) {
  // Rows of kTile + 2 floats: the copies below write a warp's 32 values to 32 different
  // banks (a row stride of 2 banks mod 32 separates the 16 depths x 2 rows a warp writes
  // when copying along K; + 1 left two of them on each bank).
  __shared__ float a_slice[kTileK][kTile + 2];  // a_slice[p][i] = op(A)(row0 + i, k0 + p)
  __shared__ float b_slice[kTileK][kTile + 2];  // b_slice[p][j] = op(B)(k0 + p, col0 + j)

  const int64_t split = blockIdx.z % splits;
  const int64_t batch = first_batch + blockIdx.z / splits;
  const float* a_data = a.data + batch * a.batch_stride;
  const float* b_data = b.data + batch * b.batch_stride;
  float* out_data = out + (batch * splits + split) * m * n;  // (m, n)
  const int64_t k_begin = split * split_size;
  const int64_t k_end = k_begin + split_size < k ? k_begin + split_size : k;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int tx = threadIdx.x % kThreadsSide, ty = threadIdx.x / kThreadsSide;

  for (int64_t row_tile = blockIdx.y; row_tile < row_tiles; row_tile += gridDim.y) {
    const int64_t row0 = row_tile * kTile;
    float sum[kPatch][kPatch] = {};
    for (int64_t k0 = k_begin; k0 < k_end; k0 += kTileK) {
      // Copy the slices; each thread copies 4 elements of each. Neighbouring threads take
      // neighbouring addresses in global memory (so a warp's reads combine into few
      // transactions): along K when op(A)'s rows are contiguous, along M when transposed.
      for (int e = threadIdx.x; e < kTile * kTileK; e += kThreadsSide * kThreadsSide) {
        bool along_k = a.col_stride == 1;
        int i = along_k ? e / kTileK : e % kTile;
        int p = along_k ? e % kTileK : e / kTile;
        int64_t row = row0 + i, depth = k0 + p;
        a_slice[p][i] = (row < m && depth < k_end) ? a_data[row * a.row_stride + depth * a.col_stride] : 0.0f;
      }
      for (int e = threadIdx.x; e < kTile * kTileK; e += kThreadsSide * kThreadsSide) {
        bool along_n = b.col_stride == 1;
        int j = along_n ? e % kTile : e / kTileK;
        int p = along_n ? e / kTile : e % kTileK;
        int64_t depth = k0 + p, col = col0 + j;
        b_slice[p][j] = (depth < k_end && col < n) ? b_data[depth * b.row_stride + col * b.col_stride] : 0.0f;
      }
      __syncthreads();

      // Multiply the slices: for each p, a column of 4 values of A times a row of 4 of B.
      for (int p = 0; p < kTileK; ++p) {
        float a_values[kPatch], b_values[kPatch];
        for (int r = 0; r < kPatch; ++r) a_values[r] = a_slice[p][ty + kThreadsSide * r];
        for (int s = 0; s < kPatch; ++s) b_values[s] = b_slice[p][tx + kThreadsSide * s];
        for (int r = 0; r < kPatch; ++r) {
          for (int s = 0; s < kPatch; ++s) sum[r][s] += a_values[r] * b_values[s];
        }
      }
      __syncthreads();  // before the next iteration overwrites the slices
    }

    for (int r = 0; r < kPatch; ++r) {
      int64_t row = row0 + ty + kThreadsSide * r;
      for (int s = 0; s < kPatch; ++s) {
        int64_t col = col0 + tx + kThreadsSide * s;
        if (row < m && col < n) out_data[row * n + col] = sum[r][s];
      }
    }
  }
}

// c (batch, m, n) = the sum over s of partials (batch, splits, m, n), s in order (the same
// order every run, so the same bits).
__global__ void combine_splits_kernel(const float* partials, int64_t batch, int64_t splits,
                                      int64_t size, float* c) {
  const int64_t total = batch * size;  // size = m * n
  for (int64_t t = first_index(); t < total; t += index_stride()) {
    const int64_t b = t / size, e = t % size;
    const float* first = partials + b * splits * size + e;
    float sum = first[0];
    for (int64_t s = 1; s < splits; ++s) sum += first[s * size];
    c[t] = sum;
  }
}

// op(X) as the kernel reads it: X stored row-major with row stride ld, transposed or not.
MatrixView view_of(const float* data, int64_t batch_stride, int64_t ld, bool transposed) {
  return transposed ? MatrixView{data, batch_stride, 1, ld} : MatrixView{data, batch_stride, ld, 1};
}

}  // namespace

// Our kernel: tiles of C, each block walking K (or a share of it, split-K).
void matmul_tiled(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
                  const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b, float* c,
                  int64_t batch, int64_t m, int64_t n, int64_t k, CachingAllocator& scratch) {
  if (batch == 0 || m == 0 || n == 0) return;
  const int64_t row_tiles = (m + kTile - 1) / kTile, col_tiles = (n + kTile - 1) / kTile;
  check(col_tiles <= 0x7fffffff, "cuda matmul: a ({}x{}) result is too wide for one launch", m, n);

  // Split-K: with few tiles in all (a (1, K) @ (K, 1) dot product is one tile) and a long
  // K, one block would walk all of K alone while the GPU idles. The depth is then split
  // among `splits` blocks per tile, each writing its own partial tile, and a second kernel
  // adds the partials in order. Depends on the shapes only, so results are reproducible.
  constexpr int64_t kTargetBlocks = 256;          // enough to fill a large GPU
  constexpr int64_t kMinSplitDepth = 1024;        // a split's share of K, at least
  constexpr int64_t kMaxPartials = int64_t{1} << 24;  // floats of scratch (64 MiB), at most
  const int64_t tiles = row_tiles * col_tiles * batch;
  int64_t splits = 1;
  if (tiles < kTargetBlocks && k >= 2 * kMinSplitDepth) {
    splits = std::min(k / kMinSplitDepth, (kTargetBlocks + tiles - 1) / tiles);
    splits = std::max<int64_t>(1, std::min(splits, kMaxPartials / (batch * m * n)));
  }
  // Whole slices per split, and no empty split.
  int64_t split_size = ((k + splits - 1) / splits + kTileK - 1) / kTileK * kTileK;
  if (split_size == 0) split_size = kTileK;  // k == 0: one split that writes zeros
  splits = std::max<int64_t>(1, (k + split_size - 1) / split_size);

  std::optional<ScratchBuffer> partials;
  float* out = c;
  if (splits > 1) {
    partials.emplace(scratch, static_cast<size_t>(splits * batch * m * n) * sizeof(float));
    out = partials->as<float>();  // (batch, splits, m, n)
  }
  MatrixView a_view = view_of(a, a_batch_stride, lda, transpose_a);
  MatrixView b_view = view_of(b, b_batch_stride, ldb, transpose_b);
  const int64_t batch_per_launch = kMaxGridZ / splits;  // >= 1: splits <= 256
  for (int64_t first = 0; first < batch; first += batch_per_launch) {
    const int64_t count = std::min(batch_per_launch, batch - first);
    dim3 grid(static_cast<unsigned int>(col_tiles),
              static_cast<unsigned int>(std::min<int64_t>(row_tiles, kMaxGridY)),
              static_cast<unsigned int>(count * splits));
    matmul_tiled_kernel<<<grid, kThreadsSide * kThreadsSide>>>(a_view, b_view, out, m, n, k, first,
                                                               row_tiles, splits, split_size);
    check_launch("matmul");
  }
  if (splits > 1) {
    combine_splits_kernel<<<blocks_for(batch * m * n), kThreadsPerBlock>>>(out, batch, splits, m * n, c);
    check_launch("matmul");
  }
}

#ifdef EMBER_CUDA_CUBLAS

namespace {

void check_cublas(cublasStatus_t status, const char* op) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(fmt::format("cuda {}: cuBLAS failed: {} ({})", op, cublasGetStatusString(status),
                          cublasGetStatusName(status)));
}

// One cuBLAS handle per device, made on first use and kept for the life of the process.
cublasHandle_t cublas_handle(int device) {
  static std::mutex mutex;
  static std::vector<cublasHandle_t>* handles = new std::vector<cublasHandle_t>();
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<int>(handles->size()) <= device) handles->resize(device + 1, nullptr);
  cublasHandle_t& handle = (*handles)[device];
  if (handle == nullptr) check_cublas(cublasCreate(&handle), "matmul");
  return handle;
}

}  // namespace

// The same product through cuBLAS (EMBER_CUDA_MATMUL=cublas in a -DEMBER_CUDA_CUBLAS=ON build),
// to compare against.
void matmul_cublas(int device, const float* a, int64_t a_batch_stride, int64_t lda,
                   bool transpose_a, const float* b, int64_t b_batch_stride, int64_t ldb,
                   bool transpose_b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k) {
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: C is zero (the leading dims may be 0, which cuBLAS refuses)
    check_cuda(cudaMemsetAsync(c, 0, static_cast<size_t>(batch * m * n) * sizeof(float), 0), "matmul");
    return;
  }
  // cuBLAS checks that each leading dim covers a whole stored row even where only one row
  // is read (a vector); such an unused leading dim is raised to the smallest it accepts.
  if (!transpose_a && m == 1) lda = std::max(lda, k);
  if (transpose_a && k == 1) lda = std::max(lda, m);
  if (!transpose_b && k == 1) ldb = std::max(ldb, n);
  if (transpose_b && n == 1) ldb = std::max(ldb, k);
  // cuBLAS is column-major. A row-major matrix read column-major is its transpose, so the
  // row-major C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T.
  const float one = 1.0f, zero = 0.0f;
  cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  check_cublas(cublasSgemmStridedBatched_64(cublas_handle(device), op_b, op_a, n, m, k, &one, b, ldb,
                                            b_batch_stride, a, lda, a_batch_stride, &zero, c, n,
                                            m * n, batch),
               "matmul");
}

#else

void matmul_cublas(int, const float*, int64_t, int64_t, bool, const float*, int64_t, int64_t,
                   bool, float*, int64_t, int64_t, int64_t, int64_t) {
  throw Error(
      "cuda matmul: this build has no cuBLAS; configure with -DEMBER_CUDA_CUBLAS=ON to compare "
      "against it");
}

#endif

void CudaBackend::matmul(const float* a, int64_t a_batch_stride, int64_t lda, bool transpose_a,
                         const float* b, int64_t b_batch_stride, int64_t ldb, bool transpose_b,
                         float* c, int64_t batch, int64_t m, int64_t n, int64_t k) {
  DeviceGuard guard(index_, "matmul");
  if (matmul_kernel() == MatmulKernel::Cublas) {
    matmul_cublas(index_, a, a_batch_stride, lda, transpose_a, b, b_batch_stride, ldb, transpose_b,
                  c, batch, m, n, k);
  } else {
    matmul_tiled(a, a_batch_stride, lda, transpose_a, b, b_batch_stride, ldb, transpose_b, c, batch,
                 m, n, k, allocator_);
  }
}

}  // namespace ember::cuda
