// proto <-> domain conversions and status mapping of the api layer.
//
// From proto: every enum value is checked (proto3 keeps unknown numbers; ruta
// rejects them) and INVALID_ARGUMENT names the offending field. To proto:
// total functions.
#ifndef RUTA_API_CONVERSIONS_H_
#define RUTA_API_CONVERSIONS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"
#include "ruta/core/activities.h"
#include "ruta/core/activity_service.h"
#include "ruta/core/case_service.h"
#include "ruta/core/domain.h"
#include "ruta/core/pseudonym.h"
#include "ruta/core/transfer.h"
#include "ruta/core/transfer_service.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/records.pb.h"

namespace ruta::api {

// absl code -> the same gRPC code, message kept.
grpc::Status ToGrpcStatus(const absl::Status& status);

void ToProto(const core::Case& c, v1::Case* out);

absl::StatusOr<core::IdentityTuple> FromProto(const v1::PersonIdentifiers& in);
absl::StatusOr<core::OpenCaseCommand> FromProto(const v1::OpenCaseRequest& in);
absl::StatusOr<core::UpdateStageCommand> FromProto(
    const v1::UpdateStageRequest& in);
absl::StatusOr<core::CloseCaseCommand> FromProto(
    const v1::CloseCaseRequest& in);
absl::StatusOr<core::ListCasesQuery> FromProto(const v1::ListCasesRequest& in);

// The generalized profile (enum values checked; the rest is core's to
// validate).
absl::StatusOr<core::Profile> ProfileFromProtoPublic(const v1::Profile& in);

// Transfers, services and whole cases (record_conversions.cc). FromProto of
// a Transfer derives its facts from its state and dates (an event carries
// the transfer as its author holds it); INVALID_ARGUMENT when they disagree.
// FromProto of a ServiceRecord leaves author_region empty (the caller knows
// the author).
void ToProto(const core::Transfer& t, v1::Transfer* out);
absl::StatusOr<core::Transfer> FromProto(const v1::Transfer& in);
void ToProto(const core::ServiceRecord& s, v1::ServiceRecord* out);
absl::StatusOr<core::ServiceRecord> FromProto(const v1::ServiceRecord& in);
absl::StatusOr<core::Case> CaseFromProto(const v1::Case& in);

absl::StatusOr<core::RequestTransferCommand> FromProto(
    const v1::RequestTransferRequest& in);
absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::AcceptTransferRequest& in);
absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::RejectTransferRequest& in);
absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::DepartTransferRequest& in);
absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::ReceiveTransferRequest& in);
absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::CancelTransferRequest& in);
absl::StatusOr<core::ListTransfersQuery> FromProto(
    const v1::ListTransfersRequest& in);
absl::StatusOr<core::AddServiceCommand> FromProto(
    const v1::AddServiceRequest& in);
absl::StatusOr<core::UpdateServiceCommand> FromProto(
    const v1::UpdateServiceRequest& in);

// Activities (record_conversions.cc). FromProto of a RecordActivityRequest:
// INVALID_ARGUMENT when neither kind is set or the level is unknown; the rest
// is core's to validate.
void ToProto(const core::Activity& a, v1::Activity* out);
absl::StatusOr<core::RecordActivityCommand> FromProto(
    const v1::RecordActivityRequest& in);
absl::StatusOr<core::ListActivitiesQuery> FromProto(
    const v1::ListActivitiesRequest& in);

}  // namespace ruta::api

#endif  // RUTA_API_CONVERSIONS_H_
