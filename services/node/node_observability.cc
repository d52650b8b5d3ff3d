#include "node_observability.h"

#include <algorithm>
#include <exception>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "prometheus/exposer.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/pem.h"
#include "spdlog/spdlog.h"

#ifndef RUTA_VERSION
#define RUTA_VERSION "unknown"
#endif

namespace ruta::node {
namespace {

// Drops the builder's plugins (the process-wide reflection plugin the main
// server enables): the health-only listener serves grpc.health.v1.Health and
// nothing else.
class NoPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// Every method of the health-only listener but Health's: UNIMPLEMENTED. (It
// also gives the server the callback queue gRPC requires before it adds its
// default health service.)
class OnlyHealth final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    class Refusal final : public grpc::ServerGenericBidiReactor {
     public:
      Refusal() {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "this port serves only grpc.health.v1.Health; "
                            "call the node's mTLS port"));
      }
      void OnDone() override { delete this; }
    };
    return new Refusal;
  }
};

observability::NodeMetricsOptions MetricsOptions(
    const ruta::node::v1::NodeConfig& config) {
  observability::NodeMetricsOptions options;
  options.region = config.region();
  options.version = RUTA_VERSION;
  return options;
}

// The earliest of `times`; nullopt when empty.
std::optional<absl::Time> Earliest(const std::vector<absl::Time>& times) {
  if (times.empty()) return std::nullopt;
  return *std::min_element(times.begin(), times.end());
}

}  // namespace

std::string ListenAddressOf(const std::string& address) {
  uint32_t port = 0;
  if (absl::SimpleAtoi(address, &port)) {
    return absl::StrCat("127.0.0.1:", port);
  }
  return address;
}

NodeObservability::NodeObservability(const ruta::node::v1::NodeConfig& config)
    : config_(config), metrics_(MetricsOptions(config)) {}

NodeObservability::~NodeObservability() {
  StopReadingStore();
  Stop();
}

absl::Status NodeObservability::Start(store::Store* store) {
  store_ = store;
  const auto& settings = config_.observability();
  if (!settings.metrics_address().empty()) {
    const std::string address = ListenAddressOf(settings.metrics_address());
    try {
      exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("observability.metrics_address: cannot listen on ",
                       address, " (", e.what(), ")"));
    }
    const std::vector<int> ports = exposer_->GetListeningPorts();
    metrics_port_ = ports.empty() ? 0 : ports.front();
    metrics_.SetRefresher(
        [this](observability::NodeMetrics& metrics) { Refresh(metrics); });
    exposer_->RegisterCollectable(metrics_.collectable());
  }
  if (!settings.health_address().empty()) {
    const std::string address = ListenAddressOf(settings.health_address());
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.SetOption(std::make_unique<NoPlugins>());
    only_health_ = std::make_unique<OnlyHealth>();
    builder.RegisterCallbackGenericService(only_health_.get());
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                             &health_port_);
    health_server_ = builder.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      health_server_.reset();
      return absl::UnavailableError(
          absl::StrCat("observability.health_address: cannot listen on ",
                       address, " (address in use or not local?)"));
    }
    SetServing(false);
  }
  return absl::OkStatus();
}

void NodeObservability::SetServing(bool serving) {
  if (health_server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health =
      health_server_->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(serving);
}

void NodeObservability::StopReadingStore() { metrics_.SetRefresher(nullptr); }

void NodeObservability::Stop() {
  if (health_server_ != nullptr) {
    SetServing(false);
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
    health_server_.reset();
  }
  exposer_.reset();
}

void NodeObservability::Refresh(observability::NodeMetrics& metrics) {
  const absl::Time now = absl::Now();
  if (store_ != nullptr) {
    std::vector<observability::PeerState> peers;
    int64_t audit_length = 0;
    absl::Status read = store_->ReadSync([&](store::ReadTxn& txn) {
      peers.clear();
      for (const auto& peer : config_.peers()) {
        observability::PeerState state;
        state.peer = peer.region();
        RUTA_ASSIGN_OR_RETURN(store::OutboxStats outbox,
                              txn.GetOutboxStats(peer.region()));
        state.outbox_backlog =
            std::max<int64_t>(0, outbox.last_sequence - outbox.acknowledged) +
            outbox.unstamped;
        if (outbox.oldest_unacknowledged_at != absl::InfinitePast()) {
          state.relay_lag = now - outbox.oldest_unacknowledged_at;
        }
        RUTA_ASSIGN_OR_RETURN(state.inbox_applied_sequence,
                              txn.GetInboxPosition(peer.region()));
        peers.push_back(std::move(state));
      }
      RUTA_ASSIGN_OR_RETURN(store::AuditHead head, txn.GetAuditHead());
      audit_length = head.length;
      return absl::OkStatus();
    });
    if (read.ok()) {
      for (const auto& state : peers) metrics.SetPeerState(state);
      metrics.SetAuditChainLength(audit_length);
    } else {
      spdlog::warn("metrics: cannot read the store's gauges: {}",
                   std::string(read.message()));
    }
  }
  // Files are read again on each refresh: rotation shows without restart.
  if (absl::StatusOr<std::string> pem =
          security::ReadPemFile(config_.tls().cert_file(), "node certificate");
      pem.ok()) {
    // The first certificate of the file is the node's own.
    const std::vector<absl::Time> times = security::CertificateNotAfter(*pem);
    if (!times.empty()) {
      metrics.SetCertificateExpiry("node", config_.region(), times.front(),
                                   now);
    }
  }
  for (const auto& region : config_.regions()) {
    if (absl::StatusOr<std::string> pem =
            security::ReadPemFile(region.ca_file(), "CA certificate");
        pem.ok()) {
      if (auto earliest = Earliest(security::CertificateNotAfter(*pem))) {
        metrics.SetCertificateExpiry("ca", region.slug(), *earliest, now);
      }
    }
    std::vector<absl::Time> next_updates;
    for (const auto& file : region.crl_files()) {
      absl::StatusOr<std::string> pem = security::ReadPemFile(file, "CRL");
      if (!pem.ok()) continue;
      for (absl::Time t : security::CrlNextUpdate(*pem)) {
        next_updates.push_back(t);
      }
    }
    if (auto earliest = Earliest(next_updates)) {
      metrics.SetCrlExpiry(region.slug(), *earliest, now);
    }
  }
}

}  // namespace ruta::node
