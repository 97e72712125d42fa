// Where the course's datasets live on disk.
//
// The folder is the repository's datasets/ (compiled in as EMBER_DATASETS_DIR by
// course/CMakeLists.txt) unless the environment variable EMBER_DATASETS names another
// one, for example a copy on a faster disk:  EMBER_DATASETS=/scratch/datasets ./q3
#pragma once

#include <string>

namespace ember::course {

// The datasets folder: $EMBER_DATASETS when set and non-empty, else EMBER_DATASETS_DIR.
std::string datasets_dir();

// A file or folder inside it: dataset_path("mnist/t10k-labels-idx1-ubyte.gz").
std::string dataset_path(const std::string& relative);

}  // namespace ember::course
