# Helpers shared by every module. Each module folder calls klaxon_library() once and
# klaxon_test() / klaxon_fuzzer() / klaxon_benchmark() for its tests, fuzzers and benchmarks.

set(KLAXON_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND KLAXON_WARNINGS -Wthread-safety)
endif()

# klaxon_library(NAME <target> SRCS <files...> [DEPS <targets...>])
function(klaxon_library)
  cmake_parse_arguments(K "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${K_NAME} STATIC ${K_SRCS})
  target_include_directories(${K_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${K_NAME} PRIVATE ${KLAXON_WARNINGS})
  target_link_libraries(${K_NAME} PUBLIC ${K_DEPS})
endfunction()

# klaxon_test(NAME <target> SRCS <files...> [DEPS <targets...>]) — a GoogleTest binary registered with ctest.
function(klaxon_test)
  if(NOT KLAXON_TESTS)
    return()
  endif()
  cmake_parse_arguments(K "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SRCS})
  target_compile_options(${K_NAME} PRIVATE ${KLAXON_WARNINGS})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${K_NAME} DISCOVERY_TIMEOUT 60
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "KLAXON_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# klaxon_fuzzer(NAME <target> SRCS <files...> [DEPS <targets...>] [CORPUS <dir>])
# Built only with -DKLAXON_FUZZ=ON (clang); `ctest -L fuzz` runs each for a short time on its corpus.
function(klaxon_fuzzer)
  if(NOT KLAXON_FUZZ)
    return()
  endif()
  cmake_parse_arguments(K "" "NAME;CORPUS" "SRCS;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SRCS})
  target_compile_options(${K_NAME} PRIVATE ${KLAXON_WARNINGS} -fsanitize=fuzzer)
  target_link_options(${K_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS})
  set_property(GLOBAL APPEND PROPERTY KLAXON_FUZZER_TARGETS ${K_NAME})
  if(K_CORPUS)
    # New inputs go to a scratch corpus in the build tree (libFuzzer writes to its first
    # directory); the checked-in seeds are only read. KLAXON_FUZZ_SECONDS in the environment
    # overrides the configured run time (`make test` runs each fuzzer briefly).
    set(_scratch ${CMAKE_CURRENT_BINARY_DIR}/${K_NAME}_corpus)
    add_test(NAME ${K_NAME}
      COMMAND sh -c "mkdir -p '${_scratch}' && exec '$<TARGET_FILE:${K_NAME}>' -max_total_time=\${KLAXON_FUZZ_SECONDS:-${KLAXON_FUZZ_SECONDS}} -rss_limit_mb=2048 '${_scratch}' '${K_CORPUS}'")
    set_tests_properties(${K_NAME} PROPERTIES LABELS fuzz)
  endif()
endfunction()
set(KLAXON_FUZZ_SECONDS 15 CACHE STRING "Seconds each fuzzer runs under ctest")

# klaxon_benchmark(NAME <target> SRCS <files...> [DEPS <targets...>]) — Google Benchmark binary.
function(klaxon_benchmark)
  if(NOT KLAXON_BENCH)
    return()
  endif()
  cmake_parse_arguments(K "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SRCS})
  target_compile_options(${K_NAME} PRIVATE ${KLAXON_WARNINGS})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} benchmark::benchmark)
endfunction()
