#include "api/services/ssm/ssm_handlers.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/model/model_registry.h"
#include "api/model/validator.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opsitems/ops_item_service.h"
#include "storage/memory_store.h"

namespace klaxon::api {
namespace {

namespace json = boost::json;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kModelPath[] =
    "/usr/lib/python3/dist-packages/botocore/data/ssm/2014-11-06/service-2.json";
constexpr char kIncidentArn[] =
    "arn:aws:ssm-incidents::111122223333:incident-record/db-down/"
    "1abd9b35-ff4c-eb47-f20f-712a6c4c88cc";

// The Debian botocore ssm model, the wire's source of truth (null when not installed).
const json::object* Model() {
  static const json::object* model = []() -> const json::object* {
    std::ifstream in(kModelPath);
    if (!in) return nullptr;
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) return nullptr;
    return new json::object(std::move(v.as_object()));
  }();
  return model;
}

// Checks that `v` is a valid instance of the model shape `shape_name`: member names, JSON types,
// enums and required members. Appends one line per problem to `errors`.
void CheckShape(const json::value& v, const std::string& shape_name, const std::string& path,
                std::vector<std::string>& errors) {
  const json::object& shapes = Model()->at("shapes").as_object();
  const json::object& shape = shapes.at(shape_name).as_object();
  std::string type(shape.at("type").as_string());
  auto fail = [&](const std::string& what) { errors.push_back(absl::StrCat(path, ": ", what)); };
  if (type == "structure") {
    if (!v.is_object()) return fail("not an object");
    const json::object& members = shape.at("members").as_object();
    for (const auto& [name, value] : v.as_object()) {
      auto* m = members.if_contains(name);
      if (!m) {
        fail(absl::StrCat("member ", std::string(name), " is not in ", shape_name));
        continue;
      }
      CheckShape(value, std::string(m->at("shape").as_string()),
                 absl::StrCat(path, ".", std::string(name)), errors);
    }
    if (auto* req = shape.if_contains("required")) {
      for (const auto& r : req->as_array()) {
        if (!v.as_object().contains(r.as_string())) {
          fail(absl::StrCat("required member ", std::string(r.as_string()), " missing"));
        }
      }
    }
  } else if (type == "list") {
    if (!v.is_array()) return fail("not a list");
    std::string member(shape.at("member").at("shape").as_string());
    int i = 0;
    for (const auto& e : v.as_array())
      CheckShape(e, member, absl::StrCat(path, "[", i++, "]"), errors);
  } else if (type == "map") {
    if (!v.is_object()) return fail("not a map");
    std::string value_shape(shape.at("value").at("shape").as_string());
    for (const auto& [k, e] : v.as_object()) {
      CheckShape(e, value_shape, absl::StrCat(path, ".", std::string(k)), errors);
    }
  } else if (type == "string") {
    if (!v.is_string()) return fail("not a string");
    if (auto* e = shape.if_contains("enum")) {
      bool found = false;
      for (const auto& x : e->as_array()) found |= x.as_string() == v.as_string();
      if (!found) fail(absl::StrCat("'", std::string(v.as_string()), "' not in enum"));
    }
  } else if (type == "integer" || type == "long") {
    if (!v.is_int64() && !v.is_uint64()) fail("not an integer");
  } else if (type == "timestamp") {
    if (!v.is_number()) fail("not a number (epoch seconds)");
  } else if (type == "boolean") {
    if (!v.is_bool()) fail("not a boolean");
  }
}

// Expects `out` to be a valid `operation` output.
void ExpectConforms(const std::string& operation, const json::object& out) {
  if (!Model()) GTEST_SKIP() << "no botocore model at " << kModelPath;
  const json::object& op = Model()->at("operations").at(operation).as_object();
  std::vector<std::string> errors;
  CheckShape(out, std::string(op.at("output").at("shape").as_string()), operation, errors);
  EXPECT_THAT(errors, IsEmpty()) << json::serialize(out);
}

const model::ServiceModel& SsmModel() {
  const model::ServiceModel* ssm = model::ModelRegistry::Embedded().Find("ssm");
  if (ssm == nullptr) std::abort();  // the build embeds the ssm model
  return *ssm;
}

std::string ErrorType(const absl::Status& s) { return AwsErrorType(s).value_or("<none>"); }

class SsmHandlersTest : public ::testing::Test {
 protected:
  SsmHandlersTest() { RegisterSsmHandlers(table_, service_); }

