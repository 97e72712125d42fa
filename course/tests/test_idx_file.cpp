// Tests for the MNIST IDX reader and the datasets folder lookup: the real files in
// datasets/mnist/, then damaged copies built in a temporary folder.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

#include <ember/error.h>

#include "ember_course/data_paths.h"
#include "ember_course/idx_file.h"

namespace fs = std::filesystem;
using ember::course::dataset_path;
using ember::course::datasets_dir;
using ember::course::read_idx_images;
using ember::course::read_idx_labels;

namespace {

using Bytes = std::vector<uint8_t>;

// A fresh folder under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ember_idx_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

void append_u32(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
}

Bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t magic = 2051) {
  Bytes bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count);
  append_u32(bytes, rows);
  append_u32(bytes, cols);
  for (uint64_t i = 0; i < uint64_t{count} * rows * cols; ++i) bytes.push_back(static_cast<uint8_t>(i * 7));
  return bytes;
}

Bytes idx_labels(const Bytes& labels, uint32_t magic = 2049) {
  Bytes bytes;
  append_u32(bytes, magic);
  append_u32(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// Runs `read`, which must throw ember::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& read, std::initializer_list<std::string> parts) {
  try {
    read();
  } catch (const ember::Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nmissing: " << part;
    }
    return;
  }
  ADD_FAILURE() << "expected an ember::Error";
}

std::array<int, 10> histogram(const Bytes& labels) {
  std::array<int, 10> counts{};
  for (uint8_t label : labels) ++counts.at(label);
  return counts;
}

const char* kRestore = "git checkout -- datasets/mnist";

}  // namespace

// ---------------------------------------------------------------- datasets folder

TEST(DataPaths, DefaultFolderHoldsTheDatasets) {
  const char* saved = std::getenv("EMBER_DATASETS");
  if (saved != nullptr) GTEST_SKIP() << "EMBER_DATASETS is set";
  EXPECT_TRUE(fs::is_directory(datasets_dir())) << datasets_dir();
  EXPECT_TRUE(fs::is_regular_file(dataset_path("mnist/t10k-labels-idx1-ubyte.gz")));
  EXPECT_TRUE(fs::is_regular_file(dataset_path("lang_id/alphabet.txt")));
}

TEST(DataPaths, EnvironmentVariableOverridesTheFolder) {
  const char* saved = std::getenv("EMBER_DATASETS");
  const std::string previous = saved != nullptr ? saved : "";
  ASSERT_EQ(setenv("EMBER_DATASETS", "/somewhere/else", 1), 0);
  EXPECT_EQ(datasets_dir(), "/somewhere/else");
  EXPECT_EQ(dataset_path("mnist/x.gz"), "/somewhere/else/mnist/x.gz");
  ASSERT_EQ(setenv("EMBER_DATASETS", "", 1), 0);  // empty means unset
  EXPECT_EQ(datasets_dir(), EMBER_DATASETS_DIR);
  if (saved != nullptr) {
    setenv("EMBER_DATASETS", previous.c_str(), 1);
  } else {
    unsetenv("EMBER_DATASETS");
  }
}

// ---------------------------------------------------------------- the real MNIST files

