// Dashboard aggregate counters maintained incrementally by the core, in the
// same write transaction as the change they count (DESIGN.md §3, §6).
//
// Keys are "|"-joined; region slugs, quarter names, enum names and UBIGEO
// codes never contain "|". EVERY key starts with "<region>|<YYYY>Q<q>|": the
// region a record counts for and the quarter it belongs to, so that a node
// answers for a region set and a quarter range with key-prefix scans.
//
// What counts where. Each node keeps counters for every record it STORES,
// each under the region that record counts for (the case's owner region, or
// for transfers the sending region); a node releases and serves only the
// keys of ITS OWN region (Federation.GetAggregateCounts, Dashboard), so a
// table merged across regions counts each case once. A transferred case
// leaves the sender's keys and enters the receiver's when custody moves (at
// RECEIVED, exactly once, on both nodes).
//
// How the counters stay exact. The counters of the records of one child (all
// cases sharing a person_ref, with their transfers and services) are a pure
// function of those records (`ContributionsOfPersons`). Every write path
// takes a `CountedChange` snapshot of the contributions of the persons it
// touches before the change and applies the difference after it, in the
// same transaction; `RecountAggregates` recomputes everything from the stored
// records. The property test
// (tests/unit/federation/aggregates_property_test.cc) checks that both agree
// after random histories.
//
// Erasure (DESIGN.md §6): an erased case's records are deleted but its
// counts stay. At erasure its contributions are moved into "residue" tables
// (`kResiduePrefix` + table, same keys), which a recount adds back. The one
// count that can change at erasure is a re-victimization of another case of
// the same child that was counted because of the erased one: the erased case
// no longer links them.
#ifndef RUTA_CORE_AGGREGATES_H_
#define RUTA_CORE_AGGREGATES_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"
#include "ruta/store/store.h"

namespace ruta::core {

// --- Tables maintained incrementally. Quarter = the quarter a record
// belongs to, as stated per table ("quarter of identification" is the
// quarter of Profile::identified_month).

// Cases by current stage; quarter of identification; owner region.
// "<region>|<Q>|<STAGE>", e.g. "cusco|2026Q3|IMMEDIATE_PROTECTION".
inline constexpr std::string_view kCasesByStageTable = "cases_by_stage";
// Cases by age band and sex; quarter of identification; owner region.
// "<region>|<Q>|<AGE_BAND>|<SEX>", e.g. "cusco|2026Q3|12_14|FEMALE".
inline constexpr std::string_view kCasesByAgeSexTable = "cases_by_age_sex";
// Cases by form of exploitation; a case with two forms counts under both (so
// no total is published); quarter of identification; owner region.
// "<region>|<Q>|<FORM>", e.g. "cusco|2026Q3|SEXUAL".
inline constexpr std::string_view kCasesByExploitationFormTable =
    "cases_by_exploitation_form";
// Cases by UBIGEO province of origin; quarter of identification; owner
// region. "<region>|<Q>|<PROVINCE>", e.g. "cusco|2026Q3|0812".
inline constexpr std::string_view kCasesByOriginProvinceTable =
    "cases_by_origin_province";
// Transfers by current state; quarter of the request day; counted for the
// SENDING region (each transfer once, whoever owns the case now).
// "<from_region>|<Q>|<STATE>", e.g. "madre-de-dios|2026Q3|RECEIVED".
inline constexpr std::string_view kTransfersByStateTable = "transfers_by_state";
// Day histograms of transfers: days from request to acceptance and from
// request to arrival (RECEIVED); quarter of the request day; sending region.
// "<from_region>|<Q>|<ACCEPTANCE|ARRIVAL>|<days>", days as a decimal number
// clamped to 0..kMaxTransferDays. Merged histograms give medians and
// percentiles (TransferDayStatistics).
inline constexpr std::string_view kTransferTimesTable = "transfer_times";
inline constexpr int kMaxTransferDays = 999;
// Services by type and status; quarter of the service's start month; the
// case's owner region. "<region>|<Q>|<TYPE>|<STATUS>".
inline constexpr std::string_view kServicesByTypeStatusTable =
    "services_by_type_status";
// Closed cases by closed reason; quarter of closure (the day, Peru time, of
// the case version that closed it); owner region.
// "<region>|<Q>|<REASON>", e.g. "cusco|2026Q4|REINTEGRATED".
inline constexpr std::string_view kClosuresByReasonTable = "closures_by_reason";
// Re-victimizations: cases opened under a person_ref that already had an
// earlier case (by opened_at, then case_id) stored on this node, by age band;
// quarter of identification of the new case; owner region.
// "<region>|<Q>|<AGE_BAND>".
inline constexpr std::string_view kRevictimizationsTable = "revictimizations";
// Children supported with alternative measures: PREVENTION cases having a
// service of a type (any status), by service type; a child with two types
// counts under both (no total); quarter of the earliest start month of its
// services of that type; owner region. "<region>|<Q>|<TYPE>".
inline constexpr std::string_view kAlternativeMeasuresTable =
    "alternative_measures";

// The tables above, in a fixed order.
const std::vector<std::string>& IncrementalAggregateTables();

// Residue of erased cases: table kResiduePrefix + name, same keys.
inline constexpr std::string_view kResiduePrefix = "residue.";

// Version of the counting rules above. A node whose setting
// kAggregatesVersionSetting differs recounts at start-up (RecountAggregates).
inline constexpr std::string_view kAggregatesVersion = "2";
inline constexpr std::string_view kAggregatesVersionSetting =
    "aggregates_version";

// "2026Q3" for any instant, in Peru time (UTC-5).
std::string QuarterOfTime(absl::Time t);
// "2026Q3" of a set calendar day.
std::string QuarterOfDate(const Date& d);

// (table, key) -> count.
using Contributions = std::map<std::pair<std::string, std::string>, int64_t>;

// What every stored case of the given person_refs contributes to the
// incremental tables (their transfers and services included).
absl::StatusOr<Contributions> ContributionsOfPersons(
    store::ReadTxn& txn, const std::vector<std::string>& person_refs);

// Snapshot-and-apply of the counters around one change of stored records.
// Usage inside a write function:
//   RUTA_ASSIGN_OR_RETURN(CountedChange counted,
//                         CountedChange::Begin(txn, {case_id}, {}));
//   ... txn.PutCase / PutTransfer / PutService ...
//   RUTA_RETURN_IF_ERROR(counted.Commit(txn));
// Begin covers the persons of the named stored cases and the named refs;
// Commit recounts the same persons (plus those the named cases carry by
// then) and adds the difference.
class CountedChange final {
 public:
  static absl::StatusOr<CountedChange> Begin(
      store::ReadTxn& txn, const std::vector<std::string>& case_ids,
      const std::vector<std::string>& person_refs);
  absl::Status Commit(store::WriteTxn& txn);
  // For an erasure of `case_id` (already done in `txn`): its contributions
  // before the change stay counted and move into the residue tables.
  absl::Status CommitErasure(store::WriteTxn& txn, const std::string& case_id);

