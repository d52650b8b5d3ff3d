#include "ruta/core/federation.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/ids.h"
#include "ruta/core/person_links.h"
#include "ruta/core/stage_machine.h"

namespace ruta::core {
namespace {

absl::Status Refused(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("event refused: ", what));
}

absl::Time NowMicros() {
  return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
}

// A case shared by its owner: creates or refreshes this node's copy.
absl::Status ApplyCaseShared(store::WriteTxn& txn, const std::string& region,
                             const std::string& origin, const Case& shared) {
  if (shared.owner_region != origin) {
    return Refused(absl::StrCat("region ", origin, " shared case ",
                                shared.case_id, " owned by ",
                                shared.owner_region));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> local,
                        txn.FindCase(shared.case_id));
  Case c = shared;
  if (local.has_value()) {
    if (local->owner_region == region) {
      return Refused(absl::StrCat("region ", origin, " shared case ",
                                  shared.case_id, ", which ", region, " owns"));
    }
    c.referrals = local->referrals;  // partner referrals are per region
    c.version = local->version + 1;
  } else {
    c.referrals.clear();
    c.version = 1;
  }
  c.updated_at = NowMicros();
  RUTA_RETURN_IF_ERROR(txn.PutCase(c));
  RUTA_RETURN_IF_ERROR(txn.AddCaseShare(c.case_id, origin));
  if (local.has_value()) return absl::OkStatus();
  // A transfer of the case can be known before the case itself only after
  // this node restored a backup: its own decision on the transfer (an
  // acceptance) was fetched back before the peer resent the case. The new
  // copy takes the stage that transfer implies, as it would have had.
  RUTA_ASSIGN_OR_RETURN(std::vector<Transfer> transfers,
                        txn.ListCaseTransfers(c.case_id));
  for (const Transfer& t : transfers) {
    if (RoleOf(t, region) != TransferRole::kReceiver) continue;
    RUTA_RETURN_IF_ERROR(
        ApplyTransferToCase(txn, region, t, TransferState::kUnspecified)
            .status());
  }
  return absl::OkStatus();
}

absl::Status ApplyTransfer(store::WriteTxn& txn, const std::string& region,
                           const std::string& origin,
                           const Transfer& incoming) {
  const TransferRole author = RoleOf(incoming, origin);
  if (author == TransferRole::kNone || RoleOf(incoming, region) == author ||
      RoleOf(incoming, region) == TransferRole::kNone) {
    return Refused(absl::StrCat(
        "transfer ", incoming.transfer_id, " from ", incoming.from_region,
        " to ", incoming.to_region, " sent by ", origin, " to ", region));
  }
  const TransferState authored = TransferStateOf(incoming);
  if (!MayAuthor(author, authored)) {
    return Refused(absl::StrCat(
        "region ", origin, " may not move transfer ", incoming.transfer_id,
        " to ", TransferStateName(authored), " (only the ",
        author == TransferRole::kSender ? "receiving" : "sending",
        " region may)"));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<Transfer> stored,
                        txn.FindTransfer(incoming.transfer_id));
  Transfer local;
  if (stored.has_value()) {
    local = *std::move(stored);
  } else {
    if (authored != TransferState::kRequested) {
      return Refused(absl::StrCat("transfer ", incoming.transfer_id,
                                  " is unknown here and the event is not "
                                  "its request"));
    }
    local.transfer_id = incoming.transfer_id;
    local.case_id = incoming.case_id;
    local.from_region = incoming.from_region;
    local.to_region = incoming.to_region;
    local.destination_province = incoming.destination_province;
    local.requested_services = incoming.requested_services;
  }
  const TransferState from = TransferStateOf(local);
  bool consistent = true;
  const bool added = MergeTransferFacts(incoming, author, &local, &consistent);
  if (!consistent) {
    return Refused(absl::StrCat("transfer ", incoming.transfer_id,
                                " does not match the one held here"));
  }
  if (!added) return absl::OkStatus();  // nothing new: no second effect
  local.updated_at = NowMicros();
  RUTA_RETURN_IF_ERROR(txn.PutTransfer(local));
  if (TransferStateOf(local) != from) {
    RUTA_RETURN_IF_ERROR(
        ApplyTransferToCase(txn, region, local, from).status());
  }
  return absl::OkStatus();
}

absl::Status ApplyStageChange(store::WriteTxn& txn, const std::string& origin,
                              const std::string& case_id,
                              const StageChange& change) {
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> local, txn.FindCase(case_id));
  if (!local.has_value() || local->owner_region != origin) {
    return Refused(absl::StrCat("stage change of case ", case_id, " by ",
                                origin, ", which does not own it here"));
  }
  Case c = *std::move(local);
  // As the owner's UpdateStage and CloseCase do.
  c.care_stage = change.stage == Stage::kClosed ? c.stage : Stage::kUnspecified;
  c.stage = change.stage;
  c.closed_reason = change.closed_reason;
  c.version += 1;
  c.updated_at = NowMicros();
  return txn.PutCase(c);
}

