// A connection to a node's CaseOffice and Admin services over mutual TLS, and
// calls with deadline, retries and error reporting.
#ifndef RUTA_CLI_CONNECTION_H_
#define RUTA_CLI_CONNECTION_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "ruta/cli/config.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/retry.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta::cli {

class Connection {
 public:
  using Stub = ruta::v1::CaseOffice::StubInterface;
  using AdminStub = ruta::v1::Admin::StubInterface;
  using DashboardStub = ruta::v1::Dashboard::StubInterface;
  using PartnerStub = ruta::v1::PartnerStatus::StubInterface;

  // Loads the TLS credentials (FAILED_PRECONDITION naming a missing or
  // unreadable file) and prepares a channel to settings.node.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const ConnectionSettings& settings, int max_retries, std::ostream& err);

  // Runs one call with the deadline and retries (RetryPolicy). On failure,
  // prints the error and hint (naming `request_id` for a mutating call) and
  // returns the exit code; returns 0 on success. `call` must send the same
  // request on every attempt.
  template <typename Call>
  int Run(absl::string_view what, const std::string& request_id, Call call) {
    return RunAttempts(what, request_id,
                       [this, &call](grpc::ClientContext& context) {
                         return call(*stub_, context);
                       });
  }

  // Run for a call to the node's Admin service (admin certificate); a
  // mutating one gives its `request_id`, as for Run.
  template <typename Call>
  int RunAdmin(absl::string_view what, Call call) {
    return RunAdmin(what, "", std::move(call));
  }
  template <typename Call>
  int RunAdmin(absl::string_view what, const std::string& request_id,
               Call call) {
    return RunAttempts(what, request_id,
                       [this, &call](grpc::ClientContext& context) {
                         return call(*admin_stub_, context);
                       });
  }

  // Run for a call to the node's Dashboard service (dashboard certificate).
  template <typename Call>
  int RunDashboard(absl::string_view what, Call call) {
    return RunAttempts(what, "", [this, &call](grpc::ClientContext& context) {
      return call(*dashboard_stub_, context);
    });
  }

  // Run for a call to the node's PartnerStatus service (partner
  // certificate); a mutating one gives its `request_id`, as for Run.
  template <typename Call>
  int RunPartner(absl::string_view what, const std::string& request_id,
                 Call call) {
    return RunAttempts(what, request_id,
                       [this, &call](grpc::ClientContext& context) {
                         return call(*partner_stub_, context);
                       });
  }

  // What the hints of failed calls say about the record (errors.h).
  void set_record_hints(RecordHints hints) { record_hints_ = std::move(hints); }

  // For a server stream, whose deadline, retries and error report the caller
  // manages (`ruta transfer watch`, `ruta admin audit export`): the current
  // channel and its stub, and Reconnect() for a fresh channel.
  grpc::Channel& channel() { return *channel_; }
  Stub& stub() { return *stub_; }
  AdminStub& admin_stub() { return *admin_stub_; }
  PartnerStub& partner_stub() { return *partner_stub_; }
  // A fresh channel (own subchannel pool, so no reconnect backoff is shared
  // with an earlier failed attempt).
  void Reconnect();
  // The hints of a failed call (errors.h).
  CallContext MakeCallContext(int attempts,
                              const std::string& request_id) const;

  const ConnectionSettings& settings() const { return settings_; }
  const RetryPolicy& policy() const { return policy_; }

 private:
  Connection(ConnectionSettings settings, int max_retries,
             std::shared_ptr<grpc::ChannelCredentials> credentials,
             std::ostream& err);
  int RunAttempts(absl::string_view what, const std::string& request_id,
                  const Attempt& attempt);

  ConnectionSettings settings_;
  RetryPolicy policy_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::ostream& err_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
  std::unique_ptr<AdminStub> admin_stub_;
  std::unique_ptr<DashboardStub> dashboard_stub_;
  std::unique_ptr<PartnerStub> partner_stub_;
  RecordHints record_hints_;
};

}  // namespace ruta::cli

#endif  // RUTA_CLI_CONNECTION_H_
