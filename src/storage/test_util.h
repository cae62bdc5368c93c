#pragma once
// Test helpers shared by the tests of the store and of modules that open one on disk.

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "gtest/gtest.h"
#include "storage/store.h"

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

// A WriteTxn that forwards everything to another: a test wrapper derives from it and overrides
// only what it observes (every call it does not override, Unchanged and OnRollback included,
// still reaches the store).
class ForwardingTxn : public WriteTxn {
 public:
  explicit ForwardingTxn(WriteTxn& inner) : inner_(inner) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view table, std::string_view account,
                                                 std::string_view id) override {
    return inner_.Get(table, account, id);
  }
  absl::Status Scan(std::string_view table, std::string_view account, std::string_view prefix,
                    std::string_view after, size_t limit,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) override {
    return inner_.Scan(table, account, prefix, after, limit, fn);
  }
  absl::Status Put(std::string_view table, std::string_view account, std::string_view id,
                   std::string_view value) override {
    return inner_.Put(table, account, id, value);
  }
  absl::Status Delete(std::string_view table, std::string_view account,
                      std::string_view id) override {
    return inner_.Delete(table, account, id);
  }
  bool Unchanged(const ReadStamps& read) override { return inner_.Unchanged(read); }
  void OnRollback(std::function<void()> undo) override { inner_.OnRollback(std::move(undo)); }

 private:
  WriteTxn& inner_;
};

}  // namespace klaxon::storage::testing
