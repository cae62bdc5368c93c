#include "common/non_blocking.h"

#include "absl/strings/cord.h"

namespace klaxon {
namespace {

thread_local bool tl_non_blocking = false;
constexpr char kWouldBlockUrl[] = "klaxon/would-block";

}  // namespace

NonBlockingScope::NonBlockingScope() : previous_(tl_non_blocking) { tl_non_blocking = true; }
NonBlockingScope::~NonBlockingScope() { tl_non_blocking = previous_; }

bool IsNonBlocking() { return tl_non_blocking; }

absl::Status WouldBlockError() {
  absl::Status status(absl::StatusCode::kUnavailable,
                      "the operation would block inside a NonBlockingScope");
  status.SetPayload(kWouldBlockUrl, absl::Cord("1"));
  return status;
}

bool IsWouldBlock(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         status.GetPayload(kWouldBlockUrl).has_value();
}

}  // namespace klaxon
