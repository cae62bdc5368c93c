#pragma once
// Every service model klaxon serves, looked up the ways the protocol layer needs: by botocore
// name, by JSON-RPC target prefix (X-Amz-Target) and by SigV4 signing name (credential scope).
//
// Filled once at startup, immutable afterwards: lookups are thread-safe without locking.

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "api/model/service_model.h"

namespace klaxon::api::model {

class ModelRegistry {
 public:
  ModelRegistry() = default;
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // Parses every model embedded at build time (embedded_models.h) and applies overrides.h.
  // Logs, once, each pattern RE2 cannot handle. Errors: a model that does not parse (a build
  // defect).
  static absl::StatusOr<std::unique_ptr<ModelRegistry>> LoadEmbedded();

  // A process-wide LoadEmbedded() registry, built on first use (thread-safe). Aborts if the
  // embedded models do not parse, which the build's own tests rule out.
  static const ModelRegistry& Embedded();

  // Adds `model`. Errors: AlreadyExists for a second model with the same name.
  absl::Status Add(std::unique_ptr<ServiceModel> model);

  // nullptr when unknown.
  const ServiceModel* Find(std::string_view name) const;
  const ServiceModel* FindByTargetPrefix(std::string_view target_prefix) const;
  // The first added service with this signing name.
  const ServiceModel* FindBySigningName(std::string_view signing_name) const;

  const std::vector<std::unique_ptr<ServiceModel>>& services() const { return services_; }

 private:
  std::vector<std::unique_ptr<ServiceModel>> services_;
};

}  // namespace klaxon::api::model

namespace klaxon::api {
// The registry is the api layer's entry point to the models; spelled api::ModelRegistry by callers
// outside api/model (server wiring).
using model::ModelRegistry;
}  // namespace klaxon::api
