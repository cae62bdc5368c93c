#include "opsitems/ops_item_service.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::opsitems {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const Scope kScope{"111122223333", "us-east-1", "arn:aws:iam::111122223333:user/alice"};
const Scope kOtherRegion{"111122223333", "eu-west-1", "arn:aws:iam::111122223333:user/alice"};
const Scope kOtherAccount{"444455556666", "us-east-1", "arn:aws:iam::444455556666:root"};
const Scope kBob{"111122223333", "us-east-1", "arn:aws:iam::111122223333:user/bob"};

constexpr char kIncidentArn[] =
    "arn:aws:ssm-incidents::111122223333:incident-record/db-down/"
    "1abd9b35-ff4c-eb47-f20f-712a6c4c88cc";

std::string ErrorType(const absl::Status& s) { return AwsErrorType(s).value_or("<none>"); }

std::vector<std::string> ParameterNames(const absl::Status& s) {
  std::vector<std::string> out;
  auto fields = AwsErrorFields(s);
  if (auto* names = fields.if_contains("ParameterNames")) {
    for (auto& n : names->as_array()) out.emplace_back(n.as_string());
  }
  return out;
}

NewOpsItem Basic(std::string title = "Disk full") {
  NewOpsItem item;
  item.title = std::move(title);
  item.description = "The root volume is full.";
  item.source = "EC2";
  return item;
}

std::string Dedup(const std::string& s) {
  return boost::json::serialize(boost::json::object{{"dedupString", s}});
}

std::string Resources(const std::vector<std::string>& arns) {
  boost::json::array a;
  for (auto& arn : arns) a.push_back(boost::json::object{{"arn", arn}});
  return boost::json::serialize(a);
}

enum class Backend { kMemory, kSqlite };

// Every test runs against the reference MemoryStore and against the SQLite backend.
class OpsItemServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  OpsItemServiceTest() : store_(MakeStore()), service_(*store_, clock_) {}
  ~OpsItemServiceTest() override {
    store_->Close();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<storage::Store> MakeStore() {
    if (GetParam() == Backend::kMemory) return std::make_unique<storage::MemoryStore>();
    std::string tmpl = (std::filesystem::temp_directory_path() / "opsitems_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    storage::SqliteOptions options;
    options.data_dir = dir_;
    options.synchronous = storage::SqliteSynchronous::kOff;
    auto store = storage::SqliteStore::Open(options);
    if (!store.ok()) std::abort();
    return std::move(*store);
  }

  OpsItem MustCreate(const NewOpsItem& item, const Scope& scope = kScope) {
    auto created = service_.Create(scope, item);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : OpsItem{};
  }

  absl::Status CreateError(const NewOpsItem& item) {
    return service_.Create(kScope, item).status();
  }

  std::vector<std::string> DescribeIds(const std::vector<OpsItemFilter>& filters,
                                       const Scope& scope = kScope) {
    auto page = service_.Describe(scope, filters, 50, "");
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (auto& i : page->items) ids.push_back(i.ops_item_id);
    }
    return ids;
  }

  std::string dir_;
  SimulatedClock clock_;
  std::unique_ptr<storage::Store> store_;
  OpsItemService service_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OpsItemServiceTest,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Sqlite";
                         });

// ---------------------------------------------------------------------------------------------
// Create

TEST_P(OpsItemServiceTest, CreateFillsDefaults) {
  NewOpsItem in = Basic();
  in.priority = 2;
  in.severity = "3";
  in.category = "Availability";
  in.notification_arns = {"arn:aws:sns:us-east-1:111122223333:ops"};
  in.tags = {{"team", "db"}};
  in.planned_start_time = absl::FromUnixSeconds(1700000000);
  OpsItem item = MustCreate(in);
  EXPECT_TRUE(std::regex_match(item.ops_item_id, std::regex("^oi-[0-9a-f]{12}$")))
      << item.ops_item_id;
  EXPECT_EQ(item.ops_item_arn,
            absl::StrCat("arn:aws:ssm:us-east-1:111122223333:opsitem/", item.ops_item_id));
  EXPECT_EQ(item.ops_item_type, "/aws/issue");
  EXPECT_EQ(item.status, "Open");
  EXPECT_EQ(item.version, "1");
  EXPECT_EQ(item.created_by, kScope.caller_arn);
  EXPECT_EQ(item.last_modified_by, kScope.caller_arn);
  EXPECT_EQ(item.created_time, clock_.Now());
  EXPECT_EQ(item.last_modified_time, clock_.Now());
  EXPECT_FALSE(item.deduplicated);

  auto got = service_.Get(kScope, item.ops_item_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->title, "Disk full");
  EXPECT_EQ(got->description, "The root volume is full.");
  EXPECT_EQ(got->source, "EC2");
  EXPECT_EQ(got->priority, 2);
  EXPECT_EQ(got->severity, "3");
  EXPECT_EQ(got->category, "Availability");
  EXPECT_THAT(got->notification_arns, ElementsAre("arn:aws:sns:us-east-1:111122223333:ops"));
  EXPECT_EQ(got->tags.at("team"), "db");
  EXPECT_EQ(got->planned_start_time, absl::FromUnixSeconds(1700000000));
  EXPECT_FALSE(got->actual_start_time.has_value());
  EXPECT_EQ(got->created_time, item.created_time);
}

TEST_P(OpsItemServiceTest, CreateKeepsExplicitType) {
  NewOpsItem in = Basic();
  in.ops_item_type = "/aws/changerequest";
  EXPECT_EQ(MustCreate(in).ops_item_type, "/aws/changerequest");
}

TEST_P(OpsItemServiceTest, CreateGivesDistinctIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(MustCreate(Basic()).ops_item_id);
  EXPECT_THAT(ids, SizeIs(50));
}

