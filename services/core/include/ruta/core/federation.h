// Federation events of a node (DESIGN.md section 7): what a change writes to
// the outbox for the peer regions, and how an event received from a peer is
// applied here.
//
// Which region may author what is fixed:
//   transfer facts: core/transfer.h (sender: request, cancel, depart;
//                   receiver: accept, reject, receive);
//   the case record (case_shared), its stage and its services: the region
//   that owns the case at the time (owner_region).
// An event that breaks these rules is refused with FAILED_PRECONDITION (the
// whole batch is then refused, and the relay retries it: a stuck stream is
// visible to the operator; a silently skipped event is not).
//
// Only cases that are (or were) the subject of a transfer cross: the events
// of a case go to the regions in its share set (store: case shares), which a
// transfer request adds the receiving region to.
#ifndef RUTA_CORE_FEDERATION_H_
#define RUTA_CORE_FEDERATION_H_

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"
#include "ruta/store/store.h"

namespace ruta::core {

// Payload: the case's stage changed (by its owner).
struct StageChange {
  Stage stage = Stage::kUnspecified;
  ClosedReason closed_reason = ClosedReason::kUnspecified;
  int64_t version = 0;  // the owner's case version after the change
};

// Payload: two person refs are one child (MergePersons, or a ref of an older
// linkage key version re-linked to the current one). Which of the two
// survives is fixed by SurvivingPersonRef (person_links.h), so the receiver
// computes the same; the names say what the sender computed.
struct PersonsMerged {
  std::string kept_ref;
  std::string merged_ref;
};

// Payload: the case was erased by its owner region (EraseCase or the
// retention purge).
struct CaseErased {};

using EventPayload = std::variant<Case, Transfer, StageChange, ServiceRecord,
                                  PersonsMerged, CaseErased>;

// One change as it travels between two regions.
struct FederationEvent {
  std::string event_id;  // "ev_" + 20 letters
  std::string origin_region;
  std::string destination_region;
  int64_t sequence = 0;  // 0 until the relay stamps it
  std::string case_id;
  absl::Time committed_at = absl::InfinitePast();
  // Case: the case was shared (sent with a transfer request: the full
  // record as the owner holds it). Transfer: the transfer as its author
  // holds it right after authoring one fact. StageChange, ServiceRecord: as
  // named.
  EventPayload payload;
};

// Encodes events to the wire format (implemented outside core, over the
// proto contract; see services/federation). Thread-safe.
class EventEncoder {
 public:
  virtual ~EventEncoder() = default;
  // The event's bytes without its sequence (the relay stamps it later).
  virtual absl::StatusOr<std::string> Encode(
      const FederationEvent& event) const = 0;
};

// Writes outbound events in the writer's transaction, and tells the relay
// when a transaction that wrote some committed.
class Outbox final {
 public:
  // `encoder` must outlive the outbox. `on_commit` (may be empty) is called
  // after a transaction that appended events committed; it must not block.
  Outbox(std::string region, const EventEncoder* encoder,
         std::function<void()> on_commit);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends one event for `destination` (unstamped).
  absl::Status Append(store::WriteTxn& txn, const std::string& destination,
                      const std::string& case_id, EventPayload payload) const;
  // Appends `payload` for every region the case is shared with, except
  // `except` (may be empty).
  absl::Status AppendToShares(store::WriteTxn& txn, const std::string& case_id,
                              const EventPayload& payload,
                              const std::string& except = "") const;
  void Committed() const {
    if (on_commit_) on_commit_();
  }
  const std::string& region() const { return region_; }

 private:
  const std::string region_;
  const EventEncoder* const encoder_;
  const std::function<void()> on_commit_;
};

// Applies `event`, received from `event.origin_region`, to the store of the
// node of `region`, inside the caller's transaction (which also records the
// inbox position). Redelivery is the caller's business (the inbox position);
// this function assumes each event is applied once, in stream order.
// FAILED_PRECONDITION when the event breaks the authorship rules or refers
// to a transfer or case this node does not know (the message says which).
absl::Status ApplyFederationEvent(store::WriteTxn& txn,
                                  const std::string& region,
                                  const FederationEvent& event);

// Re-applies, after this node restored a backup, the local effect of an
// event this node itself had authored and sent (fetched back from the peer
// that received it; docs/restore.md), inside the caller's transaction, where
// the restored store lacks it:
//   case_shared      the case is created from the shared record when it is
//                    unknown here, and is (again) shared with the
//                    destination;
//   transfer_changed every fact the event carries (the transfer as this node
//                    held it after authoring) is merged into the local
//                    transfer (created when unknown); the case's stage
//                    follows when the case is known here;
//   stage_changed    applied when the case is owned here and its stored
//                    version is older than the event's;
//   service_changed  applied when it supersedes the stored record;
//   persons_merged   the two refs are joined (order-independent);
//   case_erased      the case is erased here if it is not already.
// Dashboard counters move with the change. Events of a case erased here
// have no effect. FAILED_PRECONDITION when `event` is not from `region`.
absl::Status ReapplyOwnEvent(store::WriteTxn& txn, const std::string& region,
                             const FederationEvent& event);

// Moves a case's stage as the transfer's new state implies and, at
// RECEIVED, its custody to the receiving region, ending its referrals (they
// are to the partners of the region that held custody). The dashboard counters
// are the caller's (a CountedChange around it, aggregates.h); `region` is this
// node's region. Shared by the author
// (TransferService) and the receiver of the event (ApplyFederationEvent), so
// that both compute the same case. Returns the case after the change (or
// unchanged).
absl::StatusOr<Case> ApplyTransferToCase(store::WriteTxn& txn,
                                         const std::string& region,
                                         const Transfer& transfer,
                                         TransferState from);

}  // namespace ruta::core

#endif  // RUTA_CORE_FEDERATION_H_
