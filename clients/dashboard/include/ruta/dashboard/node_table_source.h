// The TableSource of ruta-dashboard: the node's Dashboard service over
// mutual TLS with the dashboard's certificate. One channel, reused by every
// call; each call has a deadline and does not wait for a connection
// (an unreachable node fails fast with UNAVAILABLE).
#ifndef RUTA_DASHBOARD_NODE_TABLE_SOURCE_H_
#define RUTA_DASHBOARD_NODE_TABLE_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/dashboard/web_server.h"
#include "ruta/v1/dashboard.grpc.pb.h"

namespace ruta::dashboard {

class NodeTableSource final : public TableSource {
 public:
  struct Options {
    std::string address;      // host:port of the node
    std::string node_region;  // expected node region; empty: any
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    absl::Duration deadline = absl::Seconds(5);
  };
  // FAILED_PRECONDITION naming a TLS file that is missing or unreadable.
  static absl::StatusOr<std::unique_ptr<NodeTableSource>> Create(
      const Options& options);

  absl::StatusOr<v1::ListTablesResponse> ListTables() override;
  absl::StatusOr<v1::GetTableResponse> GetTable(
      const v1::GetTableRequest& request) override;

 private:
  NodeTableSource(std::unique_ptr<v1::Dashboard::Stub> stub,
                  absl::Duration deadline)
      : stub_(std::move(stub)), deadline_(deadline) {}
  std::unique_ptr<v1::Dashboard::Stub> stub_;
  absl::Duration deadline_;
};

}  // namespace ruta::dashboard

#endif  // RUTA_DASHBOARD_NODE_TABLE_SOURCE_H_