absl::Status ApplyService(store::WriteTxn& txn, const std::string& origin,
                          const ServiceRecord& incoming) {
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(incoming.case_id));
  if (!c.has_value() || c->owner_region != origin ||
      incoming.author_region != origin) {
    return Refused(absl::StrCat("service ", incoming.service_id, " of case ",
                                incoming.case_id, " by ", origin,
                                ", which does not own the case here"));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<ServiceRecord> local,
                        txn.FindService(incoming.service_id));
  if (local.has_value() && !ServiceSupersedes(incoming, *local)) {
    return absl::OkStatus();
  }
  ServiceRecord s = incoming;
  s.updated_at = NowMicros();
  return txn.PutService(s);
}

// The owner erased the case: so does this node (store::WriteTxn::EraseCase).
absl::Status ApplyCaseErased(store::WriteTxn& txn, const std::string& origin,
                             const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> local, txn.FindCase(case_id));
  if (local.has_value() && local->owner_region != origin) {
    return Refused(absl::StrCat("erasure of case ", case_id, " by ", origin,
                                ", which does not own it here"));
  }
  return EraseCaseCounted(txn, case_id, origin, NowMicros());
}

// Own transfer facts fetched back after a restore (ReapplyOwnEvent).
absl::Status ReapplyOwnTransfer(store::WriteTxn& txn, const std::string& region,
                                const Transfer& incoming) {
  if (RoleOf(incoming, region) == TransferRole::kNone) {
    return Refused(absl::StrCat("transfer ", incoming.transfer_id,
                                " does not involve ", region));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<Transfer> stored,
                        txn.FindTransfer(incoming.transfer_id));
  Transfer local;
  if (stored.has_value()) {
    local = *std::move(stored);
  } else {
    local.transfer_id = incoming.transfer_id;
    local.case_id = incoming.case_id;
    local.from_region = incoming.from_region;
    local.to_region = incoming.to_region;
    local.destination_province = incoming.destination_province;
    local.requested_services = incoming.requested_services;
  }
  const TransferState from = TransferStateOf(local);
  // The event is the transfer as this node held it: the peer's facts in it
  // had been applied here too.
  bool consistent = true;
  bool added =
      MergeTransferFacts(incoming, TransferRole::kSender, &local, &consistent);
  added = MergeTransferFacts(incoming, TransferRole::kReceiver, &local,
                             &consistent) ||
          added;
  if (!consistent) {
    return Refused(absl::StrCat("transfer ", incoming.transfer_id,
                                " does not match the one held here"));
  }
  if (!added) return absl::OkStatus();
  local.updated_at = NowMicros();
  RUTA_RETURN_IF_ERROR(txn.PutTransfer(local));
  if (RoleOf(local, region) == TransferRole::kSender) {
    RUTA_RETURN_IF_ERROR(txn.AddCaseShare(local.case_id, local.to_region));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(local.case_id));
  if (!c.has_value() || TransferStateOf(local) == from) {
    // The receiver's copy of the case comes with the peer's resent events
    // (ApplyCaseShared then derives its stage from this transfer).
    return absl::OkStatus();
  }
  return ApplyTransferToCase(txn, region, local, from).status();
}

}  // namespace

