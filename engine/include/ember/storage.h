// Storage: one block of device memory that any number of tensors (views) share.
// It is the only thing in the engine that owns numbers; freeing happens here.
#pragma once

#include <cstdint>
#include <memory>

#include "ember/device.h"

namespace ember {

class Storage {
 public:
  // Up to this many floats on the CPU live inside the Storage object itself: a loss, a
  // scalar, a 3x3 patch. Asking the backend for a block would cost more than using it.
  static constexpr int64_t kInlineFloats = 16;

  // Allocates count floats on the device (uninitialised).
  Storage(Device device, int64_t count);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() const { return data_; }
  int64_t count() const { return count_; }
  Device device() const { return device_; }

 private:
  Device device_;
  int64_t count_;
  float* data_;
  float inline_data_[kInlineFloats];
};

}  // namespace ember
