// What a node shows its operators' monitoring (config.proto Observability,
// docs/observability.md): the Prometheus endpoint (an HTTP Exposer over the
// node's observability::NodeMetrics) and the plaintext health-only gRPC
// listener. Private to the node library.
#ifndef RUTA_NODE_NODE_OBSERVABILITY_H_
#define RUTA_NODE_NODE_OBSERVABILITY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/observability/metrics.h"
#include "ruta/store/store.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace ruta::node {

// "host:port" as given, or "127.0.0.1:<port>" for a bare port.
std::string ListenAddressOf(const std::string& address);

class NodeObservability final {
 public:
  // The metrics (recording starts at once: the authorizer hands them to every
  // call). Nothing listens yet.
  explicit NodeObservability(const ruta::node::v1::NodeConfig& config);
  ~NodeObservability();  // Stop()
  NodeObservability(const NodeObservability&) = delete;
  NodeObservability& operator=(const NodeObservability&) = delete;

  observability::NodeMetrics* metrics() { return &metrics_; }

  // Starts the metrics endpoint (when metrics_address is set; gauges read
  // from `store` on scrape, which must stay open until StopReadingStore) and
  // the health-only listener (when health_address is set, NOT_SERVING until
  // SetServing(true)). UNAVAILABLE naming the setting when an address cannot
  // be bound.
  absl::Status Start(store::Store* store);

  // The health-only port's status for every service name ("" included).
  void SetServing(bool serving);

  // Scrapes stop reading the store (waits for a running refresh).
  void StopReadingStore();
  // Shuts both listeners down. Idempotent.
  void Stop();

  // The ports bound (0 when that listener is not configured).
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }

 private:
  void Refresh(observability::NodeMetrics& metrics);

  const ruta::node::v1::NodeConfig config_;
  observability::NodeMetrics metrics_;
  store::Store* store_ = nullptr;
  std::unique_ptr<prometheus::Exposer> exposer_;
  // Outlives the health server that dispatches to it.
  std::unique_ptr<grpc::CallbackGenericService> only_health_;
  std::unique_ptr<grpc::Server> health_server_;
  int metrics_port_ = 0;
  int health_port_ = 0;
};

}  // namespace ruta::node

#endif  // RUTA_NODE_NODE_OBSERVABILITY_H_
