// SHA-256 (FIPS 180-4), for the grader: checking the datasets against datasets/SHA256SUMS
// before they are used, and naming a compiled runner by what went into it. No engine, no
// other dependency.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ember::grading {

class Sha256 {
 public:
  Sha256();
  Sha256& update(std::string_view bytes);
  std::string hex();  // the digest, 64 lowercase hex digits; the object is spent after it

 private:
  void block(const unsigned char* p);
  std::uint32_t state_[8];
  unsigned char buffer_[64];
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes so far
};

std::string sha256_hex(std::string_view bytes);
// The file's digest; throws std::runtime_error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace ember::grading
