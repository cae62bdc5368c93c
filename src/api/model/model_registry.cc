#include "api/model/model_registry.h"

#include <cstdlib>

#include "api/model/embedded_models.h"
#include "api/model/overrides.h"
#include "spdlog/spdlog.h"

namespace klaxon::api::model {

absl::StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::LoadEmbedded() {
  auto registry = std::make_unique<ModelRegistry>();
  for (const EmbeddedModel& embedded : EmbeddedModels()) {
    std::string text = ModelText(embedded);
    auto model = ServiceModel::Parse(embedded.name, text);
    if (!model.ok()) return model.status();
    if (auto status = ApplyOverrides(**model); !status.ok()) return status;
    for (const std::string& pattern : (*model)->unsupported_patterns()) {
      spdlog::info("model {}: pattern not supported by RE2, not validated: {}", embedded.name,
                   pattern);
    }
    if (auto status = registry->Add(std::move(*model)); !status.ok()) return status;
  }
  return registry;
}

const ModelRegistry& ModelRegistry::Embedded() {
  static const ModelRegistry* const registry = [] {
    auto loaded = LoadEmbedded();
    if (!loaded.ok()) {
      spdlog::critical("embedded service models do not load: {}", loaded.status().ToString());
      std::abort();
    }
    return loaded->release();
  }();
  return *registry;
}

absl::Status ModelRegistry::Add(std::unique_ptr<ServiceModel> model) {
  if (Find(model->name()) != nullptr) {
    return absl::AlreadyExistsError("service model " + model->name() + " added twice");
  }
  services_.push_back(std::move(model));
  return absl::OkStatus();
}

const ServiceModel* ModelRegistry::Find(std::string_view name) const {
  for (const auto& s : services_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

const ServiceModel* ModelRegistry::FindByTargetPrefix(std::string_view target_prefix) const {
  if (target_prefix.empty()) return nullptr;
  for (const auto& s : services_) {
    if (s->metadata().target_prefix == target_prefix) return s.get();
  }
  return nullptr;
}

const ServiceModel* ModelRegistry::FindBySigningName(std::string_view signing_name) const {
  if (signing_name.empty()) return nullptr;
  for (const auto& s : services_) {
    if (s->metadata().signing_name == signing_name) return s.get();
  }
  return nullptr;
}

}  // namespace klaxon::api::model
