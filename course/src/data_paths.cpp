#include "ember_course/data_paths.h"

#include <cstdlib>
#include <filesystem>

#ifndef EMBER_DATASETS_DIR
#error "EMBER_DATASETS_DIR must be defined by the build (see course/CMakeLists.txt)"
#endif

namespace ember::course {

std::string datasets_dir() {
  const char* from_environment = std::getenv("EMBER_DATASETS");
  if (from_environment != nullptr && from_environment[0] != '\0') return from_environment;
  return EMBER_DATASETS_DIR;
}

std::string dataset_path(const std::string& relative) {
  return (std::filesystem::path(datasets_dir()) / relative).string();
}

}  // namespace ember::course
