#include "ruta/observability/metrics.h"

#include <array>
#include <atomic>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace ruta::observability {

namespace {

constexpr int kCodeCount = 17;  // absl::StatusCode 0..16, as gRPC's.

std::vector<double> DefaultBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

bool IsMethodName(absl::string_view method) {
  const size_t dot = method.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot + 1 >= method.size() ||
      method.size() > 128) {
    return false;
  }
  for (size_t i = 0; i < method.size(); ++i) {
    if (i == dot) continue;
    if (!absl::ascii_isalnum(static_cast<unsigned char>(method[i]))) {
      return false;
    }
  }
  return true;
}

struct NodeMetrics::MethodMetrics {
  std::string service;
  std::string method;
  prometheus::Histogram* duration = nullptr;
  // Created on the first call that ends with the code.
  std::array<std::atomic<prometheus::Counter*>, kCodeCount> requests{};
};

// Runs the refresher, then collects the registry.
class NodeMetrics::Collector final : public prometheus::Collectable {
 public:
  explicit Collector(NodeMetrics* metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_->Refresh();
    return metrics_->registry_->Collect();
  }

 private:
  NodeMetrics* const metrics_;
};

NodeMetrics::NodeMetrics(NodeMetricsOptions options)
    : options_(std::move(options)),
      registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("ruta_rpc_requests_total")
                    .Help("Finished gRPC calls by service, method and status "
                          "code (a stream counts when it is admitted or "
                          "refused, Federation.Exchange when it ends)")
                    .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("ruta_rpc_duration_seconds")
                     .Help("Time from the start of a call's handler to its "
                           "status, by service and method")
                     .Register(*registry_)),
      events_received_(prometheus::BuildCounter()
                           .Name("ruta_federation_events_received_total")
                           .Help("Events received from a peer region in "
                                 "federation batches, applied or not")
                           .Register(*registry_)),
      events_applied_(prometheus::BuildCounter()
                          .Name("ruta_federation_events_applied_total")
                          .Help("Events from a peer region newly applied "
                                "here since the node started")
                          .Register(*registry_)),
      outbox_backlog_(prometheus::BuildGauge()
                          .Name("ruta_federation_outbox_backlog")
                          .Help("Events for a peer region not yet "
                                "acknowledged by it")
                          .Register(*registry_)),
      relay_lag_(prometheus::BuildGauge()
                     .Name("ruta_federation_relay_lag_seconds")
                     .Help("Age of the oldest event a peer region has not "
                           "acknowledged (0 when none)")
                     .Register(*registry_)),
      inbox_applied_(prometheus::BuildGauge()
                         .Name("ruta_federation_inbox_applied_sequence")
                         .Help("Highest sequence of a peer region's stream "
                               "applied here")
                         .Register(*registry_)),
      audit_length_(prometheus::BuildGauge()
                        .Name("ruta_audit_chain_length")
                        .Help("Records in this node's audit chain")
                        .Register(*registry_)),
      certificate_expiry_(prometheus::BuildGauge()
                              .Name("ruta_certificate_expiry_seconds")
                              .Help("Seconds until a certificate expires "
                                    "(node: the node's own TLS certificate; "
                                    "ca: the earliest of a region's CA file)")
                              .Register(*registry_)),
      crl_expiry_(prometheus::BuildGauge()
                      .Name("ruta_crl_expiry_seconds")
                      .Help("Seconds until the earliest nextUpdate of a "
                            "region's configured CRLs")
                      .Register(*registry_)),
      collectable_(std::make_shared<Collector>(this)) {
  const absl::Time start = options_.start_time == absl::InfinitePast()
                               ? absl::Now()
                               : options_.start_time;
  prometheus::BuildGauge()
      .Name("ruta_process_start_time_seconds")
      .Help("Start time of the node since the Unix epoch")
      .Register(*registry_)
      .Add({})
      .Set(absl::ToDoubleSeconds(start - absl::UnixEpoch()));
  prometheus::BuildGauge()
      .Name("ruta_build_info")
      .Help("Always 1; the labels tell the node's version and region")
      .Register(*registry_)
      .Add({{"version", options_.version}, {"region", options_.region}})
      .Set(1);
}