TEST(IdxRealData, TrainingImagesAndLabels) {
  const auto images = read_idx_images(dataset_path("mnist/train-images-idx3-ubyte.gz"));
  EXPECT_EQ(images.count, 60000);
  EXPECT_EQ(images.rows, 28);
  EXPECT_EQ(images.cols, 28);
  ASSERT_EQ(images.pixels.size(), 60000u * 28 * 28);
  // MNIST's well-known mean intensity is 0.1307 of full scale; ink reaches 255.
  const double mean = std::accumulate(images.pixels.begin(), images.pixels.end(), 0.0) / images.pixels.size();
  EXPECT_NEAR(mean / 255.0, 0.1307, 0.002);
  EXPECT_EQ(*std::max_element(images.pixels.begin(), images.pixels.end()), 255);

  const auto labels = read_idx_labels(dataset_path("mnist/train-labels-idx1-ubyte.gz"));
  ASSERT_EQ(labels.size(), 60000u);
  EXPECT_EQ(labels[0], 5);  // the famous first training digit
  const std::array<int, 10> expected{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  EXPECT_EQ(histogram(labels), expected);
}

TEST(IdxRealData, TestImagesAndLabelsSplitIntoValidationAndGrading) {
  const auto images = read_idx_images(dataset_path("mnist/t10k-images-idx3-ubyte.gz"));
  EXPECT_EQ(images.count, 10000);
  EXPECT_EQ(images.rows, 28);
  EXPECT_EQ(images.cols, 28);
  EXPECT_EQ(images.pixels.size(), 10000u * 28 * 28);

  const auto labels = read_idx_labels(dataset_path("mnist/t10k-labels-idx1-ubyte.gz"));
  ASSERT_EQ(labels.size(), 10000u);
  EXPECT_EQ(labels[0], 7);
  const std::array<int, 10> expected{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
  EXPECT_EQ(histogram(labels), expected);

  // The course validates on even-indexed test images and grades on odd-indexed ones;
  // both halves must hold every digit in a sane proportion.
  Bytes even, odd;
  for (size_t i = 0; i < labels.size(); ++i) (i % 2 == 0 ? even : odd).push_back(labels[i]);
  ASSERT_EQ(even.size(), 5000u);
  ASSERT_EQ(odd.size(), 5000u);
  for (const Bytes* half : {&even, &odd}) {
    for (int count : histogram(*half)) {
      EXPECT_GT(count, 400);
      EXPECT_LT(count, 600);
    }
  }
}

// ---------------------------------------------------------------- well-formed synthetic files

TEST(IdxFile, ReadsGzippedAndPlainFilesAlike) {
  TempDir dir;
  const Bytes images = idx_images(3, 4, 5);
  write_gzip(dir.file("images.gz"), images);
  write_bytes(dir.file("images.idx"), images);
  for (const char* name : {"images.gz", "images.idx"}) {
    const auto read = read_idx_images(dir.file(name));
    EXPECT_EQ(read.count, 3);
    EXPECT_EQ(read.rows, 4);
    EXPECT_EQ(read.cols, 5);
    EXPECT_EQ(read.pixels, Bytes(images.begin() + 16, images.end()));
  }
  const Bytes labels{0, 9, 3, 3};
  write_gzip(dir.file("labels.gz"), idx_labels(labels));
  write_bytes(dir.file("labels.idx"), idx_labels(labels));
  EXPECT_EQ(read_idx_labels(dir.file("labels.gz")), labels);
  EXPECT_EQ(read_idx_labels(dir.file("labels.idx")), labels);
}

// ---------------------------------------------------------------- damaged files

TEST(IdxFile, MissingFile) {
  TempDir dir;
  const std::string path = dir.file("train-images-idx3-ubyte.gz");
  expect_error([&] { read_idx_images(path); }, {path, "file not found", kRestore, "EMBER_DATASETS"});
  expect_error([&] { read_idx_labels(path); }, {path, "file not found"});
}

TEST(IdxFile, FolderInsteadOfFile) {
  TempDir dir;
  const std::string path = dir.file("sub");
  fs::create_directory(path);
  expect_error([&] { read_idx_images(path); }, {path, "not a regular file", kRestore});
}

TEST(IdxFile, EmptyFile) {
  TempDir dir;
  const std::string path = dir.file("empty.gz");
  write_bytes(path, {});
  expect_error([&] { read_idx_images(path); }, {path, "truncated: expected a 16-byte IDX images header, found 0 bytes"});
  expect_error([&] { read_idx_labels(path); }, {path, "truncated: expected a 8-byte IDX labels header"});
}

TEST(IdxFile, WrongMagicNumber) {
  TempDir dir;
  const std::string labels = dir.file("labels.gz");
  write_gzip(labels, idx_labels({1, 2, 3}));
  expect_error([&] { read_idx_images(labels); },
               {labels, "wrong magic number 2049", "starts with 2051", "swapped", kRestore});
  const std::string images = dir.file("images.gz");
  write_gzip(images, idx_images(2, 2, 2));
  expect_error([&] { read_idx_labels(images); }, {images, "wrong magic number 2051", "starts with 2049"});

  // For example an HTML error page saved by a failed download.
  const std::string html = dir.file("page.gz");
  const std::string text = "<!DOCTYPE html><html>Not Found</html>";
  write_bytes(html, Bytes(text.begin(), text.end()));
  expect_error([&] { read_idx_images(html); }, {html, "wrong magic number", "0x3C21444F"});
}

TEST(IdxFile, ImplausibleDimensions) {
  TempDir dir;
  const std::string zero_rows = dir.file("zero.gz");
  write_gzip(zero_rows, idx_images(5, 0, 28));
  expect_error([&] { read_idx_images(zero_rows); }, {zero_rows, "implausible header: rows is 0"});

  const std::string huge = dir.file("huge.gz");
  Bytes header;
  append_u32(header, 2051);
  append_u32(header, 10);
  append_u32(header, 100000);
  append_u32(header, 28);
  write_gzip(huge, header);
  expect_error([&] { read_idx_images(huge); }, {huge, "implausible header", "100000x28"});

  const std::string negative = dir.file("negative.gz");
  Bytes labels_header;
  append_u32(labels_header, 2049);
  append_u32(labels_header, 0x80000000u);
  write_gzip(negative, labels_header);
  expect_error([&] { read_idx_labels(negative); }, {negative, "implausible header: the label count is 2147483648"});
}

TEST(IdxFile, TruncatedData) {
  TempDir dir;
  // A complete gzip stream around an IDX file that stops early.
  Bytes images = idx_images(10, 28, 28);
  images.resize(16 + 1234);
  const std::string path = dir.file("t10k-images-idx3-ubyte.gz");
  write_gzip(path, images);
  expect_error([&] { read_idx_images(path); },
               {path, "truncated: expected 7840 bytes of pixels (10 images of 28x28), found 1234", kRestore});

  // A huge claimed count must fail as truncated, without trying to allocate it.
  Bytes claims_a_lot = idx_images(1, 28, 28);
  claims_a_lot[4] = 0x7F;
  const std::string big = dir.file("big.gz");
  write_gzip(big, claims_a_lot);
  expect_error([&] { read_idx_images(big); }, {big, "truncated", "found 784"});
}

TEST(IdxFile, TruncatedGzipStream) {
  TempDir dir;
  // The real test labels with their last 1,000 compressed bytes cut off.
  Bytes gz = read_bytes(dataset_path("mnist/t10k-labels-idx1-ubyte.gz"));
  ASSERT_GT(gz.size(), 2000u);
  gz.resize(gz.size() - 1000);
  const std::string path = dir.file("t10k-labels-idx1-ubyte.gz");
  write_bytes(path, gz);
  expect_error([&] { read_idx_labels(path); },
               {path, "truncated: expected 10000 bytes of labels, found", "gzip stream ends early", kRestore});

  // Only the 8-byte gzip trailer (CRC-32 and length) missing: the data is all there,
  // but the file is still incomplete.
  Bytes no_trailer = read_bytes(dataset_path("mnist/t10k-labels-idx1-ubyte.gz"));
  no_trailer.resize(no_trailer.size() - 8);
  write_bytes(path, no_trailer);
  expect_error([&] { read_idx_labels(path); }, {path, "truncated gzip data", kRestore});
}

TEST(IdxFile, CorruptedGzipBytes) {
  TempDir dir;
  const Bytes original = read_bytes(dataset_path("mnist/t10k-labels-idx1-ubyte.gz"));
  const std::string path = dir.file("t10k-labels-idx1-ubyte.gz");

  // A flipped bit in the CRC-32 of the trailer: every byte decompresses, the check fails.
  Bytes bad_crc = original;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  write_bytes(path, bad_crc);
  expect_error([&] { read_idx_labels(path); }, {path, "damaged gzip data", "incorrect data check", kRestore});

  // A wrong uncompressed length in the trailer.
  Bytes bad_length = original;
  bad_length[bad_length.size() - 4] ^= 0x01;
  write_bytes(path, bad_length);
  expect_error([&] { read_idx_labels(path); }, {path, "damaged gzip data", "incorrect length check"});

  // Garbage in the middle of the compressed data.
  Bytes scrambled = original;
  for (size_t i = 2000; i < 2064; ++i) scrambled[i] = static_cast<uint8_t>(i * 37);
  write_bytes(path, scrambled);
  expect_error([&] { read_idx_labels(path); }, {path, "damaged gzip data", kRestore});

  // A gzip header with an unknown compression method.
  Bytes bad_method = original;
  bad_method[2] = 7;
  write_bytes(path, bad_method);
  expect_error([&] { read_idx_labels(path); }, {path, "damaged gzip data"});
}

TEST(IdxFile, TrailingGarbage) {
  TempDir dir;
  Bytes labels = idx_labels({1, 2, 3});
  labels.push_back(0);
  labels.push_back(0);
  const std::string gz = dir.file("labels.gz");
  write_gzip(gz, labels);
  expect_error([&] { read_idx_labels(gz); }, {gz, "2 unexpected bytes after the 3 bytes of labels", kRestore});

  Bytes images = idx_images(2, 3, 3);
  images.push_back(42);
  const std::string plain = dir.file("images.idx");
  write_bytes(plain, images);
  expect_error([&] { read_idx_images(plain); }, {plain, "1 unexpected byte after the 18 bytes of pixels"});
}

TEST(IdxFile, LabelOutOfRange) {
  TempDir dir;
  const std::string path = dir.file("labels.gz");
  write_gzip(path, idx_labels({0, 9, 10, 3}));
  expect_error([&] { read_idx_labels(path); }, {path, "label 10 at index 2 is outside 0..9", kRestore});
}
