// ruta::core::TransferService — transfers of cases between regions and the
// services recorded for a case (DESIGN.md sections 4 and 7; transfer.h for
// the lifecycle and its convergence rule, federation.h for what crosses).
//
// Every method is asynchronous, as CaseService's: `done` is called exactly
// once, on a store thread (after the durable commit for writes), or on the
// calling thread when the request is refused before it reaches the store.
// `done` must not block.
//
// Who may do what (callers are offices of this node's region):
//   RequestTransfer, DepartTransfer, CancelTransfer: the sending region;
//   AcceptTransfer, RejectTransfer, ReceiveTransfer: the receiving region;
//   AddService, UpdateService: the region that owns the case.
// Each change is written with its audit record, its idempotency record and
// its outbound event in one transaction: it is durably recorded at once,
// whether or not the peer is reachable, and delivered by the relay.
//
// Errors:
//  INVALID_ARGUMENT    a field is malformed; the message names it.
//  NOT_FOUND           no such case, transfer or service on this node.
//  FAILED_PRECONDITION the step is not allowed now: wrong state (the message
//                      names the current state), wrong side of the transfer,
//                      case not owned by this region, or in a stage a
//                      transfer cannot start from.
//  ABORTED             expected_version did not match.
//  PERMISSION_DENIED   the actor's region is not this node's region.
//  UNAVAILABLE/INTERNAL storage failures; nothing was changed.
// Mutations are idempotent per (actor.principal, request_id), like
// CaseService's: a retry returns the record as the first execution produced
// it.
#ifndef RUTA_CORE_TRANSFER_SERVICE_H_
#define RUTA_CORE_TRANSFER_SERVICE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ruta/core/domain.h"
#include "ruta/core/federation.h"
#include "ruta/core/transfer.h"
#include "ruta/store/store.h"

namespace ruta::core {

struct TransferServiceOptions {
  // Slug of the region this node serves. Required.
  std::string region;
  // Regions cases may be transferred to (the configured peers), each with
  // its UBIGEO department code (2 digits): the destination province must lie
  // in it. Empty: no transfer can be requested.
  std::map<std::string, std::string> peer_departments;
  // Largest page the list methods return. Default 100.
  int max_page_size = 100;
  // Page size when the request gives none. Default 50.
  int default_page_size = 50;
};

struct RequestTransferCommand {
  std::string request_id;
  std::string case_id;
  std::string to_region;
  std::string destination_province;
  std::vector<ServiceType> requested_services;
};

// Accept, reject, depart, receive or cancel one transfer.
struct TransferStepCommand {
  std::string request_id;
  std::string transfer_id;
  RejectReason reject_reason = RejectReason::kUnspecified;  // reject only
  // Reject and cancel: free text of at most 280 characters without
  // identifiers (core/free_text.h).
  std::string note;
  Date on;  // depart and receive: the day; unset = today
};

struct ListTransfersQuery {
  TransferState state = TransferState::kUnspecified;  // any
  TransferRole direction = TransferRole::kNone;       // both
  std::string case_id;                                // any
  int page_size = 0;
  std::string page_token;
};

struct TransferList {
  std::vector<Transfer> transfers;
  std::string next_page_token;
};

struct AddServiceCommand {
  std::string request_id;
  std::string case_id;
  ServiceType type = ServiceType::kUnspecified;
  std::string provider;  // partner id "<region>/<name>", or empty
  ServiceStatus status = ServiceStatus::kUnspecified;
  YearMonth start_month;
};

struct UpdateServiceCommand {
  std::string request_id;
  std::string service_id;
  ServiceStatus status = ServiceStatus::kUnspecified;
  YearMonth end_month;  // required for COMPLETED and DROPPED
  std::optional<int64_t> expected_version;
  // Set when an NGO partner records the status of a service it delivers
  // (PartnerStatus.UpdateServiceStatus, core/partner_service.h): the
  // partner's id and the case it named. The service must then be of that
  // case, provided by that partner, and the case referred to it and owned by
  // this region; otherwise NOT_FOUND, whatever the reason. The audit record
  // names PartnerStatus.UpdateServiceStatus.
  std::string partner_id = {};
  std::string partner_case_id = {};
};

struct ServiceList {
  std::vector<ServiceRecord> services;
  std::string next_page_token;
};

class TransferService final {
 public:
  // `store` and `outbox` must outlive the service.
  TransferService(TransferServiceOptions options, store::Store* store,
                  const Outbox* outbox);
  TransferService(const TransferService&) = delete;
  TransferService& operator=(const TransferService&) = delete;

  void RequestTransfer(const Actor& actor, RequestTransferCommand command,
                       std::function<void(absl::StatusOr<Transfer>)> done);
  void AcceptTransfer(const Actor& actor, TransferStepCommand command,
                      std::function<void(absl::StatusOr<Transfer>)> done);
  void RejectTransfer(const Actor& actor, TransferStepCommand command,
                      std::function<void(absl::StatusOr<Transfer>)> done);
  void DepartTransfer(const Actor& actor, TransferStepCommand command,
                      std::function<void(absl::StatusOr<Transfer>)> done);
  void ReceiveTransfer(const Actor& actor, TransferStepCommand command,
                       std::function<void(absl::StatusOr<Transfer>)> done);
  void CancelTransfer(const Actor& actor, TransferStepCommand command,
                      std::function<void(absl::StatusOr<Transfer>)> done);

  void GetTransfer(const Actor& actor, std::string transfer_id,
                   std::function<void(absl::StatusOr<Transfer>)> done);
  void ListTransfers(const Actor& actor, ListTransfersQuery query,
                     std::function<void(absl::StatusOr<TransferList>)> done);
  // Transfer changes after position `after` (WatchTransfers), at most
  // `limit`; with `after` < 0, the current state of every transfer that is
  // not final, each as a change at the current last position, followed by a
  // marker with an empty transfer_id carrying that position (so that a watch
  // with no open transfer still learns where to resume).
  void ReadTransferChanges(
      const Actor& actor, int64_t after, int limit,
      std::function<void(absl::StatusOr<std::vector<store::TransferChange>>)>
          done);

  void AddService(const Actor& actor, AddServiceCommand command,
                  std::function<void(absl::StatusOr<ServiceRecord>)> done);
  void UpdateService(const Actor& actor, UpdateServiceCommand command,
                     std::function<void(absl::StatusOr<ServiceRecord>)> done);
  // Services of a case this node holds (owned or shared with it).
  void ListServices(const Actor& actor, std::string case_id, int page_size,
                    std::string page_token,
                    std::function<void(absl::StatusOr<ServiceList>)> done);

 private:
  // One step of an existing transfer by `role` (see the .cc).
  void Step(const Actor& actor, const char* method, TransferStepCommand command,
            TransferRole role, TransferState to,
            std::function<void(absl::StatusOr<Transfer>)> done);
  int PageLimit(int page_size) const;

  const TransferServiceOptions options_;
  store::Store* const store_;
  const Outbox* const outbox_;
};

}  // namespace ruta::core

#endif  // RUTA_CORE_TRANSFER_SERVICE_H_
