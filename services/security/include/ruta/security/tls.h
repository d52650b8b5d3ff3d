// Mutual-TLS credentials for ruta's servers and clients.
//
// This is the only part of ruta that uses grpc::experimental (TLS credentials,
// certificate provider, certificate verifier): keep it that way, so that a
// gRPC upgrade touches one file (tls.cc).
#ifndef RUTA_SECURITY_TLS_H_
#define RUTA_SECURITY_TLS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "ruta/security/identity.h"
#include "ruta/security/trust_store.h"

struct gpr_log_func_args;

namespace grpc {
class AuthContext;
}  // namespace grpc

namespace ruta::security {

struct ServerTlsOptions {
  // The operator's PEM chain of the server (leaf, then intermediate) and its
  // private key. Required. They are never handed to gRPC directly: an
  // IdentityInstaller checks that they are a pair and installs them into
  // `active_dir`, which gRPC watches.
  std::string cert_file;
  std::string key_file;
  // Node-private directory for the installed key and certificate (see
  // identity_installer.h); emptied at start. Required.
  std::string active_dir;
  // The regions whose clients are accepted, each with its root CA file and
  // CRL files (see trust_store.h). Required (non-empty; each region at least
  // one CRL file).
  std::vector<RegionTrustFiles> regions;
  // How often the operator's files, the CA files and the CRLs are re-read
  // (rotation without restart). Default 60 s; at least 1 s.
  absl::Duration refresh_interval = absl::Seconds(60);
};

// Where ServerTls's gRPC log function sends each line of gRPC core's log
// after looking at it (e.g. observability::ForwardGrpcLog, into the node's
// log); nullptr (the default): stderr, in gRPC's format. Process-wide,
// thread-safe; may be set before or after any ServerTls::Start.
void SetGrpcLogForward(void (*forward)(gpr_log_func_args*));

// The TLS side of a node's listener: server credentials whose handshake runs
// the ClientCertificateVerifier (verifier.h) on every client, and a
// background thread that re-reads the node's identity and the regions' trust
// every refresh interval.
//
// gRPC's own certificate check is not used on the server
// (GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY): the verifier checks
// the whole chain itself, against the one region the certificate claims, so
// that every refusal -- no certificate, unknown CA, expiry included -- reaches
// it and is logged with its reason and counted. The TLS stack still checks
// that the client holds the certificate's private key. Handshakes that fail
// before any certificate is seen (e.g. a plaintext client) are found in
// gRPC's log and counted as RefusalReason::kTlsProtocol: Start installs a
// process-wide gRPC log function for that (gpr_set_log_function), which then
// hands every line to the SetGrpcLogForward function, or prints it to stderr
// as gRPC's default logger would when none is set.
class ServerTls final {
 public:
  // FAILED_PRECONDITION naming the file when a file is missing, unreadable or
  // holds no usable PEM data, or the key and certificate are not a pair
  // (gRPC itself would start and only log); INTERNAL when `active_dir` cannot
  // be written.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Start(
      const ServerTlsOptions& options);

  ~ServerTls();  // Stop()
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // The credentials for grpc::ServerBuilder::AddListeningPort. They stay
  // usable after Stop (with the last installed identity and trust).
  std::shared_ptr<grpc::ServerCredentials> credentials() const;

  // Re-reads the identity and trust files now (what the background thread
  // does every refresh interval). Thread-safe.
  void RefreshNow();

  // Stops the background thread. Idempotent.
  void Stop();

 private:
  struct State;
  explicit ServerTls(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

struct ClientTlsOptions {
  // PEM chain of the client (leaf, then intermediate). Required.
  std::string cert_file;
  // PEM private key of the client. Required.
  std::string key_file;
  // PEM root CA(s) the server's certificate must chain to. Required.
  std::string ca_file;
  // If non-empty, the server must present a node identity of this region;
  // otherwise any region's node identity is accepted.
  std::string expected_server_region;
};

// Channel credentials presenting the client certificate and verifying that
// the server holds a ruta node identity (server certificates carry a SPIFFE
// URI, so the usual host-name check is replaced by that identity check).
// FAILED_PRECONDITION naming the file when a file is missing or unreadable.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& options);

// A channel to a node for a client process (ruta-dashboard, ruta-console):
// MakeChannelCredentials(options), reconnecting after 250 ms at first and at
// most every 5 s (a node back from an outage is found again within
// seconds), announcing `user_agent`. Errors of MakeChannelCredentials.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeNodeChannel(
    const std::string& address, const ClientTlsOptions& options,
    const std::string& user_agent);

// The verified identity of the peer of a call, from its auth context.
// UNAUTHENTICATED when the connection carries no valid identity.
absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context);

}  // namespace ruta::security

#endif  // RUTA_SECURITY_TLS_H_
