// A fault-injecting TCP proxy for tests: listens on 127.0.0.1, forwards each
// connection to an upstream "host:port", and lets a test inject link faults
// (latency, refused connections, cuts, black holes, half-open links) at any
// time, e.g. between two federated ruta nodes.
#ifndef RUTA_TESTING_FAULT_PROXY_H_
#define RUTA_TESTING_FAULT_PROXY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ruta::testing {

struct FaultProxyOptions {
  // "host:port" that new connections are forwarded to ("[::1]:port" for an
  // IPv6 literal); required.
  std::string upstream;
  // Port to listen on, on 127.0.0.1. Default 0: a free port chosen by the
  // kernel, read back with port().
  int listen_port = 0;
  // How long connecting to the upstream may take; the client's connection is
  // reset when it fails or times out. Default 5 s.
  absl::Duration connect_timeout = absl::Seconds(5);
};

// Forwards every accepted connection to the upstream, both directions, on a
// thread of its own per connection. A peer's FIN is propagated as
// shutdown(SHUT_WR) once the bytes before it were forwarded; a reset or
// error on either side resets both.
//
// The faults are independent of each other, can be set at any time from any
// thread, and take effect within about 50 ms, on open connections too
// (except SetRefuseNew, which is about new ones). All methods are
// thread-safe.
class FaultProxy final {
 public:
  // Listens and starts accepting. INVALID_ARGUMENT when options.upstream is
  // not "host:port"; the errno's status when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(
      FaultProxyOptions options);
  // Stops listening and resets every open connection (both sides); returns
  // once every thread of the proxy has been joined.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"

  // Where new connections go from now on (e.g. a node restarted on another
  // port); open connections stay where they are. INVALID_ARGUMENT (and no
  // change) when `upstream` is not "host:port".
  absl::Status SetUpstream(std::string upstream);
  std::string upstream() const;

  // Latency: a chunk of bytes read from either side is written to the other
  // only `delay` after it was read (the current delay applies to bytes
  // already in flight too, so lowering it releases them sooner). Order is
  // preserved; the two directions are delayed independently. 0: none.
  void SetDelay(absl::Duration delay);
  // While true, new connections are accepted and at once reset (SO_LINGER 0)
  // without reaching the upstream; open connections are not affected.
  void SetRefuseNew(bool refuse);
  // Resets every open connection, both sides, and returns once they are
  // closed. Connections accepted afterwards work as usual.
  void CutAll();
  // While true, connections stay open but no byte is forwarded in either
  // direction: bytes are read and discarded (also those still delayed), and
  // a FIN is held back until the black hole ends. Turning it off does not
  // bring the discarded bytes back.
  void SetBlackHole(bool on);
  // While true, bytes from the client are forwarded to the upstream but
  // bytes from the upstream are read and discarded (and its FIN held back):
  // the client sees a link that accepts but never answers.
  void SetHalfOpen(bool on);
  // Clears every fault: no delay, no refusal, no black hole, no half-open.
  // Connections that were cut stay closed.
  void Heal();

  // Connections accepted since Start, including refused ones.
  int64_t connections_accepted() const {
    return connections_accepted_.load(std::memory_order_relaxed);
  }
  // Bytes written to either side, both directions added up.
  int64_t bytes_forwarded() const {
    return bytes_forwarded_.load(std::memory_order_relaxed);
  }
  // Connections being forwarded (or connecting to the upstream) now.
  int open_connections() const;

 private:
  struct Connection;
  // What a connection's thread must do, read at each turn of its loop.
  struct Faults {
    absl::Duration delay;
    bool black_hole = false;
    bool half_open = false;
    bool close = false;  // stopping, or cut by CutAll
  };

  FaultProxy(FaultProxyOptions options, int listen_fd, int port, int wake_fd);
  void AcceptLoop();
  void Accept();
  // Joins and destroys the connections whose thread has finished.
  void Reap();
  void Serve(Connection* connection);
  int ConnectUpstream(Connection* connection);
  void Pump(Connection* connection, int client_fd, int upstream_fd);
  Faults FaultsFor(int64_t id) const;
  // Wakes the accept loop and every connection's thread.
  void WakeAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const FaultProxyOptions options_;
  const int listen_fd_;
  const int port_;
  const int wake_fd_;  // eventfd waking the accept loop

  mutable absl::Mutex mu_;
  std::string upstream_host_ ABSL_GUARDED_BY(mu_);
  std::string upstream_port_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  bool refuse_new_ ABSL_GUARDED_BY(mu_) = false;
  bool black_hole_ ABSL_GUARDED_BY(mu_) = false;
  bool half_open_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Connections with an id up to this one are to be reset (CutAll).
  int64_t cut_up_to_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::unique_ptr<Connection>> connections_
      ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> connections_accepted_{0};
  std::atomic<int64_t> bytes_forwarded_{0};
  std::thread accept_thread_;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_FAULT_PROXY_H_
