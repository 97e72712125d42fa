#include "ember_course/idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <ember/error.h>
#include <fmt/format.h>

namespace ember::course {
namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension
constexpr int64_t kMaxImageSide = 4096;  // far above MNIST's 28; catches garbage headers
constexpr int kNumClasses = 10;

// The end of a "not found" message: how to restore the file, and where the folder came from.
std::string not_found_hint() {
  const char* override_dir = std::getenv("EMBER_DATASETS");
  if (override_dir != nullptr && override_dir[0] != '\0') {
    return fmt::format(
        "; note that the environment variable EMBER_DATASETS is set to '{}', which replaces the datasets folder; "
        "unset it to use the repository's datasets/",
        override_dir);
  }
  return "; to read the datasets from another folder, set the EMBER_DATASETS environment variable";
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(fmt::format("{}: {}. Restore it with `git checkout -- datasets/mnist` (see datasets/README.md)",
                          path, problem));
}

// A gzipped or plain file read through zlib (gzread passes plain files through unchanged).
// Every zlib error is turned into an ember::Error naming the file.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (status.type() == std::filesystem::file_type::not_found) {
      throw Error(fmt::format("{}: file not found. Restore it with `git checkout -- datasets/mnist` (see "
                              "datasets/README.md){}",
                              path, not_found_hint()));
    }
    if (error) fail(path, fmt::format("cannot access it: {}", error.message()));
    if (!std::filesystem::is_regular_file(status)) fail(path, "not a regular file");
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      fail(path, fmt::format("cannot open it: {}", errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_, 1 << 17);  // fewer, larger reads than zlib's 8 KiB default
  }

  ~GzFile() {
    if (file_ != nullptr) gzclose_r(file_);
  }

  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to `count` bytes into `out`; returns how many were read, fewer only at the
  // end of the data or where a gzip stream is cut short (see ends_early()). Damaged gzip
  // data throws.
  size_t read(uint8_t* out, size_t count) {
    size_t done = 0;
    while (done < count) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(count - done, 1u << 30));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) throw_zlib_error();
      done += static_cast<size_t>(got);
      if (static_cast<unsigned>(got) < chunk) break;
    }
    if (done < count && !ends_early()) throw_if_zlib_error();
    return done;
  }

  // True when the compressed stream ended before its end marker: zlib then reports
  // Z_BUF_ERROR but still hands over the bytes it could decompress.
  bool ends_early() {
    int code = Z_OK;
    gzerror(file_, &code);
    return code == Z_BUF_ERROR;
  }

  // What to add to a "truncated" message when the gzip stream itself was cut short.
  std::string truncation_note() {
    return ends_early() ? " (the gzip stream ends early)" : "";
  }

  // Reads to the end, counting the bytes left over; this also makes zlib check the gzip
  // trailer (CRC-32 and length), which it only does once the stream is fully consumed.
  int64_t count_remaining_bytes() {
    std::array<uint8_t, 4096> sink{};
    int64_t remaining = 0;
    for (;;) {
      const int got = gzread(file_, sink.data(), static_cast<unsigned>(sink.size()));
      if (got < 0) throw_zlib_error();
      if (got == 0) break;
      remaining += got;
    }
    throw_if_zlib_error();
    return remaining;
  }

  // Closes the file, reporting a gzip stream that ended early or a read error.
  void close() {
    gzFile file = file_;
    file_ = nullptr;
    const int status = gzclose_r(file);
    if (status == Z_BUF_ERROR) fail(path_, "truncated gzip data (the compressed stream ends early)");
    if (status != Z_OK) fail(path_, fmt::format("cannot read it (zlib error {})", status));
  }

 private:
  void throw_if_zlib_error() {
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK) throw_zlib_error();
  }

  [[noreturn]] void throw_zlib_error() {
    int code = Z_OK;
    const char* raw = gzerror(file_, &code);
    std::string message = raw != nullptr ? raw : "";
    // zlib prefixes its messages with "<path>: "; we name the file ourselves.
    const std::string prefix = path_ + ": ";
    if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
    switch (code) {
      case Z_BUF_ERROR:
        fail(path_, fmt::format("truncated gzip data (zlib: {})", message));
      case Z_DATA_ERROR:
        fail(path_, fmt::format("damaged gzip data: corrupted bytes or not a gzip file (zlib: {})", message));
      case Z_ERRNO:
        fail(path_, fmt::format("read error: {}", std::strerror(errno)));
      case Z_MEM_ERROR:
        fail(path_, "out of memory while decompressing");
      default:
        fail(path_, fmt::format("cannot read it (zlib error {}: {})", code, message));
    }
  }

  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

