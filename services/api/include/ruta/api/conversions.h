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
#include "ruta/core/case_service.h"
#include "ruta/core/domain.h"
#include "ruta/core/pseudonym.h"
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

}  // namespace ruta::api

#endif  // RUTA_API_CONVERSIONS_H_
