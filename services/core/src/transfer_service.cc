#include "ruta/core/transfer_service.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mutations.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/free_text.h"
#include "ruta/core/ids.h"
#include "ruta/core/stage_machine.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

using internal::AuditMutation;
using internal::CheckRegion;
using internal::CheckRequestId;
using internal::Fingerprinter;
using internal::NowMicros;

constexpr char kRequestMethod[] = "CaseOffice.RequestTransfer";
constexpr char kAcceptMethod[] = "CaseOffice.AcceptTransfer";
constexpr char kRejectMethod[] = "CaseOffice.RejectTransfer";
constexpr char kDepartMethod[] = "CaseOffice.DepartTransfer";
constexpr char kReceiveMethod[] = "CaseOffice.ReceiveTransfer";
constexpr char kCancelMethod[] = "CaseOffice.CancelTransfer";
constexpr char kAddServiceMethod[] = "CaseOffice.AddService";
constexpr char kUpdateServiceMethod[] = "CaseOffice.UpdateService";
constexpr char kPartnerUpdateServiceMethod[] =
    "PartnerStatus.UpdateServiceStatus";

constexpr size_t kMaxNoteLength = 280;

absl::Status CheckTransferId(const std::string& id) {
  if (!IsValidTransferId(id)) {
    return absl::InvalidArgumentError(
        "transfer_id must be \"tr_\" followed by 20 lowercase letters");
  }
  return absl::OkStatus();
}

absl::Status CheckCaseId(const std::string& id) {
  if (!IsValidCaseId(id)) {
    return absl::InvalidArgumentError(
        "case_id must be \"cs_\" followed by 20 lowercase letters");
  }
  return absl::OkStatus();
}

// Notes travel to the other region and are shown to its offices: they may
// carry no identifier. The same free-text rule as the identifier firewall at
// the edge (DESIGN.md section 6), which has already refused such a note from
// a client; here it also holds for any other caller of the service.
absl::Status CheckNote(const std::string& note) {
  return CheckFreeText("note", note, kMaxNoteLength);
}

absl::Status CheckYearMonth(const YearMonth& m, const char* field) {
  if (m.year < 2000 || m.year > 2199 || m.month < 1 || m.month > 12) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a month between 2000-01 and 2199-12"));
  }
  return absl::OkStatus();
}

bool Before(const YearMonth& a, const YearMonth& b) {
  return a.year < b.year || (a.year == b.year && a.month < b.month);
}

bool Before(const Date& a, const Date& b) {
  if (a.year != b.year) return a.year < b.year;
  if (a.month != b.month) return a.month < b.month;
  return a.day < b.day;
}

absl::Status NoSuchTransfer(const std::string& id, const std::string& region) {
  return absl::NotFoundError(
      absl::StrCat("no transfer ", id, " involving region ", region));
}

absl::Status NoSuchCase(const std::string& id, const std::string& region) {
  return absl::NotFoundError(
      absl::StrCat("no case ", id, " in region ", region));
}

const char* RoleName(TransferRole role) {
  return role == TransferRole::kSender ? "sending" : "receiving";
}

// A replayed request: the record (transfer or service) at the version it
// produced, read by `find_version`.
template <typename Record>
absl::StatusOr<bool> ReplayRecord(
    store::WriteTxn& txn, const Actor& actor, const std::string& request_id,
    const std::string& fingerprint,
    absl::StatusOr<std::optional<Record>> (store::ReadTxn::*find_version)(
        const std::string&, int64_t),
    Record* out) {
  RUTA_ASSIGN_OR_RETURN(
      std::optional<store::RequestRecord> record,
      internal::FindReplay(txn, actor.principal, request_id, fingerprint));
  if (!record.has_value()) return false;
  RUTA_ASSIGN_OR_RETURN(
      std::optional<Record> found,
      (txn.*find_version)(record->case_id, record->case_version));
  if (!found.has_value()) {
    return absl::InternalError(absl::StrCat(
        "request_id ", request_id, " recorded version ", record->case_version,
        " of ", record->case_id, ", which the store does not have"));
  }
  *out = *std::move(found);
  return true;
}