NodeMetrics::~NodeMetrics() = default;

NodeMetrics::MethodMetrics* NodeMetrics::ForMethod(absl::string_view method) {
  {
    absl::ReaderMutexLock lock(&methods_mu_);
    auto it = methods_.find(method);
    if (it != methods_.end()) return it->second.get();
  }
  absl::MutexLock lock(&methods_mu_);
  auto& slot = methods_[method];
  if (slot == nullptr) {
    auto entry = std::make_unique<MethodMetrics>();
    const size_t dot = method.find('.');
    entry->service = std::string(method.substr(0, dot));
    entry->method = std::string(method.substr(dot + 1));
    entry->duration = &durations_.Add(
        {{"service", entry->service}, {"method", entry->method}},
        options_.latency_buckets.empty()
            ? DefaultBuckets()
            : prometheus::Histogram::BucketBoundaries(
                  options_.latency_buckets));
    slot = std::move(entry);
  }
  return slot.get();
}

void NodeMetrics::RecordRpc(absl::string_view method, absl::StatusCode code,
                            absl::Duration elapsed) {
  if (!IsMethodName(method)) return;
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodeCount) index = 2;  // UNKNOWN
  MethodMetrics* m = ForMethod(method);
  prometheus::Counter* counter =
      m->requests[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the existing counter for the same labels, so a
    // race here creates one counter.
    counter = &requests_.Add(
        {{"service", m->service},
         {"method", m->method},
         {"code",
          absl::StatusCodeToString(static_cast<absl::StatusCode>(index))}});
    m->requests[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
  m->duration->Observe(Seconds(elapsed));
}

void NodeMetrics::CountEventsReceived(absl::string_view peer, int64_t events) {
  if (events <= 0) return;
  events_received_.Add({{"peer", std::string(peer)}})
      .Increment(static_cast<double>(events));
}

void NodeMetrics::CountEventsApplied(absl::string_view peer, int64_t events) {
  if (events <= 0) return;
  events_applied_.Add({{"peer", std::string(peer)}})
      .Increment(static_cast<double>(events));
}

void NodeMetrics::SetPeerState(const PeerState& state) {
  const prometheus::Labels labels{{"peer", state.peer}};
  outbox_backlog_.Add(labels).Set(static_cast<double>(state.outbox_backlog));
  relay_lag_.Add(labels).Set(
      Seconds(std::max(state.relay_lag, absl::ZeroDuration())));
  inbox_applied_.Add(labels).Set(
      static_cast<double>(state.inbox_applied_sequence));
}

void NodeMetrics::SetAuditChainLength(int64_t length) {
  audit_length_.Add({}).Set(static_cast<double>(length));
}

void NodeMetrics::SetCertificateExpiry(absl::string_view certificate,
                                       absl::string_view region,
                                       absl::Time not_after, absl::Time now) {
  certificate_expiry_
      .Add({{"certificate", std::string(certificate)},
            {"region", std::string(region)}})
      .Set(Seconds(not_after - now));
}

void NodeMetrics::SetCrlExpiry(absl::string_view region, absl::Time next_update,
                               absl::Time now) {
  crl_expiry_.Add({{"region", std::string(region)}})
      .Set(Seconds(next_update - now));
}

void NodeMetrics::SetRefresher(std::function<void(NodeMetrics&)> refresher) {
  absl::MutexLock lock(&refresh_mu_);
  refresher_ = std::move(refresher);
  last_refresh_ = absl::InfinitePast();
}

void NodeMetrics::Refresh() {
  // Held while the refresher runs: concurrent scrapes wait for one refresh,
  // and SetRefresher(nullptr) waits for a running one to finish.
  absl::MutexLock lock(&refresh_mu_);
  if (!refresher_) return;
  const absl::Time now = absl::Now();
  if (now - last_refresh_ < options_.refresh_min_interval) return;
  last_refresh_ = now;
  refresher_(*this);
}

std::string NodeMetrics::Text() const {
  return prometheus::TextSerializer().Serialize(collectable_->Collect());
}

}  // namespace ruta::observability
