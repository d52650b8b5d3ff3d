// The Prometheus metrics of one regional node (docs/observability.md lists
// them), transport-neutral: this component keeps the registry and records
// into it; it serves nothing. The node exposes collectable() over HTTP
// (prometheus::Exposer, services/node/observability.cc); tests and
// benchmarks read Text().
//
// Contract:
// * No case data ever reaches a label: labels are gRPC service/method names
//   and status code names, region slugs of configured peers, and the fixed
//   certificate kinds. Callers never pass a case id, person ref, partner case
//   ref, clerk or any request content; RecordRpc refuses (drops) a method
//   that is not "<Service>.<Method>" in identifier characters.
// * Recording (RecordRpc, CountEventsReceived/Applied) is thread-safe and
//   never blocks on I/O: after the first call of a method it takes a reader
//   lock and updates atomics. Safe from gRPC reactor threads.
// * State that lives in the store (outbox backlog and relay lag, inbox
//   position, audit chain length) and certificate expiry are gauges set by a
//   refresher (SetRefresher) that runs on the scraping thread, before each
//   collection, at most once per `refresh_min_interval`; it may block (reads
//   the store, files) but never runs on an RPC thread.
#ifndef RUTA_OBSERVABILITY_METRICS_H_
#define RUTA_OBSERVABILITY_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace ruta::observability {

struct NodeMetricsOptions {
  // The node's region slug and version, labels of ruta_build_info.
  std::string region;
  std::string version;
  // ruta_process_start_time_seconds. Default: when the metrics were created.
  absl::Time start_time = absl::InfinitePast();
  // Upper bounds (seconds) of the ruta_rpc_duration_seconds buckets.
  // Default (empty): 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  // 0.25, 0.5, 1, 2.5, 5, 10.
  std::vector<double> latency_buckets;
  // Least time between two runs of the refresher. Default 1 s: a burst of
  // scrapes reads the store once.
  absl::Duration refresh_min_interval = absl::Seconds(1);
};

// One configured peer region's federation state, as the store tells.
struct PeerState {
  std::string peer;  // region slug
  // Events for the peer not yet acknowledged by it (stamped or not).
  int64_t outbox_backlog = 0;
  // Age of the oldest unacknowledged event; zero when none.
  absl::Duration relay_lag;
  // Highest sequence of the peer's stream applied here (= events of that
  // stream applied since it began).
  int64_t inbox_applied_sequence = 0;
};

class NodeMetrics final {
 public:
  explicit NodeMetrics(NodeMetricsOptions options = {});
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;
  ~NodeMetrics();

  // One finished call of `method` ("<Service>.<Method>", e.g.
  // "CaseOffice.GetCase") with `code` after `elapsed`:
  // ruta_rpc_requests_total{service,method,code} += 1 and an observation of
  // ruta_rpc_duration_seconds{service,method}.
  void RecordRpc(absl::string_view method, absl::StatusCode code,
                 absl::Duration elapsed);

  // Events of `peer`'s stream received in batches (whether or not applied),
  // and newly applied here (ruta_federation_events_{received,applied}_total).
  void CountEventsReceived(absl::string_view peer, int64_t events);
  void CountEventsApplied(absl::string_view peer, int64_t events);

  // Gauges the refresher sets.
  void SetPeerState(const PeerState& state);
  // ruta_audit_chain_length.
  void SetAuditChainLength(int64_t length);
  // ruta_certificate_expiry_seconds{certificate,region}: seconds from now to
  // `not_after` (negative once expired). `certificate` is "node" (the node's
  // own TLS certificate) or "ca" (the earliest-expiring certificate of a
  // region's CA file).
  void SetCertificateExpiry(absl::string_view certificate,
                            absl::string_view region, absl::Time not_after,
                            absl::Time now);
  // ruta_crl_expiry_seconds{region}: seconds to the earliest nextUpdate of
  // the region's CRLs.
  void SetCrlExpiry(absl::string_view region, absl::Time next_update,
                    absl::Time now);

  // Called (on the collecting thread) before a collection, at most once per
  // refresh_min_interval, with these metrics. Replaces any previous one.
  // Must be cleared (nullptr) before what it reads is destroyed.
  void SetRefresher(std::function<void(NodeMetrics&)> refresher);

  // What a Prometheus server scrapes: runs the refresher, then collects the
  // registry. Lives as long as these metrics (shared so that an Exposer can
  // hold a weak reference).
  std::shared_ptr<prometheus::Collectable> collectable() const {
    return collectable_;
  }
  // The text exposition format of a collection (what GET /metrics returns).
  std::string Text() const;

 private:
  struct MethodMetrics;
  class Collector;

  MethodMetrics* ForMethod(absl::string_view method);
  void Refresh();

  const NodeMetricsOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& events_received_;
  prometheus::Family<prometheus::Counter>& events_applied_;
  prometheus::Family<prometheus::Gauge>& outbox_backlog_;
  prometheus::Family<prometheus::Gauge>& relay_lag_;
  prometheus::Family<prometheus::Gauge>& inbox_applied_;
  prometheus::Family<prometheus::Gauge>& audit_length_;
  prometheus::Family<prometheus::Gauge>& certificate_expiry_;
  prometheus::Family<prometheus::Gauge>& crl_expiry_;
  std::shared_ptr<prometheus::Collectable> collectable_;

  absl::Mutex methods_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodMetrics>> methods_
      ABSL_GUARDED_BY(methods_mu_);

  absl::Mutex refresh_mu_;
  std::function<void(NodeMetrics&)> refresher_ ABSL_GUARDED_BY(refresh_mu_);
  absl::Time last_refresh_ ABSL_GUARDED_BY(refresh_mu_) = absl::InfinitePast();
};

// Whether `method` is "<Service>.<Method>" in letters and digits (what
// RecordRpc accepts).
bool IsMethodName(absl::string_view method);

}  // namespace ruta::observability

#endif  // RUTA_OBSERVABILITY_METRICS_H_
