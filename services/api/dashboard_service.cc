// Dashboard: declared by the contract; implemented by later work.
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/v1/dashboard.grpc.pb.h"

namespace ruta::api {
namespace {

class DashboardService final : public v1::Dashboard::CallbackService {
 public:
  DashboardService(const Authorizer* authorizer, core::AuditLog* audit)
      : authorizer_(authorizer), audit_(audit) {}

  RUTA_UNARY_NOT_YET(Dashboard, GetTable)
  RUTA_UNARY_NOT_YET(Dashboard, ListTables)

 private:
  const Authorizer* const authorizer_;
  core::AuditLog* const audit_;  // every call is recorded (reactors.h)
};

}  // namespace

std::unique_ptr<grpc::Service> NewDashboardService(const Authorizer* authorizer,
                                                   const AuditServices& audit) {
  return std::make_unique<DashboardService>(authorizer, audit.log);
}

}  // namespace ruta::api
