// The gRPC services of a ruta node (callback API). Each adapter
// authenticates and authorizes the caller (Authorizer), validates and converts
// the request, calls core, and converts the result; it never blocks in a
// reactor: core calls back when the store is done.
//
// RPCs that later work implements answer UNIMPLEMENTED with a message naming
// the method (after authorization, so callers learn nothing more than their
// certificate allows).
#ifndef RUTA_API_SERVICES_H_
#define RUTA_API_SERVICES_H_

#include <functional>
#include <memory>

#include "grpcpp/impl/codegen/service_type.h"
#include "ruta/api/authorization.h"
#include "ruta/api/checkpoints.h"
#include "ruta/api/peer_counts.h"
#include "ruta/backup/backup.h"
#include "ruta/core/activity_service.h"
#include "ruta/core/audit.h"
#include "ruta/core/case_service.h"
#include "ruta/core/change_notifier.h"
#include "ruta/core/partner_service.h"
#include "ruta/core/privacy_service.h"
#include "ruta/core/transfer_service.h"
#include "ruta/federation/inbox.h"
#include "ruta/federation/relay.h"
#include "ruta/store/store.h"

namespace ruta::api {

// All services of a node, ready to register on a ServerBuilder.
struct NodeServices {
  std::unique_ptr<grpc::Service> case_office;
  std::unique_ptr<grpc::Service> partner_status;
  std::unique_ptr<grpc::Service> dashboard;
  std::unique_ptr<grpc::Service> federation;
  std::unique_ptr<grpc::Service> admin;
};

// What the services need for the audit (core/audit.h, checkpoints.h). Every
// call of every service, allowed or denied, is recorded: a mutation that
// succeeds by core in its own transaction, everything else (denials, invalid
// requests, reads, failed calls) through `log`.
struct AuditServices {
  core::AuditLog* log = nullptr;  // required
  store::Store* store = nullptr;  // required: the chain and checkpoints
  std::string region;             // this node's region slug; required
  // Signing public keys of the configured regions (PutCheckpoint from a
  // peer, and this node's own key for what the peers hold of its chain).
  SigningKeys signing_keys;
  // Asks the peers what they hold of this node's chain (Admin.VerifyAudit);
  // null: no peers are asked.
  const CheckpointExchange* exchange = nullptr;
};

// Transfers, services and federation (DESIGN.md section 7).
struct TransferServices {
  core::TransferService* transfers = nullptr;  // required
  // Notified after every commit that may have changed a transfer (local
  // changes and applied peer batches): wakes WatchTransfers streams.
  core::ChangeNotifier* changes = nullptr;  // required
  // Applies the batches peers send on Federation.Exchange.
  federation::Inbox* inbox = nullptr;  // required
  // Admin.GetRelayStatus; null: no relay (no peers).
  const federation::Relay* relay = nullptr;
  std::string region;  // this node's region
  // OK when this node may apply its peers' batches (Federation.Exchange);
  // otherwise the status Exchange is refused with (UNAVAILABLE while the
  // node recovers from a restored backup: docs/restore.md). The other
  // Federation calls are served meanwhile. Empty: always OK.
  std::function<absl::Status()> federation_ready;
};

// The dashboard (Dashboard service, Federation.GetAggregateCounts).
struct DashboardServices {
  // Suppression threshold k (>= 5; NodeConfig dashboard.threshold).
  int64_t threshold = 10;
  // Stalled-work thresholds (dashboard.*_due_days).
  core::StalledWorkOptions stalled;
  // Every configured region slug (this node's and the peers'), in config
  // order: the regions a request may name, and the default set.
  std::vector<std::string> regions;
  // The peers' counts; null: no peers (only this node's region is served).
  PeerCounts* peer_counts = nullptr;
  // Largest quarter range of one request.
  int max_quarters = 40;
};

// `authorizer`, `cases`, `privacy`, `activities`, `partners`, the pointers in
// `transfers`, `audit` and `dashboard` must outlive the returned services and
// the server. `activities` serves CaseOffice.RecordActivity and
// ListActivities; null: they answer UNIMPLEMENTED after authorization.
// `partners` serves PartnerStatus (its watch is woken by
// `transfers.changes`, notified after every commit); null: PartnerStatus
// answers UNIMPLEMENTED after authorization. `backups` runs Admin.Backup
// (off the gRPC threads); null: backups are not configured and Admin.Backup
// answers FAILED_PRECONDITION naming the settings.
NodeServices MakeNodeServices(const Authorizer* authorizer,
                              core::CaseService* cases,
                              core::PrivacyService* privacy,
                              const TransferServices& transfers,
                              const AuditServices& audit,
                              core::ActivityService* activities = nullptr,
                              const DashboardServices& dashboard = {},
                              core::PartnerService* partners = nullptr,
                              backup::BackupRunner* backups = nullptr);

}  // namespace ruta::api

#endif  // RUTA_API_SERVICES_H_
