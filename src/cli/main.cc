// The klaxon command.
//   klaxon serve --listen HOST:PORT --data DIR --region REGION [--config FILE] [--port-file FILE]
//   klaxon pattern test|explain ...     (the event-pattern engine, see src/events/pattern)
//   klaxon version

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "server/config.h"
#include "server/node.h"
#include "spdlog/spdlog.h"

#ifdef KLAXON_HAVE_PATTERN_CLI
#include "cli/pattern_command.h"
#endif

namespace {

int Serve(const std::string& config_file, const std::string& listen, const std::string& data,
          const std::string& region, const std::string& port_file) {
  klaxon::server::Config config;
  if (!config_file.empty()) {
    if (auto s = klaxon::server::LoadConfigFile(config_file, config); !s.ok()) {
      std::cerr << "klaxon: " << s.message() << "\n";
      return 2;
    }
  }
  if (!listen.empty()) {
    if (auto s = klaxon::server::SetListen(listen, config); !s.ok()) {
      std::cerr << "klaxon: " << s.message() << "\n";
      return 2;
    }
  }
  if (!data.empty()) config.data_dir = data;
  if (!region.empty()) config.region = region;
  config.port_file = port_file;
  if (auto s = klaxon::server::FinalizeConfig(config); !s.ok()) {
    std::cerr << "klaxon: " << s.message() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto node = klaxon::server::Node::Start(config);
  if (!node.ok()) {
    std::cerr << "klaxon: " << node.status().message() << "\n";
    return 1;
  }
  spdlog::info("klaxon listening on {}:{} (Region {}, data {})", config.listen_host,
               (*node)->port(), config.region, config.data_dir);
  if (config.using_default_account) {
    spdlog::info("development account 000000000000, access key test / secret test");
  }
  (*node)->RunUntilSignal();
  spdlog::info("klaxon stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so absl::Mutex deadlock detection would run (and may
  // abort) in production; klaxon's own locks are std::mutex based (common/mutex.h).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#ifdef KLAXON_HAVE_PATTERN_CLI
  // `klaxon pattern ...` has its own argument grammar.
  if (argc >= 2 && std::string(argv[1]) == "pattern") {
    std::vector<std::string> args(argv + 2, argv + argc);
    return klaxon::cli::RunPatternCommand(args, std::cout, std::cerr);
  }
#endif
  CLI::App app{"klaxon: a self-hosted incident manager speaking the AWS APIs"};
  app.require_subcommand(1);

  std::string config_file, listen, data, region, port_file;
  auto* serve = app.add_subcommand("serve", "Run one Region node");
  serve->add_option("--config", config_file, "Config file (YAML or JSON)");
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:4566)");
  serve->add_option("--data", data, "Data directory (default ./var)");
  serve->add_option("--region", region, "AWS Region this node serves (default us-east-1)");
  serve->add_option("--port-file", port_file, "Write the bound port to this file once listening");
  app.add_subcommand("pattern", "Test and explain EventBridge event patterns")
      ->allow_extras();
  app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("version")) {
    std::cout << "klaxon 0.1.0\n";
    return 0;
  }
  if (app.got_subcommand("pattern")) {
    std::cerr << "klaxon: this build has no pattern engine\n";
    return 2;
  }
  return Serve(config_file, listen, data, region, port_file);
}
