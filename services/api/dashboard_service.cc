// Dashboard: declared by the contract; implemented by later work.
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/v1/dashboard.grpc.pb.h"

namespace ruta::api {
namespace {

class DashboardService final : public v1::Dashboard::CallbackService {
 public:
  explicit DashboardService(const Authorizer* authorizer)
      : authorizer_(authorizer) {}

  RUTA_UNARY_NOT_YET(Dashboard, GetTable)
  RUTA_UNARY_NOT_YET(Dashboard, ListTables)

 private:
  const Authorizer* const authorizer_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewDashboardService(
    const Authorizer* authorizer) {
  return std::make_unique<DashboardService>(authorizer);
}

}  // namespace ruta::api
