// Storage: one block of device memory that any number of tensors (views) share.
// It is the only thing in the engine that owns numbers; freeing happens here.
#pragma once

#include <cstdint>
#include <memory>

#include "ember/device.h"

namespace ember {

class Storage {
 public:
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
};

}  // namespace ember
