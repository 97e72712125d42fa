// Text form of a tensor, in PyTorch's style: tensor([[2., 3.],
//                                                    [4., 5.]])
#include <cmath>
#include <sstream>

#include "ember/autograd.h"
#include "ember/tensor.h"
#include "tensor_internal.h"

namespace ember {
namespace {

// PyTorch prints whole numbers as "2." and others with four decimals; very large or
// very small magnitudes switch to scientific notation.
struct NumberStyle {
  bool all_integral = true;
  bool scientific = false;
  size_t width = 1;
};

std::string format_number(float value, const NumberStyle& style) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (style.scientific) return fmt::format("{:.4e}", value);
  if (style.all_integral) return fmt::format("{:.0f}.", value);
  return fmt::format("{:.4f}", value);
}

NumberStyle choose_style(const std::vector<float>& values) {
  NumberStyle style;
  float largest = 0.0f, smallest = std::numeric_limits<float>::infinity();
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    if (v != std::floor(v)) style.all_integral = false;
    float magnitude = std::fabs(v);
    largest = std::max(largest, magnitude);
    if (magnitude > 0) smallest = std::min(smallest, magnitude);
  }
  style.scientific = largest >= 1e8f || (!style.all_integral && smallest < 1e-4f) ||
                     (largest > 0 && smallest != std::numeric_limits<float>::infinity() && largest / smallest > 1e6f && !style.all_integral);
  for (float v : values) style.width = std::max(style.width, format_number(v, style).size());
  return style;
}

// PyTorch shows at most 1000 numbers; past that, three at each end of every dim.
constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

// Writes the block of `values` at `dim`, starting at flat index `base` (row-major).
void write_block(std::ostringstream& out, const std::vector<float>& values, const Shape& shape,
                 const Shape& strides, size_t dim, int64_t base, int indent, bool summarize,
                 const NumberStyle& style) {
  if (dim == shape.size()) {
    std::string text = format_number(values[base], style);
    out << std::string(style.width - text.size(), ' ') << text;
    return;
  }
  bool elide = summarize && shape[dim] > 2 * kEdgeItems;
  bool last_dim = dim + 1 == shape.size();
  // Between rows: a comma, blank lines for deeper nesting, and the indent, as PyTorch.
  std::string separator = last_dim ? ", "
                                   : "," + std::string(shape.size() - dim - 1, '\n') +
                                         std::string(indent + dim + 1, ' ');
  out << '[';
  bool first = true;
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (elide && i == kEdgeItems) {
      out << separator << (last_dim ? " ..." : "...");  // PyTorch pads "..." in a row
      i = shape[dim] - kEdgeItems - 1;
      continue;
    }
    if (!first) out << separator;
    first = false;
    write_block(out, values, shape, strides, dim + 1, base + i * strides[dim], indent, summarize, style);
  }
  out << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<float> values = to_vector();
  bool summarize = static_cast<int64_t>(values.size()) > kSummarizeAbove;
  NumberStyle style = choose_style(values);
  std::ostringstream out;
  out << "tensor(";
  if (shape().empty()) {
    out << format_number(values[0], style);
  } else if (values.empty()) {
    out << "[]";
  } else {
    write_block(out, values, shape(), contiguous_strides(shape()), 0, 0, 7, summarize,
                style);  // 7 = strlen("tensor(")
  }
  if (values.empty() && shape().size() > 1) out << ", size=" << shape_str(shape());
  if (!device().is_cpu()) out << ", device='" << device().str() << "'";
  if (requires_grad()) {
    if (grad_fn()) {
      out << ", grad_fn=<" << grad_fn()->name << ">";
    } else {
      out << ", requires_grad=True";
    }
  }
  out << ')';
  return out.str();
}

}  // namespace ember
