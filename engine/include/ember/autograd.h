// Reverse-mode automatic differentiation, in the spirit of micrograd.
//
// Each op that produces a tensor from inputs that require grad records a Node: where each
// input's gradient must go, and a closure that turns d(loss)/d(output) into d(loss)/d(input)
// for each input. backward() runs the closures from the loss back to the leaves in a
// topological order (newest node first: micrograd sorts the graph instead, with the same
// effect), adding up gradients where a tensor was used more than once. Backward closures are
// written with ordinary tensor ops (run with grad recording off), so every backend gets
// gradients for free.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "ember/object_pool.h"
#include "ember/small_vector.h"
#include "ember/tensor.h"

namespace ember {

struct Node;

// Where the gradient of one input of an op goes: to the node that made the input, or to the
// input itself when it is a leaf (a parameter), which adds it up in its .grad. Both are empty
// for an input that needs no gradient when the op runs. (An edge keeps the node, never an
// intermediate tensor: an intermediate result is freed as soon as no closure needs its values.)
struct Edge {
  std::shared_ptr<Node> producer;
  std::shared_ptr<TensorImpl> leaf;
};

struct Node {
  const char* name = "";  // "matmul", "exp", ... (a string literal), for messages and debugging
  // Where backward sends each input's gradient next: one edge per input of the op, in the
  // order of its inputs. (A std::vector<Edge> that keeps two edges inside the node:
  // small_vector.h, speed only.)
  detail::SmallVector<Edge, 2> next;
  Shape output_shape;  // the gradient arriving here must have this shape
  bool released = false;  // backward has run and release() has dropped the closure

  // For run_backward: nodes run newest first (a node is always newer than the nodes that
  // made its inputs), and a node's output gradient is summed here until it runs.
  uint64_t sequence_number = 0;  // 1 for the first node made, 2 for the next, ...
  Tensor pending_grad;

  // The op's backward: d(loss)/d(output) -> d(loss)/d(each input), in the order of its
  // inputs (an undefined Tensor for an input that needs none). Every op's is the closure it
  // gave to record_op (detail::OpNode below runs it).
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Only views of one input (slice, select, index) have this. Their input's gradient is
  // grad_output in the place the view looked at and zeros elsewhere. When run_backward is
  // already summing a gradient for that input (attention's q, k and v are three slices of one
  // tensor), it calls this instead of backward: grad_output is added into that place of
  // input_grad, and no zeros of the input's whole shape are made. Returns whether it did.
  virtual bool add_into_input_grad(Tensor& /*input_grad*/, const Tensor& /*grad_output*/) {
    return false;
  }
  // After backward has run: drops the closure, which holds the tensors the op saved (they can
  // be large), and the edges. backward must not run again.
  virtual void release() {
    next.clear();
    released = true;
  }
  virtual ~Node() = default;
};

// Whether ops record the graph on this thread (on by default).
bool grad_enabled();
void set_grad_enabled(bool enabled);

// Turns graph recording off for its lifetime, as torch.no_grad():
//   { NoGradGuard no_grad; w += x; }
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// How every op records itself, the same way, after computing its output:
//   return record_op("relu", {x}, out, [x](const Tensor& grad) { return Grads{grad * (x > 0.0f)}; });
// record_op alone decides: when recording is on and an input requires grad, it attaches a
// Node to output (which then requires grad too); otherwise it returns output as it is, and
// the closure is never stored. name must outlive the graph: pass a string literal. A closure
// keeps what its gradients need (an input whose values they read, or only an input's shape);
// never its own output undetached (the node would own itself, and the graph would never be
// freed).
template <typename Backward>
Tensor record_op(const char* name, std::initializer_list<Tensor> inputs, Tensor output,
                 Backward&& backward);
template <typename Backward>
Tensor record_op(const char* name, const std::vector<Tensor>& inputs, Tensor output,
                 Backward&& backward);

namespace detail {
// The Node record_op makes: the op's closure kept inside the node, so that node and
// closure are one object (one allocation, one place in memory for backward to visit).
template <typename Backward>
struct OpNode final : Node {
  explicit OpNode(Backward&& closure_) : closure(std::move(closure_)) {}
  std::vector<Tensor> backward(const Tensor& grad_output) override { return (*closure)(grad_output); }
  void release() override {
    closure.reset();
    Node::release();
  }
  std::optional<Backward> closure;
};

// record_op's two halves: whether to record (autograd.cpp), and making the Node.
bool should_record(const Tensor* inputs, size_t count);
// Fills in node (name, an edge per input, output shape, sequence number) and hangs it on output.
Tensor attach_node(std::shared_ptr<Node> node, const char* name, const Tensor* inputs, size_t count,
                   Tensor output);

template <typename Backward>
Tensor make_op_node(const char* name, const Tensor* inputs, size_t count, Tensor output,
                    Backward&& backward) {
  using Closure = std::decay_t<Backward>;
  std::shared_ptr<Node> node = std::allocate_shared<OpNode<Closure>>(PoolAllocator<OpNode<Closure>>(),
                                                                     Closure(std::forward<Backward>(backward)));
  return attach_node(std::move(node), name, inputs, count, std::move(output));
}
}  // namespace detail

template <typename Backward>
Tensor record_op(const char* name, std::initializer_list<Tensor> inputs, Tensor output,
                 Backward&& backward) {
  if (!detail::should_record(inputs.begin(), inputs.size())) return output;
  return detail::make_op_node(name, inputs.begin(), inputs.size(), std::move(output),
                              std::forward<Backward>(backward));
}

template <typename Backward>
Tensor record_op(const char* name, const std::vector<Tensor>& inputs, Tensor output,
                 Backward&& backward) {
  if (!detail::should_record(inputs.data(), inputs.size())) return output;
  return detail::make_op_node(name, inputs.data(), inputs.size(), std::move(output),
                              std::forward<Backward>(backward));
}

// Runs backpropagation from root (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient);

}  // namespace ember
