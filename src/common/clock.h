#pragma once
// Injected time. Every module that needs "now" (alarm periods, dedup, timeouts, timestamps) takes a
// Clock& so that tests can drive time without sleeping.

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace klaxon {

// Source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance.
  static SystemClock& Get();
};

// Time that moves only when a test says so. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1704067200))
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override { return absl::FromUnixNanos(nanos_.load()); }
  void Advance(absl::Duration d) { nanos_.fetch_add(absl::ToInt64Nanoseconds(d)); }
  void Set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t)); }

 private:
  std::atomic<int64_t> nanos_;
};

// Seconds since the epoch as a double, the form AWS JSON protocols use for timestamps.
inline double ToEpochSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }
inline absl::Time FromEpochSeconds(double s) { return absl::UnixEpoch() + absl::Seconds(s); }

// RFC 3339 in UTC with second precision ("2019-10-02T17:04:40Z"), as in EventBridge envelopes.
std::string FormatRfc3339Seconds(absl::Time t);
// RFC 3339 in UTC with millisecond precision ("2019-10-02T17:04:40.985Z"), as in query/XML timestamps.
std::string FormatIso8601Millis(absl::Time t);

}  // namespace klaxon
