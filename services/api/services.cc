#include "ruta/api/services.h"

namespace ruta::api {

// Defined in the per-service files.
std::unique_ptr<grpc::Service> NewCaseOfficeService(const Authorizer*,
                                                    core::CaseService*,
                                                    const AuditServices&);
std::unique_ptr<grpc::Service> NewPartnerStatusService(const Authorizer*,
                                                       const AuditServices&);
std::unique_ptr<grpc::Service> NewDashboardService(const Authorizer*,
                                                   const AuditServices&);
std::unique_ptr<grpc::Service> NewFederationService(const Authorizer*,
                                                    const AuditServices&);
std::unique_ptr<grpc::Service> NewAdminService(const Authorizer*,
                                               const AuditServices&);

NodeServices MakeNodeServices(const Authorizer* authorizer,
                              core::CaseService* cases,
                              const AuditServices& audit) {
  NodeServices services;
  services.case_office = NewCaseOfficeService(authorizer, cases, audit);
  services.partner_status = NewPartnerStatusService(authorizer, audit);
  services.dashboard = NewDashboardService(authorizer, audit);
  services.federation = NewFederationService(authorizer, audit);
  services.admin = NewAdminService(authorizer, audit);
  return services;
}

}  // namespace ruta::api