// Reads the magic number and one size per entry of `dimension_names`, checking the magic
// and that each size is a positive int32.
std::vector<int64_t> read_header(GzFile& file, const std::string& path, uint32_t expected_magic,
                                 const std::vector<const char*>& dimension_names) {
  const size_t dimensions = dimension_names.size();
  const size_t header_bytes = 4 * (1 + dimensions);
  std::vector<uint8_t> header(header_bytes);
  const size_t got = file.read(header.data(), header_bytes);
  const bool images = expected_magic == kImagesMagic;
  const char* kind = images ? "images" : "labels";
  if (got < 4) {
    fail(path, fmt::format("truncated: expected a {}-byte IDX {} header, found {} byte{}{}", header_bytes, kind,
                           got, got == 1 ? "" : "s", file.truncation_note()));
  }
  const uint32_t magic = big_endian_u32(header.data());
  if (magic != expected_magic) {
    std::string hint;
    if (magic == kImagesMagic) hint = " (2051 marks an images file: were the images and labels paths swapped?)";
    if (magic == kLabelsMagic) hint = " (2049 marks a labels file: were the images and labels paths swapped?)";
    fail(path, fmt::format("wrong magic number {} (0x{:08X}); an IDX {} file starts with {} (0x{:08X}){}", magic,
                           magic, kind, expected_magic, expected_magic, hint));
  }
  if (got < header_bytes) {
    fail(path, fmt::format("truncated: expected a {}-byte IDX {} header, found {} bytes{}", header_bytes, kind, got,
                           file.truncation_note()));
  }
  std::vector<int64_t> sizes;
  for (size_t d = 0; d < dimensions; ++d) {
    const uint32_t size = big_endian_u32(header.data() + 4 * (d + 1));
    if (size == 0 || size > uint32_t{INT32_MAX}) {
      fail(path, fmt::format("implausible header: {} is {}, expected a positive int32", dimension_names[d], size));
    }
    sizes.push_back(static_cast<int64_t>(size));
  }
  return sizes;
}

// Reads exactly `expected` data bytes and checks nothing follows them.
std::vector<uint8_t> read_body(GzFile& file, const std::string& path, int64_t expected, const std::string& what) {
  std::vector<uint8_t> data;
  // Grown as bytes arrive so a header that claims absurd sizes cannot allocate them up front.
  data.reserve(static_cast<size_t>(std::min<int64_t>(expected, int64_t{1} << 26)));
  constexpr int64_t kChunk = int64_t{1} << 20;
  while (static_cast<int64_t>(data.size()) < expected) {
    const size_t before = data.size();
    const size_t want = static_cast<size_t>(std::min<int64_t>(kChunk, expected - static_cast<int64_t>(before)));
    data.resize(before + want);
    const size_t got = file.read(data.data() + before, want);
    data.resize(before + got);
    if (got < want) break;
  }
  if (static_cast<int64_t>(data.size()) < expected) {
    fail(path, fmt::format("truncated: expected {} bytes of {}, found {}{}", expected, what, data.size(),
                           file.truncation_note()));
  }
  const int64_t extra = file.count_remaining_bytes();
  if (extra > 0) {
    fail(path, fmt::format("{} unexpected byte{} after the {} bytes of {} (trailing garbage)", extra,
                           extra == 1 ? "" : "s", expected, what));
  }
  file.close();
  return data;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  GzFile file(path);
  const std::vector<int64_t> sizes = read_header(file, path, kImagesMagic, {"the image count", "rows", "cols"});
  IdxImages images;
  images.count = sizes[0];
  images.rows = sizes[1];
  images.cols = sizes[2];
  if (images.rows > kMaxImageSide || images.cols > kMaxImageSide) {
    fail(path, fmt::format("implausible header: images of {}x{} pixels (at most {} per side expected)", images.rows,
                           images.cols, kMaxImageSide));
  }
  const int64_t expected = images.count * images.rows * images.cols;
  images.pixels = read_body(
      file, path, expected,
      fmt::format("pixels ({} images of {}x{})", images.count, images.rows, images.cols));
  return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  GzFile file(path);
  const std::vector<int64_t> sizes = read_header(file, path, kLabelsMagic, {"the label count"});
  std::vector<uint8_t> labels = read_body(file, path, sizes[0], "labels");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= kNumClasses) {
      fail(path, fmt::format("label {} at index {} is outside 0..{}", labels[i], i, kNumClasses - 1));
    }
  }
  return labels;
}

}  // namespace ember::course
