#include "common/status.h"

#include "gtest/gtest.h"

namespace klaxon {
namespace {

TEST(AwsError, CarriesTypeAndFields) {
  absl::Status s = AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException", "no plan",
                            {{"resourceType", "RESPONSE_PLAN"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no plan");
  EXPECT_EQ(AwsErrorType(s), "ResourceNotFoundException");
  EXPECT_EQ(AwsErrorFields(s).at("resourceType").as_string(), "RESPONSE_PLAN");
}

TEST(AwsError, PlainStatusHasNoType) {
  EXPECT_FALSE(AwsErrorType(absl::InternalError("x")).has_value());
  EXPECT_TRUE(AwsErrorFields(absl::InternalError("x")).empty());
}

absl::StatusOr<int> Half(int v) {
  if (v % 2) return ValidationError("odd");
  return v / 2;
}

absl::StatusOr<int> Quarter(int v) {
  KLAXON_ASSIGN_OR_RETURN(int h, Half(v));
  KLAXON_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacros, PropagateErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AwsErrorType(Quarter(6).status()), "ValidationException");
}

}  // namespace
}  // namespace klaxon
