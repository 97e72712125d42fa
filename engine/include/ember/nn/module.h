// nn::Module: the base class of every layer and model, after PyTorch's nn.Module and
// the libtorch C++ frontend.
//
// A module owns named parameters (tensors the optimizer learns), named buffers (state
// that is saved but not learned) and named child modules. Register them in the
// constructor, and the module can then list them recursively, switch between training
// and evaluation, move to a device, and save or load itself:
//
//   struct Net : ember::nn::Module {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Net() {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 128));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(128, 10));
//     }
//     Tensor forward(const Tensor& x) override { return fc2->forward(fc1->forward(x).relu()); }
//   };
//
//   auto net = std::make_shared<Net>();
//   net->named_parameters();   // "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"
//   Tensor logits = (*net)(images);
//
// Modules are held by std::shared_ptr and are neither copyable nor movable: a module's
// parameters are handles to shared numbers, so a silent copy would share them in
// surprising ways.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ember/device.h"
#include "ember/tensor.h"

namespace ember::nn {

// A (dotted name, tensor) pair, as named_parameters() and named_buffers() list them.
using NamedTensor = std::pair<std::string, Tensor>;

class Module {
 public:
  // name is used in messages and when printing; empty means "the class's own name"
  // (e.g. "Linear" or "Net", found from the dynamic type).
  explicit Module(std::string name = "");
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  // ---- forward ------------------------------------------------------------------
  // The computation of a one-input module. The default throws
  // "nn::Module '<name>': forward(Tensor) is not defined"; modules with other inputs
  // declare their own forward with the arguments they need.
  virtual Tensor forward(const Tensor& input);
  // module(x) is module.forward(x).
  Tensor operator()(const Tensor& input) { return forward(input); }

  // ---- registration (call from the constructor) -------------------------------------
  // Stores tensor under name, marks it as a parameter (see nn::Parameter: a leaf that
  // requires grad) and returns the handle that was stored. Names are non-empty, contain
  // no '.', and are unique among this module's parameters, buffers and children.
  Tensor register_parameter(const std::string& name, const Tensor& tensor);
  // Stores state that is saved, loaded and moved with the module but not learned
  // (a buffer's requires_grad is left as it is; normally false).
  Tensor register_buffer(const std::string& name, const Tensor& tensor);
  // Stores a child module and returns it, typed as it was passed:
  //   fc = register_module("fc", std::make_shared<Linear>(4, 2));
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of<Module, M>::value,
                  "register_module: the module must derive from ember::nn::Module");
    register_child(name, std::static_pointer_cast<Module>(module));
    return module;
  }

  // ---- listing --------------------------------------------------------------------
  // This module's parameters, then each child's (recursively), in registration order.
  // A tensor reachable twice (a shared layer, tied weights) is listed once, under the
  // first name it was reached by. Names are dotted paths: "layers.0.weight".
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<NamedTensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<NamedTensor> named_buffers(bool recurse = true) const;
  // Direct children only, in registration order.
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;

  // ---- modes ------------------------------------------------------------------------
  // Sets training mode on this module and every descendant (Dropout reads it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops the gradient of every parameter (as PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  // Moves every parameter and buffer (and any gradient they hold) to device in place:
  // the TensorImpl each handle points to is kept and only its storage changes, so a
  // handle taken before the move (by an optimizer, by your own code) sees the new
  // device. Returns *this for chaining.
  Module& to(Device device);

  // ---- saving -------------------------------------------------------------------------
  // Writes every parameter and buffer (by dotted name) to a binary file: a header
  // (magic "EMBERPT", format version, entry count, uncompressed and compressed payload
  // sizes) followed by the zlib-compressed payload (per entry: name, shape, float32
  // values). Throws ember::Error naming the file when it cannot be written.
  void save(const std::string& path) const;
  // Reads a file written by save() into this module's parameters and buffers, whatever
  // device they are on. Everything is checked before anything is copied: on any error
  // (missing or unreadable file, not an Ember file, unsupported version, truncation,
  // corrupt data, a name present on one side only, a shape mismatch) it throws
  // ember::Error naming the file, and the module is left exactly as it was.
  void load(const std::string& path);

  // ---- names and printing -------------------------------------------------------------
  // The name used in messages: the one given to the constructor or set_name(), else the
  // class's own name ("Linear", "Net").
  std::string name() const;
  void set_name(std::string name) { name_ = std::move(name); }
  // The settings shown between the parentheses when printing, e.g. "in_features=2,
  // out_features=3, bias=true". Empty by default.
  virtual std::string extra_repr() const { return ""; }
  // PyTorch-style text of the module tree:
  //   Sequential(
  //     (0): Linear(in_features=2, out_features=3, bias=true)
  //     (1): ReLU()
  //   )
  std::string str() const;

 private:
  void register_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  bool contains_module(const Module* target) const;
  void str_into(std::string& out, int indent) const;

  std::vector<NamedTensor> collect(bool buffers, bool recurse) const;
  void collect_into(bool buffers, bool recurse, const std::string& prefix,
                    std::vector<NamedTensor>& out,
                    std::unordered_set<const TensorImpl*>& seen_tensors,
                    std::unordered_set<const Module*>& seen_modules) const;

  std::string name_;
  bool training_ = true;
  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace ember::nn
