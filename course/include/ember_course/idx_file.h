// Readers for MNIST's IDX files (datasets/mnist/, described in datasets/README.md).
//
// An IDX file is a 4-byte big-endian magic number (2051 for images, 2049 for labels),
// one big-endian int32 per dimension (count, then rows and columns for images), then
// the data as unsigned bytes in row-major order. The files may be gzipped or plain;
// zlib reads both. Every problem (missing file, wrong magic, implausible dimensions,
// truncated or trailing data, damaged gzip, labels outside 0..9) throws ember::Error
// with a message that names the file, says what is wrong and how to restore the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember::course {

struct IdxImages {
  int64_t count = 0;            // number of images
  int64_t rows = 0;             // height of each image
  int64_t cols = 0;             // width of each image
  std::vector<uint8_t> pixels;  // (count, rows, cols), row-major, 0 (paper) .. 255 (ink)
};

// Reads an images file (magic 2051), e.g. train-images-idx3-ubyte.gz.
IdxImages read_idx_images(const std::string& path);

// Reads a labels file (magic 2049), e.g. train-labels-idx1-ubyte.gz: one digit 0..9 each.
std::vector<uint8_t> read_idx_labels(const std::string& path);

}  // namespace ember::course
