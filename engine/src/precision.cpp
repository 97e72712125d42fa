// set_float32_matmul_precision and friends (ember/precision.h).
#include <ember/precision.h>

#include <atomic>

#include <ember/error.h>

#include "fast_cpu/gemm_bf16.h"
#include "matmul_precision.h"

namespace ember {
namespace {

std::atomic<detail::MatmulPrecision> g_precision{detail::MatmulPrecision::Highest};

}  // namespace

void set_float32_matmul_precision(std::string_view precision) {
  if (precision == "highest") {
    g_precision.store(detail::MatmulPrecision::Highest, std::memory_order_relaxed);
  } else if (precision == "high") {
    g_precision.store(detail::MatmulPrecision::High, std::memory_order_relaxed);
  } else if (precision == "medium") {
    g_precision.store(detail::MatmulPrecision::Medium, std::memory_order_relaxed);
  } else {
    throw Error(fmt::format(
        "set_float32_matmul_precision: unknown precision \"{}\"; expected \"highest\", \"high\" "
        "or \"medium\"",
        precision));
  }
}

std::string get_float32_matmul_precision() {
  switch (detail::float32_matmul_precision()) {
    case detail::MatmulPrecision::High: return "high";
    case detail::MatmulPrecision::Medium: return "medium";
    case detail::MatmulPrecision::Highest: break;
  }
  return "highest";
}

bool cpu_has_bf16_matmul() { return cpu::bf16_gemm_available(); }
std::string cpu_bf16_matmul_unit() { return cpu::bf16_gemm_name(); }

namespace detail {
MatmulPrecision float32_matmul_precision() { return g_precision.load(std::memory_order_relaxed); }
}  // namespace detail

}  // namespace ember
