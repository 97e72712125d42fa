# The CUDA backend (engine/src/cuda), added to the `ember` library when a CUDA compiler is
# found. Included at the end of engine/CMakeLists.txt; see docs/gpu.md.
#
#   EMBER_CUDA=AUTO (default)  build it when nvcc is found, otherwise say so and skip it
#   EMBER_CUDA=ON              build it; no nvcc is a configure error
#   EMBER_CUDA=OFF             never build it
#   EMBER_CUDA_ARCHITECTURES   GPUs to compile for (default "80-real;90": SASS for A100 and
#                              H100/H200, plus sm_90 PTX that newer GPUs compile at load time)
#   EMBER_CUDA_CUBLAS=ON       also link cuBLAS, for comparing our matmul kernel against it
#
# A build with the backend defines EMBER_HAS_CUDA_BACKEND for everything that links
# `ember`, so tests can tell "built without CUDA" from "no GPU on this machine".

set(EMBER_CUDA_ARCHITECTURES "80-real;90" CACHE STRING
    "CUDA architectures of the CUDA backend (never 'native': the build machine may have no GPU)")
option(EMBER_CUDA_CUBLAS "Link cuBLAS into the CUDA backend to compare matmul against it" OFF)

string(TOUPPER "${EMBER_CUDA}" _ember_cuda_mode)
if(_ember_cuda_mode STREQUAL "OFF")
  message(STATUS "Ember: CUDA backend off (EMBER_CUDA=OFF)")
  return()
endif()
if(NOT _ember_cuda_mode MATCHES "^(AUTO|ON)$")
  message(FATAL_ERROR "EMBER_CUDA must be AUTO, ON or OFF, not '${EMBER_CUDA}'")
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  if(_ember_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR
      "EMBER_CUDA=ON, but no working CUDA compiler (nvcc) was found. Install the CUDA "
      "toolkit and put nvcc on PATH (usually /usr/local/cuda/bin), or pass "
      "-DCMAKE_CUDA_COMPILER=/path/to/nvcc; or configure with -DEMBER_CUDA=AUTO to build "
      "without the CUDA backend.")
  endif()
  message(STATUS "Ember: no CUDA compiler found; building without the CUDA backend "
                 "(tensors can only live on the CPU)")
  return()
endif()

# nvcc compiles host code with this compiler; use the one the rest of Ember uses.
if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
  set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}" CACHE FILEPATH "Host compiler of nvcc")
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES ${EMBER_CUDA_ARCHITECTURES})
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

file(GLOB EMBER_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/*.cu)
target_sources(ember PRIVATE ${EMBER_CUDA_SOURCES})
# `ember` was made before CUDA was enabled, so its CUDA settings are given here.
set_target_properties(ember PROPERTIES
  CUDA_ARCHITECTURES "${EMBER_CUDA_ARCHITECTURES}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_EXTENSIONS OFF
  CUDA_RUNTIME_LIBRARY Shared)
target_compile_definitions(ember PRIVATE EMBER_WITH_CUDA PUBLIC EMBER_HAS_CUDA_BACKEND)
# The architectures built, for the message of a GPU that cannot run them (cuda_backend.cu);
# commas, because a ';' in a definition would split it into two.
string(REPLACE ";" "," _ember_cuda_architecture_list "${EMBER_CUDA_ARCHITECTURES}")
set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/cuda_backend.cu APPEND PROPERTY
  COMPILE_DEFINITIONS "EMBER_CUDA_ARCHITECTURE_LIST=\"${_ember_cuda_architecture_list}\"")
target_compile_options(ember PRIVATE
  # The host half of each .cu file gets the warnings the C++ files get.
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
  # Warnings from nvcc's own front end carry a number (to look up or silence).
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcudafe=--display_error_number>
  # Line numbers in the GPU code, for compute-sanitizer and Nsight; no cost at run time.
  $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
target_link_libraries(ember PRIVATE CUDA::cudart)

# No fused multiply-adds where the GPU promises the CPU's bits: uniform fills and the
# optimizer updates (see the comments at the top of those files).
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/random.cu
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/optimizer.cu
  PROPERTIES COMPILE_OPTIONS "--fmad=false")

if(EMBER_CUDA_CUBLAS)
  target_compile_definitions(ember PRIVATE EMBER_CUDA_CUBLAS)
  target_link_libraries(ember PRIVATE CUDA::cublas)
endif()

message(STATUS "Ember: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
               "${EMBER_CUDA_ARCHITECTURES}, cuBLAS ${EMBER_CUDA_CUBLAS})")
