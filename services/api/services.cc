#include "ruta/api/services.h"

namespace ruta::api {

// Defined in the per-service files.
std::unique_ptr<grpc::Service> NewCaseOfficeService(const Authorizer*,
                                                    core::CaseService*,
                                                    const TransferServices&,
                                                    const AuditServices&,
                                                    core::ActivityService*);
std::unique_ptr<grpc::Service> NewPartnerStatusService(const Authorizer*,
                                                       core::PartnerService*,
                                                       core::ChangeNotifier*,
                                                       const AuditServices&);
std::unique_ptr<grpc::Service> NewDashboardService(const Authorizer*,
                                                   const AuditServices&,
                                                   const DashboardServices&);
std::unique_ptr<grpc::Service> NewFederationService(const Authorizer*,
                                                    const TransferServices&,
                                                    const AuditServices&,
                                                    const DashboardServices&);
std::unique_ptr<grpc::Service> NewAdminService(const Authorizer*,
                                               core::PrivacyService*,
                                               const TransferServices&,
                                               const AuditServices&,
                                               backup::BackupRunner*);

NodeServices MakeNodeServices(
    const Authorizer* authorizer, core::CaseService* cases,
    core::PrivacyService* privacy, const TransferServices& transfers,
    const AuditServices& audit, core::ActivityService* activities,
    const DashboardServices& dashboard, core::PartnerService* partners,
    backup::BackupRunner* backups) {
  NodeServices services;
  services.case_office =
      NewCaseOfficeService(authorizer, cases, transfers, audit, activities);
  services.partner_status =
      NewPartnerStatusService(authorizer, partners, transfers.changes, audit);
  services.dashboard = NewDashboardService(authorizer, audit, dashboard);
  services.federation =
      NewFederationService(authorizer, transfers, audit, dashboard);
  services.admin =
      NewAdminService(authorizer, privacy, transfers, audit, backups);
  return services;
}

}  // namespace ruta::api