absl::StatusOr<bool> ReplayTransfer(store::WriteTxn& txn, const Actor& actor,
                                    const std::string& request_id,
                                    const std::string& fingerprint,
                                    Transfer* out) {
  return ReplayRecord<Transfer>(txn, actor, request_id, fingerprint,
                                &store::ReadTxn::FindTransferVersion, out);
}

absl::StatusOr<bool> ReplayService(store::WriteTxn& txn, const Actor& actor,
                                   const std::string& request_id,
                                   const std::string& fingerprint,
                                   ServiceRecord* out) {
  return ReplayRecord<ServiceRecord>(txn, actor, request_id, fingerprint,
                                     &store::ReadTxn::FindServiceVersion, out);
}

// Runs a mutation producing a T in a write transaction and reports it after
// the commit (telling the relay that events were written).
template <typename T>
void WriteAndReport(store::Store* store, const Outbox* outbox,
                    std::function<absl::Status(store::WriteTxn&, T*)> fn,
                    std::function<void(absl::StatusOr<T>)> done) {
  auto result = std::make_shared<T>();
  store->Write([result, fn = std::move(fn)](
                   store::WriteTxn& txn) { return fn(txn, result.get()); },
               [result, outbox, done = std::move(done)](absl::Status status) {
                 if (!status.ok()) return done(std::move(status));
                 outbox->Committed();
                 done(std::move(*result));
               });
}

}  // namespace

TransferService::TransferService(TransferServiceOptions options,
                                 store::Store* store, const Outbox* outbox)
    : options_(std::move(options)), store_(store), outbox_(outbox) {}

int TransferService::PageLimit(int page_size) const {
  int limit = page_size == 0 ? options_.default_page_size : page_size;
  return std::max(1, std::min(limit, std::max(1, options_.max_page_size)));
}