  // Runs `input` through what the protocol layer does before a handler (validation against the
  // embedded ssm model), then the handler.
  absl::StatusOr<json::object> Call(const std::string& op, const std::string& input,
                                    const Caller& caller) {
    const Handler* h = table_.Find("ssm", op);
    if (!h) return absl::UnimplementedError(op);
    json::value in = json::parse(input);
    const model::Operation* operation = SsmModel().FindOperation(op);
    if (!operation) return absl::UnimplementedError(op);
    model::ValidationOptions options;
    options.lower_camel_paths = true;
    KLAXON_RETURN_IF_ERROR(model::ValidateInput(*operation->input, in, options));
    CallContext ctx{caller, "ssm", op, "req-1"};
    return (*h)(ctx, in.as_object());
  }
  absl::StatusOr<json::object> Call(const std::string& op, const std::string& input) {
    return Call(op, input, alice_);
  }
  json::object MustCall(const std::string& op, const std::string& input) {
    auto out = Call(op, input);
    EXPECT_TRUE(out.ok()) << op << ": " << out.status();
    if (!out.ok()) return {};
    ExpectConforms(op, *out);
    // The protocol layer's output shaping must find nothing to remove or convert.
    json::value shaped = *out;
    model::ShapeOutput(*SsmModel().FindOperation(op)->output, shaped);
    EXPECT_EQ(shaped, json::value(*out)) << op;
    return *out;
  }
  std::string CreateId(const std::string& input) {
    return std::string(MustCall("CreateOpsItem", input).at("OpsItemId").as_string());
  }

  Caller alice_{"111122223333", "AKIDALICE", "arn:aws:iam::111122223333:user/alice", "us-east-1",
                "ssm"};
  Caller other_account_{"444455556666", "AKIDOTHER", "arn:aws:iam::444455556666:root", "us-east-1",
                        "ssm"};
  storage::MemoryStore store_;
  SimulatedClock clock_;
  opsitems::OpsItemService service_{store_, clock_};
  OperationTable table_;
};

TEST_F(SsmHandlersTest, RegistersEveryOpsCenterOperationOfTheModel) {
  for (const char* op : {"CreateOpsItem", "GetOpsItem", "UpdateOpsItem", "DescribeOpsItems",
                         "AssociateOpsItemRelatedItem", "ListOpsItemRelatedItems",
                         "DisassociateOpsItemRelatedItem"}) {
    EXPECT_NE(table_.Find("ssm", op), nullptr) << op;
    if (Model()) {
      EXPECT_TRUE(Model()->at("operations").as_object().contains(op)) << op;
    }
  }
  EXPECT_EQ(table_.Find("ssm", "DeleteOpsItem"), nullptr);  // not in the Debian model
}

TEST_F(SsmHandlersTest, CreateThenGetRoundTripsEveryMember) {
  json::object created = MustCall("CreateOpsItem", R"({
    "Title": "Disk full", "Description": "Root volume at 100%", "Source": "EC2",
    "OpsItemType": "/aws/issue", "Priority": 2, "Severity": "3", "Category": "Availability",
    "OperationalData": {
      "runbook": {"Value": "https://wiki/disk", "Type": "SearchableString"},
      "secret": {"Value": "s3cr3t", "Type": "String"},
      "plain": {"Value": "no type given"},
      "/aws/resources": {"Value": "[{\"arn\":\"arn:aws:ec2:us-east-1:111122223333:instance/i-1\"}]"}
    },
    "Notifications": [{"Arn": "arn:aws:sns:us-east-1:111122223333:ops"}],
    "Tags": [{"Key": "team", "Value": "storage"}],
    "ActualStartTime": 1704067200.5, "PlannedEndTime": 1704153600,
    "AccountId": "111122223333"
  })");
  std::string id(created.at("OpsItemId").as_string());
  EXPECT_EQ(created.at("OpsItemArn").as_string(),
            absl::StrCat("arn:aws:ssm:us-east-1:111122223333:opsitem/", id));

