// The audit of every call at the gRPC edge (reactors.h).
#include <atomic>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "reactors.h"
#include "ruta/api/firewall.h"
#include "ruta/core/ids.h"
#include "ruta/observability/logging.h"
#include "ruta/observability/metrics.h"
#include "ruta/security/tls.h"
#include "spdlog/spdlog.h"

namespace ruta::api::internal {
core::Actor CallerForAudit(const grpc::ServerContextBase& context) {
  core::Actor caller;
  caller.principal = core::kUnauthenticatedPrincipal;
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    absl::StatusOr<security::Identity> identity = security::PeerIdentity(*auth);
    if (identity.ok()) {
      caller.principal = identity->spiffe_id;
      caller.region = identity->region;
    }
  }
  const auto& metadata = context.client_metadata();
  auto clerk = metadata.find(kClerkMetadataKey);
  if (clerk != metadata.end()) {
    absl::string_view value(clerk->second.data(), clerk->second.size());
    // Any other value is caller-supplied text: not recorded.
    if (IsValidClerkId(value)) caller.clerk = std::string(value);
  }
  return caller;
}

std::string AuditSubjectOf(const google::protobuf::Message& request) {
  const google::protobuf::Descriptor* descriptor = request.GetDescriptor();
  const google::protobuf::Reflection* reflection = request.GetReflection();
  for (const char* name : {"transfer_id", "case_id"}) {
    const google::protobuf::FieldDescriptor* field =
        descriptor->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() ||
        field->cpp_type() !=
            google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      continue;
    }
    const std::string value = reflection->GetString(request, field);
    if (core::IsAuditableSubject(value)) return value;
  }
  return "";
}

std::string RequestIdOf(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  std::string value = request.GetReflection()->GetString(request, field);
  return core::IsValidRequestId(value) ? value : "";
}

std::string NewCallId() {
  // A random start per process, then a counter: unique, and cheap per call.
  static const uint64_t base = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<uint64_t> next{0};
  return absl::StrFormat("call-%016x",
                         base + next.fetch_add(1, std::memory_order_relaxed));
}

absl::StatusOr<core::Actor> AuditedCall::Authorize(
    const Authorizer& authorizer, const grpc::ServerContextBase& context) {
  metrics_ = authorizer.metrics();
  absl::StatusOr<core::Actor> actor = authorizer.Authorize(context, method_);
  caller_ = actor.ok() ? *actor : CallerForAudit(context);
  return actor;
}

absl::StatusOr<core::Actor> AuditedCall::Admit(
    const Authorizer& authorizer, const grpc::ServerContextBase& context,
    const google::protobuf::Message& request) {
  request_id_ = RequestIdOf(request);
  absl::StatusOr<core::Actor> actor = Authorize(authorizer, context);
  if (!actor.ok()) return actor;
  if (absl::Status s = CheckMessage(request); !s.ok()) return s;
  return actor;
}

void AuditedCall::set_subject(absl::string_view id) {
  subject_ = core::IsAuditableSubject(id) ? std::string(id) : std::string();
}

grpc::Status AuditedCall::Finish(const absl::Status& status) const {
  if (!(status.ok() && success_recorded_by_core_) && log_ != nullptr) {
    log_->Record(
        core::MakeAuditEntry(caller_, method_, subject_, status.code()));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  if (metrics_ != nullptr) {
    metrics_->RecordRpc(method_, status.code(), absl::FromChrono(elapsed));
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    const std::string id = request_id_.empty() ? NewCallId() : request_id_;
    const std::string ms = absl::StrFormat(
        "%.3f", std::chrono::duration<double, std::milli>(elapsed).count());
    observability::LogWithFields(
        spdlog::level::debug, "rpc finished",
        {{"request_id", id},
         {"method", method_},
         {"code", absl::StatusCodeToString(status.code())},
         {"duration_ms", ms},
         {"peer", caller_.principal}});
  }
  return ToGrpcStatus(status);
}

}  // namespace ruta::api::internal
