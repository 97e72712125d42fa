// Module::save / Module::load: the round trip, the file layout, and every load error.
#include <ember/nn/linear.h>
#include <ember/nn/module.h>
#include <ember/nn/sequential.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::throws_error;
using ember_test::throws_error_all;
namespace fs = std::filesystem;
namespace nn = ember::nn;

// A fresh directory per test, removed afterwards.
class NnSaveLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("ember_nn_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  }
  static void write(const std::string& path, const std::string& bytes) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  fs::path dir_;
};

struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  Tensor running;
  Net(int64_t in, int64_t hidden, int64_t out) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(in, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden, out));
    running = register_buffer("running", ember::zeros({out}));
  }
};

struct OnlyFc1 : nn::Module {
  std::shared_ptr<nn::Linear> fc1;
  OnlyFc1(int64_t in, int64_t out) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(in, out));
  }
};

std::vector<std::vector<float>> values_of(const nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const Tensor& t : m.parameters()) out.push_back(t.to_vector());
  for (const Tensor& t : m.buffers()) out.push_back(t.to_vector());
  return out;
}

uint64_t le(const std::string& bytes, size_t at, int count) {
  uint64_t v = 0;
  for (int i = 0; i < count; ++i) v |= uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  return v;
}

TEST_F(NnSaveLoad, RoundTripRestoresParametersAndBuffers) {
  ember::manual_seed(1);
  Net saved(3, 4, 2);
  {
    ember::NoGradGuard no_grad;
    saved.running.copy_(ember::tensor({0.5f, -7}));
  }
  saved.save(path("net.bin"));

  ember::manual_seed(2);
  Net loaded(3, 4, 2);
  ASSERT_NE(values_of(loaded), values_of(saved));
  Tensor handle = loaded.fc1->weight;
  loaded.load(path("net.bin"));
  EXPECT_EQ(values_of(loaded), values_of(saved));  // float32 bits survive exactly
  EXPECT_TRUE(handle.same_impl(loaded.fc1->weight));
  EXPECT_TRUE(loaded.fc1->weight.requires_grad());
}

TEST_F(NnSaveLoad, FileHasTheDocumentedHeader) {
  nn::Linear fc(3, 2);
  fc.save(path("fc.bin"));
  const std::string bytes = read(path("fc.bin"));
  ASSERT_GE(bytes.size(), 36u);
  EXPECT_EQ(bytes.substr(0, 7), "EMBERPT");
  EXPECT_EQ(le(bytes, 8, 4), 1u);   // format version
  EXPECT_EQ(le(bytes, 12, 8), 2u);  // weight and bias
  // Uncompressed: per entry 4 + name + 4 + 8 * ndim + 4 * numel.
  const uint64_t payload = (4 + 6 + 4 + 16 + 4 * 6) + (4 + 4 + 4 + 8 + 4 * 2);
  EXPECT_EQ(le(bytes, 20, 8), payload);
  EXPECT_EQ(le(bytes, 28, 8), bytes.size() - 36);
}

TEST_F(NnSaveLoad, EmptyModelRoundTrips) {
  nn::Sequential empty;
  empty.save(path("empty.bin"));
  nn::Sequential other;
  EXPECT_NO_THROW(other.load(path("empty.bin")));
}

TEST_F(NnSaveLoad, MissingFile) {
  nn::Linear fc(3, 2);
  const std::string missing = path("nope.bin");
  EXPECT_TRUE(throws_error_all([&] { fc.load(missing); }, {"Module::load: cannot open", missing}));
}

TEST_F(NnSaveLoad, SaveToAnUnwritablePath) {
  nn::Linear fc(3, 2);
  const std::string bad = path("no_such_dir/fc.bin");
  EXPECT_TRUE(throws_error_all([&] { fc.save(bad); }, {"Module::save: cannot open", bad}));
}

TEST_F(NnSaveLoad, WrongMagic) {
  nn::Linear fc(3, 2);
  write(path("text.bin"), "hello, this is not a parameter file at all......");
  EXPECT_TRUE(throws_error(
      [&] { fc.load(path("text.bin")); }, path("text.bin") + " is not an Ember parameter file"));
  write(path("empty.bin"), "");
  EXPECT_TRUE(throws_error([&] { fc.load(path("empty.bin")); },
                           path("empty.bin") + " is truncated: expected 36 bytes of header, the "
                                               "file has 0 bytes"));
}

TEST_F(NnSaveLoad, UnsupportedVersion) {
  nn::Linear fc(3, 2);
  fc.save(path("fc.bin"));
  std::string bytes = read(path("fc.bin"));
  bytes[8] = 99;
  write(path("fc.bin"), bytes);
  EXPECT_TRUE(throws_error([&] { fc.load(path("fc.bin")); },
                           path("fc.bin") + " has format version 99, but this Ember reads only "
                                            "version 1"));
}