  clock_.Advance(absl::Seconds(1));
  json::object got = MustCall("GetOpsItem", absl::StrCat(R"({"OpsItemId":")", id, R"("})"));
  const json::object& item = got.at("OpsItem").as_object();
  EXPECT_EQ(item.at("OpsItemId").as_string(), id);
  EXPECT_EQ(item.at("OpsItemArn").as_string(), created.at("OpsItemArn").as_string());
  EXPECT_EQ(item.at("Title").as_string(), "Disk full");
  EXPECT_EQ(item.at("Description").as_string(), "Root volume at 100%");
  EXPECT_EQ(item.at("Source").as_string(), "EC2");
  EXPECT_EQ(item.at("OpsItemType").as_string(), "/aws/issue");
  EXPECT_EQ(item.at("Status").as_string(), "Open");
  EXPECT_EQ(item.at("Priority").as_int64(), 2);
  EXPECT_EQ(item.at("Severity").as_string(), "3");
  EXPECT_EQ(item.at("Category").as_string(), "Availability");
  EXPECT_EQ(item.at("Version").as_string(), "1");
  EXPECT_EQ(item.at("CreatedBy").as_string(), alice_.principal_arn);
  EXPECT_EQ(item.at("LastModifiedBy").as_string(), alice_.principal_arn);
  EXPECT_DOUBLE_EQ(item.at("CreatedTime").as_double(), 1704067200.0);
  EXPECT_DOUBLE_EQ(item.at("LastModifiedTime").as_double(), 1704067200.0);
  EXPECT_DOUBLE_EQ(item.at("ActualStartTime").as_double(), 1704067200.5);
  EXPECT_DOUBLE_EQ(item.at("PlannedEndTime").as_double(), 1704153600.0);
  EXPECT_FALSE(item.contains("ActualEndTime"));
  EXPECT_FALSE(item.contains("Tags"));  // not a member of the OpsItem shape
  EXPECT_EQ(json::serialize(item.at("Notifications")),
            R"([{"Arn":"arn:aws:sns:us-east-1:111122223333:ops"}])");
  const json::object& data = item.at("OperationalData").as_object();
  EXPECT_THAT(data, SizeIs(4));
  EXPECT_EQ(data.at("secret").at("Type").as_string(), "String");
  EXPECT_EQ(data.at("plain").at("Type").as_string(), "SearchableString");
  EXPECT_EQ(data.at("runbook").at("Value").as_string(), "https://wiki/disk");
}

TEST_F(SsmHandlersTest, CreateMinimalDefaultsAndOmitsUnsetMembers) {
  std::string id = CreateId(R"({"Title":"t","Description":"d","Source":"app"})");
  json::object got = MustCall("GetOpsItem", absl::StrCat(R"({"OpsItemId":")", id, R"("})"));
  const json::object& item = got.at("OpsItem").as_object();
  EXPECT_EQ(item.at("OpsItemType").as_string(), "/aws/issue");
  for (const char* absent : {"Priority", "Severity", "Category", "ActualStartTime", "ActualEndTime",
                             "PlannedStartTime", "PlannedEndTime"}) {
    EXPECT_FALSE(item.contains(absent)) << absent;
  }
}

TEST_F(SsmHandlersTest, SemanticErrorsCarryTheModelShapes) {
  auto s =
      Call("CreateOpsItem", R"({"Title":"t","Description":"d","Source":"Amazon EC2"})").status();
  EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException");
  EXPECT_EQ(json::serialize(AwsErrorFields(s)), R"({"ParameterNames":["Source"]})");

  s = Call("CreateOpsItem",
           R"({"Title":"t","Description":"d","Source":"app",
               "OperationalData":{"/aws/mine":{"Value":"v"}}})")
          .status();
  EXPECT_EQ(json::serialize(AwsErrorFields(s)), R"({"ParameterNames":["OperationalData"]})");

  s = Call("CreateOpsItem", R"({"Title":"t","Description":"d","Source":"app",
                                "Notifications":[{}]})")
          .status();
  EXPECT_EQ(json::serialize(AwsErrorFields(s)), R"({"ParameterNames":["Notifications"]})");

  s = Call("CreateOpsItem",
           R"({"Title":"t","Description":"d","Source":"app","AccountId":"999999999999"})")
          .status();
  EXPECT_EQ(ErrorType(s), "OpsItemAccessDeniedException");

  s = Call("GetOpsItem", R"({"OpsItemId":"oi-0123456789ab"})").status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);

  s = Call("CreateOpsItem", R"({"Title":"t","Description":"d","Source":"app","Priority":"high"})")
          .status();
  EXPECT_EQ(ErrorType(s), "ValidationException");
}

