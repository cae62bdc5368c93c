// The Debian real clients (boto3 1.26 / botocore 1.29 and aws-cli 2.9) against the OpsCenter
// handlers behind the real dispatcher, SigV4 and HTTP server: every operation, every modeled
// error class, pagination through the clients' own paginators.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "api/dispatcher.h"
#include "api/http/server.h"
#include "api/http/sigv4.h"
#include "api/model/model_registry.h"
#include "api/services/ssm/ssm_handlers.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opsitems/ops_item_service.h"
#include "storage/memory_store.h"

namespace klaxon::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kEnv =
    "env -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
    "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 "
    "AWS_MAX_ATTEMPTS=1 ";

constexpr const char* kIncidentArn =
    "arn:aws:ssm-incidents::000000000000:incident-record/db-down/"
    "1abd9b35-ff4c-eb47-f20f-712a6c4c88cc";

constexpr const char* kBotoScript = R"PY(
import datetime, json, sys
import boto3, botocore
from botocore.config import Config

endpoint, incident = sys.argv[1], sys.argv[2]
ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test",
                   config=Config(retries={"total_max_attempts": 1}))
out = {}

def error(name, fn):
    try:
        fn()
        out[name] = {"ok": True}
    except botocore.exceptions.ClientError as e:
        r = dict(e.response)
        meta = r.pop("ResponseMetadata")
        r["status"] = meta["HTTPStatusCode"]
        r["class"] = type(e).__name__
        out[name] = r

