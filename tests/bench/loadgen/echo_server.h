// `ruta-bench serve-echo`: the bare baseline server, a separate process so
// that its CPU time is attributable like the node's.
#ifndef RUTA_BENCH_LOADGEN_ECHO_SERVER_H_
#define RUTA_BENCH_LOADGEN_ECHO_SERVER_H_

#include <string>

namespace ruta::bench {

struct EchoServerOptions {
  // A dev PKI (certs/pki.sh dev --out DIR).
  std::string pki_dir;
  // The region whose node certificate the server presents and whose clients
  // (with the other dev region's) it accepts.
  std::string region = "madre-de-dios";
  // Working directory: the installed TLS identity goes to DIR/tls, the
  // chosen port to DIR/port (written once serving).
  std::string dir;
};

// Serves Echo and gRPC health on 127.0.0.1:0 over ruta's own server TLS
// (security::ServerTls: same certificates, same handshake verifier as
// ruta-node) until SIGTERM or SIGINT. Returns the process exit code.
int ServeEcho(const EchoServerOptions& options);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_ECHO_SERVER_H_
