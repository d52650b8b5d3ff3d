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
  const std::string& region() const;

  // Marks health NOT_SERVING, stops accepting calls, lets in-flight calls
  // finish for up to `grace`, cancels the rest, then drains the store.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct State;
  explicit Node(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ruta::node

#endif  // RUTA_NODE_NODE_H_