TEST_F(SsmHandlersTest, OpsItemArnMustMatch) {
  std::string id = CreateId(R"({"Title":"t","Description":"d","Source":"app"})");
  std::string arn = absl::StrCat("arn:aws:ssm:us-east-1:111122223333:opsitem/", id);
  MustCall("GetOpsItem",
           absl::StrCat(R"({"OpsItemId":")", id, R"(","OpsItemArn":")", arn, R"("})"));
  auto s = Call("GetOpsItem",
                absl::StrCat(R"({"OpsItemId":")", id,
                             R"(","OpsItemArn":"arn:aws:ssm:eu-west-1:111122223333:opsitem/)", id,
                             R"("})"))
               .status();
  EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException");
  s = Call("UpdateOpsItem",
           absl::StrCat(R"({"OpsItemId":")", id,
                        R"(","OpsItemArn":"arn:aws:ssm:us-east-1:444455556666:opsitem/)", id,
                        R"("})"))
          .status();
  EXPECT_EQ(ErrorType(s), "OpsItemAccessDeniedException");
}

TEST_F(SsmHandlersTest, AccountsAreIsolated) {
  std::string id = CreateId(R"({"Title":"t","Description":"d","Source":"app"})");
  auto s =
      Call("GetOpsItem", absl::StrCat(R"({"OpsItemId":")", id, R"("})"), other_account_).status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
  auto listed = Call("DescribeOpsItems", "{}", other_account_);
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(listed->at("OpsItemSummaries").as_array(), IsEmpty());
}

TEST_F(SsmHandlersTest, DedupReturnsTheExistingOpsItemId) {
  const char* input = R"({"Title":"t","Description":"d","Source":"app",
      "OperationalData":{"/aws/dedup":{"Value":"{\"dedupString\":\"disk-i-1\"}",
                                       "Type":"SearchableString"}}})";
  json::object first = MustCall("CreateOpsItem", input);
  json::object second = MustCall("CreateOpsItem", input);
  EXPECT_EQ(first, second);
}

TEST_F(SsmHandlersTest, UpdateAppliesAndBumpsVersion) {
  std::string id = CreateId(R"({"Title":"t","Description":"d","Source":"app",
      "OperationalData":{"a":{"Value":"1"},"b":{"Value":"2"}}})");
  clock_.Advance(absl::Minutes(5));
  json::object out = MustCall("UpdateOpsItem", absl::StrCat(R"({"OpsItemId":")", id, R"(",
      "Status":"Resolved","Title":"t2","Priority":4,"Severity":"2","Category":"Cost",
      "OperationalData":{"c":{"Value":"3","Type":"String"}},"OperationalDataToDelete":["a"],
      "Notifications":[{"Arn":"arn:aws:sns:us-east-1:111122223333:t"}],
      "PlannedStartTime":1704070800})"));
  EXPECT_THAT(out, IsEmpty());
  json::object got = MustCall("GetOpsItem", absl::StrCat(R"({"OpsItemId":")", id, R"("})"));
  const json::object& item = got.at("OpsItem").as_object();
  EXPECT_EQ(item.at("Status").as_string(), "Resolved");
  EXPECT_EQ(item.at("Title").as_string(), "t2");
  EXPECT_EQ(item.at("Priority").as_int64(), 4);
  EXPECT_EQ(item.at("Severity").as_string(), "2");
  EXPECT_EQ(item.at("Category").as_string(), "Cost");
  EXPECT_EQ(item.at("Version").as_string(), "2");
  EXPECT_DOUBLE_EQ(item.at("LastModifiedTime").as_double(), 1704067200.0 + 300);
  EXPECT_DOUBLE_EQ(item.at("PlannedStartTime").as_double(), 1704070800.0);
  EXPECT_FALSE(item.at("OperationalData").as_object().contains("a"));
  EXPECT_TRUE(item.at("OperationalData").as_object().contains("b"));
  EXPECT_TRUE(item.at("OperationalData").as_object().contains("c"));
  EXPECT_THAT(item.at("Notifications").as_array(), SizeIs(1));

  auto s = Call("UpdateOpsItem", R"({"OpsItemId":"oi-0123456789ab","Status":"Resolved"})").status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
}

