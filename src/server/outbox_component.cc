// The durable outbox of the node (src/outbox): built first, so that the components after it
// (EventBridge, CloudWatch) can register their delivery handlers and enqueue in their
// transactions; started after every component is built, stopped before the store closes.

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "outbox/store_outbox.h"
#include "server/component.h"

namespace klaxon::server {
namespace {

class OutboxComponent final : public Component {
 public:
  explicit OutboxComponent(std::unique_ptr<outbox::StoreOutbox> outbox)
      : outbox_(std::move(outbox)) {}
  absl::Status Start() override { return outbox_->Start(); }
  void Stop() override { outbox_->Stop(); }

 private:
  std::unique_ptr<outbox::StoreOutbox> outbox_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Component>> MakeOutboxComponent(NodeContext& context) {
  outbox::OutboxOptions options;
  // Handlers block on store commits and webhooks: more threads make bigger group commits.
  options.delivery_threads = 16;
  options.metrics = &context.metrics;
  auto outbox = std::make_unique<outbox::StoreOutbox>(context.store, context.clock, options);
  context.outbox = outbox.get();
  return std::unique_ptr<Component>(new OutboxComponent(std::move(outbox)));
}

}  // namespace klaxon::server
