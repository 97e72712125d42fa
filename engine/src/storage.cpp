#include "ember/storage.h"

#include "ember/backend.h"

namespace ember {

Storage::Storage(Device device, int64_t count)
    : device_(device), count_(count), data_(backend_for(device).allocate(count)) {}

Storage::Storage(Device device, int64_t count, float* data)
    : device_(device), count_(count), data_(data), owns_data_(false) {}

Storage::~Storage() {
  if (owns_data_) backend_for(device_).deallocate(data_);
}

}  // namespace ember