TEST_F(SsmHandlersTest, DescribeFiltersPaginatesAndHidesUnsearchableData) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.insert(ids.begin(),
               CreateId(absl::StrCat(R"({"Title":"item )", i, R"(","Description":"d",
                   "Source":")",
                                     i % 2 ? "odd" : "even", R"(","Priority":)", i % 5 + 1, R"(,
                   "OperationalData":{"pub":{"Value":"p"},"priv":{"Value":"q","Type":"String"}}})")));
    clock_.Advance(absl::Seconds(1));
  }
  json::object all = MustCall("DescribeOpsItems", "{}");
  const json::array& summaries = all.at("OpsItemSummaries").as_array();
  ASSERT_THAT(summaries, SizeIs(5));
  EXPECT_FALSE(all.contains("NextToken"));
  EXPECT_EQ(summaries[0].at("OpsItemId").as_string(), ids[0]);
  const json::object& data = summaries[0].at("OperationalData").as_object();
  EXPECT_TRUE(data.contains("pub"));
  EXPECT_FALSE(data.contains("priv"));
  EXPECT_FALSE(summaries[0].as_object().contains("OpsItemArn"));  // not in OpsItemSummary

  json::object even = MustCall("DescribeOpsItems", R"({"OpsItemFilters":[
      {"Key":"Source","Values":["even"],"Operator":"Equal"},
      {"Key":"Priority","Values":["1","5"],"Operator":"Equal"}]})");
  EXPECT_THAT(even.at("OpsItemSummaries").as_array(), SizeIs(2));  // items 0 and 4

  std::vector<std::string> seen;
  std::string token;
  do {
    std::string input = token.empty()
                            ? R"({"MaxResults":2})"
                            : absl::StrCat(R"({"MaxResults":2,"NextToken":")", token, R"("})");
    json::object page = MustCall("DescribeOpsItems", input);
    for (const auto& s : page.at("OpsItemSummaries").as_array()) {
      seen.emplace_back(s.at("OpsItemId").as_string());
    }
    token = page.contains("NextToken") ? std::string(page.at("NextToken").as_string()) : "";
  } while (!token.empty());
  EXPECT_EQ(seen, ids);

  auto s = Call("DescribeOpsItems",
                R"({"OpsItemFilters":[{"Key":"Status","Values":["Open"],"Operator":"Contains"}]})")
               .status();
  EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException");
  s = Call("DescribeOpsItems", R"({"NextToken":"bogus"})").status();
  EXPECT_EQ(ErrorType(s), "InvalidNextToken");
}

