// The life of a web client's process (ruta-dashboard, ruta-console): stop
// signals handled by one thread, listen, tell the chosen port, serve until
// SIGTERM or SIGINT, stop gracefully.
#ifndef RUTA_WEB_SERVE_H_
#define RUTA_WEB_SERVE_H_

#include <signal.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace ruta::web {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it
// starts afterwards (they are taken by ServeUntilStopped's waiter with
// sigwait), and ignores SIGPIPE. Call it first in main, before a library
// (gRPC) starts threads. Returns the blocked set.
sigset_t BlockStopSignals();

// What ServeUntilStopped drives.
struct Servable final {
  // Binds host:port (port 0: any) and returns the port bound.
  std::function<absl::StatusOr<int>(const std::string& host, int port)> bind;
  // Serves until `stop` is called; blocks.
  std::function<void()> run;
  // Makes `run` return; thread-safe.
  std::function<void()> stop;
};

// Binds `listen_address`, writes the port to `port_file` when non-empty
// (web::WritePortFile), logs "<program> serving <what> on host:port", then
// runs until SIGTERM or SIGINT arrive (in `signals`, from BlockStopSignals)
// and stops. Returns the exit code: 0, or 2 after writing
// "<program>: <message>" to stderr when the address is malformed or cannot
// be bound, or the port file cannot be written.
int ServeUntilStopped(const sigset_t& signals, const std::string& program,
                      const std::string& listen_address,
                      const std::string& port_file, const std::string& what,
                      const Servable& server);

}  // namespace ruta::web

#endif  // RUTA_WEB_SERVE_H_