void TransferService::RequestTransfer(
    const Actor& actor, RequestTransferCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(command.case_id); !s.ok()) return done(s);
  auto department = options_.peer_departments.find(command.to_region);
  if (command.to_region == options_.region) {
    return done(absl::InvalidArgumentError(
        "to_region is this node's own region; a transfer goes to another "
        "region"));
  }
  if (department == options_.peer_departments.end()) {
    std::vector<std::string> peers;
    for (const auto& [slug, unused] : options_.peer_departments) {
      peers.push_back(slug);
    }
    return done(absl::InvalidArgumentError(absl::StrCat(
        "to_region \"", command.to_region,
        "\" is not a region this node exchanges cases with; configured: ",
        peers.empty() ? "(none)" : absl::StrJoin(peers, ", "))));
  }
  const std::string& province = command.destination_province;
  if (!IsKnownProvince(province) ||
      province.substr(0, 2) != department->second) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "destination_province must be the 4-digit UBIGEO code of a province "
        "of ",
        command.to_region, " (department ", department->second, ")")));
  }
  std::vector<ServiceType> services = command.requested_services;
  for (ServiceType type : services) {
    if (!IsSpecified(type)) {
      return done(absl::InvalidArgumentError(
          "requested_services holds an unknown service type"));
    }
  }
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());

  Fingerprinter fp(kRequestMethod);
  fp.Add(command.case_id).Add(command.to_region).Add(province);
  for (ServiceType type : services) fp.Add(ServiceTypeName(type));

  WriteAndReport<Transfer>(
      store_, outbox_,
      [actor, region = options_.region, command = std::move(command),
       services = std::move(services), fingerprint = fp.Finish(),
       outbox = outbox_](store::WriteTxn& txn, Transfer* out) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed,
            ReplayTransfer(txn, actor, command.request_id, fingerprint, out));
        if (replayed) {
          return AuditMutation(txn, actor, kRequestMethod, out->transfer_id);
        }
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> c,
                              txn.FindCase(command.case_id));
        if (!c.has_value()) return NoSuchCase(command.case_id, region);
        if (c->owner_region != region) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c->case_id, " is in the custody of ", c->owner_region,
              "; only the region that holds a case can transfer it"));
        }
        if (c->kind != CaseKind::kVictim) {
          return absl::FailedPreconditionError(
              "only VICTIM cases are transferred; prevention cases stay in "
              "their region");
        }
        if (!IsCareStage(c->stage)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c->case_id, " is in stage ", StageName(c->stage),
              "; a transfer can be requested from RESIDENTIAL_CARE or "
              "FAMILY_CARE"));
        }
        Transfer t;
        RUTA_ASSIGN_OR_RETURN(
            t.transfer_id,
            internal::DrawFreshId(
                "transfer id", &NewTransferId,
                [&txn](const std::string& id) -> absl::StatusOr<bool> {
                  RUTA_ASSIGN_OR_RETURN(std::optional<Transfer> found,
                                        txn.FindTransfer(id));
                  return found.has_value();
                }));
        t.case_id = c->case_id;
        t.from_region = region;
        t.to_region = command.to_region;
        t.destination_province = command.destination_province;
        t.requested_services = services;
        t.requested_on = Today();
        t.updated_at = NowMicros();
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {t.case_id}, {}));
        RUTA_RETURN_IF_ERROR(txn.PutTransfer(t));
        const Case shared = *c;
        RUTA_ASSIGN_OR_RETURN(
            Case changed,
            ApplyTransferToCase(txn, region, t, TransferState::kUnspecified));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        RUTA_RETURN_IF_ERROR(txn.AddCaseShare(changed.case_id, t.to_region));
        // The receiving region gets the case as it was before the request,
        // then the request, from which it derives the case's transfer stage
        // exactly as this node did; the other regions the case was shared
        // with get the new stage.
        RUTA_RETURN_IF_ERROR(
            outbox->Append(txn, t.to_region, shared.case_id, shared));
        RUTA_RETURN_IF_ERROR(outbox->Append(txn, t.to_region, t.case_id, t));
        RUTA_RETURN_IF_ERROR(outbox->AppendToShares(
            txn, changed.case_id,
            StageChange{changed.stage, changed.closed_reason, changed.version},
            t.to_region));
        RUTA_RETURN_IF_ERROR(txn.PutRequest(internal::MakeRequestRecord(
            actor, command.request_id, kRequestMethod, fingerprint,
            t.transfer_id, TransferVersionOf(t), t.updated_at)));
        RUTA_RETURN_IF_ERROR(
            AuditMutation(txn, actor, kRequestMethod, t.transfer_id));
        *out = std::move(t);
        return absl::OkStatus();
      },
      std::move(done));
}

