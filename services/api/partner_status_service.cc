// PartnerStatus: declared by the contract; implemented by later work.
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta::api {
namespace {

class PartnerStatusService final : public v1::PartnerStatus::CallbackService {
 public:
  PartnerStatusService(const Authorizer* authorizer, core::AuditLog* audit)
      : authorizer_(authorizer), audit_(audit) {}

  RUTA_UNARY_NOT_YET(PartnerStatus, ListReferredCases)
  RUTA_UNARY_NOT_YET(PartnerStatus, GetCaseStatus)
  RUTA_STREAM_NOT_YET(PartnerStatus, WatchReferredCases)
  RUTA_UNARY_NOT_YET(PartnerStatus, UpdateServiceStatus)

 private:
  const Authorizer* const authorizer_;
  core::AuditLog* const audit_;  // every call is recorded (reactors.h)
};

}  // namespace

std::unique_ptr<grpc::Service> NewPartnerStatusService(
    const Authorizer* authorizer, const AuditServices& audit) {
  return std::make_unique<PartnerStatusService>(authorizer, audit.log);
}

}  // namespace ruta::api