TEST_P(OpsItemServiceTest, SourceCannotContainAwsAmazonAmzn) {
  for (std::string source : {"aws", "My AWS thing", "amazon", "AmAzOn EC2", "xamznx", "AWS.ec2"}) {
    NewOpsItem in = Basic();
    in.source = source;
    absl::Status s = CreateError(in);
    EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException") << source;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(ParameterNames(s), ElementsAre("Source")) << source;
  }
  NewOpsItem ok = Basic();
  ok.source = "SSM Incident Manager";
  MustCreate(ok);
}

TEST_P(OpsItemServiceTest, RequiredTextMembersMustNotBeBlank) {
  NewOpsItem in = Basic();
  in.title = "  ";
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Title"));
  in = Basic();
  in.description = "";
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Description"));
  in = Basic();
  in.source = "";
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Source"));
}

TEST_P(OpsItemServiceTest, SeverityIsOneToFour) {
  for (std::string sev : {"0", "5", "high", "11"}) {
    NewOpsItem in = Basic();
    in.severity = sev;
    EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Severity")) << sev;
  }
  for (std::string sev : {"1", "2", "3", "4"}) {
    NewOpsItem in = Basic();
    in.severity = sev;
    MustCreate(in);
  }
}

TEST_P(OpsItemServiceTest, PriorityIsOneToFive) {
  NewOpsItem in = Basic();
  in.priority = 0;
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Priority"));
  in.priority = 6;
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Priority"));
  in.priority = 5;
  MustCreate(in);
}

TEST_P(OpsItemServiceTest, OperationalDataKeysCannotUseReservedPrefixes) {
  for (std::string key : {"amazon", "aws", "amzn", "ssm", "/amazon", "/aws", "/amzn", "/ssm",
                          "awsKey", "/aws/other", "/ssm/x", "AWS:x", "SSM.param", "amazonia"}) {
    NewOpsItem in = Basic();
    in.operational_data[key] = {"v", "SearchableString"};
    absl::Status s = CreateError(in);
    EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException") << key;
    EXPECT_THAT(ParameterNames(s), ElementsAre("OperationalData")) << key;
  }
  NewOpsItem in = Basic();
  in.operational_data["myKey"] = {"v", "String"};
  in.operational_data["x/aws"] = {"v", "SearchableString"};
  in.operational_data["/aws/resources"] = {Resources({"arn:aws:ec2:us-east-1:1:instance/i-1"}),
                                           "SearchableString"};
  in.operational_data["/aws/automations"] = {
      R"([{"automationId":"4a0f1b3e-0000-0000-0000-000000000000","automationType":"AWS:SSM:Automation"}])",
      "SearchableString"};
  in.operational_data["/aws/dedup"] = {Dedup("abc"), "SearchableString"};
  OpsItem item = MustCreate(in);
  EXPECT_THAT(item.operational_data, SizeIs(5));
}

TEST_P(OpsItemServiceTest, ReservedOperationalDataValuesMustBeWellFormed) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"/aws/dedup", "abc"},
           {"/aws/dedup", "{}"},
           {"/aws/dedup", R"({"dedupString":""})"},
           {"/aws/dedup", R"({"dedupString":5})"},
           {"/aws/resources", R"({"arn":"x"})"},
           {"/aws/resources", R"([{"id":"x"}])"},
           {"/aws/resources", "not json"},
           {"/aws/automations", R"([{"automationType":"x"}])"},
       }) {
    NewOpsItem in = Basic();
    in.operational_data[key] = {value, "SearchableString"};
    EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("OperationalData"))
        << key << " " << value;
  }
}

TEST_P(OpsItemServiceTest, OperationalDataValueLimitsAndType) {
  NewOpsItem in = Basic();
  in.operational_data["big"] = {std::string(20481, 'x'), "String"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("OperationalData"));
  in.operational_data["big"] = {std::string(20480, 'x'), "String"};
  MustCreate(in);
  in.operational_data["big"] = {"v", "Number"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("OperationalData"));
  in.operational_data["big"] = {"   ", "String"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("OperationalData"));
  in.operational_data.clear();
  in.operational_data[std::string(129, 'k')] = {"v", "String"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("OperationalData"));
}

TEST_P(OpsItemServiceTest, NotificationsMustBeSnsTopics) {
  NewOpsItem in = Basic();
  in.notification_arns = {"arn:aws:sqs:us-east-1:111122223333:q"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Notifications"));
  in.notification_arns = {"topic"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Notifications"));
}

TEST_P(OpsItemServiceTest, TagsCannotUseAwsPrefix) {
  NewOpsItem in = Basic();
  in.tags = {{"aws:cloudformation:stack", "x"}};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("Tags"));
}

TEST_P(OpsItemServiceTest, RelatedOpsItemsMustExistInScope) {
  OpsItem a = MustCreate(Basic());
  OpsItem elsewhere = MustCreate(Basic(), kOtherRegion);
  NewOpsItem in = Basic();
  in.related_ops_item_ids = {a.ops_item_id};
  EXPECT_THAT(MustCreate(in).related_ops_item_ids, ElementsAre(a.ops_item_id));
  in.related_ops_item_ids = {"oi-000000000000"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("RelatedOpsItems"));
  in.related_ops_item_ids = {elsewhere.ops_item_id};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("RelatedOpsItems"));
  in.related_ops_item_ids = {"bogus"};
  EXPECT_THAT(ParameterNames(CreateError(in)), ElementsAre("RelatedOpsItems"));
}

TEST_P(OpsItemServiceTest, AccountIdMustBeTheCallersAccount) {
  NewOpsItem in = Basic();
  in.account_id = kScope.account_id;
  MustCreate(in);
  in.account_id = "999999999999";
  absl::Status s = CreateError(in);
  EXPECT_EQ(ErrorType(s), "OpsItemAccessDeniedException");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
}

// ---------------------------------------------------------------------------------------------
// Dedup

