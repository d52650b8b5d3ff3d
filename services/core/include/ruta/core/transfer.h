// The transfer of a case between two regions, and the rehabilitation services
// recorded for a case (DESIGN.md §4, §7).
//
// A transfer is replicated on the two nodes it concerns. Each node keeps the
// set of *facts* it knows about the transfer (requested, accepted, rejected,
// cancelled, departed, received); each fact has one fixed author:
//
//   sending region  (from_region): requested, cancelled, departed
//   receiving region (to_region):  accepted, rejected, received
//
// Facts are only ever added, never removed, and the state is a function of
// the set of facts (TransferStateOf), with a fixed precedence for the one
// conflict the lifecycle allows — the sender cancels while the receiver
// accepts or rejects concurrently: CANCELLED wins over ACCEPTED and REJECTED.
// A set union is commutative, associative and idempotent, so both nodes end in
// the same state whatever the order or duplication of delivery.
#ifndef RUTA_CORE_TRANSFER_H_
#define RUTA_CORE_TRANSFER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ruta/core/domain.h"

namespace ruta::core {

// Numeric values equal the proto enum values.
enum class TransferState {
  kUnspecified = 0,
  kRequested = 1,
  kAccepted = 2,
  kRejected = 3,
  kInTransit = 4,
  kReceived = 5,
  kCancelled = 6,
};

enum class RejectReason {
  kUnspecified = 0,
  kNoCapacity = 1,
  kIncompleteRequest = 2,
  kWrongRegion = 3,
  kRiskAtDestination = 4,
  kOther = 5,
};

enum class ServiceType {
  kUnspecified = 0,
  kEducationSupport = 1,
  kVocationalTraining = 2,
  kPsychosocial = 3,
  kFamilyEconomicSupport = 4,
  kHealth = 5,
  kLegal = 6,
  kIdentityDocuments = 7,
  kResidentialCare = 8,
};

enum class ServiceStatus {
  kUnspecified = 0,
  kPlanned = 1,
  kOngoing = 2,
  kCompleted = 3,
  kDropped = 4,
};

// A calendar day. All zero means "not set".
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  bool is_set() const { return year != 0; }
  friend bool operator==(const Date& a, const Date& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day;
  }
  friend bool operator!=(const Date& a, const Date& b) { return !(a == b); }
};

// Whether `date` is a real calendar day between years 2000 and 2199.
bool IsValidDate(const Date& date);
// "YYYY-MM-DD"; "" when not set.
std::string FormatDate(const Date& date);
// Inverse of FormatDate ("" gives an unset date); nullopt-like: returns false
// when `text` is neither "" nor a valid date.
bool ParseDate(const std::string& text, Date* out);
// The current day in the node's time zone (Peru, UTC-5, no DST).
Date Today();

// The transfer as one node knows it: the request and every fact learned.
struct Transfer {
  std::string transfer_id;  // "tr_" + 20 letters
  std::string case_id;
  std::string from_region;
  std::string to_region;
  std::string destination_province;             // UBIGEO province, 4 digits
  std::vector<ServiceType> requested_services;  // sorted, no duplicates

  // Facts, each set at most once. A date that is set is the fact.
  Date requested_on;
  Date accepted_on;
  Date departed_on;
  Date received_on;
  bool rejected = false;
  RejectReason reject_reason = RejectReason::kUnspecified;
  std::string reject_note;
  bool cancelled = false;
  std::string cancel_note;

  // When this node last changed the record (local; not compared between
  // nodes).
  absl::Time updated_at = absl::InfinitePast();
};

// The state the facts of `t` amount to:
//   received -> RECEIVED; else departed -> IN_TRANSIT; else cancelled ->
//   CANCELLED; else rejected -> REJECTED; else accepted -> ACCEPTED; else
//   REQUESTED.
TransferState TransferStateOf(const Transfer& t);

// Number of facts known: the transfer's version. Both nodes reach the same
// version once they know the same facts.
int64_t TransferVersionOf(const Transfer& t);

// Whether the state is final (REJECTED, RECEIVED, CANCELLED).
bool IsFinalTransferState(TransferState state);

// Which side of a transfer a region is.
enum class TransferRole { kNone, kSender, kReceiver };
TransferRole RoleOf(const Transfer& t, const std::string& region);

// Adds to `local` the facts of `incoming` that `author` may author (see the
// file comment); facts `local` already has are kept as they are. `local`
// must describe the same transfer (same id, case and regions: otherwise
// INVALID_ARGUMENT is signalled by returning false in `*consistent`).
// Returns whether a fact was added.
bool MergeTransferFacts(const Transfer& incoming, TransferRole author,
                        Transfer* local, bool* consistent);

// The fact a transition by its author adds, as the state it moves the
// transfer to; used to validate that an event carries only its author's
// kind of transition.
bool MayAuthor(TransferRole role, TransferState resulting_state);

// The stage of the transferred case that a transfer state implies:
// REQUESTED, ACCEPTED -> TRANSFER_REQUESTED; IN_TRANSIT -> IN_TRANSIT;
// RECEIVED -> RECEIVED; REJECTED, CANCELLED -> `care_stage` (the stage the
// case was in when the transfer was requested).
Stage CaseStageFor(TransferState state, Stage care_stage);

// A rehabilitation, reintegration or prevention service of a case.
struct ServiceRecord {
  std::string service_id;  // "sv_" + 20 letters
  std::string case_id;
  ServiceType type = ServiceType::kUnspecified;
  std::string provider;  // partner id, or "" for the authority itself
  ServiceStatus status = ServiceStatus::kUnspecified;
  YearMonth start_month;
  YearMonth end_month;  // {0,0} when not ended
  int64_t version = 0;  // 1 when added, +1 per change
  // Region whose office wrote this version (the case's owner then).
  std::string author_region;
  absl::Time updated_at = absl::InfinitePast();  // local
};

// Whether `incoming` supersedes `local` (a higher version; at equal versions
// the author region that sorts last, so both nodes keep the same one).
bool ServiceSupersedes(const ServiceRecord& incoming,
                       const ServiceRecord& local);

const char* TransferStateName(TransferState state);
const char* RejectReasonName(RejectReason reason);
const char* ServiceTypeName(ServiceType type);
const char* ServiceStatusName(ServiceStatus status);
bool IsSpecified(TransferState state);
bool IsSpecified(RejectReason reason);
bool IsSpecified(ServiceType type);
bool IsSpecified(ServiceStatus status);

}  // namespace ruta::core

#endif  // RUTA_CORE_TRANSFER_H_
