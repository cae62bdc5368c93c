#pragma once
// An in-memory Store: the reference backend for tests (simple and obviously correct, not durable).
// Write() holds one lock for the whole transaction; Read() takes the same lock.
// Copy/move: neither.

#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "storage/change_stamps.h"
#include "storage/store.h"

namespace klaxon::storage {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  absl::Status Write(absl::FunctionRef<absl::Status(WriteTxn&)> fn) override;
  absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) override;
  // Runs `fn` and calls `done` inside the call (also inside a NonBlockingScope: the store's lock
  // is never held across I/O).
  void WriteAsync(std::function<absl::Status(WriteTxn&)> fn,
                  std::function<void(absl::Status)> done) override;
  bool supports_async_writes() const override { return true; }
  void Close() override;
  const ChangeStamps* change_stamps() const override { return &stamps_; }

  using Key = std::tuple<std::string, std::string, std::string>;  // table, account, id

 private:
  absl::Status WriteNow(absl::FunctionRef<absl::Status(WriteTxn&)> fn);

  klaxon::Mutex mu_;
  std::map<Key, std::string> rows_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  ChangeStamps stamps_;
};

}  // namespace klaxon::storage
