// nn::Parameter: how a tensor becomes something a model learns.
//
// A parameter is a leaf tensor (made directly, not computed by an op) with
// requires_grad set, so that loss.backward() fills in its .grad() and an optimizer can
// update it. Module::register_parameter calls this for you; call it yourself when you
// keep a parameter outside a module:
//
//   Tensor w = nn::Parameter(ember::randn({3, 2}) * 0.1f);
//   Tensor loss = (x.matmul(w) - y).pow(2.0f).mean();
//   loss.backward();            // w.grad() now holds d(loss)/d(w)
#pragma once

#include "ember/tensor.h"

namespace ember::nn {

// Returns a leaf tensor that requires grad and shares tensor's numbers.
// A tensor that is already a leaf is marked in place and returned as the same handle;
// one computed by an op (it has a grad_fn) is detached first, so the parameter starts
// a fresh graph of its own. Throws for an undefined tensor.
Tensor Parameter(const Tensor& tensor);

}  // namespace ember::nn
