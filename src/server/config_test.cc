#include "server/config.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace klaxon::server {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/klaxon_config_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsGiveTheDevelopmentAccountOnLoopback) {
  Config config;
  ASSERT_TRUE(FinalizeConfig(config).ok());
  ASSERT_EQ(config.accounts.size(), 1u);
  EXPECT_EQ(config.accounts[0].id, "000000000000");
  EXPECT_EQ(config.accounts[0].keys[0].access_key_id, "test");
  EXPECT_TRUE(config.using_default_account);
  EXPECT_EQ(config.listen_host, "127.0.0.1");
  EXPECT_EQ(config.listen_port, 4566);
}

TEST(Config, RefusesNonLoopbackWithDefaultKey) {
  Config config;
  ASSERT_TRUE(SetListen("0.0.0.0:4566", config).ok());
  absl::Status s = FinalizeConfig(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("non-loopback"), std::string::npos);
}

TEST(Config, ClientTokenLimitsMustBePositive) {
  Config config;
  config.limits.client_tokens_per_account = 0;
  absl::Status s = FinalizeConfig(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("client_tokens_per_account"), std::string::npos);
}

TEST(Config, ParsesListen) {
  Config config;
  EXPECT_TRUE(SetListen("[::1]:0", config).ok());
  EXPECT_EQ(config.listen_host, "::1");
  EXPECT_EQ(config.listen_port, 0);
  EXPECT_FALSE(SetListen("nohost", config).ok());
  EXPECT_FALSE(SetListen("127.0.0.1:99999", config).ok());
  EXPECT_FALSE(SetListen("example.com:80", config).ok());
}

TEST(Config, LoadsFileWithAccounts) {
  std::string path = WriteTemp(R"(
listen: 0.0.0.0:8080
data: /tmp/klaxon-data
region: eu-west-1
accounts:
  - id: "111122223333"
    keys:
      - access_key_id: AKIAPROD
        secret_access_key: s3cr3t
        principal: user/alice
limits:
  related_items_per_incident: 10
  client_token_retention_hours: 2
throttle:
  rate: 100
)");
  Config config;
  ASSERT_TRUE(LoadConfigFile(path, config).ok());
  ASSERT_TRUE(FinalizeConfig(config).ok());
  EXPECT_EQ(config.listen_host, "0.0.0.0");
  EXPECT_EQ(config.listen_port, 8080);
  EXPECT_EQ(config.region, "eu-west-1");
  EXPECT_EQ(config.accounts[0].keys[0].principal, "user/alice");
  EXPECT_EQ(config.limits.max_related_items, 10);
  EXPECT_EQ(config.limits.client_token_retention_hours, 2);
  EXPECT_EQ(config.limits.client_tokens_per_account, 1'000'000);
  EXPECT_EQ(config.throttle_rate, 100);
  EXPECT_FALSE(config.using_default_account);
  std::remove(path.c_str());
}

TEST(Config, RejectsUnknownKeysAndBadAccounts) {
  std::string path = WriteTemp("listne: 1.2.3.4:5\n");
  Config config;
  absl::Status s = LoadConfigFile(path, config);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("unknown key 'listne'"), std::string::npos);
  std::remove(path.c_str());

  Config bad;
  bad.accounts.push_back({"123", {{"k", "s", "root"}}});
  EXPECT_FALSE(FinalizeConfig(bad).ok());
}

TEST(Config, CloudWatchEvaluationInterval) {
  Config defaults;
  EXPECT_EQ(defaults.cloudwatch_evaluation_interval_ms, 0);  // AWS's cadence

  std::string path = WriteTemp("cloudwatch:\n  evaluation_interval_ms: 200\n");
  Config config;
  ASSERT_TRUE(LoadConfigFile(path, config).ok());
  ASSERT_TRUE(FinalizeConfig(config).ok());
  EXPECT_EQ(config.cloudwatch_evaluation_interval_ms, 200);
  std::remove(path.c_str());

  path = WriteTemp("cloudwatch:\n  evaluation_intervl_ms: 200\n");
  absl::Status s = LoadConfigFile(path, config);
  EXPECT_NE(std::string(s.message()).find("cloudwatch: unknown key 'evaluation_intervl_ms'"),
            std::string::npos)
      << s;
  std::remove(path.c_str());

  Config negative;
  negative.cloudwatch_evaluation_interval_ms = -1;
  s = FinalizeConfig(negative);
  EXPECT_NE(std::string(s.message()).find("cloudwatch.evaluation_interval_ms"), std::string::npos)
      << s;
}

}  // namespace
}  // namespace klaxon::server
