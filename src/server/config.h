#pragma once
// Node configuration: what `klaxon serve` runs. Built from embedded defaults, then a config file
// (YAML or JSON), then command-line flags, in that order of precedence (later wins).
//
// Secure by default: with no accounts configured, one development account 000000000000 with the
// key test/test exists, and then the listener must be a loopback address (Validate() refuses
// anything else).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace klaxon::server {

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
  std::string principal;  // IAM principal name; the caller ARN is arn:aws:iam::ACCOUNT:<principal>
};

struct Account {
  std::string id;  // 12 digits
  std::vector<AccessKey> keys;
};

struct IncidentLimits {
  int max_related_items = 50;
  int max_timeline_events = 1000;
  int max_engagements = 5;
  int max_actions = 1;
  int max_regions = 3;
  int client_token_retention_hours = 24;  // a clientToken replays its first result this long
  int64_t client_tokens_per_account = 1'000'000;  // kept at most (the oldest go first)
};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 4566;
  std::string data_dir = "./var";
  std::string region = "us-east-1";
  std::vector<Account> accounts;  // empty = the development account
  bool using_default_account = false;

  int io_threads = 2;
  // Threads for the kinds of request that block (durable commits); see api/http/server.h. 0: all
  // handlers run on the I/O threads.
  int worker_threads = 64;
  // false: every handler runs on the worker pool (no learning); for comparisons.
  bool inline_handlers = true;
  size_t max_body_bytes = size_t{10} * 1024 * 1024;
  int header_timeout_seconds = 10;
  int idle_timeout_seconds = 60;

  // Requests per second per account; 0 = unlimited (the default).
  double throttle_rate = 0;
  double throttle_burst = 0;

  IncidentLimits limits;

  // CloudWatch alarm evaluation. 0 (the default): AWS's cadence (every 10 s for high-resolution
  // alarms, once per minute boundary for the others). Above 0: the scheduler ticks that often
  // and re-evaluates an alarm as soon as data of its metrics arrives (tests and demos). The
  // environment variable KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS, when set, takes precedence.
  int cloudwatch_evaluation_interval_ms = 0;

  std::string port_file;  // if set, the bound port is written there once listening
  std::string log_level = "info";
};

// Parses a config file (YAML; JSON is valid YAML). Unknown keys are errors, so typos are caught.
// Errors: InvalidArgument naming the offending key and file.
absl::Status LoadConfigFile(const std::string& path, Config& config);

// Parses "HOST:PORT" ("[::1]:4566" for IPv6) into config.
absl::Status SetListen(const std::string& listen, Config& config);

// Fills the development account if none is configured and checks the invariants (loopback-only
// with the default key, 12-digit account ids, unique access keys, Region name syntax).
absl::Status FinalizeConfig(Config& config);

bool IsLoopbackHost(const std::string& host);

}  // namespace klaxon::server
