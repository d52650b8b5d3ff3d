// The one file of ruta that uses grpc::experimental (see tls.h).
#include "ruta/security/tls.h"

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/pem.h"
#include "spdlog/spdlog.h"

namespace ruta::security {
namespace {

using grpc::experimental::CertificateVerifier;
using grpc::experimental::ExternalCertificateVerifier;
using grpc::experimental::FileWatcherCertificateProvider;
using grpc::experimental::IdentityKeyCertPair;
using grpc::experimental::StaticDataCertificateProvider;
using grpc::experimental::TlsChannelCredentialsOptions;
using grpc::experimental::TlsCustomVerificationCheckRequest;
using grpc::experimental::TlsServerCredentialsOptions;

std::vector<std::string> UriSans(const TlsCustomVerificationCheckRequest& r) {
  std::vector<std::string> uris;
  for (const grpc::string_ref& uri : r.uri_names()) {
    uris.emplace_back(uri.data(), uri.size());
  }
  return uris;
}

// Runs in the handshake, after gRPC has verified the chain against the
// trust bundle: the client must carry exactly one ruta identity, in the trust
// domain of a region this node accepts.
class ClientIdentityVerifier final : public ExternalCertificateVerifier {
 public:
  explicit ClientIdentityVerifier(std::vector<std::string> accepted_regions)
      : accepted_regions_(std::move(accepted_regions)) {}

  bool Verify(TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    absl::StatusOr<Identity> identity = IdentityFromUriSans(UriSans(*request));
    if (identity.ok() &&
        !absl::c_linear_search(accepted_regions_, identity->region)) {
      identity = absl::UnauthenticatedError(
          absl::StrCat("trust domain ", TrustDomain(identity->region),
                       " is not a region this node accepts"));
    }
    if (!identity.ok()) {
      const std::string subject(request->common_name().data(),
                                request->common_name().size());
      spdlog::warn(
          "refused TLS client: reason=\"{}\" subject_cn=\"{}\" uri_sans=[{}]",
          std::string(identity.status().message()), subject,
          absl::StrJoin(UriSans(*request), ","));
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  std::string(identity.status().message()));
      return true;
    }
    *sync_status = grpc::Status::OK;
    return true;
  }

  void Cancel(TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const std::vector<std::string> accepted_regions_;
};

// Client side: the server must be a ruta node (of the expected region).
class ServerIdentityVerifier final : public ExternalCertificateVerifier {
 public:
  explicit ServerIdentityVerifier(std::string expected_region)
      : expected_region_(std::move(expected_region)) {}

  bool Verify(TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    absl::StatusOr<Identity> identity = IdentityFromUriSans(UriSans(*request));
    if (identity.ok() && identity->role != Role::kNode) {
      identity = absl::UnauthenticatedError(absl::StrCat(
          "server identity ", identity->spiffe_id, " is not a node identity"));
    }
    if (identity.ok() && !expected_region_.empty() &&
        identity->region != expected_region_) {
      identity = absl::UnauthenticatedError(
          absl::StrCat("server is a node of region ", identity->region,
                       ", expected ", expected_region_));
    }
    *sync_status = identity.ok()
                       ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                      std::string(identity.status().message()));
    return true;
  }

  void Cancel(TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const std::string expected_region_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options) {
  RUTA_ASSIGN_OR_RETURN(std::string cert,
                        ReadPemFile(options.cert_file, "certificate"));
  RUTA_ASSIGN_OR_RETURN(std::string key,
                        ReadPemFile(options.key_file, "private key"));
  RUTA_RETURN_IF_ERROR(
      CheckKeyPair(cert, key, options.cert_file, options.key_file));
  RUTA_RETURN_IF_ERROR(
      ReadPemFile(options.trust_bundle_file, "CA bundle").status());
  if (options.accepted_regions.empty()) {
    return absl::FailedPreconditionError("no accepted regions configured");
  }
  const auto refresh_seconds = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.refresh_interval)));
  auto provider = std::make_shared<FileWatcherCertificateProvider>(
      options.key_file, options.cert_file, options.trust_bundle_file,
      refresh_seconds);
  TlsServerCredentialsOptions tls_options(provider);
  tls_options.watch_root_certs();
  tls_options.watch_identity_key_cert_pairs();
  tls_options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls_options.set_certificate_verifier(
      ExternalCertificateVerifier::Create<ClientIdentityVerifier>(
          options.accepted_regions));
  return grpc::experimental::TlsServerCredentials(tls_options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& options) {
  RUTA_ASSIGN_OR_RETURN(std::string cert,
                        ReadPemFile(options.cert_file, "certificate"));
  RUTA_ASSIGN_OR_RETURN(std::string key,
                        ReadPemFile(options.key_file, "private key"));
  RUTA_ASSIGN_OR_RETURN(std::string ca, ReadPemFile(options.ca_file, "CA"));
  RUTA_RETURN_IF_ERROR(
      CheckKeyPair(cert, key, options.cert_file, options.key_file));
  std::vector<IdentityKeyCertPair> pairs = {{key, cert}};
  auto provider = std::make_shared<StaticDataCertificateProvider>(ca, pairs);
  TlsChannelCredentialsOptions tls_options;
  tls_options.set_certificate_provider(provider);
  tls_options.watch_root_certs();
  tls_options.watch_identity_key_cert_pairs();
  tls_options.set_verify_server_certs(true);
  // Node certificates name a SPIFFE identity, not a host: the identity
  // verifier below replaces the host-name check.
  tls_options.set_check_call_host(false);
  tls_options.set_certificate_verifier(
      ExternalCertificateVerifier::Create<ServerIdentityVerifier>(
          options.expected_server_region));
  return grpc::experimental::TlsCredentials(tls_options);
}

absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context) {
  std::vector<std::string> uris;
  for (const grpc::string_ref& value :
       context.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    uris.emplace_back(value.data(), value.size());
  }
  if (uris.empty()) {
    for (const grpc::string_ref& value :
         context.FindPropertyValues(GRPC_PEER_SPIFFE_ID_PROPERTY_NAME)) {
      uris.emplace_back(value.data(), value.size());
    }
  }
  return IdentityFromUriSans(uris);
}

}  // namespace ruta::security