 private:
  friend absl::Status EraseCaseCounted(store::WriteTxn& txn,
                                       const std::string& case_id,
                                       const std::string& owner_region,
                                       absl::Time at);
  CountedChange() = default;
  std::vector<std::string> case_ids_;
  std::vector<std::string> person_refs_;
  Contributions before_;
  Contributions erased_case_;  // contributions of case_ids_[0] alone
  std::string erased_case_id_;
};

// Erases `case_id` (store::WriteTxn::EraseCase) keeping its counts.
absl::Status EraseCaseCounted(store::WriteTxn& txn, const std::string& case_id,
                              const std::string& owner_region, absl::Time at);

// The counters as `ContributionsOfPersons` over every stored case plus the
// residue tables (what the incremental tables must hold).
absl::StatusOr<Contributions> ComputeAllContributions(store::ReadTxn& txn);
// Replaces the incremental tables by ComputeAllContributions and records
// kAggregatesVersion in the node settings. One transaction; use at start-up.
absl::Status RecountAggregates(store::WriteTxn& txn);
// Recounts when the stored aggregates_version differs from
// kAggregatesVersion; returns whether it did.
absl::StatusOr<bool> RecountAggregatesIfOutdated(store::Store& store);

// The incremental tables as stored (zero counters left out), for tests.
absl::StatusOr<Contributions> ReadIncrementalAggregates(store::ReadTxn& txn);

// --- Stalled work: depends on "now", so it is not a stored counter. It is
// computed when asked, by indexed queries over the open set
// (ReadTxn::ListStalledRequests, ListStalledFollowUps):
//   "<region>|<Q>|TRANSFER_NOT_ACCEPTED"  transfers sent by `region` still
//       REQUESTED more than `transfer_acceptance_due_days` after their
//       request day; Q = quarter of the request day;
//   "<region>|<Q>|FOLLOW_UP_OVERDUE"      cases owned by `region` in
//       FOLLOW_UP with no change for `follow_up_due_days`; Q = quarter of
//       identification.
inline constexpr std::string_view kStalledWorkTable = "stalled_work";
struct StalledWorkOptions {
  int transfer_acceptance_due_days = 7;  // > 0
  int follow_up_due_days = 90;           // > 0
};
// The stalled-work counters of `region` at `now`, as (key, count) pairs.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ComputeStalledWork(
    store::ReadTxn& txn, const std::string& region, absl::Time now,
    const StalledWorkOptions& options);

// Median and 90th percentile (nearest rank) of a day histogram
// (days -> number of transfers); nullopt-like: count 0 when empty.
struct DayStatistics {
  int64_t count = 0;
  double median = 0;
  double p90 = 0;
};
DayStatistics TransferDayStatistics(const std::map<int, int64_t>& histogram);

}  // namespace ruta::core

#endif  // RUTA_CORE_AGGREGATES_H_
