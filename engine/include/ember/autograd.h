// Reverse-mode automatic differentiation, in the spirit of micrograd.
//
// Each op that produces a tensor from inputs that require grad records a Node: the
// inputs it read and a closure that turns d(loss)/d(output) into d(loss)/d(input) for
// each input. backward() runs the closures from the loss back to the leaves in a
// topological order (newest node first: micrograd sorts the graph instead, with the same
// effect), adding up gradients where a tensor was used more than once. Backward closures are written with ordinary tensor ops (run with
// grad recording off), so every backend gets gradients for free.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "ember/tensor.h"

namespace ember {

struct Node {
  using BackwardFunction = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  std::string name;            // "matmul", "exp", ... for messages and debugging
  std::vector<Tensor> inputs;  // one gradient is returned per input, in this order
  BackwardFunction backward;   // may return an undefined Tensor for an input that needs none
  Shape output_shape;          // the gradient arriving here must have this shape

  // For run_backward: nodes run newest first (a node is always newer than the nodes that
  // made its inputs), and a node's output gradient is summed here until it runs.
  uint64_t sequence_number = 0;  // 1 for the first node made, 2 for the next, ...
  Tensor pending_grad;
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
// Node to output (which then requires grad too); otherwise it returns output as it is. The
// closure is a template argument, so a forward-only call never turns it into a
// std::function (an allocation). A closure may keep the op's inputs; never its own output
// undetached (the node would own itself, and the graph would never be freed).
template <typename Backward>
Tensor record_op(const char* name, std::initializer_list<Tensor> inputs, Tensor output,
                 Backward&& backward);
template <typename Backward>
Tensor record_op(const char* name, const std::vector<Tensor>& inputs, Tensor output,
                 Backward&& backward);

namespace detail {
// record_op's two halves (autograd.cpp): whether to record, and making the Node.
bool should_record(const Tensor* inputs, size_t count);
Tensor attach_node(const char* name, std::vector<Tensor> inputs, Tensor output,
                   Node::BackwardFunction backward);
}  // namespace detail

template <typename Backward>
Tensor record_op(const char* name, std::initializer_list<Tensor> inputs, Tensor output,
                 Backward&& backward) {
  if (!detail::should_record(inputs.begin(), inputs.size())) return output;
  return detail::attach_node(name, std::vector<Tensor>(inputs), std::move(output),
                             std::forward<Backward>(backward));
}

template <typename Backward>
Tensor record_op(const char* name, const std::vector<Tensor>& inputs, Tensor output,
                 Backward&& backward) {
  if (!detail::should_record(inputs.data(), inputs.size())) return output;
  return detail::attach_node(name, inputs, std::move(output), std::forward<Backward>(backward));
}

// Runs backpropagation from root (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient);

}  // namespace ember
