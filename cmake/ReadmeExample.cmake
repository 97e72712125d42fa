# The README's example must compile and run exactly as written: this extracts the first
# ```cpp block of README.md into the build tree and registers it as a test.
set(EMBER_README ${PROJECT_SOURCE_DIR}/README.md)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EMBER_README})
file(READ ${EMBER_README} readme_text)
string(FIND "${readme_text}" "```cpp\n" block_start)
if(block_start EQUAL -1)
  message(FATAL_ERROR "README.md has no ```cpp example block")
endif()
math(EXPR block_start "${block_start} + 7")
string(SUBSTRING "${readme_text}" ${block_start} -1 readme_tail)
string(FIND "${readme_tail}" "```" block_length)
string(SUBSTRING "${readme_tail}" 0 ${block_length} readme_example)
# file(CONFIGURE) rewrites the file only when the text changed, so builds stay incremental.
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/readme_example.cpp CONTENT "${readme_example}" @ONLY)

add_executable(readme_example ${CMAKE_BINARY_DIR}/generated/readme_example.cpp)
target_link_libraries(readme_example PRIVATE ember)
add_test(NAME readme_example COMMAND readme_example)
# The example must train: a final loss of the form 0.00... means below 0.01.
set_tests_properties(readme_example PROPERTIES PASS_REGULAR_EXPRESSION "final loss: (0\\.00|[0-9.]+e-)")