TEST_F(SsmHandlersTest, RelatedItemsLifecycle) {
  std::string id = CreateId(R"({"Title":"t","Description":"d","Source":"app"})");
  std::string assoc_input =
      absl::StrCat(R"({"OpsItemId":")", id, R"(","AssociationType":"IsParentOf",
          "ResourceType":"AWS::SSMIncidents::IncidentRecord","ResourceUri":")",
                   kIncidentArn, R"("})");
  json::object assoc = MustCall("AssociateOpsItemRelatedItem", assoc_input);
  std::string association_id(assoc.at("AssociationId").as_string());
  EXPECT_EQ(association_id.size(), 36u);

  auto s = Call("AssociateOpsItemRelatedItem", assoc_input).status();
  EXPECT_EQ(ErrorType(s), "OpsItemRelatedItemAlreadyExistsException");
  EXPECT_EQ(AwsErrorFields(s).at("OpsItemId").as_string(), id);
  EXPECT_EQ(AwsErrorFields(s).at("ResourceUri").as_string(), kIncidentArn);

  MustCall("AssociateOpsItemRelatedItem",
           absl::StrCat(R"({"OpsItemId":")", id, R"(","AssociationType":"RelatesTo",
               "ResourceType":"AWS::SSM::Document",
               "ResourceUri":"arn:aws:ssm:us-east-1:111122223333:document/Restart"})"));

  json::object listed =
      MustCall("ListOpsItemRelatedItems", absl::StrCat(R"({"OpsItemId":")", id, R"("})"));
  const json::array& summaries = listed.at("Summaries").as_array();
  ASSERT_THAT(summaries, SizeIs(2));
  const json::object& first = summaries[0].as_object();
  EXPECT_EQ(first.at("OpsItemId").as_string(), id);
  EXPECT_EQ(first.at("AssociationId").as_string(), association_id);
  EXPECT_EQ(first.at("AssociationType").as_string(), "IsParentOf");
  EXPECT_EQ(first.at("ResourceType").as_string(), "AWS::SSMIncidents::IncidentRecord");
  EXPECT_EQ(first.at("ResourceUri").as_string(), kIncidentArn);
  EXPECT_EQ(first.at("CreatedBy").at("Arn").as_string(), alice_.principal_arn);
  EXPECT_EQ(first.at("LastModifiedBy").at("Arn").as_string(), alice_.principal_arn);
  EXPECT_DOUBLE_EQ(first.at("CreatedTime").as_double(), 1704067200.0);

  json::object filtered =
      MustCall("ListOpsItemRelatedItems",
               absl::StrCat(R"({"OpsItemId":")", id, R"(","Filters":[{"Key":"ResourceType",
          "Values":["AWS::SSM::Document"],"Operator":"Equal"}],"MaxResults":1})"));
  EXPECT_THAT(filtered.at("Summaries").as_array(), SizeIs(1));
  EXPECT_FALSE(filtered.contains("NextToken"));

  json::object page1 = MustCall("ListOpsItemRelatedItems",
                                absl::StrCat(R"({"OpsItemId":")", id, R"(","MaxResults":1})"));
  ASSERT_TRUE(page1.contains("NextToken"));
  json::object page2 =
      MustCall("ListOpsItemRelatedItems",
               absl::StrCat(R"({"OpsItemId":")", id, R"(","MaxResults":1,"NextToken":")",
                            std::string(page1.at("NextToken").as_string()), R"("})"));
  EXPECT_THAT(page2.at("Summaries").as_array(), SizeIs(1));
  EXPECT_FALSE(page2.contains("NextToken"));

  EXPECT_THAT(MustCall("DisassociateOpsItemRelatedItem",
                       absl::StrCat(R"({"OpsItemId":")", id, R"(","AssociationId":")",
                                    association_id, R"("})")),
              IsEmpty());
  s = Call("DisassociateOpsItemRelatedItem",
           absl::StrCat(R"({"OpsItemId":")", id, R"(","AssociationId":")", association_id, R"("})"))
          .status();
  EXPECT_EQ(ErrorType(s), "OpsItemRelatedItemAssociationNotFoundException");
  s = Call("AssociateOpsItemRelatedItem",
           R"({"OpsItemId":"oi-0123456789ab","AssociationType":"RelatesTo",
               "ResourceType":"AWS::SSM::Document","ResourceUri":"arn:aws:ssm:::document/D"})")
          .status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
}

TEST_F(SsmHandlersTest, IncidentParentCreatedInTxnIsVisibleThroughTheApi) {
  std::string id;
  ASSERT_TRUE(store_
                  .Write([&](storage::WriteTxn& txn) -> absl::Status {
                    opsitems::Scope scope{alice_.account_id, alice_.region, alice_.principal_arn};
                    opsitems::NewOpsItem in;
                    in.title = "DB down";
                    in.description = "DB down";
                    in.source = "SSM Incident Manager";
                    in.operational_data[opsitems::kResourcesKey] = {
                        absl::StrCat(R"([{"arn":")", kIncidentArn, R"("}])"), "SearchableString"};
                    KLAXON_ASSIGN_OR_RETURN(auto item, service_.CreateInTxn(txn, scope, in));
                    id = item.ops_item_id;
                    return service_
                        .AssociateRelatedItemInTxn(txn, scope, id, "IsParentOf",
                                                   "AWS::SSMIncidents::IncidentRecord",
                                                   kIncidentArn)
                        .status();
                  })
                  .ok());
  json::object listed =
      MustCall("ListOpsItemRelatedItems", absl::StrCat(R"({"OpsItemId":")", id, R"("})"));
  ASSERT_THAT(listed.at("Summaries").as_array(), SizeIs(1));
  EXPECT_EQ(listed.at("Summaries").at(0).at("ResourceUri").as_string(), kIncidentArn);
  json::object found = MustCall("DescribeOpsItems", absl::StrCat(R"({"OpsItemFilters":[
      {"Key":"ResourceId","Values":["1abd9b35"],"Operator":"Contains"}]})"));
  ASSERT_THAT(found.at("OpsItemSummaries").as_array(), SizeIs(1));
  EXPECT_EQ(found.at("OpsItemSummaries").at(0).at("OpsItemId").as_string(), id);
}

}  // namespace
}  // namespace klaxon::api
