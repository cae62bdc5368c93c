#include "server/node.h"

#include <pthread.h>
#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "api/dispatcher.h"
#include "api/http/server.h"
#include "api/http/sigv4.h"
#include "api/model/model_registry.h"
#include "api/operation.h"
#include "api/services/ssm/ssm_handlers.h"
#include "api/services/ssm_incidents/handlers.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "server/component.h"
#include "spdlog/spdlog.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::server {

// Component factories, one per src/server/<service>_component.cc.
absl::StatusOr<std::unique_ptr<Component>> MakeOutboxComponent(NodeContext& context);
absl::StatusOr<std::unique_ptr<Component>> MakeEventsComponent(NodeContext& context);
absl::StatusOr<std::unique_ptr<Component>> MakeCloudWatchComponent(NodeContext& context);

namespace {

class NodeImpl final : public Node {
 public:
  explicit NodeImpl(const Config& config) : config_(config) {}
  ~NodeImpl() override { Stop(); }

  absl::Status Init() {
    storage::SqliteOptions store_options;
    store_options.data_dir = config_.data_dir;
    store_options.metrics = &metrics_;
    KLAXON_ASSIGN_OR_RETURN(store_, storage::SqliteStore::Open(store_options));

    opsitems_ = std::make_unique<opsitems::OpsItemService>(*store_, clock_);
    incidents::Limits limits;
    limits.max_related_items = config_.limits.max_related_items;
    limits.max_timeline_events = config_.limits.max_timeline_events;
    limits.max_engagements = config_.limits.max_engagements;
    limits.max_actions = config_.limits.max_actions;
    limits.max_regions = config_.limits.max_regions;
    limits.client_token_retention = absl::Hours(config_.limits.client_token_retention_hours);
    limits.max_client_tokens = static_cast<size_t>(config_.limits.client_tokens_per_account);
    incidents_ = std::make_unique<incidents::IncidentManager>(*store_, clock_, *opsitems_, limits);
    // The accounts' clientToken indexes are built before the listener opens, not inside the
    // first call with a token after a restart.
    for (const auto& account : config_.accounts) {
      KLAXON_RETURN_IF_ERROR(incidents_->client_tokens().Warm(*store_, account.id));
    }

    api::ssm_incidents::RegisterSsmIncidentsHandlers(operations_, *incidents_);
    api::ssm::RegisterSsmHandlers(operations_, *opsitems_);

    // Further services, in dependency order. Each adds one line here (see component.h).
    context_ = std::make_unique<NodeContext>(
        NodeContext{config_, clock_, metrics_, *store_, operations_, *opsitems_, *incidents_});
    using Factory = absl::StatusOr<std::unique_ptr<Component>> (*)(NodeContext&);
    const Factory factories[] = {
        nullptr,  // placeholder so the list is never empty
        MakeOutboxComponent,
        MakeEventsComponent,
        MakeCloudWatchComponent,
    };
    for (Factory factory : factories) {
      if (!factory) continue;
      KLAXON_ASSIGN_OR_RETURN(auto component, factory(*context_));
      components_.push_back(std::move(component));
    }

    api::KeyStore keys;
    for (const auto& account : config_.accounts) {
      for (const auto& key : account.keys) {
        KLAXON_RETURN_IF_ERROR(
            keys.Add({key.access_key_id, key.secret_access_key, account.id,
                      absl::StrCat("arn:aws:iam::", account.id, ":", key.principal)}));
      }
    }
    api::SigV4Options sigv4_options;
    sigv4_options.region = config_.region;  // a credential for another Region is refused
    authenticator_ =
        std::make_unique<api::SigV4Authenticator>(std::move(keys), clock_, sigv4_options);
    KLAXON_ASSIGN_OR_RETURN(models_, api::model::ModelRegistry::LoadEmbedded());
    api::DispatcherOptions dispatcher_options;
    dispatcher_options.throttle_rate = config_.throttle_rate;
    dispatcher_options.throttle_burst = config_.throttle_burst;
    dispatcher_ = std::make_unique<api::Dispatcher>(*authenticator_, operations_, *models_,
                                                    metrics_, clock_, dispatcher_options);

    api::HttpServerOptions http_options;
    http_options.host = config_.listen_host;
    http_options.port = config_.listen_port;
    http_options.io_threads = config_.io_threads;
    http_options.worker_threads = config_.worker_threads;
    http_options.inline_handlers = config_.inline_handlers;
    http_options.body_limit = config_.max_body_bytes;
    http_options.header_timeout = absl::Seconds(config_.header_timeout_seconds);
    http_options.idle_timeout = absl::Seconds(config_.idle_timeout_seconds);
    http_ = std::make_unique<api::HttpServer>(http_options, *dispatcher_, metrics_);
    KLAXON_RETURN_IF_ERROR(http_->Start());
    for (auto& component : components_) KLAXON_RETURN_IF_ERROR(component->Start());

    if (!config_.port_file.empty()) {
      // Written to a temporary name and renamed, so a reader never sees a partial port.
      std::string tmp = config_.port_file + ".tmp";
      std::ofstream(tmp) << http_->port() << "\n";
      if (std::rename(tmp.c_str(), config_.port_file.c_str()) != 0) {
        return absl::InternalError(absl::StrCat("cannot write ", config_.port_file));
      }
    }
    return absl::OkStatus();
  }

  uint16_t port() const override { return http_->port(); }

  void RunUntilSignal() override {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("signal {}: stopping (in-flight requests finish first)", sig);
    Stop();
  }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (http_) http_->Stop();
    for (auto it = components_.rbegin(); it != components_.rend(); ++it) (*it)->Stop();
    if (store_) store_->Close();
  }

 private:
  Config config_;
  SystemClock& clock_ = SystemClock::Get();
  metrics::Registry metrics_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<opsitems::OpsItemService> opsitems_;
  std::unique_ptr<incidents::IncidentManager> incidents_;
  api::OperationTable operations_;
  std::unique_ptr<api::SigV4Authenticator> authenticator_;
  std::unique_ptr<api::model::ModelRegistry> models_;
  std::unique_ptr<api::Dispatcher> dispatcher_;
  std::unique_ptr<api::HttpServer> http_;
  std::unique_ptr<NodeContext> context_;
  std::vector<std::unique_ptr<Component>> components_;
  bool stopped_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Start(const Config& config) {
  // SIGINT/SIGTERM are taken with sigwait() in RunUntilSignal(): block them in this thread before
  // any other thread starts, so every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto node = std::make_unique<NodeImpl>(config);
  KLAXON_RETURN_IF_ERROR(node->Init());
  return node;
}

}  // namespace klaxon::server
