#include "common/status.h"

#include "absl/strings/cord.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"

namespace klaxon {
namespace {
constexpr absl::string_view kTypeUrl = "klaxon/aws-error-type";
constexpr absl::string_view kFieldsUrl = "klaxon/aws-error-fields";
}  // namespace

absl::Status AwsError(absl::StatusCode code, std::string_view type, std::string_view message,
                      const boost::json::object& fields) {
  absl::Status status(code, absl::string_view(message.data(), message.size()));
  status.SetPayload(kTypeUrl, absl::Cord(absl::string_view(type.data(), type.size())));
  if (!fields.empty()) status.SetPayload(kFieldsUrl, absl::Cord(boost::json::serialize(fields)));
  return status;
}

std::optional<std::string> AwsErrorType(const absl::Status& status) {
  auto payload = status.GetPayload(kTypeUrl);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

boost::json::object AwsErrorFields(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldsUrl);
  if (!payload) return {};
  boost::system::error_code ec;
  auto value = boost::json::parse(std::string(*payload), ec);
  if (ec || !value.is_object()) return {};
  return value.as_object();
}

}  // namespace klaxon
