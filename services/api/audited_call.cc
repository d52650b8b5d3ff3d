// The audit of every call at the gRPC edge (reactors.h).
#include <string>

#include "google/protobuf/descriptor.h"
#include "reactors.h"
#include "ruta/api/firewall.h"
#include "ruta/security/tls.h"

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

absl::StatusOr<core::Actor> AuditedCall::Authorize(
    const Authorizer& authorizer, const grpc::ServerContextBase& context) {
  absl::StatusOr<core::Actor> actor = authorizer.Authorize(context, method_);
  caller_ = actor.ok() ? *actor : CallerForAudit(context);
  return actor;
}

absl::StatusOr<core::Actor> AuditedCall::Admit(
    const Authorizer& authorizer, const grpc::ServerContextBase& context,
    const google::protobuf::Message& request) {
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
  return ToGrpcStatus(status);
}

}  // namespace ruta::api::internal