created = ssm.create_ops_item(
    Title="Disk full", Description="Root volume at 100%", Source="EC2", Priority=2, Severity="3",
    Category="Availability",
    OperationalData={"runbook": {"Value": "https://wiki/disk", "Type": "SearchableString"},
                     "secret": {"Value": "s3cr3t", "Type": "String"},
                     "/aws/resources": {"Value": json.dumps([{"arn": incident}])}},
    Notifications=[{"Arn": "arn:aws:sns:us-east-1:000000000000:ops"}],
    Tags=[{"Key": "team", "Value": "storage"}],
    PlannedStartTime=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
oid = created["OpsItemId"]
out["created"] = {"id": oid, "arn": created["OpsItemArn"]}

item = ssm.get_ops_item(OpsItemId=oid)["OpsItem"]
out["get"] = {"title": item["Title"], "status": item["Status"], "version": item["Version"],
              "priority": item["Priority"], "severity": item["Severity"],
              "created_is_datetime": isinstance(item["CreatedTime"], datetime.datetime),
              "planned": item["PlannedStartTime"].isoformat(),
              "data_keys": sorted(item["OperationalData"]),
              "notifications": item["Notifications"], "type": item["OpsItemType"],
              "created_by": item["CreatedBy"]}

ssm.update_ops_item(OpsItemId=oid, Status="InProgress", OperationalDataToDelete=["runbook"],
                    OperationalData={"next": {"Value": "call db team"}})
item = ssm.get_ops_item(OpsItemId=oid)["OpsItem"]
out["updated"] = {"status": item["Status"], "version": item["Version"],
                  "data_keys": sorted(item["OperationalData"])}

dedup = {"/aws/dedup": {"Value": json.dumps({"dedupString": "disk-full-web-1"})}}
a = ssm.create_ops_item(Title="a", Description="d", Source="app", OperationalData=dedup)
b = ssm.create_ops_item(Title="b", Description="d", Source="app", OperationalData=dedup)
out["dedup_same"] = a["OpsItemId"] == b["OpsItemId"]

for i in range(5):
    ssm.create_ops_item(Title="bulk %d" % i, Description="d", Source="bulk")
pages = list(ssm.get_paginator("describe_ops_items").paginate(
    OpsItemFilters=[{"Key": "Source", "Values": ["bulk"], "Operator": "Equal"}],
    PaginationConfig={"PageSize": 2}))
out["describe_pages"] = [len(p["OpsItemSummaries"]) for p in pages]
found = ssm.describe_ops_items(OpsItemFilters=[
    {"Key": "ResourceId", "Values": ["1abd9b35"], "Operator": "Contains"},
    {"Key": "Status", "Values": ["InProgress"], "Operator": "Equal"}])["OpsItemSummaries"]
out["describe_found"] = [s["OpsItemId"] for s in found]
out["summary_data_keys"] = sorted(found[0]["OperationalData"]) if found else None
out["summary_created_is_datetime"] = isinstance(found[0]["CreatedTime"], datetime.datetime) if found else None

assoc = ssm.associate_ops_item_related_item(
    OpsItemId=oid, AssociationType="IsParentOf",
    ResourceType="AWS::SSMIncidents::IncidentRecord", ResourceUri=incident)["AssociationId"]
for i in range(3):
    ssm.associate_ops_item_related_item(
        OpsItemId=oid, AssociationType="RelatesTo", ResourceType="AWS::SSM::Document",
        ResourceUri="arn:aws:ssm:us-east-1:000000000000:document/Doc%d" % i)
related = [s for p in ssm.get_paginator("list_ops_item_related_items").paginate(
               OpsItemId=oid, PaginationConfig={"PageSize": 3}) for s in p["Summaries"]]
out["related"] = {"count": len(related), "first_id": related[0]["AssociationId"],
                  "first_uri": related[0]["ResourceUri"],
                  "first_created_by": related[0]["CreatedBy"]["Arn"],
                  "first_created_is_datetime": isinstance(related[0]["CreatedTime"], datetime.datetime)}
filtered = ssm.list_ops_item_related_items(OpsItemId=oid, Filters=[
    {"Key": "ResourceType", "Values": ["AWS::SSMIncidents::IncidentRecord"], "Operator": "Equal"}])
out["related_filtered"] = [s["AssociationId"] for s in filtered["Summaries"]]
out["assoc"] = assoc
ssm.disassociate_ops_item_related_item(OpsItemId=oid, AssociationId=assoc)

error("not_found", lambda: ssm.get_ops_item(OpsItemId="oi-000000000000"))
error("bad_source", lambda: ssm.create_ops_item(Title="t", Description="d", Source="aws.ec2"))
error("bad_key", lambda: ssm.create_ops_item(Title="t", Description="d", Source="app",
      OperationalData={"/aws/x": {"Value": "v"}}))
error("duplicate", lambda: ssm.associate_ops_item_related_item(
      OpsItemId=oid, AssociationType="RelatesTo", ResourceType="AWS::SSM::Document",
      ResourceUri="arn:aws:ssm:us-east-1:000000000000:document/Doc0"))
error("assoc_missing", lambda: ssm.disassociate_ops_item_related_item(
      OpsItemId=oid, AssociationId=assoc))
error("bad_id", lambda: ssm.get_ops_item(OpsItemId="bad"))
error("bad_token", lambda: ssm.describe_ops_items(NextToken="bogus"))
error("bad_filter", lambda: ssm.describe_ops_items(OpsItemFilters=[
      {"Key": "Status", "Values": ["Open"], "Operator": "Contains"}]))

classes = {}
for name, fn, exc in [
    ("OpsItemNotFoundException", lambda: ssm.get_ops_item(OpsItemId="oi-000000000000"),
     ssm.exceptions.OpsItemNotFoundException),
    ("OpsItemInvalidParameterException",
     lambda: ssm.create_ops_item(Title="t", Description="d", Source="amazon"),
     ssm.exceptions.OpsItemInvalidParameterException),
    ("OpsItemRelatedItemAlreadyExistsException",
     lambda: ssm.associate_ops_item_related_item(
         OpsItemId=oid, AssociationType="RelatesTo", ResourceType="AWS::SSM::Document",
         ResourceUri="arn:aws:ssm:us-east-1:000000000000:document/Doc0"),
     ssm.exceptions.OpsItemRelatedItemAlreadyExistsException),
    ("OpsItemRelatedItemAssociationNotFoundException",
     lambda: ssm.disassociate_ops_item_related_item(OpsItemId=oid, AssociationId=assoc),
     ssm.exceptions.OpsItemRelatedItemAssociationNotFoundException),
    ("InvalidNextToken", lambda: ssm.describe_ops_items(NextToken="bogus"),
     ssm.exceptions.InvalidNextToken)]:
    try:
        fn()
        classes[name] = False
    except exc:
        classes[name] = True
out["classes"] = classes
print(json.dumps(out))
)PY";

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

class SsmRealClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "/usr/bin/python3 has no boto3";
    }
    ssm::RegisterSsmHandlers(operations_, service_);
    auto models = model::ModelRegistry::LoadEmbedded();
    ASSERT_TRUE(models.ok()) << models.status();
    models_ = std::move(*models);
    authenticator_ = std::make_unique<SigV4Authenticator>(KeyStore::Default(), clock_);
    dispatcher_ =
        std::make_unique<Dispatcher>(*authenticator_, operations_, *models_, metrics_, clock_);
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.worker_threads = 2;
    server_ = std::make_unique<HttpServer>(options, *dispatcher_, metrics_);
    ASSERT_TRUE(server_->Start().ok());
    endpoint_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Cli(const std::string& args, int* code) {
    return RunCommand(std::string(kEnv) + "/usr/bin/aws --endpoint-url " + endpoint_ +
                          " --output json ssm " + args + " 2>&1",
                      code);
  }

  SystemClock& clock_ = SystemClock::Get();
  storage::MemoryStore store_;
  opsitems::OpsItemService service_{store_, clock_};
  OperationTable operations_;
  std::unique_ptr<model::ModelRegistry> models_;
  metrics::Registry metrics_;
  std::unique_ptr<SigV4Authenticator> authenticator_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<HttpServer> server_;
  std::string endpoint_;
};

TEST_F(SsmRealClientTest, Boto3DrivesEveryOperationAndError) {
  std::filesystem::path script = std::filesystem::temp_directory_path() /
                                 ("klaxon_ssm_boto_" + std::to_string(::getpid()) + ".py");
  std::ofstream(script) << kBotoScript;
  int code = -1;
  std::string output = RunCommand(std::string(kEnv) + "/usr/bin/python3 " + script.string() + " " +
                                      endpoint_ + " " + kIncidentArn + " 2>&1",
                                  &code);
  std::filesystem::remove(script);
  ASSERT_EQ(code, 0) << output;
  json::value result = json::parse(output);
  const json::object& r = result.as_object();

  std::string id(r.at("created").at("id").as_string());
  EXPECT_EQ(r.at("created").at("arn"),
            json::value("arn:aws:ssm:us-east-1:000000000000:opsitem/" + id));
  const json::value& get = r.at("get");
  EXPECT_EQ(get.at("title"), "Disk full");
  EXPECT_EQ(get.at("status"), "Open");
  EXPECT_EQ(get.at("version"), "1");
  EXPECT_EQ(get.at("priority"), 2);
  EXPECT_EQ(get.at("severity"), "3");
  EXPECT_EQ(get.at("type"), "/aws/issue");
  EXPECT_EQ(get.at("created_by"), "arn:aws:iam::000000000000:root");
  EXPECT_EQ(get.at("created_is_datetime"), true);
  EXPECT_EQ(get.at("planned"), "2024-01-01T00:00:00+00:00");
  EXPECT_EQ(get.at("data_keys"), json::parse(R"(["/aws/resources","runbook","secret"])"));
  EXPECT_EQ(get.at("notifications"),
            json::parse(R"([{"Arn":"arn:aws:sns:us-east-1:000000000000:ops"}])"));
  EXPECT_EQ(r.at("updated").at("status"), "InProgress");
  EXPECT_EQ(r.at("updated").at("version"), "2");
  EXPECT_EQ(r.at("updated").at("data_keys"), json::parse(R"(["/aws/resources","next","secret"])"));
  EXPECT_EQ(r.at("dedup_same"), true);
  EXPECT_EQ(r.at("describe_pages"), json::parse("[2,2,1]"));
  EXPECT_EQ(r.at("describe_found"), json::array{json::value(id)});
  EXPECT_EQ(r.at("summary_data_keys"), json::parse(R"(["/aws/resources","next"])"));
  EXPECT_EQ(r.at("summary_created_is_datetime"), true);

  const json::value& related = r.at("related");
  EXPECT_EQ(related.at("count"), 4);
  EXPECT_EQ(related.at("first_id"), r.at("assoc"));
  EXPECT_EQ(related.at("first_uri"), kIncidentArn);
  EXPECT_EQ(related.at("first_created_by"), "arn:aws:iam::000000000000:root");
  EXPECT_EQ(related.at("first_created_is_datetime"), true);
  EXPECT_EQ(r.at("related_filtered"), json::array{r.at("assoc")});

  auto code_of = [&](const char* name) { return r.at(name).at("Error").at("Code"); };
  EXPECT_EQ(code_of("not_found"), "OpsItemNotFoundException");
  EXPECT_EQ(r.at("not_found").at("status"), 400);
  EXPECT_EQ(code_of("bad_source"), "OpsItemInvalidParameterException");
  EXPECT_EQ(r.at("bad_source").at("ParameterNames"), json::parse(R"(["Source"])"));
  EXPECT_EQ(code_of("bad_key"), "OpsItemInvalidParameterException");
  EXPECT_EQ(r.at("bad_key").at("ParameterNames"), json::parse(R"(["OperationalData"])"));
  EXPECT_EQ(code_of("duplicate"), "OpsItemRelatedItemAlreadyExistsException");
  EXPECT_EQ(r.at("duplicate").at("OpsItemId"), json::value(id));
  EXPECT_EQ(r.at("duplicate").at("ResourceUri"),
            "arn:aws:ssm:us-east-1:000000000000:document/Doc0");
  EXPECT_EQ(code_of("assoc_missing"), "OpsItemRelatedItemAssociationNotFoundException");
  EXPECT_EQ(code_of("bad_id"), "ValidationException");
  EXPECT_EQ(code_of("bad_token"), "InvalidNextToken");
  EXPECT_EQ(code_of("bad_filter"), "OpsItemInvalidParameterException");
  for (const auto& [name, caught] : r.at("classes").as_object()) {
    EXPECT_EQ(caught, true) << std::string(name);
  }
}

