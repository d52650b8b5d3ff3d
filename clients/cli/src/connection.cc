#include "ruta/cli/connection.h"

#include <ostream>
#include <utility>

#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "ruta/security/tls.h"

namespace ruta::cli {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const ConnectionSettings& settings, int max_retries, std::ostream& err) {
  ruta::security::ClientTlsOptions options;
  options.cert_file = settings.cert_file;
  options.key_file = settings.key_file;
  options.ca_file = settings.ca_file;
  options.expected_server_region = settings.server_region;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ruta::security::MakeChannelCredentials(options);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<Connection> connection(
      new Connection(settings, max_retries, *std::move(credentials), err));
  connection->Reconnect();
  return connection;
}

Connection::Connection(ConnectionSettings settings, int max_retries,
                       std::shared_ptr<grpc::ChannelCredentials> credentials,
                       std::ostream& err)
    : settings_(std::move(settings)),
      credentials_(std::move(credentials)),
      err_(err) {
  policy_.timeout = settings_.timeout;
  policy_.max_retries = max_retries;
}

void Connection::Reconnect() {
  grpc::ChannelArguments args;
  // A channel of its own: a retry makes a fresh connection attempt instead of
  // failing at once while a shared subchannel waits out its backoff.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "ruta-cli");
  channel_ = grpc::CreateCustomChannel(settings_.node, credentials_, args);
  stub_ = ruta::v1::CaseOffice::NewStub(channel_);
  admin_stub_ = ruta::v1::Admin::NewStub(channel_);
  dashboard_stub_ = ruta::v1::Dashboard::NewStub(channel_);
  partner_stub_ = ruta::v1::PartnerStatus::NewStub(channel_);
}

int Connection::RunAttempts(absl::string_view what,
                            const std::string& request_id,
                            const Attempt& attempt) {
  RetryHooks hooks;
  hooks.before_retry = [this] { Reconnect(); };
  const CallOutcome outcome =
      CallWithRetries(policy_, attempt, what, request_id, err_, hooks);
  if (outcome.status.ok()) return 0;
  return ReportRpcError(err_, what, outcome.status,
                        MakeCallContext(outcome.attempts, request_id));
}

CallContext Connection::MakeCallContext(int attempts,
                                        const std::string& request_id) const {
  CallContext context;
  context.node = settings_.node;
  context.timeout = settings_.timeout;
  context.attempts = attempts;
  context.request_id = request_id;
  context.record = record_hints_;
  return context;
}

}  // namespace ruta::cli
