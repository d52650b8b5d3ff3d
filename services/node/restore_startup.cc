#include "restore_startup.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/signing.h"

namespace ruta::node {

absl::StatusOr<std::unique_ptr<federation::RestoreRecovery>>
MakeRestoreRecovery(const ruta::node::v1::NodeConfig& config,
                    store::Store* store, std::function<void()> on_recovered) {
  federation::RestoreRecoveryOptions options;
  options.region = config.region();
  options.principal = absl::StrCat("node:", config.region(), "/restore");
  options.tls.cert_file = config.tls().cert_file();
  options.tls.key_file = config.tls().key_file();
  options.tls.ca_file = config.tls().trust_bundle_file();
  for (const auto& peer : config.peers()) {
    federation::RelayPeer endpoint{peer.region(), peer.address(), ""};
    for (const auto& region : config.regions()) {
      if (region.slug() == peer.region()) endpoint.ca_file = region.ca_file();
    }
    options.peers.push_back(std::move(endpoint));
  }
  // Missing keys are reported only when a recovery is pending.
  if (!config.signing_key_file().empty()) {
    RUTA_ASSIGN_OR_RETURN(
        std::unique_ptr<security::Signer> signer,
        security::Signer::LoadFromFile(config.signing_key_file()));
    options.signer = std::move(signer);
  }
  for (const auto& region : config.regions()) {
    if (region.slug() != config.region() ||
        region.signing_public_key_file().empty()) {
      continue;
    }
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<security::SignatureVerifier> key,
                          security::SignatureVerifier::LoadFromFile(
                              region.signing_public_key_file()));
    options.own_key = std::move(key);
  }
  const auto& settings = config.federation();
  if (settings.initial_backoff_ms() > 0) {
    options.initial_backoff = absl::Milliseconds(settings.initial_backoff_ms());
  }
  if (settings.max_backoff_ms() > 0) {
    options.max_backoff = absl::Milliseconds(settings.max_backoff_ms());
  }
  options.on_recovered = std::move(on_recovered);
  return federation::RestoreRecovery::Create(std::move(options), store);
}

}  // namespace ruta::node
