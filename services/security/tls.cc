// The one file of ruta that uses grpc::experimental (see tls.h).
#include "ruta/security/tls.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/grpc_security_constants.h"
#include "grpc/support/log.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/support/channel_arguments.h"
#include "openssl_util.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/security/identity_installer.h"
#include "ruta/security/pem.h"
#include "ruta/security/verifier.h"
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

absl::string_view View(grpc::string_ref ref) {
  return absl::string_view(ref.data(), ref.size());
}

// Runs in the handshake of every client of the node's listener: gRPC has only
// checked that the client holds the key of the certificate it presented
// (possibly none); ClientCertificateVerifier decides, logs and counts.
//
// gRPC 1.51 gives the server the client's leaf in peer_cert() and the rest
// of what the client sent (OpenSSL's SSL_get_peer_cert_chain, which on a
// server excludes the leaf) in peer_cert_full_chain(); both are PEM, and
// empty when the client sent no certificate.
class ClientIdentityVerifier final : public ExternalCertificateVerifier {
 public:
  explicit ClientIdentityVerifier(
      std::shared_ptr<const ClientCertificateVerifier> verifier)
      : verifier_(std::move(verifier)) {}

  bool Verify(TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    const Verdict verdict = verifier_->Verify(
        View(request->peer_cert()), View(request->peer_cert_full_chain()));
    // The client never sees this message (TLS 1.3: its handshake is already
    // complete, it only sees the connection close); the node's log has it.
    *sync_status =
        verdict.accepted
            ? grpc::Status::OK
            : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                           absl::StrCat(RefusalReasonName(verdict.reason), ": ",
                                        verdict.detail));
    return true;
  }

  void Cancel(TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const std::shared_ptr<const ClientCertificateVerifier> verifier_;
};

// gRPC's log, as its default logger prints it (stderr), plus: a TLS handshake
// that failed inside OpenSSL never reaches the verifier, and gRPC reports it
// only in this log ("Handshake failed with fatal error SSL_ERROR_SSL: ...",
// e.g. "wrong version number" for a plaintext client). Such a failure is
// logged as a refusal (tls_protocol) and counted -- unless it is this process
// failing as a client (the log line does not say which side it is): an alert
// received from the peer is a refusal by the peer, and "certificate verify
// failed" can only be a client's check, as the node's server does not let
// OpenSSL verify certificates.
bool IsServerSideTlsFailure(absl::string_view message) {
  return absl::StrContains(message, "Handshake failed with fatal error") &&
         !absl::StrContains(message, "alert") &&
         !absl::StrContains(message, "certificate verify failed");
}

std::atomic<void (*)(gpr_log_func_args*)> g_log_forward{nullptr};

void GrpcLog(gpr_log_func_args* args) {
  const absl::string_view message =
      args->message != nullptr ? args->message : "";
  if (IsServerSideTlsFailure(message)) {
    spdlog::warn("refused TLS client: reason={} detail=\"{}\"",
                 RefusalReasonName(RefusalReason::kTlsProtocol),
                 internal::ForLog(message, 400));
    CountHandshakeRefusal(RefusalReason::kTlsProtocol);
  }
  if (auto forward = g_log_forward.load(std::memory_order_acquire)) {
    return forward(args);
  }
  const char* file = args->file != nullptr ? args->file : "";
  const char* slash = std::strrchr(file, '/');
  const char severity = args->severity == GPR_LOG_SEVERITY_ERROR  ? 'E'
                        : args->severity == GPR_LOG_SEVERITY_INFO ? 'I'
                                                                  : 'D';
  const std::string time =
      absl::FormatTime("%m%d %H:%M:%E6S", absl::Now(), absl::LocalTimeZone());
  std::fprintf(stderr, "%c%s %7ld %s:%d] %s\n", severity, time.c_str(),
               static_cast<long>(::syscall(SYS_gettid)),
               slash != nullptr ? slash + 1 : file, args->line,
               std::string(message).c_str());
}

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

void SetGrpcLogForward(void (*forward)(gpr_log_func_args*)) {
  g_log_forward.store(forward, std::memory_order_release);
}

struct ServerTls::State {
  std::shared_ptr<TrustStore> trust;
  std::unique_ptr<IdentityInstaller> installer;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  absl::Duration refresh_interval;
  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::thread refresher;
};

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Start(
    const ServerTlsOptions& options) {
  if (options.regions.empty()) {
    return absl::FailedPreconditionError("no accepted regions configured");
  }
  auto state = std::make_unique<State>();
  RUTA_ASSIGN_OR_RETURN(state->trust, TrustStore::Load(options.regions));
  IdentityInstallerOptions installer_options;
  installer_options.cert_file = options.cert_file;
  installer_options.key_file = options.key_file;
  installer_options.active_dir = options.active_dir;
  RUTA_ASSIGN_OR_RETURN(state->installer,
                        IdentityInstaller::Create(installer_options));
  state->refresh_interval =
      std::max(absl::Seconds(1), options.refresh_interval);

  static std::once_flag log_hook;
  std::call_once(log_hook, [] { gpr_set_log_function(&GrpcLog); });

  // gRPC watches only the installed pair; no root certificates: the verifier
  // checks the chain (see tls.h).
  const auto refresh_seconds =
      static_cast<unsigned int>(absl::ToInt64Seconds(state->refresh_interval));
  auto provider = std::make_shared<FileWatcherCertificateProvider>(
      state->installer->key_file(), state->installer->cert_file(),
      refresh_seconds);
  TlsServerCredentialsOptions tls_options(provider);
  tls_options.watch_identity_key_cert_pairs();
  // REQUEST, not REQUIRE: a client without a certificate completes the TLS
  // handshake, so that the verifier sees it, logs and refuses it.
  tls_options.set_cert_request_type(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls_options.set_certificate_verifier(
      ExternalCertificateVerifier::Create<ClientIdentityVerifier>(
          std::make_shared<const ClientCertificateVerifier>(state->trust)));
  state->credentials = grpc::experimental::TlsServerCredentials(tls_options);
  if (state->credentials == nullptr) {
    return absl::InternalError("gRPC refused the TLS server options");
  }

  State* raw = state.get();
  state->refresher = std::thread([raw] {
    for (;;) {
      {
        absl::MutexLock lock(&raw->mu);
        if (raw->mu.AwaitWithTimeout(absl::Condition(&raw->stop),
                                     raw->refresh_interval)) {
          return;
        }
      }
      (void)raw->installer->Refresh();  // logs and counts a refusal itself
      raw->trust->Reload();
    }
  });
  return std::unique_ptr<ServerTls>(new ServerTls(std::move(state)));
}

ServerTls::ServerTls(std::unique_ptr<State> state) : state_(std::move(state)) {}

ServerTls::~ServerTls() { Stop(); }

std::shared_ptr<grpc::ServerCredentials> ServerTls::credentials() const {
  return state_->credentials;
}

void ServerTls::RefreshNow() {
  (void)state_->installer->Refresh();
  state_->trust->Reload();
}

void ServerTls::Stop() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stop = true;
  }
  if (state_->refresher.joinable()) state_->refresher.join();
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

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeNodeChannel(
    const std::string& address, const ClientTlsOptions& options,
    const std::string& user_agent) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, user_agent);
  return grpc::CreateCustomChannel(address, *credentials, args);
}

}  // namespace ruta::security
