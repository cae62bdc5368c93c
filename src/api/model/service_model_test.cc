#include "api/model/service_model.h"

#include <string>

#include "api/model/embedded_models.h"
#include "api/model/model_registry.h"
#include "api/model/overrides.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace klaxon::api::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const ModelRegistry& Registry() { return ModelRegistry::Embedded(); }

TEST(EmbeddedModels, ContainsTheServedServices) {
  std::vector<std::string> names;
  for (const EmbeddedModel& m : EmbeddedModels()) {
    names.emplace_back(m.name);
    EXPECT_EQ(ModelText(m).size(), m.size);
  }
  EXPECT_THAT(names, ElementsAre("ssm-incidents", "ssm", "events", "cloudwatch", "sns"));
}

TEST(ServiceModel, ParsesSsmIncidentsMetadata) {
  const ServiceModel* m = Registry().Find("ssm-incidents");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->metadata().protocol, "rest-json");
  EXPECT_EQ(m->metadata().signing_name, "ssm-incidents");
  EXPECT_EQ(m->metadata().json_version, "1.1");
  EXPECT_EQ(m->metadata().api_version, "2018-05-10");
  EXPECT_TRUE(m->metadata().target_prefix.empty());
  EXPECT_EQ(m->operations().size(), 29u);
}

TEST(ServiceModel, ParsesJsonAndQueryMetadata) {
  const ServiceModel* ssm = Registry().Find("ssm");
  ASSERT_NE(ssm, nullptr);
  EXPECT_EQ(ssm->metadata().protocol, "json");
  EXPECT_EQ(ssm->metadata().target_prefix, "AmazonSSM");
  EXPECT_EQ(ssm->metadata().signing_name, "ssm");
  const ServiceModel* cw = Registry().Find("cloudwatch");
  ASSERT_NE(cw, nullptr);
  EXPECT_EQ(cw->metadata().protocol, "query");
  EXPECT_EQ(cw->metadata().signing_name, "monitoring");
  EXPECT_EQ(cw->metadata().xml_namespace, "http://monitoring.amazonaws.com/doc/2010-08-01/");
  // From the metadata override table.
  EXPECT_EQ(cw->metadata().target_prefix, "GraniteServiceVersion20100801");
  EXPECT_EQ(cw->metadata().json_version, "1.0");
  EXPECT_TRUE(cw->metadata().aws_query_compatible);
  EXPECT_EQ(cw->FindOperation("DescribeAlarms")->result_wrapper, "DescribeAlarmsResult");
}

TEST(ServiceModel, ParsesOperationsWithHttpBindings) {
  const ServiceModel* m = Registry().Find("ssm-incidents");
  const Operation* op = m->FindOperation("UntagResource");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->http_method, "DELETE");
  EXPECT_EQ(op->request_uri, "/tags/{resourceArn}");
  EXPECT_EQ(op->response_code, 204);
  ASSERT_NE(op->input, nullptr);
  const Member* arn = op->input->FindMember("resourceArn");
  ASSERT_NE(arn, nullptr);
  EXPECT_EQ(arn->location, Location::kUri);
  EXPECT_EQ(arn->location_name, "resourceArn");
  EXPECT_TRUE(arn->required);
  const Member* keys = op->input->FindMember("tagKeys");
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->location, Location::kQueryString);
  EXPECT_EQ(keys->shape->type, ShapeType::kList);
  EXPECT_EQ(keys->shape->list_member->shape->name, "TagKey");

  const Operation* create = m->FindOperation("CreateResponsePlan");
  EXPECT_EQ(create->response_code, 201);
  EXPECT_EQ(m->FindOperation("StartIncident")->response_code, 200);
  EXPECT_TRUE(
      m->FindOperation("StartIncident")->input->FindMember("clientToken")->idempotency_token);
  EXPECT_EQ(m->FindOperation("StartIncident")->errors.size(), 6u);
  EXPECT_EQ(m->FindOperation("NoSuchOperation"), nullptr);
}

TEST(ServiceModel, ParsesShapeTraits) {
  const ServiceModel* m = Registry().Find("ssm-incidents");
  const Shape* chat = m->FindShape("ChatChannel");
  ASSERT_NE(chat, nullptr);
  EXPECT_TRUE(chat->is_union);
  EXPECT_EQ(chat->type, ShapeType::kStructure);
  const Shape* tags = m->FindShape("TagMap");
  EXPECT_EQ(tags->type, ShapeType::kMap);
  EXPECT_EQ(tags->max, 50);
  EXPECT_EQ(tags->map_key->shape->name, "TagKey");
  EXPECT_EQ(tags->map_value->shape->name, "TagValue");
  const Shape* status = m->FindShape("IncidentRecordStatus");
  EXPECT_THAT(status->enum_values, ElementsAre("OPEN", "RESOLVED"));
  const Shape* impact = m->FindShape("Impact");
  EXPECT_EQ(impact->type, ShapeType::kInteger);
  EXPECT_EQ(impact->min, 1);
  EXPECT_EQ(impact->max, 5);
  EXPECT_EQ(m->FindShape("Timestamp")->type, ShapeType::kTimestamp);
}