TEST_F(SsmRealClientTest, AwsCli) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "no /usr/bin/aws";
  int code = -1;
  std::string out =
      Cli("create-ops-item --title 'Disk full' --description 'Root volume' --source EC2 "
          "--priority 2 --operational-data "
          "'{\"/aws/dedup\":{\"Value\":\"{\\\"dedupString\\\":\\\"cli\\\"}\",\"Type\":"
          "\"SearchableString\"}}'",
          &code);
  ASSERT_EQ(code, 0) << out;
  std::string id(json::parse(out).at("OpsItemId").as_string());

  out = Cli("get-ops-item --ops-item-id " + id, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(out).at("OpsItem").at("Title"), "Disk full");

  out = Cli("update-ops-item --ops-item-id " + id + " --status Resolved", &code);
  ASSERT_EQ(code, 0) << out;

  out =
      Cli("describe-ops-items --ops-item-filters Key=Status,Values=Resolved,Operator=Equal", &code);
  ASSERT_EQ(code, 0) << out;
  ASSERT_EQ(json::parse(out).at("OpsItemSummaries").as_array().size(), 1u);
  EXPECT_EQ(json::parse(out).at("OpsItemSummaries").at(0).at("OpsItemId"), json::value(id));

  out = Cli("associate-ops-item-related-item --ops-item-id " + id +
                " --association-type IsParentOf --resource-type "
                "AWS::SSMIncidents::IncidentRecord --resource-uri " +
                kIncidentArn,
            &code);
  ASSERT_EQ(code, 0) << out;
  out = Cli("list-ops-item-related-items --ops-item-id " + id, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(out).at("Summaries").at(0).at("ResourceUri"), kIncidentArn);

  out = Cli("get-ops-item --ops-item-id oi-000000000000", &code);
  EXPECT_EQ(code, 254) << out;
  EXPECT_THAT(out, HasSubstr("An error occurred (OpsItemNotFoundException) when calling the "
                             "GetOpsItem operation"));
  out = Cli("create-ops-item --title t --description d --source AWS", &code);
  EXPECT_EQ(code, 254) << out;
  EXPECT_THAT(out, HasSubstr("(OpsItemInvalidParameterException)"));
}

}  // namespace
}  // namespace klaxon::api
