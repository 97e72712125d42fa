#include "ember/storage.h"

#include "ember/backend.h"

namespace ember {

Storage::Storage(Device device, int64_t count) : device_(device), count_(count) {
  data_ = device.is_cpu() && count <= kInlineFloats ? inline_data_ : backend_for(device).allocate(count);
}

Storage::~Storage() {
  if (data_ != inline_data_) backend_for(device_).deallocate(data_);
}

}  // namespace ember
