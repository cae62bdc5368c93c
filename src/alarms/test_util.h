#pragma once
// Test doubles for the alarms tests: a durable outbox over the Store that delivers only when the
// test says so (and can deliver an entry twice, as a crash would), and an EventPublisher that
// records what it is given.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "boost/json.hpp"
#include "common/ids.h"
#include "common/mutex.h"
#include "common/status.h"
#include "events/publisher.h"
#include "outbox/outbox.h"
#include "storage/store.h"

namespace klaxon::alarms::testing {

class TestOutbox final : public outbox::Outbox {
 public:
  explicit TestOutbox(storage::Store& store) : store_(store) {}

  absl::StatusOr<std::string> EnqueueInTxn(storage::WriteTxn& txn, const std::string& account_id,
                                           const std::string& kind, const std::string& payload,
                                           const outbox::RetryPolicy* = nullptr) override {
    std::string id = NewUuid();
    boost::json::object row{{"kind", kind}, {"payload", payload}};
    KLAXON_RETURN_IF_ERROR(txn.Put("test_outbox", account_id, id, boost::json::serialize(row)));
    MutexLock lock(&mu_);
    accounts_.insert(account_id);
    return id;
  }
  void RegisterHandler(const std::string& kind, outbox::Handler handler) override {
    MutexLock lock(&mu_);
    handlers_[kind] = std::move(handler);
  }
  void Notify() override {
    MutexLock lock(&mu_);
    ++notified_;
  }
  absl::StatusOr<std::vector<outbox::Entry>> DeadLetters(const std::string& account_id,
                                                         size_t) override {
    MutexLock lock(&mu_);
    std::vector<outbox::Entry> out;
    for (const auto& e : dead_) {
      if (e.account_id == account_id) out.push_back(e);
    }
    return out;
  }
  absl::Status Start() override { return absl::OkStatus(); }
  void Stop() override {}

  // Delivers every committed entry (`times` attempts each, as redelivery after a crash would).
  // Returns the number of entries removed.
  int Deliver(int times = 1) {
    std::vector<outbox::Entry> entries;
    std::set<std::string> accounts;
    {
      MutexLock lock(&mu_);
      accounts = accounts_;
    }
    for (const std::string& account : accounts) {
      (void)store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
        return txn.Scan(
            "test_outbox", account, "", "", 0, [&](std::string_view id, std::string_view value) {
              boost::json::value v =
                  boost::json::parse(boost::json::string_view(value.data(), value.size()));
              outbox::Entry e;
              e.id = std::string(id);
              e.account_id = account;
              e.kind = std::string(v.at("kind").as_string());
              e.payload = std::string(v.at("payload").as_string());
              entries.push_back(std::move(e));
              return true;
            });
      });
    }
    int removed = 0;
    for (outbox::Entry& e : entries) {
      outbox::Handler handler;
      {
        MutexLock lock(&mu_);
        handler = handlers_[e.kind];
      }
      absl::Status status;
      for (int i = 0; i < times; ++i) {
        e.attempts = i;
        status = handler ? handler(e) : absl::UnavailableError("no handler");
      }
      last_status_ = status;
      bool retry = status.code() == absl::StatusCode::kUnavailable ||
                   status.code() == absl::StatusCode::kInternal ||
                   status.code() == absl::StatusCode::kAborted ||
                   status.code() == absl::StatusCode::kResourceExhausted ||
                   status.code() == absl::StatusCode::kDeadlineExceeded;
      if (retry) continue;
      if (!status.ok()) {
        e.last_error = std::string(status.message());
        MutexLock lock(&mu_);
        dead_.push_back(e);
      }
      (void)store_.Write(
          [&](storage::WriteTxn& txn) { return txn.Delete("test_outbox", e.account_id, e.id); });
      ++removed;
    }
    return removed;
  }

  int notified() {
    MutexLock lock(&mu_);
    return notified_;
  }
  absl::Status last_status() const { return last_status_; }

 private:
  storage::Store& store_;
  Mutex mu_;
  std::map<std::string, outbox::Handler> handlers_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> accounts_ ABSL_GUARDED_BY(mu_);
  std::vector<outbox::Entry> dead_ ABSL_GUARDED_BY(mu_);
  int notified_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_;
};

class RecordingPublisher final : public events::EventPublisher {
 public:
  absl::Status PublishInTxn(storage::WriteTxn&, const events::ServiceEvent& event) override {
    MutexLock lock(&mu_);
    events_.push_back(event);
    return absl::OkStatus();
  }
  std::vector<events::ServiceEvent> events() {
    MutexLock lock(&mu_);
    return events_;
  }
  std::vector<events::ServiceEvent> Of(const std::string& detail_type) {
    std::vector<events::ServiceEvent> out;
    for (auto& e : events()) {
      if (e.detail_type == detail_type) out.push_back(e);
    }
    return out;
  }

 private:
  Mutex mu_;
  std::vector<events::ServiceEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace klaxon::alarms::testing