TEST_F(NnSaveLoad, Truncated) {
  nn::Linear fc(30, 20);
  fc.save(path("fc.bin"));
  const std::string bytes = read(path("fc.bin"));
  const size_t compressed = bytes.size() - 36;

  write(path("half.bin"), bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(throws_error(
      [&] { fc.load(path("half.bin")); },
      fmt::format("{} is truncated: expected {} bytes (36 of header and {} of compressed data), "
                  "the file has {}",
                  path("half.bin"), bytes.size(), compressed, bytes.size() / 2)));

  write(path("header.bin"), bytes.substr(0, 20));
  EXPECT_TRUE(throws_error([&] { fc.load(path("header.bin")); },
                           path("header.bin") + " is truncated: expected 36 bytes of header"));
  write(path("magic.bin"), bytes.substr(0, 4));
  EXPECT_TRUE(throws_error([&] { fc.load(path("magic.bin")); }, "is truncated"));

  write(path("extra.bin"), bytes + "xyz");
  EXPECT_TRUE(throws_error([&] { fc.load(path("extra.bin")); },
                           path("extra.bin") + " is corrupt: 3 unexpected bytes"));
}

TEST_F(NnSaveLoad, CorruptCompressedDataLeavesTheModelUnchanged) {
  nn::Linear source(30, 20);
  source.save(path("fc.bin"));
  std::string bytes = read(path("fc.bin"));
  for (size_t i = 36 + 10; i < bytes.size() - 10; i += 7) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
  write(path("bad.bin"), bytes);
  nn::Linear target(30, 20);
  const auto before = values_of(target);
  EXPECT_TRUE(throws_error_all([&] { target.load(path("bad.bin")); },
                               {"Module::load: ", path("bad.bin"), "is corrupt"}));
  EXPECT_EQ(values_of(target), before);
}

TEST_F(NnSaveLoad, WrongUncompressedSizeInHeader) {
  nn::Linear fc(3, 2);
  fc.save(path("fc.bin"));
  std::string bytes = read(path("fc.bin"));
  bytes[20] = static_cast<char>(bytes[20] + 4);  // claim 4 more bytes than there are
  write(path("fc.bin"), bytes);
  EXPECT_TRUE(throws_error_all([&] { fc.load(path("fc.bin")); }, {path("fc.bin"), "is corrupt"}));
}

TEST_F(NnSaveLoad, ParameterMissingFromTheFile) {
  OnlyFc1 small(2, 3);
  small.save(path("small.bin"));
  Net big(2, 3, 4);
  const auto before = values_of(big);
  EXPECT_TRUE(throws_error([&] { big.load(path("small.bin")); },
                           "Module::load: parameter 'fc2.weight' of the model is missing from " +
                               path("small.bin")));
  EXPECT_EQ(values_of(big), before);  // fc1 matched, but nothing was copied
}

TEST_F(NnSaveLoad, EntryMissingFromTheModel) {
  Net big(2, 3, 4);
  big.save(path("big.bin"));
  OnlyFc1 small(2, 3);
  EXPECT_TRUE(throws_error([&] { small.load(path("big.bin")); },
                           path("big.bin") + " holds 'fc2.weight', which the model has no "
                                             "parameter or buffer called"));
}

TEST_F(NnSaveLoad, ShapeMismatchNamesBothShapesAndLeavesTheModelUnchanged) {
  OnlyFc1 saved(2, 3);  // fc1.weight (3, 2)
  saved.save(path("file.bin"));
  OnlyFc1 model(3, 2);  // fc1.weight (2, 3)
  const auto before = values_of(model);
  EXPECT_TRUE(throws_error([&] { model.load(path("file.bin")); },
                           "parameter 'fc1.weight' has shape (3, 2) in " + path("file.bin") +
                               " but (2, 3) in the model"));
  EXPECT_EQ(values_of(model), before);

  // A buffer mismatch is reported as a buffer.
  Net a(2, 3, 4);
  a.save(path("a.bin"));
  struct Other : nn::Module {
    Other() {
      register_module("fc1", std::make_shared<nn::Linear>(2, 3));
      register_module("fc2", std::make_shared<nn::Linear>(3, 4));
      register_buffer("running", ember::zeros({5}));
    }
  } b;
  EXPECT_TRUE(throws_error([&] { b.load(path("a.bin")); }, "buffer 'running' has shape (4,)"));
}

TEST_F(NnSaveLoad, LoadIntoACudaModelWhenAGpuIsPresent) {
  if (!ember::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  ember::manual_seed(3);
  Net saved(3, 4, 2);
  saved.save(path("net.bin"));
  ember::manual_seed(4);
  Net model(3, 4, 2);
  model.to(ember::Device::cuda());
  model.load(path("net.bin"));
  EXPECT_TRUE(model.fc1->weight.device().is_cuda());
  EXPECT_EQ(values_of(model), values_of(saved));
  model.save(path("from_cuda.bin"));
  Net back(3, 4, 2);
  back.load(path("from_cuda.bin"));
  EXPECT_EQ(values_of(back), values_of(saved));
}

}  // namespace
