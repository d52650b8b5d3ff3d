// Reads a ruta-node's Prometheus endpoint (observability.metrics_address),
// as a monitoring system would: plain HTTP GET /metrics on loopback.
#ifndef RUTA_BENCH_LOADGEN_SCRAPE_H_
#define RUTA_BENCH_LOADGEN_SCRAPE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace httplib {
class Client;
}

namespace ruta::bench {

class MetricsScraper final {
 public:
  // The endpoint on 127.0.0.1:`port`; one kept-alive connection.
  explicit MetricsScraper(int port);
  ~MetricsScraper();
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // One scrape (2 s timeouts); the value of the sample whose name and
  // labels are exactly `series`, e.g.
  // `ruta_federation_events_applied_total{peer="madre-de-dios"}`; 0 when the
  // series is not in the exposition (a counter not incremented yet).
  // UNAVAILABLE when the endpoint does not answer 200.
  absl::StatusOr<double> Read(const std::string& series);

 private:
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_SCRAPE_H_