absl::Status ReapplyOwnEvent(store::WriteTxn& txn, const std::string& region,
                             const FederationEvent& event) {
  if (event.origin_region != region) {
    return Refused(absl::StrCat("event of region ", event.origin_region,
                                " is not an event of ", region));
  }
  if (const auto* m = std::get_if<PersonsMerged>(&event.payload)) {
    RUTA_ASSIGN_OR_RETURN(std::optional<std::string> kept,
                          txn.FindPersonAlias(m->merged_ref));
    if (kept.has_value()) return absl::OkStatus();  // joined already
    return JoinPersons(txn, m->kept_ref, m->merged_ref, nullptr).status();
  }
  RUTA_ASSIGN_OR_RETURN(bool erased, txn.IsCaseErased(event.case_id));
  if (erased) return absl::OkStatus();
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> local, txn.FindCase(event.case_id));
  if (std::holds_alternative<CaseErased>(event.payload)) {
    return EraseCaseCounted(txn, event.case_id, region, NowMicros());
  }
  std::vector<std::string> refs;
  if (const auto* c = std::get_if<Case>(&event.payload)) {
    refs.push_back(c->person_ref);
  }
  RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                        CountedChange::Begin(txn, {event.case_id}, refs));
  if (const auto* shared = std::get_if<Case>(&event.payload)) {
    if (!local.has_value()) {
      Case c = *shared;
      c.version = 1;
      c.updated_at = NowMicros();
      RUTA_RETURN_IF_ERROR(txn.PutCase(c));
    }
    RUTA_RETURN_IF_ERROR(
        txn.AddCaseShare(event.case_id, event.destination_region));
  } else if (const auto* t = std::get_if<Transfer>(&event.payload)) {
    RUTA_RETURN_IF_ERROR(ReapplyOwnTransfer(txn, region, *t));
  } else if (const auto* s = std::get_if<StageChange>(&event.payload)) {
    if (local.has_value() && local->owner_region == region &&
        local->version < s->version && local->stage != s->stage) {
      Case c = *local;
      c.care_stage = s->stage == Stage::kClosed ? c.stage : Stage::kUnspecified;
      c.stage = s->stage;
      c.closed_reason = s->closed_reason;
      c.version += 1;
      c.updated_at = NowMicros();
      RUTA_RETURN_IF_ERROR(txn.PutCase(c));
    }
  } else {
    const ServiceRecord& incoming = std::get<ServiceRecord>(event.payload);
    if (local.has_value()) {
      RUTA_ASSIGN_OR_RETURN(std::optional<ServiceRecord> stored,
                            txn.FindService(incoming.service_id));
      if (!stored.has_value() || ServiceSupersedes(incoming, *stored)) {
        ServiceRecord s = incoming;
        s.updated_at = NowMicros();
        RUTA_RETURN_IF_ERROR(txn.PutService(s));
      }
    }
  }
  return counted.Commit(txn);
}

Outbox::Outbox(std::string region, const EventEncoder* encoder,
               std::function<void()> on_commit)
    : region_(std::move(region)),
      encoder_(encoder),
      on_commit_(std::move(on_commit)) {}

absl::Status Outbox::Append(store::WriteTxn& txn,
                            const std::string& destination,
                            const std::string& case_id,
                            EventPayload payload) const {
  FederationEvent event;
  event.event_id = NewEventId();
  event.origin_region = region_;
  event.destination_region = destination;
  event.case_id = case_id;
  event.committed_at = NowMicros();
  event.payload = std::move(payload);
  RUTA_ASSIGN_OR_RETURN(std::string bytes, encoder_->Encode(event));
  store::OutboxEvent row;
  row.destination = destination;
  row.case_id = case_id;
  row.payload = std::move(bytes);
  row.committed_at = event.committed_at;
  return txn.AppendOutbox(row).status();
}

