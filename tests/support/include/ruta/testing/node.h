// Start ruta nodes for tests: in-process (fast) or as real processes, on
// 127.0.0.1:0, reading back the chosen port; and client channels with real
// mutual TLS.
#ifndef RUTA_TESTING_NODE_H_
#define RUTA_TESTING_NODE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "ruta/node/node.h"
#include "ruta/testing/pki.h"

namespace ruta::testing {

// Display data of the dev regions.
struct RegionInfo {
  std::string slug;
  std::string ubigeo_department;
  std::string display_name;
};
inline const RegionInfo kCusco{"cusco", "08", "Cusco"};
inline const RegionInfo kMadreDeDios{"madre-de-dios", "17", "Madre de Dios"};

struct NodeSetup {
  std::string region = "cusco";
  std::string data_dir;  // empty: a fresh temp dir
  // Peer addresses by region (the other dev region if empty and known).
  std::vector<std::pair<std::string, std::string>> peers;
};

// Writes a JSON configuration for a dev-PKI node listening on 127.0.0.1:0
// with its port written to <data_dir>/port; returns the file's path.
std::string WriteNodeConfig(const DevPki& pki, const NodeSetup& setup);

// A node running inside the test process.
class InProcessNode final {
 public:
  // Aborts the test (gtest fatal failure in the caller) on error.
  static std::unique_ptr<InProcessNode> Start(const NodeSetup& setup);
  InProcessNode(const InProcessNode&) = delete;
  InProcessNode& operator=(const InProcessNode&) = delete;

  std::string address() const;  // "127.0.0.1:<port>"
  ruta::node::Node& node() { return *node_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  InProcessNode(std::unique_ptr<ruta::node::Node> node, std::string data_dir)
      : node_(std::move(node)), data_dir_(std::move(data_dir)) {}
  std::unique_ptr<ruta::node::Node> node_;
  std::string data_dir_;
};

// A channel to `address` presenting `client` and expecting a node of
// `server_region` (empty: any).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const KeyPair& client,
                                           const std::string& server_region);

// A context with a deadline, as every client call must have.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration timeout = absl::Seconds(10));

}  // namespace ruta::testing

#endif  // RUTA_TESTING_NODE_H_
