// Admin: declared by the contract; implemented by later work.
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/v1/admin.grpc.pb.h"

namespace ruta::api {
namespace {

class AdminService final : public v1::Admin::CallbackService {
 public:
  explicit AdminService(const Authorizer* authorizer)
      : authorizer_(authorizer) {}

  RUTA_UNARY_NOT_YET(Admin, VerifyAudit)
  RUTA_STREAM_NOT_YET(Admin, ExportAudit)
  RUTA_UNARY_NOT_YET(Admin, RotateLinkageKey)
  RUTA_UNARY_NOT_YET(Admin, MergePersons)
  RUTA_UNARY_NOT_YET(Admin, EraseCase)
  RUTA_UNARY_NOT_YET(Admin, Backup)
  RUTA_UNARY_NOT_YET(Admin, GetRelayStatus)

 private:
  const Authorizer* const authorizer_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewAdminService(const Authorizer* authorizer) {
  return std::make_unique<AdminService>(authorizer);
}

}  // namespace ruta::api