TEST_P(OpsItemServiceTest, DedupReturnsTheOpenOpsItem) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("disk-full-i-1"), "SearchableString"};
  OpsItem first = MustCreate(in);
  EXPECT_FALSE(first.deduplicated);
  clock_.Advance(absl::Minutes(1));
  NewOpsItem again = Basic("Another title");
  again.operational_data["/aws/dedup"] = {Dedup("DISK-FULL-i-1"), "String"};
  OpsItem second = MustCreate(again);
  EXPECT_TRUE(second.deduplicated);
  EXPECT_EQ(second.ops_item_id, first.ops_item_id);
  EXPECT_EQ(second.title, "Disk full");  // the existing OpsItem is returned unchanged
  EXPECT_EQ(second.version, "1");
  EXPECT_THAT(DescribeIds({}), SizeIs(1));
}

TEST_P(OpsItemServiceTest, DedupKeyIncludesResources) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  in.operational_data["/aws/resources"] = {Resources({"arn:r1", "arn:r2"}), "SearchableString"};
  OpsItem first = MustCreate(in);
  in.operational_data["/aws/resources"] = {Resources({"arn:r2", "arn:r1"}), "SearchableString"};
  EXPECT_EQ(MustCreate(in).ops_item_id, first.ops_item_id);  // order does not matter
  in.operational_data["/aws/resources"] = {Resources({"arn:r3"}), "SearchableString"};
  EXPECT_NE(MustCreate(in).ops_item_id, first.ops_item_id);
  in.operational_data.erase("/aws/resources");
  EXPECT_NE(MustCreate(in).ops_item_id, first.ops_item_id);
}

TEST_P(OpsItemServiceTest, DedupOnlyWhileOpenOrInProgress) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  OpsItem first = MustCreate(in);
  OpsItemUpdate to_in_progress;
  to_in_progress.status = "InProgress";
  ASSERT_TRUE(service_.Update(kScope, first.ops_item_id, to_in_progress).ok());
  EXPECT_EQ(MustCreate(in).ops_item_id, first.ops_item_id);

  OpsItemUpdate resolve;
  resolve.status = "Resolved";
  ASSERT_TRUE(service_.Update(kScope, first.ops_item_id, resolve).ok());
  OpsItem second = MustCreate(in);
  EXPECT_NE(second.ops_item_id, first.ops_item_id);
  EXPECT_FALSE(second.deduplicated);
  // The new OpsItem now owns the key.
  EXPECT_EQ(MustCreate(in).ops_item_id, second.ops_item_id);

  OpsItemUpdate pending;
  pending.status = "Pending";
  ASSERT_TRUE(service_.Update(kScope, second.ops_item_id, pending).ok());
  EXPECT_NE(MustCreate(in).ops_item_id, second.ops_item_id);
}

TEST_P(OpsItemServiceTest, DedupIsPerRegionAndAccount) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  OpsItem a = MustCreate(in, kScope);
  OpsItem b = MustCreate(in, kOtherRegion);
  OpsItem c = MustCreate(in, kOtherAccount);
  EXPECT_NE(a.ops_item_id, b.ops_item_id);
  EXPECT_NE(a.ops_item_id, c.ops_item_id);
  EXPECT_FALSE(b.deduplicated);
  EXPECT_FALSE(c.deduplicated);
}

TEST_P(OpsItemServiceTest, ConcurrentDuplicatesMakeOneOpsItem) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("storm"), "SearchableString"};
  constexpr int kThreads = 40;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto item = service_.Create(kScope, in);
      if (item.ok()) ids[i] = item->ops_item_id;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(std::set<std::string>(ids.begin(), ids.end()), SizeIs(1));
  EXPECT_FALSE(ids[0].empty());
  EXPECT_THAT(DescribeIds({}), SizeIs(1));
}

TEST_P(OpsItemServiceTest, WithoutDedupStringAlwaysCreates) {
  EXPECT_NE(MustCreate(Basic()).ops_item_id, MustCreate(Basic()).ops_item_id);
}

// ---------------------------------------------------------------------------------------------
// *InTxn (the Incident Manager path)

