#include "ruta/api/services.h"

namespace ruta::api {

// Defined in the per-service files.
std::unique_ptr<grpc::Service> NewCaseOfficeService(const Authorizer*,
                                                    core::CaseService*);
std::unique_ptr<grpc::Service> NewPartnerStatusService(const Authorizer*);
std::unique_ptr<grpc::Service> NewDashboardService(const Authorizer*);
std::unique_ptr<grpc::Service> NewFederationService(const Authorizer*);
std::unique_ptr<grpc::Service> NewAdminService(const Authorizer*);

NodeServices MakeNodeServices(const Authorizer* authorizer,
                              core::CaseService* cases) {
  NodeServices services;
  services.case_office = NewCaseOfficeService(authorizer, cases);
  services.partner_status = NewPartnerStatusService(authorizer);
  services.dashboard = NewDashboardService(authorizer);
  services.federation = NewFederationService(authorizer);
  services.admin = NewAdminService(authorizer);
  return services;
}

}  // namespace ruta::api
