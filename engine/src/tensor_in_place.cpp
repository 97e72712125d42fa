// In-place ops: copy_, fill_, +=, -=, *=, /=.
#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "ember/tensor.h"
#include "tensor_internal.h"

namespace ember {

// In place. Autograd cannot see a change made in place, so it is refused where it would
// silently give wrong gradients: on a tensor that requires grad while recording is on.

namespace {
void check_in_place(const Tensor& t, const char* op) {
  check_defined(t, op);
  EMBER_CHECK(!(t.requires_grad() && grad_enabled()),
        "{}: a tensor that requires grad cannot be changed in place while autograd is "
        "recording; do the update inside a NoGradGuard block (as optimizers do)",
        op);
}
}  // namespace

Tensor& Tensor::copy_(const Tensor& source) {
  check_in_place(*this, "copy_");
  check_defined(source, "copy_");
  Shape target = shape();
  Shape broadcast = broadcast_shapes(source.shape(), target, "copy_");
  EMBER_CHECK(broadcast == target, "copy_: cannot copy a tensor of shape {} into one of shape {}",
        shape_str(source.shape()), shape_str(target));
  // A destination where several elements share one memory location (stride 0 on a dim of
  // size > 1: an expanded view) would be written by many threads at once on a GPU, with a
  // result that changes from run to run; refused on every backend, as PyTorch does.
  const Shape& strides = this->strides();
  for (size_t d = 0; d < static_cast<size_t>(dim()); ++d) {
    EMBER_CHECK(!(strides[d] == 0 && target[d] > 1),
                "copy_: cannot write into a tensor of shape {} with strides {}: dim {} (size {}) has "
                "stride 0, so its {} elements share one memory location (an expanded view); write "
                "into .contiguous() or .clone() of it instead",
                shape_str(target), shape_str(strides), d, target[d], target[d]);
  }
  // Copying through host covers a source on another device.
  Tensor src = source.device() == device() ? source : source.to(device());
  // A source that shares this storage (y[1:] = y[:-1]) could be overwritten while it is
  // read; going through a private copy keeps it intact.
  if (src.impl()->storage == impl_->storage) src = src.detach().clone();
  backend_of(*this).copy(storage_data(src), broadcast_layout(src, target), impl_->storage->data(),
                         layout_of(*this));
  return *this;
}

Tensor& Tensor::fill_(float value) {
  check_in_place(*this, "fill_");
  if (is_contiguous()) {
    backend_of(*this).fill(data_ptr(), numel(), value);
  } else {
    copy_(full({}, value, device()));
  }
  return *this;
}

Tensor& Tensor::masked_fill_(const Tensor& mask, float value) {
  check_defined(*this, "masked_fill_");
  // The usual in-place message suggests NoGradGuard; here (attention scores, say) the fix
  // that keeps the gradient is the out-of-place form.
  EMBER_CHECK(!(requires_grad() && grad_enabled()),
              "masked_fill_: this tensor requires grad, and autograd cannot follow a change made in "
              "place; write x = x.masked_fill(mask, value) instead (the same values, recorded for "
              "backward)");
  check_defined(mask, "masked_fill_");
  Shape shape = broadcast_shapes(this->shape(), mask.shape(), "masked_fill_");
  EMBER_CHECK(shape == this->shape(),
              "masked_fill_: a mask of shape {} would make the result {}, but the tensor changed in "
              "place has shape {}",
              shape_str(mask.shape()), shape_str(shape), shape_str(this->shape()));
  return copy_(ember::masked_fill(*this, mask, value));
}

// With a tensor: written in place where that is safe (below). With a number: computed out
// of place, then copied in.
namespace {
// self = self <op> other, written straight into self's memory. Optimizers and gradient
// accumulation do this millions of times; a new tensor and a copy each time doubled it.
Tensor& binary_in_place(Tensor& self, BinaryOp op, const Tensor& other, const char* name) {
  check_in_place(self, name);
  check_defined(other, name);
  check_same_device(self, other, name);
  Shape shape = broadcast_shapes(self.shape(), other.shape(), name);
  EMBER_CHECK(shape == self.shape(), "{}: the result would have shape {}, but the tensor changed in place has shape {}",
              name, shape_str(shape), shape_str(self.shape()));
  // Element i is read and then written at the same place, so a dense self may be both
  // input and output of the kernel (whose output must be dense). A strided self, or
  // another view of self's memory as the other input, goes through a temporary.
  if (!self.is_contiguous() || other.impl()->storage == self.impl()->storage) {
    return self.copy_(op == BinaryOp::Add ? self + other : op == BinaryOp::Sub ? self - other : self * other);
  }
  StridedLayout dense(shape, contiguous_strides(shape), 0);
  backend_of(self).binary(op, self.data_ptr(), dense, storage_data(other), broadcast_layout(other, shape),
                          self.data_ptr(), dense);
  return self;
}
}  // namespace

Tensor& Tensor::operator+=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Add, other, "+="); }
Tensor& Tensor::operator-=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Sub, other, "-="); }
Tensor& Tensor::operator*=(const Tensor& other) { return binary_in_place(*this, BinaryOp::Mul, other, "*="); }
Tensor& Tensor::operator+=(float value) { check_in_place(*this, "+="); return copy_(*this + value); }
Tensor& Tensor::operator-=(float value) { check_in_place(*this, "-="); return copy_(*this - value); }
Tensor& Tensor::operator*=(float value) { check_in_place(*this, "*="); return copy_(*this * value); }
Tensor& Tensor::operator/=(float value) { check_in_place(*this, "/="); return copy_(*this / value); }

}  // namespace ember