absl::Status Outbox::AppendToShares(store::WriteTxn& txn,
                                    const std::string& case_id,
                                    const EventPayload& payload,
                                    const std::string& except) const {
  RUTA_ASSIGN_OR_RETURN(std::vector<std::string> shares,
                        txn.ListCaseShares(case_id));
  for (const std::string& destination : shares) {
    if (destination == except || destination == region_) continue;
    RUTA_RETURN_IF_ERROR(Append(txn, destination, case_id, payload));
  }
  return absl::OkStatus();
}

absl::StatusOr<Case> ApplyTransferToCase(store::WriteTxn& txn,
                                         const std::string& /*region*/,
                                         const Transfer& transfer,
                                         TransferState from) {
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> found,
                        txn.FindCase(transfer.case_id));
  if (!found.has_value()) {
    return Refused(absl::StrCat("case ", transfer.case_id, " of transfer ",
                                transfer.transfer_id, " is unknown here"));
  }
  const Case before = *std::move(found);
  const TransferState to = TransferStateOf(transfer);
  if (to == from) return before;
  Case c = before;
  // The stage to return to if the transfer does not happen. A receiver's
  // copy arrives already in TRANSFER_REQUESTED with it set.
  if (from == TransferState::kUnspecified && IsCareStage(before.stage)) {
    c.care_stage = before.stage;
  }
  const Stage care =
      IsStageOfKind(c.kind, c.care_stage) ? c.care_stage : c.stage;
  c.stage = CaseStageFor(to, care);
  if (to == TransferState::kRejected || to == TransferState::kCancelled) {
    c.care_stage = Stage::kUnspecified;
  }
  if (to == TransferState::kReceived) {
    c.owner_region = transfer.to_region;
    // Referrals are to the partners of the region holding custody: they end
    // when custody moves (the store logs each as withdrawn), so a partner
    // never regains a case that comes back without a new referral.
    c.referrals.clear();
  }
  if (c.stage == before.stage && c.owner_region == before.owner_region &&
      c.care_stage == before.care_stage && c.referrals == before.referrals) {
    return before;
  }
  c.version += 1;
  c.updated_at = NowMicros();
  // Dashboard counters: the caller's CountedChange moves them.
  RUTA_RETURN_IF_ERROR(txn.PutCase(c));
  return c;
}

absl::Status ApplyFederationEvent(store::WriteTxn& txn,
                                  const std::string& region,
                                  const FederationEvent& event) {
  if (event.destination_region != region) {
    return Refused(absl::StrCat("event for region ", event.destination_region,
                                " sent to ", region));
  }
  const std::string& origin = event.origin_region;
  if (const auto* m = std::get_if<PersonsMerged>(&event.payload)) {
    // Joins are order-independent (person_links.h): no further check.
    return JoinPersons(txn, m->kept_ref, m->merged_ref, nullptr).status();
  }
  // An erased case takes no further change, and a late event cannot bring
  // it back.
  RUTA_ASSIGN_OR_RETURN(bool erased, txn.IsCaseErased(event.case_id));
  if (erased) return absl::OkStatus();
  if (std::holds_alternative<CaseErased>(event.payload)) {
    return ApplyCaseErased(txn, origin, event.case_id);
  }
  // Dashboard counters of the child's cases move with the change.
  std::vector<std::string> refs;
  if (const auto* c = std::get_if<Case>(&event.payload)) {
    refs.push_back(c->person_ref);
  }
  RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                        CountedChange::Begin(txn, {event.case_id}, refs));
  absl::Status applied;
  if (const auto* c = std::get_if<Case>(&event.payload)) {
    applied = ApplyCaseShared(txn, region, origin, *c);
  } else if (const auto* t = std::get_if<Transfer>(&event.payload)) {
    applied = ApplyTransfer(txn, region, origin, *t);
  } else if (const auto* s = std::get_if<StageChange>(&event.payload)) {
    applied = ApplyStageChange(txn, origin, event.case_id, *s);
  } else {
    applied = ApplyService(txn, origin, std::get<ServiceRecord>(event.payload));
  }
  RUTA_RETURN_IF_ERROR(applied);
  return counted.Commit(txn);
}

}  // namespace ruta::core
