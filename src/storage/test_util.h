#pragma once
// Test helpers shared by the tests of the store and of modules that open one on disk.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "gtest/gtest.h"

namespace klaxon::storage::testing {

// A fresh directory under the test temp dir, removed with everything in it at the end.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "klaxon_test") {
    std::string tmpl = ::testing::TempDir() + std::string(prefix) + "_XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace klaxon::storage::testing