TEST(ServiceModel, ParsesErrorShapes) {
  const ServiceModel* m = Registry().Find("ssm-incidents");
  const Shape* quota = m->FindShape("ServiceQuotaExceededException");
  ASSERT_NE(quota, nullptr);
  EXPECT_TRUE(quota->exception);
  EXPECT_EQ(quota->http_status, 402);
  EXPECT_TRUE(quota->sender_fault);
  EXPECT_EQ(quota->error_code, "ServiceQuotaExceededException");
  EXPECT_TRUE(quota->FindMember("quotaCode")->required);
  EXPECT_EQ(m->FindShape("InternalServerException")->http_status, 500);
  EXPECT_FALSE(m->FindShape("InternalServerException")->sender_fault);

  const ServiceModel* cw = Registry().Find("cloudwatch");
  const Shape* invalid = cw->FindShape("InvalidParameterValueException");
  EXPECT_EQ(invalid->error_code, "InvalidParameterValue");
  EXPECT_EQ(invalid->http_status, 400);
  const Shape* ssm_internal = Registry().Find("ssm")->FindShape("InternalServerError");
  EXPECT_TRUE(ssm_internal->fault);
  EXPECT_EQ(ssm_internal->http_status, 0);
}

TEST(ServiceModel, AppliesLimitOverrides) {
  const ServiceModel* m = Registry().Find("ssm-incidents");
  EXPECT_EQ(m->FindShape("IncidentSummary")->max, 8000);
  EXPECT_EQ(m->FindShape("RawData")->max, 10000);
  EXPECT_EQ(LimitOverrides().size(), 2u);
}

TEST(ServiceModel, TranslatesLeadingNegativeLookaheadForRe2) {
  const Shape* tag_key = Registry().Find("ssm-incidents")->FindShape("TagKey");
  ASSERT_NE(tag_key->pattern_re, nullptr);
  ASSERT_NE(tag_key->pattern_not_re, nullptr);
  EXPECT_EQ(tag_key->pattern_not_re->pattern(), "^(?:aws:)");
  const Shape* title = Registry().Find("ssm")->FindShape("OpsItemTitle");
  ASSERT_NE(title->pattern_re, nullptr);
  ASSERT_NE(title->pattern_not_re, nullptr);
}

TEST(ServiceModel, ListsPatternsRe2CannotHandle) {
  // Only ssm's ISO-8601 StringDateTime (lookahead in the middle, backreferences) is left.
  std::vector<std::string> unsupported;
  for (const auto& s : Registry().services()) {
    for (const std::string& p : s->unsupported_patterns())
      unsupported.push_back(s->name() + "/" + p);
  }
  ASSERT_EQ(unsupported.size(), 1u);
  EXPECT_THAT(unsupported[0], HasSubstr("ssm/StringDateTime"));
}

TEST(ModelRegistry, LooksUpByNameTargetPrefixAndSigningName) {
  EXPECT_EQ(Registry().FindByTargetPrefix("AmazonSSM")->name(), "ssm");
  EXPECT_EQ(Registry().FindByTargetPrefix("AWSEvents")->name(), "events");
  EXPECT_EQ(Registry().FindByTargetPrefix("GraniteServiceVersion20100801")->name(), "cloudwatch");
  EXPECT_EQ(Registry().FindByTargetPrefix("Nope"), nullptr);
  EXPECT_EQ(Registry().FindByTargetPrefix(""), nullptr);
  EXPECT_EQ(Registry().FindBySigningName("monitoring")->name(), "cloudwatch");
  EXPECT_EQ(Registry().FindBySigningName("ssm-incidents")->name(), "ssm-incidents");
  EXPECT_EQ(Registry().FindBySigningName("sns")->name(), "sns");
  EXPECT_EQ(Registry().Find("dynamodb"), nullptr);
}

TEST(ServiceModel, RejectsMalformedModels) {
  EXPECT_FALSE(ServiceModel::Parse("x", "not json").ok());
  EXPECT_FALSE(ServiceModel::Parse("x", "[]").ok());
  EXPECT_FALSE(ServiceModel::Parse("x", R"({"metadata":{}})").ok());
  EXPECT_FALSE(ServiceModel::Parse("x", R"({"metadata":{"protocol":"json"},"shapes":{
      "A":{"type":"structure","members":{"b":{"shape":"Missing"}}}}})")
                   .ok());
  EXPECT_FALSE(ServiceModel::Parse("x", R"({"metadata":{"protocol":"json"},"shapes":{
      "A":{"type":"strange"}}})")
                   .ok());
  EXPECT_FALSE(ServiceModel::Parse("x", R"({"metadata":{"protocol":"json"},"shapes":{
      "A":{"type":"structure","required":["zz"],"members":{}}}})")
                   .ok());
  auto ok = ServiceModel::Parse("x", R"({"metadata":{"protocol":"json"},"shapes":{
      "A":{"type":"structure","members":{"b":{"shape":"A"}}}},
      "operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},
                          "input":{"shape":"A"}}}})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->FindOperation("Op")->input->FindMember("b")->shape,
            (*ok)->FindShape("A"));  // recursive shapes resolve
}

}  // namespace
}  // namespace klaxon::api::model
