#pragma once
// The EventBridge event envelope, built as AWS builds it:
//
//   {"version":"0","id":UUID,"detail-type":...,"source":...,"account":...,"time":RFC3339,
//    "region":...,"resources":[...],"detail":{...}}
//
// in that member order, `time` with second precision ("2019-10-02T17:04:40Z"), `detail` the
// caller's object minified. Pure functions, thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::events {

// Appends `s` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string_view s, std::string& out);

// Checks that `detail` is one JSON object and returns it minified. Errors: InvalidArgument.
absl::StatusOr<std::string> NormalizeDetail(std::string_view detail);

struct EnvelopeFields {
  std::string_view id;
  std::string_view detail_type;
  std::string_view source;
  std::string_view account;
  absl::Time time;
  std::string_view region;
  const std::vector<std::string>* resources = nullptr;
  std::string_view detail_json;  // a minified JSON object
};

std::string BuildEnvelope(const EnvelopeFields& f);

}  // namespace klaxon::events