// The allowed steps:
//   accept:  receiver, REQUESTED -> ACCEPTED
//   reject:  receiver, REQUESTED -> REJECTED
//   depart:  sender,   ACCEPTED -> IN_TRANSIT
//   receive: receiver, IN_TRANSIT -> RECEIVED (custody moves)
//   cancel:  sender,   REQUESTED or ACCEPTED -> CANCELLED
void TransferService::Step(const Actor& actor, const char* method,
                           TransferStepCommand command, TransferRole role,
                           TransferState to,
                           std::function<void(absl::StatusOr<Transfer>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckTransferId(command.transfer_id); !s.ok()) {
    return done(s);
  }
  if (to == TransferState::kRejected && !IsSpecified(command.reject_reason)) {
    return done(absl::InvalidArgumentError(
        "reason must be one of NO_CAPACITY, INCOMPLETE_REQUEST, WRONG_REGION, "
        "RISK_AT_DESTINATION, OTHER"));
  }
  if (to == TransferState::kRejected &&
      command.reject_reason == RejectReason::kOther && command.note.empty()) {
    return done(absl::InvalidArgumentError(
        "note is required when the reason is OTHER"));
  }
  if (absl::Status s = CheckNote(command.note); !s.ok()) return done(s);
  if (command.on.is_set() && !IsValidDate(command.on)) {
    return done(
        absl::InvalidArgumentError("the date is not a valid calendar day"));
  }
  const Date today = Today();
  if (command.on.is_set() && Before(today, command.on)) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("the date ", FormatDate(command.on),
                     " is in the future (today is ", FormatDate(today), ")")));
  }
  Fingerprinter fp(method);
  fp.Add(command.transfer_id)
      .Add(RejectReasonName(command.reject_reason))
      .Add(command.note)
      .Add(FormatDate(command.on));

  WriteAndReport<Transfer>(
      store_, outbox_,
      [actor, method, role, to, today, region = options_.region,
       command = std::move(command), fingerprint = fp.Finish(),
       outbox = outbox_](store::WriteTxn& txn, Transfer* out) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed,
            ReplayTransfer(txn, actor, command.request_id, fingerprint, out));
        if (replayed)
          return AuditMutation(txn, actor, method, out->transfer_id);
        RUTA_ASSIGN_OR_RETURN(std::optional<Transfer> found,
                              txn.FindTransfer(command.transfer_id));
        if (!found.has_value() ||
            RoleOf(*found, region) == TransferRole::kNone) {
          return NoSuchTransfer(command.transfer_id, region);
        }
        Transfer t = *std::move(found);
        if (RoleOf(t, region) != role) {
          return absl::FailedPreconditionError(absl::StrCat(
              "only the ", RoleName(role), " region (",
              role == TransferRole::kSender ? t.from_region : t.to_region,
              ") may do this to transfer ", t.transfer_id));
        }
        const TransferState from = TransferStateOf(t);
        bool allowed = false;
        switch (to) {
          case TransferState::kAccepted:
          case TransferState::kRejected:
            allowed = from == TransferState::kRequested;
            break;
          case TransferState::kInTransit:
            allowed = from == TransferState::kAccepted;
            break;
          case TransferState::kReceived:
            allowed = from == TransferState::kInTransit;
            break;
          case TransferState::kCancelled:
            allowed = from == TransferState::kRequested ||
                      from == TransferState::kAccepted;
            break;
          default:
            break;
        }
        if (!allowed) {
          std::string hint;
          if (to == TransferState::kInTransit &&
              from == TransferState::kRequested) {
            hint = absl::StrCat("; it must first be accepted by ", t.to_region,
                                " (an acceptance may still be on its way)");
          } else if (to == TransferState::kReceived &&
                     from == TransferState::kAccepted) {
            hint = absl::StrCat("; its departure must first be confirmed by ",
                                t.from_region,
                                " (the confirmation may still be on its way)");
          }
          return absl::FailedPreconditionError(absl::StrCat(
              "transfer ", t.transfer_id, " is ", TransferStateName(from),
              "; it cannot become ", TransferStateName(to), hint));
        }
        const Date day = command.on.is_set() ? command.on : today;
        switch (to) {
          case TransferState::kAccepted:
            t.accepted_on = day;
            break;
          case TransferState::kRejected:
            t.rejected = true;
            t.reject_reason = command.reject_reason;
            t.reject_note = command.note;
            break;
          case TransferState::kInTransit:
            if (Before(day, t.requested_on)) {
              return absl::InvalidArgumentError(
                  absl::StrCat("departed_on is before the request (",
                               FormatDate(t.requested_on), ")"));
            }
            t.departed_on = day;
            break;
          case TransferState::kReceived:
            if (Before(day, t.departed_on)) {
              return absl::InvalidArgumentError(
                  absl::StrCat("received_on is before the departure (",
                               FormatDate(t.departed_on), ")"));
            }
            t.received_on = day;
            break;
          default:
            t.cancelled = true;
            t.cancel_note = command.note;
            break;
        }
        t.updated_at = NowMicros();
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {t.case_id}, {}));
        RUTA_RETURN_IF_ERROR(txn.PutTransfer(t));
        RUTA_ASSIGN_OR_RETURN(Case c,
                              ApplyTransferToCase(txn, region, t, from));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        const std::string& peer =
            role == TransferRole::kSender ? t.to_region : t.from_region;
        RUTA_RETURN_IF_ERROR(outbox->Append(txn, peer, t.case_id, t));
        if (c.owner_region == region && role == TransferRole::kSender) {
          // The sender still owns the case: the other regions it was shared
          // with learn its new stage.
          RUTA_RETURN_IF_ERROR(outbox->AppendToShares(
              txn, c.case_id, StageChange{c.stage, c.closed_reason, c.version},
              peer));
        }
        RUTA_RETURN_IF_ERROR(txn.PutRequest(internal::MakeRequestRecord(
            actor, command.request_id, method, fingerprint, t.transfer_id,
            TransferVersionOf(t), t.updated_at)));
        RUTA_RETURN_IF_ERROR(AuditMutation(txn, actor, method, t.transfer_id));
        *out = std::move(t);
        return absl::OkStatus();
      },
      std::move(done));
}