TEST_P(OpsItemServiceTest, CreateAndAssociateInOneTransaction) {
  std::string id;
  std::string association;
  ASSERT_TRUE(store_
                  ->Write([&](storage::WriteTxn& txn) -> absl::Status {
                    NewOpsItem in = Basic("DB down");
                    in.source = "SSM Incident Manager";
                    auto item = service_.CreateInTxn(txn, kScope, in);
                    if (!item.ok()) return item.status();
                    id = item->ops_item_id;
                    auto assoc = service_.AssociateRelatedItemInTxn(
                        txn, kScope, id, "IsParentOf", "AWS::SSMIncidents::IncidentRecord",
                        kIncidentArn);
                    if (!assoc.ok()) return assoc.status();
                    association = *assoc;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(
      std::regex_match(association, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                               "[0-9a-f]{12}$")))
      << association;
  ASSERT_TRUE(service_.Get(kScope, id).ok());
  auto related = service_.ListRelatedItems(kScope, id, {}, 0, "");
  ASSERT_TRUE(related.ok()) << related.status();
  ASSERT_THAT(related->items, SizeIs(1));
  const RelatedItem& r = related->items[0];
  EXPECT_EQ(r.ops_item_id, id);
  EXPECT_EQ(r.association_id, association);
  EXPECT_EQ(r.association_type, "IsParentOf");
  EXPECT_EQ(r.resource_type, "AWS::SSMIncidents::IncidentRecord");
  EXPECT_EQ(r.resource_uri, kIncidentArn);
  EXPECT_EQ(r.created_by, kScope.caller_arn);
  EXPECT_EQ(r.last_modified_by, kScope.caller_arn);
  EXPECT_EQ(r.created_time, clock_.Now());
  EXPECT_EQ(r.last_modified_time, clock_.Now());
}

TEST_P(OpsItemServiceTest, CreateAndAssociateInTxnMatchesTheTwoCalls) {
  auto run = [&](const NewOpsItem& in,
                 const std::string& uri) -> absl::StatusOr<std::pair<OpsItem, std::string>> {
    absl::StatusOr<std::pair<OpsItem, std::string>> out = absl::UnknownError("not run");
    absl::Status s = store_->Write([&](storage::WriteTxn& txn) -> absl::Status {
      out = service_.CreateAndAssociateInTxn(txn, kScope, in, "IsParentOf",
                                             "AWS::SSMIncidents::IncidentRecord", uri);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  };
  NewOpsItem in = Basic("DB down");
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  auto first = run(in, kIncidentArn);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->first.deduplicated);
  const std::string id = first->first.ops_item_id;
  auto related = service_.ListRelatedItems(kScope, id, {}, 0, "");
  ASSERT_TRUE(related.ok()) << related.status();
  ASSERT_THAT(related->items, SizeIs(1));
  EXPECT_EQ(related->items[0].association_id, first->second);
  EXPECT_EQ(related->items[0].resource_uri, kIncidentArn);
  EXPECT_EQ(related->items[0].created_time, clock_.Now());
  // A later association continues after it.
  ASSERT_TRUE(service_
                  .AssociateRelatedItem(kScope, id, "RelatesTo", "AWS::SSM::Document",
                                        "arn:aws:ssm:us-east-1:111122223333:document/x")
                  .ok());
  related = service_.ListRelatedItems(kScope, id, {}, 0, "");
  ASSERT_TRUE(related.ok());
  EXPECT_THAT(related->items, SizeIs(2));

  // OpsCenter dedup: the association goes to the existing OpsItem, with its usual checks.
  const std::string other = "arn:aws:ssm-incidents::111122223333:incident-record/p/other";
  auto second = run(in, other);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->first.deduplicated);
  EXPECT_EQ(second->first.ops_item_id, id);
  related = service_.ListRelatedItems(kScope, id, {}, 0, "");
  ASSERT_TRUE(related.ok());
  EXPECT_THAT(related->items, SizeIs(3));
  EXPECT_EQ(run(in, other).status().code(), absl::StatusCode::kAlreadyExists);
  // The association arguments are validated before anything is created.
  absl::Status bad = store_->Write([&](storage::WriteTxn& txn) -> absl::Status {
    return service_
        .CreateAndAssociateInTxn(txn, kScope, Basic(), "Owns", "AWS::SSM::Document", other)
        .status();
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(OpsItemServiceTest, AbortedTransactionLeavesNothing) {
  absl::Status s = store_->Write([&](storage::WriteTxn& txn) -> absl::Status {
    NewOpsItem in = Basic();
    in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
    auto item = service_.CreateInTxn(txn, kScope, in);
    if (!item.ok()) return item.status();
    auto assoc =
        service_.AssociateRelatedItemInTxn(txn, kScope, item->ops_item_id, "IsParentOf",
                                           "AWS::SSMIncidents::IncidentRecord", kIncidentArn);
    if (!assoc.ok()) return assoc.status();
    return absl::AbortedError("incident failed");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(DescribeIds({}), IsEmpty());
  auto related = service_.ListRelatedItems(kScope, "", {}, 0, "");
  ASSERT_TRUE(related.ok());
  EXPECT_THAT(related->items, IsEmpty());
  // The dedup key was rolled back too.
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  EXPECT_FALSE(MustCreate(in).deduplicated);
}

TEST_P(OpsItemServiceTest, DedupWithinOneTransactionSeesItsOwnWrite) {
  ASSERT_TRUE(store_
                  ->Write([&](storage::WriteTxn& txn) -> absl::Status {
                    NewOpsItem in = Basic();
                    in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
                    auto a = service_.CreateInTxn(txn, kScope, in);
                    auto b = service_.CreateInTxn(txn, kScope, in);
                    EXPECT_TRUE(a.ok() && b.ok());
                    EXPECT_EQ(a->ops_item_id, b->ops_item_id);
                    EXPECT_TRUE(b->deduplicated);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(OpsItemServiceTest, AssociateInTxnOnMissingOpsItemIsNotFound) {
  absl::Status s = store_->Write([&](storage::WriteTxn& txn) -> absl::Status {
    return service_
        .AssociateRelatedItemInTxn(txn, kScope, "oi-0123456789ab", "IsParentOf",
                                   "AWS::SSMIncidents::IncidentRecord", kIncidentArn)
        .status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
}

// ---------------------------------------------------------------------------------------------
// Get

TEST_P(OpsItemServiceTest, GetIsScopedToAccountAndRegion) {
  OpsItem item = MustCreate(Basic());
  for (const Scope& other : {kOtherRegion, kOtherAccount}) {
    absl::Status s = service_.Get(other, item.ops_item_id).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
  }
  EXPECT_EQ(ErrorType(service_.Get(kScope, "oi-000000000000").status()),
            "OpsItemNotFoundException");
  EXPECT_EQ(ErrorType(service_.Get(kScope, "nonsense").status()), "OpsItemNotFoundException");
}

// ---------------------------------------------------------------------------------------------
// Update

TEST_P(OpsItemServiceTest, UpdateChangesFieldsAndBumpsVersion) {
  OpsItem item = MustCreate(Basic());
  OpsItem related = MustCreate(Basic());
  clock_.Advance(absl::Hours(1));
  OpsItemUpdate u;
  u.title = "New title";
  u.description = "New description";
  u.status = "InProgress";
  u.priority = 1;
  u.severity = "1";
  u.category = "Security";
  u.notification_arns = std::vector<std::string>{"arn:aws:sns:us-east-1:111122223333:t"};
  u.related_ops_item_ids = std::vector<std::string>{related.ops_item_id};
  u.actual_start_time = absl::FromUnixSeconds(1704067000);
  u.actual_end_time = absl::FromUnixSeconds(1704068000);
  u.planned_start_time = absl::FromUnixSeconds(1704069000);
  u.planned_end_time = absl::FromUnixSeconds(1704070000);
  auto updated = service_.Update(kBob, item.ops_item_id, u);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version, "2");
  auto got = service_.Get(kScope, item.ops_item_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->title, "New title");
  EXPECT_EQ(got->description, "New description");
  EXPECT_EQ(got->status, "InProgress");
  EXPECT_EQ(got->priority, 1);
  EXPECT_EQ(got->severity, "1");
  EXPECT_EQ(got->category, "Security");
  EXPECT_THAT(got->notification_arns, ElementsAre("arn:aws:sns:us-east-1:111122223333:t"));
  EXPECT_THAT(got->related_ops_item_ids, ElementsAre(related.ops_item_id));
  EXPECT_EQ(got->actual_start_time, absl::FromUnixSeconds(1704067000));
  EXPECT_EQ(got->actual_end_time, absl::FromUnixSeconds(1704068000));
  EXPECT_EQ(got->planned_start_time, absl::FromUnixSeconds(1704069000));
  EXPECT_EQ(got->planned_end_time, absl::FromUnixSeconds(1704070000));
  EXPECT_EQ(got->version, "2");
  EXPECT_EQ(got->created_by, kScope.caller_arn);
  EXPECT_EQ(got->last_modified_by, kBob.caller_arn);
  EXPECT_EQ(got->created_time, item.created_time);
  EXPECT_EQ(got->last_modified_time, item.created_time + absl::Hours(1));

  ASSERT_TRUE(service_.Update(kScope, item.ops_item_id, OpsItemUpdate{}).ok());
  EXPECT_EQ(service_.Get(kScope, item.ops_item_id)->version, "3");
}

TEST_P(OpsItemServiceTest, UpdateLeavesUnsetFieldsAlone) {
  NewOpsItem in = Basic();
  in.priority = 3;
  in.severity = "2";
  in.notification_arns = {"arn:aws:sns:us-east-1:111122223333:t"};
  OpsItem item = MustCreate(in);
  OpsItemUpdate u;
  u.status = "Resolved";
  ASSERT_TRUE(service_.Update(kScope, item.ops_item_id, u).ok());
  auto got = service_.Get(kScope, item.ops_item_id);
  EXPECT_EQ(got->title, "Disk full");
  EXPECT_EQ(got->priority, 3);
  EXPECT_EQ(got->severity, "2");
  EXPECT_THAT(got->notification_arns, SizeIs(1));
  EXPECT_EQ(got->status, "Resolved");
}

TEST_P(OpsItemServiceTest, UpdateOperationalDataDeletesThenMerges) {
  NewOpsItem in = Basic();
  in.operational_data = {{"a", {"1", "String"}}, {"b", {"2", "String"}}, {"c", {"3", "String"}}};
  OpsItem item = MustCreate(in);
  OpsItemUpdate u;
  u.operational_data_to_delete = {"a", "c", "missing"};
  u.operational_data = {
      {"b", {"20", "SearchableString"}}, {"c", {"30", "String"}}, {"d", {"4", "String"}}};
  ASSERT_TRUE(service_.Update(kScope, item.ops_item_id, u).ok());
  auto got = service_.Get(kScope, item.ops_item_id);
  OperationalData expected = {
      {"b", {"20", "SearchableString"}}, {"c", {"30", "String"}}, {"d", {"4", "String"}}};
  EXPECT_EQ(got->operational_data, expected);
}

TEST_P(OpsItemServiceTest, UpdateValidates) {
  NewOpsItem in = Basic();
  in.operational_data["/aws/dedup"] = {Dedup("k"), "SearchableString"};
  OpsItem item = MustCreate(in);
  auto update_error = [&](OpsItemUpdate u) {
    return service_.Update(kScope, item.ops_item_id, u).status();
  };
  OpsItemUpdate u;
  u.operational_data["/aws/dedup"] = {Dedup("other"), "SearchableString"};
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("OperationalData"));
  u = {};
  u.operational_data_to_delete = {"/aws/dedup"};
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("OperationalData"));
  u = {};
  u.operational_data["awsThing"] = {"x", "String"};
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("OperationalData"));
  u = {};
  u.severity = "9";
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("Severity"));
  u = {};
  u.priority = 7;
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("Priority"));
  u = {};
  u.status = "Done";
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("Status"));
  u = {};
  u.title = " ";
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("Title"));
  u = {};
  u.related_ops_item_ids = std::vector<std::string>{item.ops_item_id};  // itself
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("RelatedOpsItems"));
  u = {};
  u.notification_arns = std::vector<std::string>{"arn:aws:lambda:us-east-1:1:function:f"};
  EXPECT_THAT(ParameterNames(update_error(u)), ElementsAre("Notifications"));
  // Nothing was applied.
  EXPECT_EQ(service_.Get(kScope, item.ops_item_id)->version, "1");
}

TEST_P(OpsItemServiceTest, UpdateMissingIsNotFound) {
  OpsItem item = MustCreate(Basic());
  absl::Status s = service_.Update(kOtherRegion, item.ops_item_id, {}).status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Describe

TEST_P(OpsItemServiceTest, DescribeIsNewestFirstAndPaginates) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.insert(ids.begin(), MustCreate(Basic(absl::StrCat("t", i))).ops_item_id);
    clock_.Advance(absl::Seconds(1));
  }
  MustCreate(Basic(), kOtherRegion);
  MustCreate(Basic(), kOtherAccount);
  EXPECT_EQ(DescribeIds({}), ids);

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = service_.Describe(kScope, {}, 3, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->items.size(), 3u);
    for (auto& i : page->items) seen.push_back(i.ops_item_id);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);

  // Exactly one full page: no token.
  auto page = service_.Describe(kScope, {}, 7, "");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->items, SizeIs(7));
  EXPECT_EQ(page->next_token, "");
}

TEST_P(OpsItemServiceTest, DescribePaginatesAcrossManyNonMatchingRows) {
  for (int i = 0; i < 300; ++i) {
    NewOpsItem in = Basic();
    in.category = i % 100 == 0 ? "Rare" : "Common";
    MustCreate(in);
    clock_.Advance(absl::Milliseconds(1));
  }
  std::vector<OpsItemFilter> rare = {{"Category", "Equal", {"Rare"}}};
  auto p1 = service_.Describe(kScope, rare, 2, "");
  ASSERT_TRUE(p1.ok());
  EXPECT_THAT(p1->items, SizeIs(2));
  ASSERT_FALSE(p1->next_token.empty());
  auto p2 = service_.Describe(kScope, rare, 2, p1->next_token);
  ASSERT_TRUE(p2.ok());
  EXPECT_THAT(p2->items, SizeIs(1));
  EXPECT_EQ(p2->next_token, "");
}

TEST_P(OpsItemServiceTest, DescribeRejectsBadToken) {
  for (std::string token : {"x", "00000000000000000000/oi-zzzzzzzzzzzz", "abc/oi-0123456789ab"}) {
    EXPECT_EQ(ErrorType(service_.Describe(kScope, {}, 0, token).status()), "InvalidNextToken");
  }
}

TEST_P(OpsItemServiceTest, DescribeStringFilters) {
  NewOpsItem a = Basic("Database connection errors");
  a.source = "RDS";
  a.priority = 1;
  a.severity = "1";
  a.category = "Availability";
  OpsItem ia = MustCreate(a);
  clock_.Advance(absl::Seconds(1));
  NewOpsItem b = Basic("Disk full on web-1");
  b.source = "EC2";
  b.priority = 3;
  b.severity = "3";
  b.category = "Performance";
  b.ops_item_type = "/aws/insights";
  OpsItem ib = MustCreate(b, kBob);
  OpsItemUpdate resolve;
  resolve.status = "Resolved";
  ASSERT_TRUE(service_.Update(kScope, ib.ops_item_id, resolve).ok());

  using F = std::vector<OpsItemFilter>;
  EXPECT_THAT(DescribeIds(F{{"Status", "Equal", {"Open"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Status", "Equal", {"Open", "Resolved"}}}), SizeIs(2));
  EXPECT_THAT(DescribeIds(F{{"Source", "Equal", {"EC2"}}}), ElementsAre(ib.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Source", "Contains", {"rd"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Priority", "Equal", {"3"}}}), ElementsAre(ib.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Priority", "Equal", {"1", "3"}}}), SizeIs(2));
  EXPECT_THAT(DescribeIds(F{{"Title", "Equal", {"Disk full on web-1"}}}),
              ElementsAre(ib.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Title", "Equal", {"Disk full"}}}), IsEmpty());
  EXPECT_THAT(DescribeIds(F{{"Title", "Contains", {"CONNECTION"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"OpsItemId", "Equal", {ia.ops_item_id}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Severity", "Equal", {"1"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Category", "Equal", {"Performance"}}}), ElementsAre(ib.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"OpsItemType", "Equal", {"/aws/issue"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"CreatedBy", "Equal", {kBob.caller_arn}}}),
              ElementsAre(ib.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"CreatedBy", "Contains", {"alice"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"AccountId", "Equal", {kScope.account_id}}}), SizeIs(2));
  EXPECT_THAT(DescribeIds(F{{"AccountId", "Equal", {"999999999999"}}}), IsEmpty());
  // AND across filters.
  EXPECT_THAT(DescribeIds(F{{"Source", "Equal", {"EC2", "RDS"}}, {"Priority", "Equal", {"1"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"Source", "Equal", {"EC2"}}, {"Priority", "Equal", {"1"}}}),
              IsEmpty());
}

TEST_P(OpsItemServiceTest, DescribeTitleEqualMatchesFirst100Characters) {
  std::string long_title = std::string(100, 'a') + "tail";
  OpsItem item = MustCreate(Basic(long_title));
  EXPECT_THAT(DescribeIds({{"Title", "Equal", {std::string(100, 'a')}}}),
              ElementsAre(item.ops_item_id));
  absl::Status s = service_.Describe(kScope, {{"Title", "Equal", {long_title}}}, 0, "").status();
  EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException");
  EXPECT_THAT(ParameterNames(s), ElementsAre("OpsItemFilters"));
}

TEST_P(OpsItemServiceTest, DescribeTimeFilters) {
  clock_.Set(absl::FromUnixSeconds(1704067200));  // 2024-01-01T00:00:00Z
  NewOpsItem in = Basic();
  in.planned_start_time = absl::FromUnixSeconds(1706745600);  // 2024-02-01
  OpsItem early = MustCreate(in);
  clock_.Set(absl::FromUnixSeconds(1709251200));  // 2024-03-01
  OpsItem late = MustCreate(Basic());
  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(service_.Update(kScope, early.ops_item_id, {}).ok());  // modified 2024-03-02

  using F = std::vector<OpsItemFilter>;
  EXPECT_THAT(DescribeIds(F{{"CreatedTime", "GreaterThan", {"2024-02-01T00:00:00Z"}}}),
              ElementsAre(late.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"CreatedTime", "LessThan", {"2024-02-01"}}}),
              ElementsAre(early.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"CreatedTime", "LessThan", {"1706745600"}}}),
              ElementsAre(early.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"CreatedTime", "GreaterThan", {"2024-01-15T00:00:00+01:00"}},
                            {"CreatedTime", "LessThan", {"2024-03-01T00:00:01"}}}),
              ElementsAre(late.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"LastModifiedTime", "GreaterThan", {"2024-03-01T12:00:00Z"}}}),
              ElementsAre(early.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"PlannedStartTime", "GreaterThan", {"2024-01-01"}}}),
              ElementsAre(early.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"ActualStartTime", "GreaterThan", {"2000-01-01"}}}), IsEmpty());
  absl::Status s =
      service_.Describe(kScope, {{"CreatedTime", "GreaterThan", {"yesterday"}}}, 0, "").status();
  EXPECT_THAT(ParameterNames(s), ElementsAre("OpsItemFilters"));
}

