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

 protected:
  // For a subclass that keeps the numbers inside itself (engine/src/object_pool.cpp does,
  // for tiny tensors): data belongs to the subclass and is not freed here.
  Storage(Device device, int64_t count, float* data);

 private:
  Device device_;
  int64_t count_;
  float* data_;       // from backend_for(device).allocate(count), unless a subclass gave it
  bool owns_data_ = true;
};

}  // namespace ember
