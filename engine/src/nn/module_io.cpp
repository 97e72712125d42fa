// nn::Module::save and load: the Ember parameter file.
//
// Layout, all integers little-endian:
//   header (36 bytes)
//     char[8]  magic            "EMBERPT" followed by a zero byte
//     uint32   format version   kFormatVersion
//     uint64   entry count
//     uint64   uncompressed payload size in bytes
//     uint64   compressed payload size in bytes
//   payload (zlib stream, the compressed size), uncompressed it is per entry:
//     uint32   name length, then the name's bytes (a dotted name, "fc1.weight")
//     uint32   number of dims, then int64 per dim
//     float32  values in row-major order (IEEE 754 bit patterns, little-endian)
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/error.h"
#include "ember/nn/module.h"
#include "ember/shape.h"

namespace ember::nn {

namespace {

constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'P', 'T', '\0'};
constexpr uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 8 + 4 + 8 + 8 + 8;
// zlib cannot expand data by more than about 1032:1, so a header claiming more than this
// is corrupt (and must not make us allocate gigabytes).
constexpr uint64_t kMaxZlibRatio = 1032;

void put_u32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}
void put_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}
uint64_t get_le(const unsigned char* bytes, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return value;
}

// Reads the uncompressed payload, checking every length against what is left.
class PayloadReader {
 public:
  PayloadReader(const std::string& data, const std::string& path) : data_(data), path_(path) {}

  uint64_t u32(const char* what, uint64_t entry) { return get_le(take(4, what, entry), 4); }
  uint64_t u64(const char* what, uint64_t entry) { return get_le(take(8, what, entry), 8); }
  const unsigned char* take(uint64_t count, const char* what, uint64_t entry) {
    check(count <= remaining(),
          "Module::load: {} is corrupt: entry {} needs {} bytes for its {} but only {} remain "
          "in the payload",
          path_, entry, count, what, remaining());
    const auto* bytes = reinterpret_cast<const unsigned char*>(data_.data()) + position_;
    position_ += count;
    return bytes;
  }
  uint64_t remaining() const { return data_.size() - position_; }

 private:
  const std::string& data_;
  const std::string& path_;
  uint64_t position_ = 0;
};

struct Entry {
  Shape shape;
  std::vector<float> values;
};

}  // namespace

void Module::save(const std::string& path) const {
  std::vector<NamedTensor> entries = named_parameters();
  for (auto& buffer : named_buffers()) entries.push_back(std::move(buffer));

  std::string payload;
  for (const auto& [name, tensor] : entries) {
    check(tensor.defined(), "Module::save: '{}' is undefined; cannot write {}", name, path);
    put_u32(payload, static_cast<uint32_t>(name.size()));
    payload += name;
    put_u32(payload, static_cast<uint32_t>(tensor.dim()));
    for (int64_t size : tensor.shape()) put_u64(payload, static_cast<uint64_t>(size));
    const std::vector<float> values = tensor.to_vector();  // copies through the host
    for (float value : values) {
      uint32_t bits = 0;
      std::memcpy(&bits, &value, sizeof bits);
      put_u32(payload, bits);
    }
  }

  uLongf compressed_size = compressBound(static_cast<uLong>(payload.size()));
  std::string compressed(compressed_size, '\0');
  int status = compress2(reinterpret_cast<Bytef*>(&compressed[0]), &compressed_size,
                         reinterpret_cast<const Bytef*>(payload.data()),
                         static_cast<uLong>(payload.size()), Z_DEFAULT_COMPRESSION);
  check(status == Z_OK, "Module::save: zlib could not compress the data for {} (error {})", path,
        status);
  compressed.resize(compressed_size);

  std::string header(kMagic, sizeof kMagic);
  put_u32(header, kFormatVersion);
  put_u64(header, entries.size());
  put_u64(header, payload.size());
  put_u64(header, compressed.size());

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  check(file.is_open(), "Module::save: cannot open {} for writing", path);
  file.write(header.data(), static_cast<std::streamsize>(header.size()));
  file.write(compressed.data(), static_cast<std::streamsize>(compressed.size()));
  file.close();
  check(!file.fail(), "Module::save: writing {} failed (disk full or no permission?)", path);
}