TEST_P(OpsItemServiceTest, DescribeOperationalDataFilters) {
  NewOpsItem a = Basic();
  a.operational_data = {
      {"runbook", {"https://wiki/db", "SearchableString"}},
      {"secret", {"hunter2", "String"}},
      {"/aws/resources",
       {Resources({"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}), "SearchableString"}},
      {"/aws/automations",
       {R"([{"automationId":"exec-1","automationType":"AWS:SSM:Automation"}])",
        "SearchableString"}}};
  OpsItem ia = MustCreate(a);
  OpsItem ib = MustCreate(Basic());

  using F = std::vector<OpsItemFilter>;
  EXPECT_THAT(
      DescribeIds(
          F{{"OperationalData", "Equal", {R"({"key":"runbook","value":"https://wiki/db"})"}}}),
      ElementsAre(ia.ops_item_id));
  EXPECT_THAT(
      DescribeIds(F{{"OperationalData", "Equal", {R"({"key":"runbook","value":"other"})"}}}),
      IsEmpty());
  // Data of type String is not searchable.
  EXPECT_THAT(
      DescribeIds(F{{"OperationalData", "Equal", {R"({"key":"secret","value":"hunter2"})"}}}),
      IsEmpty());
  EXPECT_THAT(DescribeIds(F{{"OperationalDataKey", "Equal", {"runbook"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"OperationalDataKey", "Equal", {"secret"}}}), IsEmpty());
  EXPECT_THAT(DescribeIds(F{{"OperationalDataValue", "Equal", {"https://wiki/db"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"OperationalDataValue", "Contains", {"WIKI"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"OperationalDataValue", "Contains", {"hunter"}}}), IsEmpty());
  EXPECT_THAT(DescribeIds(F{{"ResourceId", "Contains", {"i-0abc"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{
                  {"ResourceId", "Equal", {"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}}}),
              ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"AutomationId", "Equal", {"exec-1"}}}), ElementsAre(ia.ops_item_id));
  EXPECT_THAT(DescribeIds(F{{"AutomationId", "Equal", {"exec-2"}}}), IsEmpty());
  absl::Status s =
      service_.Describe(kScope, {{"OperationalData", "Equal", {"runbook"}}}, 0, "").status();
  EXPECT_THAT(ParameterNames(s), ElementsAre("OpsItemFilters"));
  (void)ib;
}

TEST_P(OpsItemServiceTest, DescribeRejectsUnsupportedOperators) {
  for (const OpsItemFilter& f : std::vector<OpsItemFilter>{
           {"Status", "Contains", {"Open"}},
           {"Priority", "GreaterThan", {"1"}},
           {"CreatedTime", "Equal", {"2024-01-01"}},
           {"OpsItemId", "Contains", {"oi-"}},
           {"Priority", "Equal", {"high"}},
           {"NoSuchKey", "Equal", {"x"}},
           {"Status", "Equal", {}},
       }) {
    absl::Status s = service_.Describe(kScope, {f}, 0, "").status();
    EXPECT_EQ(ErrorType(s), "OpsItemInvalidParameterException") << f.key << " " << f.op;
    EXPECT_THAT(ParameterNames(s), ElementsAre("OpsItemFilters"));
  }
}

TEST_P(OpsItemServiceTest, DescribeChangeManagerKeysMatchNothing) {
  MustCreate(Basic());
  EXPECT_THAT(DescribeIds({{"ChangeRequestByRequesterArn", "Equal", {"x"}}}), IsEmpty());
  EXPECT_THAT(DescribeIds({{"InsightByType", "Equal", {"x"}}}), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Related items via the API-level methods

TEST_P(OpsItemServiceTest, AssociateValidates) {
  OpsItem item = MustCreate(Basic());
  auto err = [&](std::string type, std::string rtype, std::string uri) {
    return service_.AssociateRelatedItem(kScope, item.ops_item_id, type, rtype, uri).status();
  };
  EXPECT_THAT(ParameterNames(err("IsChildOf", "AWS::SSMIncidents::IncidentRecord", kIncidentArn)),
              ElementsAre("AssociationType"));
  EXPECT_THAT(ParameterNames(err("RelatesTo", "AWS::EC2::Instance", "arn:aws:ec2:x")),
              ElementsAre("ResourceType"));
  EXPECT_THAT(ParameterNames(err("RelatesTo", "AWS::SSM::Document", "MyDoc")),
              ElementsAre("ResourceUri"));
  absl::Status s =
      service_
          .AssociateRelatedItem(kScope, "oi-000000000000", "RelatesTo", "AWS::SSM::Document",
                                "arn:aws:ssm:us-east-1:111122223333:document/D")
          .status();
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");
}

TEST_P(OpsItemServiceTest, AssociateRejectsDuplicateResourceUri) {
  OpsItem item = MustCreate(Basic());
  ASSERT_TRUE(service_
                  .AssociateRelatedItem(kScope, item.ops_item_id, "IsParentOf",
                                        "AWS::SSMIncidents::IncidentRecord", kIncidentArn)
                  .ok());
  absl::Status s = service_
                       .AssociateRelatedItem(kScope, item.ops_item_id, "RelatesTo",
                                             "AWS::SSMIncidents::IncidentRecord", kIncidentArn)
                       .status();
  EXPECT_EQ(ErrorType(s), "OpsItemRelatedItemAlreadyExistsException");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  auto fields = AwsErrorFields(s);
  EXPECT_EQ(fields.at("ResourceUri").as_string(), kIncidentArn);
  EXPECT_EQ(fields.at("OpsItemId").as_string(), item.ops_item_id);
  // Another OpsItem may link the same resource.
  OpsItem other = MustCreate(Basic());
  EXPECT_TRUE(service_
                  .AssociateRelatedItem(kScope, other.ops_item_id, "IsParentOf",
                                        "AWS::SSMIncidents::IncidentRecord", kIncidentArn)
                  .ok());
}

TEST_P(OpsItemServiceTest, AssociateEnforcesTheLimit) {
  Limits limits;
  limits.max_related_items_per_ops_item = 3;
  OpsItemService service(*store_, clock_, limits);
  auto item = service.Create(kScope, Basic());
  ASSERT_TRUE(item.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(service
                    .AssociateRelatedItem(kScope, item->ops_item_id, "RelatesTo",
                                          "AWS::SSM::Document",
                                          absl::StrCat("arn:aws:ssm:us-east-1:1:document/D", i))
                    .ok());
  }
  absl::Status s = service
                       .AssociateRelatedItem(kScope, item->ops_item_id, "RelatesTo",
                                             "AWS::SSM::Document", "arn:aws:ssm:::document/X")
                       .status();
  EXPECT_EQ(ErrorType(s), "OpsItemLimitExceededException");
  EXPECT_EQ(AwsErrorFields(s).at("Limit").as_int64(), 3);
}

TEST_P(OpsItemServiceTest, ListRelatedItemsFiltersAndPaginates) {
  OpsItem a = MustCreate(Basic());
  OpsItem b = MustCreate(Basic());
  std::vector<std::string> a_assocs;
  for (int i = 0; i < 5; ++i) {
    auto id = service_.AssociateRelatedItem(
        kScope, a.ops_item_id, i == 0 ? "IsParentOf" : "RelatesTo",
        i == 0 ? "AWS::SSMIncidents::IncidentRecord" : "AWS::SSM::Document",
        absl::StrCat("arn:aws:ssm:::document/D", i));
    ASSERT_TRUE(id.ok()) << id.status();
    a_assocs.push_back(*id);
  }
  auto b_assoc = service_.AssociateRelatedItem(kScope, b.ops_item_id, "RelatesTo",
                                               "AWS::SSM::Document", "arn:aws:ssm:::document/B");
  ASSERT_TRUE(b_assoc.ok());

  // Pages of 2 over A's associations, in creation order.
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = service_.ListRelatedItems(kScope, a.ops_item_id, {}, 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (auto& r : page->items) seen.push_back(r.association_id);
    token = page->next_token;
  } while (!token.empty());
  EXPECT_EQ(seen, a_assocs);

  auto all = service_.ListRelatedItems(kScope, "", {}, 0, "");
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->items, SizeIs(6));

  auto by_type = service_.ListRelatedItems(
      kScope, a.ops_item_id, {{"ResourceType", {"AWS::SSMIncidents::IncidentRecord"}}}, 0, "");
  ASSERT_TRUE(by_type.ok());
  ASSERT_THAT(by_type->items, SizeIs(1));
  EXPECT_EQ(by_type->items[0].association_id, a_assocs[0]);

  auto by_id =
      service_.ListRelatedItems(kScope, "", {{"AssociationId", {*b_assoc, a_assocs[2]}}}, 0, "");
  ASSERT_TRUE(by_id.ok());
  EXPECT_THAT(by_id->items, SizeIs(2));

  auto by_uri_and_type = service_.ListRelatedItems(
      kScope, "",
      {{"ResourceUri", {"arn:aws:ssm:::document/D0", "arn:aws:ssm:::document/D1"}},
       {"ResourceType", {"AWS::SSM::Document"}}},
      0, "");
  ASSERT_TRUE(by_uri_and_type.ok());
  ASSERT_THAT(by_uri_and_type->items, SizeIs(1));
  EXPECT_EQ(by_uri_and_type->items[0].association_id, a_assocs[1]);

  auto missing = service_.ListRelatedItems(kScope, "oi-000000000000", {}, 0, "");
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(missing->items, IsEmpty());
  auto other_region = service_.ListRelatedItems(kOtherRegion, "", {}, 0, "");
  ASSERT_TRUE(other_region.ok());
  EXPECT_THAT(other_region->items, IsEmpty());

  EXPECT_EQ(ErrorType(service_.ListRelatedItems(kScope, "", {}, 0, "garbage").status()),
            "InvalidNextToken");
  // A token of another OpsItem's listing is refused.
  EXPECT_EQ(ErrorType(service_
                          .ListRelatedItems(kScope, b.ops_item_id, {}, 0,
                                            absl::StrCat(a.ops_item_id, "/0000000001"))
                          .status()),
            "InvalidNextToken");
  EXPECT_EQ(ErrorType(service_.ListRelatedItems(kScope, "", {{"Bogus", {"x"}}}, 0, "").status()),
            "OpsItemInvalidParameterException");
}

TEST_P(OpsItemServiceTest, DisassociateRemovesTheAssociation) {
  OpsItem item = MustCreate(Basic());
  auto id = service_.AssociateRelatedItem(kScope, item.ops_item_id, "IsParentOf",
                                          "AWS::SSMIncidents::IncidentRecord", kIncidentArn);
  ASSERT_TRUE(id.ok());
  absl::Status s = service_.DisassociateRelatedItem(kScope, item.ops_item_id, "nope");
  EXPECT_EQ(ErrorType(s), "OpsItemRelatedItemAssociationNotFoundException");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  s = service_.DisassociateRelatedItem(kScope, "oi-000000000000", *id);
  EXPECT_EQ(ErrorType(s), "OpsItemNotFoundException");

  ASSERT_TRUE(service_.DisassociateRelatedItem(kScope, item.ops_item_id, *id).ok());
  EXPECT_THAT(service_.ListRelatedItems(kScope, item.ops_item_id, {}, 0, "")->items, IsEmpty());
  EXPECT_EQ(ErrorType(service_.DisassociateRelatedItem(kScope, item.ops_item_id, *id)),
            "OpsItemRelatedItemAssociationNotFoundException");
  // The resource can be linked again after it was unlinked.
  EXPECT_TRUE(service_
                  .AssociateRelatedItem(kScope, item.ops_item_id, "IsParentOf",
                                        "AWS::SSMIncidents::IncidentRecord", kIncidentArn)
                  .ok());
}

}  // namespace
}  // namespace klaxon::opsitems