void TransferService::AcceptTransfer(
    const Actor& actor, TransferStepCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  command.note.clear();
  command.on = Date{};
  Step(actor, kAcceptMethod, std::move(command), TransferRole::kReceiver,
       TransferState::kAccepted, std::move(done));
}

void TransferService::RejectTransfer(
    const Actor& actor, TransferStepCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  command.on = Date{};
  Step(actor, kRejectMethod, std::move(command), TransferRole::kReceiver,
       TransferState::kRejected, std::move(done));
}

void TransferService::DepartTransfer(
    const Actor& actor, TransferStepCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  command.note.clear();
  Step(actor, kDepartMethod, std::move(command), TransferRole::kSender,
       TransferState::kInTransit, std::move(done));
}

void TransferService::ReceiveTransfer(
    const Actor& actor, TransferStepCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  command.note.clear();
  Step(actor, kReceiveMethod, std::move(command), TransferRole::kReceiver,
       TransferState::kReceived, std::move(done));
}

void TransferService::CancelTransfer(
    const Actor& actor, TransferStepCommand command,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  command.on = Date{};
  Step(actor, kCancelMethod, std::move(command), TransferRole::kSender,
       TransferState::kCancelled, std::move(done));
}

void TransferService::GetTransfer(
    const Actor& actor, std::string transfer_id,
    std::function<void(absl::StatusOr<Transfer>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckTransferId(transfer_id); !s.ok()) return done(s);
  auto result = std::make_shared<Transfer>();
  store_->Read(
      [result, transfer_id,
       region = options_.region](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(std::optional<Transfer> t,
                              txn.FindTransfer(transfer_id));
        if (!t.has_value() || RoleOf(*t, region) == TransferRole::kNone) {
          return NoSuchTransfer(transfer_id, region);
        }
        *result = *std::move(t);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void TransferService::ListTransfers(
    const Actor& actor, ListTransfersQuery query,
    std::function<void(absl::StatusOr<TransferList>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (query.page_size < 0) {
    return done(absl::InvalidArgumentError(
        "page_size must be 0 (the default) or more"));
  }
  if (query.state != TransferState::kUnspecified && !IsSpecified(query.state)) {
    return done(absl::InvalidArgumentError("state is not a known state"));
  }
  if (!query.case_id.empty()) {
    if (absl::Status s = CheckCaseId(query.case_id); !s.ok()) return done(s);
  }
  absl::StatusOr<std::string> after = DecodePageToken(query.page_token);
  if (!after.ok()) return done(after.status());
  store::TransferFilter filter;
  filter.region = options_.region;
  filter.state = query.state;
  filter.direction = query.direction;
  filter.case_id = query.case_id;
  const int limit = PageLimit(query.page_size);
  auto result = std::make_shared<TransferList>();
  store_->Read(
      [result, filter = std::move(filter), after = *std::move(after),
       limit](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(store::TransferPage page,
                              txn.ListTransfers(filter, after, limit));
        result->transfers = std::move(page.transfers);
        result->next_page_token = page.next_after.empty()
                                      ? std::string()
                                      : EncodePageToken(page.next_after);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void TransferService::ReadTransferChanges(
    const Actor& actor, int64_t after, int limit,
    std::function<void(absl::StatusOr<std::vector<store::TransferChange>>)>
        done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  auto result = std::make_shared<std::vector<store::TransferChange>>();
  limit = std::max(1, limit);
  store_->Read(
      [result, after, limit,
       region = options_.region](store::ReadTxn& txn) -> absl::Status {
        if (after >= 0) {
          RUTA_ASSIGN_OR_RETURN(*result,
                                txn.ScanTransferChanges(region, after, limit));
          return absl::OkStatus();
        }
        // A fresh watch: every open transfer, as of the last change.
        RUTA_ASSIGN_OR_RETURN(int64_t last, txn.LastTransferChange());
        store::TransferFilter filter;
        filter.region = region;
        std::string page_after;
        do {
          RUTA_ASSIGN_OR_RETURN(store::TransferPage page,
                                txn.ListTransfers(filter, page_after, 500));
          for (Transfer& t : page.transfers) {
            if (IsFinalTransferState(TransferStateOf(t))) continue;
            result->push_back(store::TransferChange{last, std::move(t)});
          }
          page_after = std::move(page.next_after);
        } while (!page_after.empty());
        store::TransferChange marker;
        marker.position = last;
        result->push_back(std::move(marker));
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void TransferService::AddService(
    const Actor& actor, AddServiceCommand command,
    std::function<void(absl::StatusOr<ServiceRecord>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(command.case_id); !s.ok()) return done(s);
  if (!IsSpecified(command.type)) {
    return done(absl::InvalidArgumentError("type must be a service type"));
  }
  if (!IsSpecified(command.status)) {
    return done(absl::InvalidArgumentError(
        "status must be one of PLANNED, ONGOING, COMPLETED, DROPPED"));
  }
  if (!command.provider.empty()) {
    const size_t slash = command.provider.find('/');
    bool ok = slash != std::string::npos && slash > 0 &&
              slash + 1 < command.provider.size() &&
              command.provider.size() <= 80;
    for (char c : command.provider) {
      ok = ok && ((c >= 'a' && c <= 'z') || c == '-' || c == '/');
    }
    if (!ok) {
      return done(absl::InvalidArgumentError(
          "provider must be a partner id \"<region>/<name>\" (lowercase "
          "letters and hyphens), or empty for the authority itself"));
    }
  }
  if (absl::Status s = CheckYearMonth(command.start_month, "start_month");
      !s.ok()) {
    return done(s);
  }
  Fingerprinter fp(kAddServiceMethod);
  fp.Add(command.case_id)
      .Add(ServiceTypeName(command.type))
      .Add(command.provider)
      .Add(ServiceStatusName(command.status))
      .Add(command.start_month.year)
      .Add(command.start_month.month);
  WriteAndReport<ServiceRecord>(
      store_, outbox_,
      [actor, region = options_.region, command = std::move(command),
       fingerprint = fp.Finish(), outbox = outbox_](
          store::WriteTxn& txn, ServiceRecord* out) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed,
            ReplayService(txn, actor, command.request_id, fingerprint, out));
        if (replayed) {
          return AuditMutation(txn, actor, kAddServiceMethod, out->case_id);
        }
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> c,
                              txn.FindCase(command.case_id));
        if (!c.has_value()) return NoSuchCase(command.case_id, region);
        if (c->owner_region != region) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c->case_id, " is in the custody of ", c->owner_region,
              "; its services are recorded by that region"));
        }
        if (c->stage == Stage::kClosed || c->stage == Stage::kInTransit) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c->case_id, " is ", StageName(c->stage),
              "; services are recorded for open cases that are not in "
              "transit"));
        }
        ServiceRecord s;
        RUTA_ASSIGN_OR_RETURN(
            s.service_id,
            internal::DrawFreshId(
                "service id", &NewServiceId,
                [&txn](const std::string& id) -> absl::StatusOr<bool> {
                  RUTA_ASSIGN_OR_RETURN(std::optional<ServiceRecord> found,
                                        txn.FindService(id));
                  return found.has_value();
                }));
        s.case_id = c->case_id;
        s.type = command.type;
        s.provider = command.provider;
        s.status = command.status;
        s.start_month = command.start_month;
        s.version = 1;
        s.author_region = region;
        s.updated_at = NowMicros();
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {s.case_id}, {}));
        RUTA_RETURN_IF_ERROR(txn.PutService(s));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        RUTA_RETURN_IF_ERROR(outbox->AppendToShares(txn, s.case_id, s));
        RUTA_RETURN_IF_ERROR(txn.PutRequest(internal::MakeRequestRecord(
            actor, command.request_id, kAddServiceMethod, fingerprint,
            s.service_id, s.version, s.updated_at)));
        RUTA_RETURN_IF_ERROR(
            AuditMutation(txn, actor, kAddServiceMethod, s.case_id));
        *out = std::move(s);
        return absl::OkStatus();
      },
      std::move(done));
}

