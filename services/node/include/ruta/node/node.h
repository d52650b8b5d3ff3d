// A running regional node: store, core, services and the mTLS gRPC server.
// `ruta-node` (main.cc) is a thin wrapper around it; tests start it
// in-process.
#ifndef RUTA_NODE_NODE_H_
#define RUTA_NODE_NODE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/node/v1/config.pb.h"

namespace ruta::api {
class Authorizer;
}  // namespace ruta::api

namespace ruta::node {

class Node final {
 public:
  // Opens the store (creating and migrating it), loads the linkage key, builds
  // the services and starts serving on config.listen_address (port 0 picks a
  // free port: see port()). The config must have passed ParseConfig.
  // FAILED_PRECONDITION/NOT_FOUND naming what is missing when a file cannot be
  // used; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Node>> Start(
      const ruta::node::v1::NodeConfig& config);

  ~Node();  // Shuts down (as Shutdown with the configured grace) if running.
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The port actually bound.
  int port() const;
  // The ports of the Prometheus endpoint and of the plaintext health-only
  // listener (config observability.metrics_address / health_address; port 0
  // there picks a free port); 0 when not configured.
  int metrics_port() const;
  int health_port() const;
  const std::string& region() const;

  // The node's authorizer: its effective policy (Authorizer::IsAllowed), for
  // tests and diagnostics. Lives as long as the Node.
  const api::Authorizer& authorizer() const;

  // Applies the `authorization` section of `config` (a configuration of this
  // node freshly loaded with LoadConfig; the built-in default policy when it
  // has none): validates it and swaps the policy atomically, so that calls
  // authorized afterwards use it. Other settings are ignored (they take effect
  // on restart). On error the current policy stays: INVALID_ARGUMENT naming
  // the bad rule; FAILED_PRECONDITION when `config` is for another region.
  absl::Status ReloadAuthorization(const ruta::node::v1::NodeConfig& config);

  // Marks health NOT_SERVING (on the health-only port too), stops accepting
  // calls, lets in-flight calls finish for up to `grace`, cancels the rest,
  // then drains the store and closes the metrics and health-only listeners.
  // Idempotent.
  void Shutdown(absl::Duration grace);

  // The node's parts (node.cc only).
  struct State;

 private:
  explicit Node(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ruta::node

#endif  // RUTA_NODE_NODE_H_
