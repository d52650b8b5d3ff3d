// Small reactor helpers shared by the service adapters (private to api):
// finishing reactors, and the audit of every call (AuditedCall).
#ifndef RUTA_API_REACTORS_H_
#define RUTA_API_REACTORS_H_

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "ruta/api/authorization.h"
#include "ruta/api/conversions.h"
#include "ruta/api/services.h"
#include "ruta/core/audit.h"

namespace ruta::observability {
class NodeMetrics;
}  // namespace ruta::observability

namespace ruta::api::internal {

// The caller of a call as far as its connection tells, without authorizing:
// the principal of the audit record of a refused call ("unauthenticated" when
// the identity cannot be read), and the clerk header when it is well formed.
core::Actor CallerForAudit(const grpc::ServerContextBase& context);

// The case or transfer id a request names (its top-level `transfer_id`, else
// `case_id` field) when it has the id format; "" otherwise. Any other field
// (identifiers above all) is never looked at.
std::string AuditSubjectOf(const google::protobuf::Message& request);

// The client's request_id of `request` when it has one in the request id
// format; "" otherwise.
std::string RequestIdOf(const google::protobuf::Message& request);

// A fresh id for a call without a request_id ("call-" and 16 hex digits),
// unique within the process; identifies the call's log lines only.
std::string NewCallId();

// The audit of one call. Create it first thing in a handler, let it
// authorize, and pass every outcome through Finish, which records exactly one
// audit record (time, caller, clerk, method, case/transfer id, status code)
// and converts the status for gRPC. Finish also counts the call in the
// node's metrics (the Authorizer's, ruta/observability/metrics.h: method,
// code, time since the AuditedCall was created) and logs one debug line
// {request_id, method, code, duration_ms, peer} -- never the subject.
// Copyable: capture it by value in the completion callback. Never blocks.
class AuditedCall final {
 public:
  // `method` is "<Service>.<Method>"; `log` must outlive the call.
  AuditedCall(core::AuditLog* log, absl::string_view method)
      : log_(log), method_(method), start_(std::chrono::steady_clock::now()) {}

  // Authorizer::Authorize, remembering who called for the record (the actor
  // when allowed; what the connection tells when refused). The refusal is
  // recorded when it is passed to Finish.
  absl::StatusOr<core::Actor> Authorize(const Authorizer& authorizer,
                                        const grpc::ServerContextBase& context);

  // What every handler calls first: Authorize, then the identifier firewall
  // (firewall.h) on `request`. Authorization comes first, so that a caller
  // that may not call the method gets PERMISSION_DENIED (or UNAUTHENTICATED)
  // whatever it sent; an allowed caller gets INVALID_ARGUMENT naming the
  // offending field. Either refusal is recorded when passed to Finish.
  absl::StatusOr<core::Actor> Admit(const Authorizer& authorizer,
                                    const grpc::ServerContextBase& context,
                                    const google::protobuf::Message& request);

  // The case or transfer id the call concerns (kept only in that format).
  void set_subject(absl::string_view id);
  void SetSubjectFrom(const google::protobuf::Message& request) {
    set_subject(AuditSubjectOf(request));
  }

  // For a mutation: core records its success in the change's own
  // transaction, so Finish records only failures (no double record).
  void set_success_recorded_by_core() { success_recorded_by_core_ = true; }

  // Records the outcome (unless core did) and returns it as a gRPC status.
  grpc::Status Finish(const absl::Status& status) const;

  const std::string& method() const { return method_; }
  // The client's request_id (once Admit saw it); "" when it has none (the
  // log line then carries a generated call id).
  const std::string& request_id() const { return request_id_; }
  // The node's metrics (once Authorize ran; null when the node has none).
  observability::NodeMetrics* metrics() const { return metrics_; }

 private:
  core::AuditLog* log_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
  std::string request_id_;
  observability::NodeMetrics* metrics_ = nullptr;
  core::Actor caller_;
  std::string subject_;
  bool success_recorded_by_core_ = false;
};

// Finishes a default unary reactor with `status`, recorded by `call`.
inline grpc::ServerUnaryReactor* FinishAudited(grpc::CallbackServerContext* ctx,
                                               const AuditedCall& call,
                                               const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(call.Finish(status));
  return reactor;
}

inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

inline absl::Status NotYetAvailable(absl::string_view method) {
  return absl::UnimplementedError(
      absl::StrCat(method, " is not available on this node version yet"));
}

// Admission first (authorization, then the firewall), so that an unauthorized
// caller gets PERMISSION_DENIED and a malformed request INVALID_ARGUMENT
// whether or not the method exists yet. Either way the call is audited.
inline grpc::Status NotYetStatus(const Authorizer& authorizer,
                                 core::AuditLog* audit,
                                 grpc::CallbackServerContext* ctx,
                                 const google::protobuf::Message* request,
                                 absl::string_view method) {
  AuditedCall call(audit, method);
  if (request != nullptr) call.SetSubjectFrom(*request);
  absl::StatusOr<core::Actor> actor =
      request != nullptr ? call.Admit(authorizer, *ctx, *request)
                         : call.Authorize(authorizer, *ctx);
  if (!actor.ok()) return call.Finish(actor.status());
  return call.Finish(NotYetAvailable(method));
}

// A server-streaming reactor that finishes at once with `status`.
template <typename Response>
class FinishedWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedWriter(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// A bidirectional reactor that finishes at once with `status`.
template <typename Request, typename Response>
class FinishedBidi final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit FinishedBidi(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace ruta::api::internal

// Declares a unary override that admits the call, then answers UNIMPLEMENTED;
// audited (the class has `authorizer_` and `audit_`, a core::AuditLog*).
#define RUTA_UNARY_NOT_YET(Service, Method)                                    \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const ::ruta::v1::Method##Request* request, \
                                   ::ruta::v1::Method##Response*) override {   \
    return ::ruta::api::internal::FinishUnary(                                 \
        ctx, ::ruta::api::internal::NotYetStatus(                              \
                 *authorizer_, audit_, ctx, request, #Service "." #Method));   \
  }

// The same for a server-streaming method.
#define RUTA_STREAM_NOT_YET(Service, Method)                               \
  grpc::ServerWriteReactor<::ruta::v1::Method##Response>* Method(          \
      grpc::CallbackServerContext* ctx,                                    \
      const ::ruta::v1::Method##Request* request) override {               \
    return new ::ruta::api::internal::FinishedWriter<                      \
        ::ruta::v1::Method##Response>(::ruta::api::internal::NotYetStatus( \
        *authorizer_, audit_, ctx, request, #Service "." #Method));        \
  }

#endif  // RUTA_API_REACTORS_H_