void TransferService::UpdateService(
    const Actor& actor, UpdateServiceCommand command,
    std::function<void(absl::StatusOr<ServiceRecord>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (!IsValidServiceId(command.service_id)) {
    return done(absl::InvalidArgumentError(
        "service_id must be \"sv_\" followed by 20 lowercase letters"));
  }
  if (!IsSpecified(command.status)) {
    return done(absl::InvalidArgumentError(
        "status must be one of PLANNED, ONGOING, COMPLETED, DROPPED"));
  }
  const bool ends = command.status == ServiceStatus::kCompleted ||
                    command.status == ServiceStatus::kDropped;
  if (ends) {
    if (absl::Status s = CheckYearMonth(command.end_month, "end_month");
        !s.ok()) {
      return done(absl::InvalidArgumentError(
          absl::StrCat(s.message(), " (required for COMPLETED and DROPPED)")));
    }
  } else if (command.end_month.year != 0 || command.end_month.month != 0) {
    return done(absl::InvalidArgumentError(
        "end_month is only set for COMPLETED or DROPPED"));
  }
  if (command.expected_version.has_value() && *command.expected_version < 1) {
    return done(absl::InvalidArgumentError(
        "expected_version must be 1 or more when given"));
  }
  const bool by_partner = !command.partner_id.empty();
  const char* method =
      by_partner ? kPartnerUpdateServiceMethod : kUpdateServiceMethod;
  Fingerprinter fp(method);
  if (by_partner) fp.Add(command.partner_id).Add(command.partner_case_id);
  fp.Add(command.service_id)
      .Add(ServiceStatusName(command.status))
      .Add(command.end_month.year)
      .Add(command.end_month.month)
      .Add(command.expected_version.value_or(0));
  WriteAndReport<ServiceRecord>(
      store_, outbox_,
      [actor, region = options_.region, command = std::move(command),
       fingerprint = fp.Finish(), outbox = outbox_, method,
       by_partner](store::WriteTxn& txn, ServiceRecord* out) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed,
            ReplayService(txn, actor, command.request_id, fingerprint, out));
        if (replayed) {
          return AuditMutation(txn, actor, method, out->case_id);
        }
        RUTA_ASSIGN_OR_RETURN(std::optional<ServiceRecord> found,
                              txn.FindService(command.service_id));
        // A partner learns nothing of services it does not deliver on cases
        // referred to it: one NOT_FOUND, with one message, for every reason.
        const std::string not_found_for_partner =
            absl::StrCat("no service ", command.service_id,
                         " delivered by you on this case referred to you");
        if (!found.has_value()) {
          return absl::NotFoundError(
              by_partner ? not_found_for_partner
                         : absl::StrCat("no service ", command.service_id,
                                        " in region ", region));
        }
        ServiceRecord s = *std::move(found);
        if (by_partner) {
          bool visible = s.provider == command.partner_id &&
                         s.case_id == command.partner_case_id;
          if (visible) {
            RUTA_ASSIGN_OR_RETURN(
                std::optional<store::PartnerReferral> referral,
                txn.FindPartnerReferral(command.partner_id, s.case_id));
            visible = referral.has_value() && referral->owner_region == region;
          }
          if (!visible) return absl::NotFoundError(not_found_for_partner);
        }
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(s.case_id));
        if (!c.has_value() || c->owner_region != region) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the case of service ", s.service_id, " is in the custody of ",
              c.has_value() ? c->owner_region : std::string("another region"),
              "; its services are updated by that region"));
        }
        if (c->stage == Stage::kInTransit) {
          // A partner knows the case only by its pseudonym: no case id.
          return absl::FailedPreconditionError(absl::StrCat(
              by_partner ? std::string("the case")
                         : absl::StrCat("case ", c->case_id),
              " is IN_TRANSIT; its services are updated once it is received"));
        }
        if (command.expected_version.has_value() &&
            *command.expected_version != s.version) {
          return absl::AbortedError(absl::StrCat(
              "service ", s.service_id, " is at version ", s.version, ", not ",
              *command.expected_version,
              ": it changed since it was read; read it again and retry"));
        }
        if (command.end_month.year != 0 &&
            Before(command.end_month, s.start_month)) {
          return absl::InvalidArgumentError(
              "end_month is before the service's start_month");
        }
        s.status = command.status;
        s.end_month = command.end_month;
        s.version += 1;
        s.author_region = region;
        s.updated_at = NowMicros();
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {s.case_id}, {}));
        RUTA_RETURN_IF_ERROR(txn.PutService(s));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        RUTA_RETURN_IF_ERROR(outbox->AppendToShares(txn, s.case_id, s));
        RUTA_RETURN_IF_ERROR(txn.PutRequest(internal::MakeRequestRecord(
            actor, command.request_id, method, fingerprint, s.service_id,
            s.version, s.updated_at)));
        RUTA_RETURN_IF_ERROR(AuditMutation(txn, actor, method, s.case_id));
        *out = std::move(s);
        return absl::OkStatus();
      },
      std::move(done));
}

void TransferService::ListServices(
    const Actor& actor, std::string case_id, int page_size,
    std::string page_token,
    std::function<void(absl::StatusOr<ServiceList>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(case_id); !s.ok()) return done(s);
  if (page_size < 0) {
    return done(absl::InvalidArgumentError(
        "page_size must be 0 (the default) or more"));
  }
  absl::StatusOr<std::string> after = DecodePageToken(page_token);
  if (!after.ok()) return done(after.status());
  const int limit = PageLimit(page_size);
  auto result = std::make_shared<ServiceList>();
  store_->Read(
      [result, case_id, after = *std::move(after), limit,
       region = options_.region](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(case_id));
        if (!c.has_value()) return NoSuchCase(case_id, region);
        RUTA_ASSIGN_OR_RETURN(store::ServicePage page,
                              txn.ListServices(case_id, after, limit));
        result->services = std::move(page.services);
        result->next_page_token = page.next_after.empty()
                                      ? std::string()
                                      : EncodePageToken(page.next_after);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

}  // namespace ruta::core
