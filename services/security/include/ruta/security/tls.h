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

namespace grpc {
class AuthContext;
}  // namespace grpc

namespace ruta::security {

struct ServerTlsOptions {
  // PEM chain of the server (leaf, then intermediate). Required.
  std::string cert_file;
  // PEM private key of the server. Required.
  std::string key_file;
  // PEM file with the trusted root CAs of every region the server accepts
  // clients from (written by the node from its configured regions). Required.
  std::string trust_bundle_file;
  // Region slugs whose trust domains are accepted. Required (non-empty).
  std::vector<std::string> accepted_regions;
  // How often the files are re-read (rotation without restart). Default 60 s.
  absl::Duration refresh_interval = absl::Seconds(60);
};

// Server credentials requiring and verifying a client certificate that chains
// to the trust bundle and carries exactly one valid ruta SPIFFE URI SAN in an
// accepted trust domain (checked during the handshake).
// FAILED_PRECONDITION naming the file when a file is missing or unreadable, or
// holds no PEM material (gRPC itself would start and only log).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options);

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

// The verified identity of the peer of a call, from its auth context.
// UNAUTHENTICATED when the connection carries no valid identity.
absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context);

}  // namespace ruta::security

#endif  // RUTA_SECURITY_TLS_H_