void Module::load(const std::string& path) {
  // ---- read and check the file ------------------------------------------------------
  std::ifstream file(path, std::ios::binary);
  check(file.is_open(), "Module::load: cannot open {} (no such file, or no permission)", path);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  check(!file.bad(), "Module::load: reading {} failed", path);

  const std::size_t magic_bytes = std::min(bytes.size(), sizeof kMagic);
  check(std::memcmp(bytes.data(), kMagic, magic_bytes) == 0,
        "Module::load: {} is not an Ember parameter file (it does not start with \"EMBERPT\")",
        path);
  check(bytes.size() >= kHeaderSize,
        "Module::load: {} is truncated: expected {} bytes of header, the file has {} bytes",
        path, kHeaderSize, bytes.size());
  const auto* header = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t version = get_le(header + 8, 4);
  const uint64_t entry_count = get_le(header + 12, 8);
  const uint64_t uncompressed_size = get_le(header + 20, 8);
  const uint64_t compressed_size = get_le(header + 28, 8);
  check(version == kFormatVersion,
        "Module::load: {} has format version {}, but this Ember reads only version {}", path,
        version, kFormatVersion);
  const uint64_t available = bytes.size() - kHeaderSize;
  check(available >= compressed_size,
        "Module::load: {} is truncated: expected {} bytes ({} of header and {} of compressed "
        "data), the file has {}",
        path, kHeaderSize + compressed_size, kHeaderSize, compressed_size, bytes.size());
  check(available == compressed_size,
        "Module::load: {} is corrupt: {} unexpected bytes follow the {} bytes of compressed data",
        path, available - compressed_size, compressed_size);
  check(uncompressed_size / kMaxZlibRatio <= compressed_size &&
            uncompressed_size <= std::numeric_limits<uLong>::max(),
        "Module::load: {} is corrupt: its header claims {} bytes of data compressed into {}, "
        "which zlib cannot produce",
        path, uncompressed_size, compressed_size);

  std::string payload(uncompressed_size, '\0');
  uLongf produced = static_cast<uLongf>(uncompressed_size);
  int status = uncompress(reinterpret_cast<Bytef*>(payload.empty() ? nullptr : &payload[0]),
                          &produced,
                          reinterpret_cast<const Bytef*>(bytes.data() + kHeaderSize),
                          static_cast<uLong>(compressed_size));
  if (status == Z_BUF_ERROR && uncompressed_size == 0) status = Z_OK;  // zlib quirk on empty
  check(status != Z_DATA_ERROR,
        "Module::load: {} is corrupt: zlib reports invalid compressed data", path);
  check(status != Z_BUF_ERROR,
        "Module::load: {} is corrupt: the compressed data is incomplete or holds more than the "
        "{} bytes its header gives",
        path, uncompressed_size);
  check(status == Z_OK, "Module::load: zlib failed to decompress {} (error {})", path, status);
  check(produced == uncompressed_size,
        "Module::load: {} is corrupt: the payload has {} bytes, the header says {}", path,
        produced, uncompressed_size);

  // ---- parse every entry ------------------------------------------------------------
  PayloadReader reader(payload, path);
  std::map<std::string, Entry> file_entries;
  std::vector<std::string> file_order;
  for (uint64_t e = 0; e < entry_count; ++e) {
    const uint64_t name_length = reader.u32("name length", e);
    const unsigned char* name_bytes = reader.take(name_length, "name", e);
    std::string name(reinterpret_cast<const char*>(name_bytes), name_length);
    const uint64_t ndim = reader.u32("number of dims", e);
    check(ndim <= static_cast<uint64_t>(kMaxDims),
          "Module::load: {} is corrupt: entry '{}' claims {} dims (at most {})", path, name, ndim,
          kMaxDims);
    Entry entry;
    uint64_t numel = 1;
    for (uint64_t d = 0; d < ndim; ++d) {
      const uint64_t size = reader.u64("shape", e);
      // A non-empty tensor needs 4 bytes per value, so numel * size may not exceed what is
      // left; checking by division avoids overflow on a corrupt size.
      check(size <= (uint64_t{1} << 40) &&
                (numel == 0 || size == 0 || numel <= reader.remaining() / 4 / size),
            "Module::load: {} is corrupt: entry '{}' has size {} in dim {}, more values than "
            "the payload holds",
            path, name, size, d);
      entry.shape.push_back(static_cast<int64_t>(size));
      numel *= size;
    }
    const unsigned char* value_bytes = reader.take(numel * 4, "values", e);
    entry.values.resize(numel);
    for (uint64_t i = 0; i < numel; ++i) {
      const auto bits = static_cast<uint32_t>(get_le(value_bytes + 4 * i, 4));
      std::memcpy(&entry.values[i], &bits, sizeof bits);
    }
    check(file_entries.count(name) == 0,
          "Module::load: {} is corrupt: it holds '{}' more than once", path, name);
    file_order.push_back(name);
    file_entries.emplace(std::move(name), std::move(entry));
  }
  check(reader.remaining() == 0,
        "Module::load: {} is corrupt: {} bytes are left over after its {} entries", path,
        reader.remaining(), entry_count);

  // ---- match the file against the model ---------------------------------------------
  std::vector<NamedTensor> targets = named_parameters();
  std::size_t parameter_count = targets.size();
  for (auto& buffer : named_buffers()) targets.push_back(std::move(buffer));
  std::map<std::string, std::size_t> target_index;
  for (std::size_t i = 0; i < targets.size(); ++i) target_index.emplace(targets[i].first, i);

  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& [name, tensor] = targets[i];
    const char* kind = i < parameter_count ? "parameter" : "buffer";
    auto found = file_entries.find(name);
    check(found != file_entries.end(), "Module::load: {} '{}' of the model is missing from {}",
          kind, name, path);
    check(found->second.shape == tensor.shape(),
          "Module::load: {} '{}' has shape {} in {} but {} in the model", kind, name,
          shape_str(found->second.shape), path, shape_str(tensor.shape()));
  }
  for (const std::string& name : file_order) {
    check(target_index.count(name) != 0,
          "Module::load: {} holds '{}', which the model has no parameter or buffer called",
          path, name);
  }

  // ---- everything checks out: copy --------------------------------------------------
  // Build every device copy first, so a failure there still leaves the model unchanged.
  NoGradGuard no_grad;
  std::vector<Tensor> sources;
  for (const auto& [name, tensor] : targets) {
    const Entry& entry = file_entries.at(name);
    sources.push_back(from_vector(entry.values, entry.shape, tensor.device()));
  }
  for (std::size_t i = 0; i < targets.size(); ++i) targets[i].second.copy_(sources[i]);
}

}  // namespace ember::nn
