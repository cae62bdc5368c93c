#include "server/config.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/ip/address.hpp"
#include "re2/re2.h"
#include "yaml-cpp/yaml.h"

namespace klaxon::server {
namespace {

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::string_view(message));
}

absl::Status CheckKeys(const YAML::Node& node, const std::string& where,
                       const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Invalid(absl::StrCat(where, ": expected a mapping"));
  for (const auto& item : node) {
    std::string key = item.first.as<std::string>();
    if (!allowed.count(key)) return Invalid(absl::StrCat(where, ": unknown key '", key, "'"));
  }
  return absl::OkStatus();
}

absl::Status ParseConfig(const YAML::Node& root, Config& config) {
  absl::Status s =
      CheckKeys(root, "config",
                {"listen", "data", "region", "accounts", "io_threads", "worker_threads",
                 "inline_handlers", "max_body_bytes", "header_timeout_seconds",
                 "idle_timeout_seconds", "throttle", "limits", "cloudwatch", "log_level"});
  if (!s.ok()) return s;
  if (root["listen"]) {
    s = SetListen(root["listen"].as<std::string>(), config);
    if (!s.ok()) return s;
  }
  if (root["data"]) config.data_dir = root["data"].as<std::string>();
  if (root["region"]) config.region = root["region"].as<std::string>();
  if (root["io_threads"]) config.io_threads = root["io_threads"].as<int>();
  if (root["worker_threads"]) config.worker_threads = root["worker_threads"].as<int>();
  if (root["inline_handlers"]) config.inline_handlers = root["inline_handlers"].as<bool>();
  if (root["max_body_bytes"]) config.max_body_bytes = root["max_body_bytes"].as<size_t>();
  if (root["header_timeout_seconds"]) {
    config.header_timeout_seconds = root["header_timeout_seconds"].as<int>();
  }
  if (root["idle_timeout_seconds"]) {
    config.idle_timeout_seconds = root["idle_timeout_seconds"].as<int>();
  }
  if (root["log_level"]) config.log_level = root["log_level"].as<std::string>();
  if (const auto& t = root["throttle"]) {
    s = CheckKeys(t, "throttle", {"rate", "burst"});
    if (!s.ok()) return s;
    if (t["rate"]) config.throttle_rate = t["rate"].as<double>();
    if (t["burst"]) config.throttle_burst = t["burst"].as<double>();
  }
  if (const auto& c = root["cloudwatch"]) {
    s = CheckKeys(c, "cloudwatch", {"evaluation_interval_ms"});
    if (!s.ok()) return s;
    if (c["evaluation_interval_ms"]) {
      config.cloudwatch_evaluation_interval_ms = c["evaluation_interval_ms"].as<int>();
    }
  }
  if (const auto& l = root["limits"]) {
    s = CheckKeys(l, "limits",
                  {"related_items_per_incident", "timeline_events_per_incident",
                   "engagements_per_plan", "actions_per_plan", "regions_per_replication_set",
                   "client_token_retention_hours", "client_tokens_per_account"});
    if (!s.ok()) return s;
    auto& lim = config.limits;
    if (l["related_items_per_incident"]) {
      lim.max_related_items = l["related_items_per_incident"].as<int>();
    }
    if (l["timeline_events_per_incident"]) {
      lim.max_timeline_events = l["timeline_events_per_incident"].as<int>();
    }
    if (l["engagements_per_plan"]) lim.max_engagements = l["engagements_per_plan"].as<int>();
    if (l["actions_per_plan"]) lim.max_actions = l["actions_per_plan"].as<int>();
    if (l["regions_per_replication_set"]) {
      lim.max_regions = l["regions_per_replication_set"].as<int>();
    }
    if (l["client_token_retention_hours"]) {
      lim.client_token_retention_hours = l["client_token_retention_hours"].as<int>();
    }
    if (l["client_tokens_per_account"]) {
      lim.client_tokens_per_account = l["client_tokens_per_account"].as<int64_t>();
    }
  }
  if (const auto& accounts = root["accounts"]) {
    if (!accounts.IsSequence()) return Invalid("accounts: expected a list");
    for (const auto& a : accounts) {
      s = CheckKeys(a, "accounts[]", {"id", "keys"});
      if (!s.ok()) return s;
      Account account;
      if (!a["id"]) return Invalid("accounts[]: missing 'id'");
      account.id = a["id"].as<std::string>();
      if (!a["keys"] || !a["keys"].IsSequence()) {
        return Invalid(absl::StrCat("accounts[", account.id, "]: 'keys' must be a list"));
      }
      for (const auto& k : a["keys"]) {
        s = CheckKeys(k, "keys[]", {"access_key_id", "secret_access_key", "principal"});
        if (!s.ok()) return s;
        if (!k["access_key_id"] || !k["secret_access_key"]) {
          return Invalid("keys[]: access_key_id and secret_access_key are required");
        }
        AccessKey key;
        key.access_key_id = k["access_key_id"].as<std::string>();
        key.secret_access_key = k["secret_access_key"].as<std::string>();
        key.principal = k["principal"] ? k["principal"].as<std::string>() : "root";
        account.keys.push_back(std::move(key));
      }
      config.accounts.push_back(std::move(account));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadConfigFile(const std::string& path, Config& config) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    absl::Status s = ParseConfig(root, config);
    if (!s.ok()) return Invalid(absl::StrCat(path, ": ", s.message()));
    return absl::OkStatus();
  } catch (const YAML::Exception& e) {
    return Invalid(absl::StrCat(path, ": ", e.what()));
  }
}

absl::Status SetListen(const std::string& listen, Config& config) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Invalid(absl::StrCat("listen: expected [HOST]:PORT, got '", listen, "'"));
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return Invalid(absl::StrCat("listen: expected HOST:PORT, got '", listen, "'"));
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(absl::string_view(port), &p) || p > 65535) {
    return Invalid(absl::StrCat("listen: invalid port '", port, "'"));
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Invalid(absl::StrCat("listen: '", host, "' is not an IP address"));
  config.listen_host = host == "localhost" ? "127.0.0.1" : host;
  config.listen_port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

bool IsLoopbackHost(const std::string& host) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

absl::Status FinalizeConfig(Config& config) {
  if (config.accounts.empty()) {
    config.accounts.push_back({"000000000000", {{"test", "test", "root"}}});
    config.using_default_account = true;
  }
  std::set<std::string> keys;
  for (const auto& account : config.accounts) {
    if (!RE2::FullMatch(account.id, "[0-9]{12}")) {
      return Invalid(absl::StrCat("accounts: id '", account.id, "' is not 12 digits"));
    }
    for (const auto& key : account.keys) {
      if (!keys.insert(key.access_key_id).second) {
        return Invalid(
            absl::StrCat("accounts: access key '", key.access_key_id, "' is configured twice"));
      }
      if (key.secret_access_key == "test" && !IsLoopbackHost(config.listen_host)) {
        return Invalid(absl::StrCat("refusing to listen on non-loopback address ",
                                    config.listen_host,
                                    " with the development key: configure accounts and keys"));
      }
    }
  }
  if (config.using_default_account && !IsLoopbackHost(config.listen_host)) {
    return Invalid(absl::StrCat("refusing to listen on non-loopback address ", config.listen_host,
                                " with the default development account: configure accounts"));
  }
  if (!RE2::FullMatch(config.region, "[a-z]{2}(-[a-z]+)+-[0-9]")) {
    return Invalid(absl::StrCat("region: '", config.region, "' is not a Region name"));
  }
  if (config.cloudwatch_evaluation_interval_ms < 0) {
    return Invalid("cloudwatch.evaluation_interval_ms must be at least 0");
  }
  if (config.limits.client_token_retention_hours < 1 ||
      config.limits.client_tokens_per_account < 1) {
    return Invalid(
        "limits.client_token_retention_hours and limits.client_tokens_per_account must be at "
        "least 1");
  }
  if (config.io_threads < 1 || config.worker_threads < 0) {
    return Invalid("io_threads must be at least 1 and worker_threads at least 0");
  }
  return absl::OkStatus();
}

}  // namespace klaxon::server
