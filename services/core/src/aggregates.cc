#include "ruta/core/aggregates.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/profile.h"

namespace ruta::core {
namespace {

constexpr int kPage = 500;

absl::string_view View(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

void Add(Contributions* out, std::string_view table, std::string key,
         int64_t n = 1) {
  (*out)[{std::string(table), std::move(key)}] += n;
}

int DaysBetween(const Date& from, const Date& to) {
  const int64_t days = absl::CivilDay(to.year, to.month, to.day) -
                       absl::CivilDay(from.year, from.month, from.day);
  return static_cast<int>(
      std::clamp<int64_t>(days, 0, int64_t{kMaxTransferDays}));
}

// When the case was closed: the updated_at of the earliest version of its
// final run of CLOSED versions.
absl::StatusOr<absl::Time> ClosedAt(store::ReadTxn& txn, const Case& c) {
  absl::Time at = c.updated_at;
  for (int64_t v = c.version - 1; v >= 1; --v) {
    RUTA_ASSIGN_OR_RETURN(std::optional<Case> past,
                          txn.FindCaseVersion(c.case_id, v));
    if (!past.has_value() || past->stage != Stage::kClosed) break;
    at = past->updated_at;
  }
  return at;
}

// What one case (with its transfers and services) contributes.
absl::Status AddCase(store::ReadTxn& txn, const Case& c, bool revictimized,
                     Contributions* out) {
  const std::string region = c.owner_region;
  const std::string q = QuarterOf(c.profile.identified_month);
  const std::string head = absl::StrCat(region, "|", q, "|");
  Add(out, kCasesByStageTable, absl::StrCat(head, StageName(c.stage)));
  Add(out, kCasesByAgeSexTable,
      absl::StrCat(head, AgeBandName(c.profile.age_band), "|",
                   SexName(c.profile.sex)));
  for (ExploitationForm form : c.profile.exploitation_forms) {
    Add(out, kCasesByExploitationFormTable,
        absl::StrCat(head, ExploitationFormName(form)));
  }
  Add(out, kCasesByOriginProvinceTable,
      absl::StrCat(head, c.profile.origin_province));
  if (revictimized) {
    Add(out, kRevictimizationsTable,
        absl::StrCat(head, AgeBandName(c.profile.age_band)));
  }
  if (c.stage == Stage::kClosed) {
    RUTA_ASSIGN_OR_RETURN(absl::Time closed_at, ClosedAt(txn, c));
    Add(out, kClosuresByReasonTable,
        absl::StrCat(region, "|", QuarterOfTime(closed_at), "|",
                     ClosedReasonName(c.closed_reason)));
  }

  RUTA_ASSIGN_OR_RETURN(std::vector<Transfer> transfers,
                        txn.ListCaseTransfers(c.case_id));
  for (const Transfer& t : transfers) {
    if (!t.requested_on.is_set()) continue;
    const std::string theirs =
        absl::StrCat(t.from_region, "|", QuarterOfDate(t.requested_on), "|");
    Add(out, kTransfersByStateTable,
        absl::StrCat(theirs, TransferStateName(TransferStateOf(t))));
    if (t.accepted_on.is_set()) {
      Add(out, kTransferTimesTable,
          absl::StrCat(theirs, "ACCEPTANCE|",
                       DaysBetween(t.requested_on, t.accepted_on)));
    }
    if (t.received_on.is_set()) {
      Add(out, kTransferTimesTable,
          absl::StrCat(theirs, "ARRIVAL|",
                       DaysBetween(t.requested_on, t.received_on)));
    }
  }

  std::map<ServiceType, YearMonth> first_of_type;
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::ServicePage page,
                          txn.ListServices(c.case_id, after, kPage));
    for (const ServiceRecord& s : page.services) {
      Add(out, kServicesByTypeStatusTable,
          absl::StrCat(region, "|", QuarterOf(s.start_month), "|",
                       ServiceTypeName(s.type), "|",
                       ServiceStatusName(s.status)));
      auto [it, inserted] = first_of_type.emplace(s.type, s.start_month);
      if (!inserted && std::make_pair(s.start_month.year, s.start_month.month) <
                           std::make_pair(it->second.year, it->second.month)) {
        it->second = s.start_month;
      }
    }
    after = std::move(page.next_after);
  } while (!after.empty());
  if (c.kind == CaseKind::kPrevention) {
    for (const auto& [type, month] : first_of_type) {
      Add(out, kAlternativeMeasuresTable,
          absl::StrCat(region, "|", QuarterOf(month), "|",
                       ServiceTypeName(type)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Case>> CasesOfPerson(store::ReadTxn& txn,
                                                const std::string& ref) {
  std::vector<Case> cases;
  store::CaseFilter filter;
  filter.person_ref = ref;
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                          txn.ListCases(filter, after, kPage));
    for (Case& c : page.cases) cases.push_back(std::move(c));
    after = std::move(page.next_after);
  } while (!after.empty());
  return cases;
}

// Adds the contributions of one child's cases; `only_case`, when set,
// limits them to that case (its re-victimization still judged among all).
absl::Status AddPerson(store::ReadTxn& txn, const std::string& ref,
                       const std::string& only_case, Contributions* out) {
  RUTA_ASSIGN_OR_RETURN(std::vector<Case> cases, CasesOfPerson(txn, ref));
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) {
    return std::tie(a.opened_at, a.case_id) < std::tie(b.opened_at, b.case_id);
  });
  for (size_t i = 0; i < cases.size(); ++i) {
    if (!only_case.empty() && cases[i].case_id != only_case) continue;
    RUTA_RETURN_IF_ERROR(AddCase(txn, cases[i], i > 0, out));
  }
  return absl::OkStatus();
}

absl::Status ApplyDifference(store::WriteTxn& txn, const Contributions& before,
                             const Contributions& after) {
  Contributions diff = after;
  for (const auto& [k, v] : before) diff[k] -= v;
  for (const auto& [k, v] : diff) {
    if (v == 0) continue;
    RUTA_RETURN_IF_ERROR(txn.AddToAggregate(k.first, k.second, v));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RefsOf(
    store::ReadTxn& txn, const std::vector<std::string>& case_ids,
    const std::vector<std::string>& person_refs) {
  std::set<std::string> refs(person_refs.begin(), person_refs.end());
  for (const std::string& id : case_ids) {
    RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(id));
    if (c.has_value()) refs.insert(c->person_ref);
  }
  refs.erase("");
  return std::vector<std::string>(refs.begin(), refs.end());
}

}  // namespace

const std::vector<std::string>& IncrementalAggregateTables() {
  static const auto* const tables = new std::vector<std::string>{
      std::string(kCasesByStageTable),
      std::string(kCasesByAgeSexTable),
      std::string(kCasesByExploitationFormTable),
      std::string(kCasesByOriginProvinceTable),
      std::string(kTransfersByStateTable),
      std::string(kTransferTimesTable),
      std::string(kServicesByTypeStatusTable),
      std::string(kClosuresByReasonTable),
      std::string(kRevictimizationsTable),
      std::string(kAlternativeMeasuresTable),
  };
  return *tables;
}

std::string QuarterOfTime(absl::Time t) {
  static const absl::TimeZone peru = absl::FixedTimeZone(-5 * 60 * 60);
  const absl::CivilDay day = absl::ToCivilDay(t, peru);
  return QuarterOf(YearMonth{static_cast<int>(day.year()), day.month()});
}

std::string QuarterOfDate(const Date& d) {
  return QuarterOf(YearMonth{d.year, d.month});
}

absl::StatusOr<Contributions> ContributionsOfPersons(
    store::ReadTxn& txn, const std::vector<std::string>& person_refs) {
  Contributions out;
  for (const std::string& ref : person_refs) {
    RUTA_RETURN_IF_ERROR(AddPerson(txn, ref, "", &out));
  }
  return out;
}

absl::StatusOr<CountedChange> CountedChange::Begin(
    store::ReadTxn& txn, const std::vector<std::string>& case_ids,
    const std::vector<std::string>& person_refs) {
  CountedChange change;
  change.case_ids_ = case_ids;
  RUTA_ASSIGN_OR_RETURN(change.person_refs_,
                        RefsOf(txn, case_ids, person_refs));
  RUTA_ASSIGN_OR_RETURN(change.before_,
                        ContributionsOfPersons(txn, change.person_refs_));
  return change;
}

absl::Status CountedChange::Commit(store::WriteTxn& txn) {
  RUTA_ASSIGN_OR_RETURN(std::vector<std::string> refs,
                        RefsOf(txn, case_ids_, person_refs_));
  RUTA_ASSIGN_OR_RETURN(Contributions after, ContributionsOfPersons(txn, refs));
  return ApplyDifference(txn, before_, after);
}

absl::Status CountedChange::CommitErasure(store::WriteTxn& txn,
                                          const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(std::vector<std::string> refs,
                        RefsOf(txn, case_ids_, person_refs_));
  RUTA_ASSIGN_OR_RETURN(Contributions after, ContributionsOfPersons(txn, refs));
  // The erased case's part of `before_`: its counts stay, now as residue.
  for (const auto& [k, v] : erased_case_) {
    after[k] += v;
    RUTA_RETURN_IF_ERROR(txn.AddToAggregate(
        absl::StrCat(View(kResiduePrefix), k.first), k.second, v));
  }
  (void)case_id;
  return ApplyDifference(txn, before_, after);
}

absl::Status EraseCaseCounted(store::WriteTxn& txn, const std::string& case_id,
                              const std::string& owner_region, absl::Time at) {
  RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                        CountedChange::Begin(txn, {case_id}, {}));
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(case_id));
  if (c.has_value()) {
    RUTA_RETURN_IF_ERROR(
        AddPerson(txn, c->person_ref, case_id, &counted.erased_case_));
  }
  RUTA_RETURN_IF_ERROR(txn.EraseCase(case_id, owner_region, at));
  return counted.CommitErasure(txn, case_id);
}

absl::StatusOr<Contributions> ComputeAllContributions(store::ReadTxn& txn) {
  Contributions out;
  std::set<std::string> refs;
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                          txn.ListCases(store::CaseFilter{}, after, kPage));
    for (const Case& c : page.cases) refs.insert(c.person_ref);
    after = std::move(page.next_after);
  } while (!after.empty());
  for (const std::string& ref : refs) {
    RUTA_RETURN_IF_ERROR(AddPerson(txn, ref, "", &out));
  }
  for (const std::string& table : IncrementalAggregateTables()) {
    RUTA_ASSIGN_OR_RETURN(
        auto residue,
        txn.ScanAggregates(absl::StrCat(View(kResiduePrefix), table), ""));
    for (auto& [key, value] : residue) out[{table, key}] += value;
  }
  for (auto it = out.begin(); it != out.end();) {
    it = it->second == 0 ? out.erase(it) : std::next(it);
  }
  return out;
}

absl::Status RecountAggregates(store::WriteTxn& txn) {
  RUTA_ASSIGN_OR_RETURN(Contributions all, ComputeAllContributions(txn));
  // Tables of earlier counting rules (the same names) are replaced whole.
  for (const std::string& table : IncrementalAggregateTables()) {
    RUTA_RETURN_IF_ERROR(txn.ClearAggregates(table));
  }
  for (const auto& [k, v] : all) {
    RUTA_RETURN_IF_ERROR(txn.AddToAggregate(k.first, k.second, v));
  }
  return txn.PutSetting(std::string(kAggregatesVersionSetting),
                        std::string(kAggregatesVersion));
}

absl::StatusOr<bool> RecountAggregatesIfOutdated(store::Store& store) {
  std::optional<std::string> version;
  RUTA_RETURN_IF_ERROR(store.ReadSync([&](store::ReadTxn& txn) -> absl::Status {
    RUTA_ASSIGN_OR_RETURN(
        version, txn.GetSetting(std::string(kAggregatesVersionSetting)));
    return absl::OkStatus();
  }));
  if (version.has_value() && *version == kAggregatesVersion) return false;
  RUTA_RETURN_IF_ERROR(store.WriteSync(
      [](store::WriteTxn& txn) { return RecountAggregates(txn); }));
  return true;
}

absl::StatusOr<Contributions> ReadIncrementalAggregates(store::ReadTxn& txn) {
  Contributions out;
  for (const std::string& table : IncrementalAggregateTables()) {
    RUTA_ASSIGN_OR_RETURN(auto rows, txn.ScanAggregates(table, ""));
    for (auto& [key, value] : rows) {
      if (value != 0) out[{table, key}] = value;
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ComputeStalledWork(
    store::ReadTxn& txn, const std::string& region, absl::Time now,
    const StalledWorkOptions& options) {
  static const absl::TimeZone peru = absl::FixedTimeZone(-5 * 60 * 60);
  std::map<std::string, int64_t> counts;
  const absl::CivilDay today = absl::ToCivilDay(now, peru);
  const absl::CivilDay due = today - options.transfer_acceptance_due_days;
  const Date before{static_cast<int>(due.year()), due.month(), due.day()};
  RUTA_ASSIGN_OR_RETURN(std::vector<Transfer> requests,
                        txn.ListStalledRequests(region, before));
  for (const Transfer& t : requests) {
    counts[absl::StrCat(region, "|", QuarterOfDate(t.requested_on),
                        "|TRANSFER_NOT_ACCEPTED")] += 1;
  }
  RUTA_ASSIGN_OR_RETURN(
      std::vector<Case> follow_ups,
      txn.ListStalledFollowUps(
          region, now - absl::Hours(24) * options.follow_up_due_days));
  for (const Case& c : follow_ups) {
    counts[absl::StrCat(region, "|", QuarterOf(c.profile.identified_month),
                        "|FOLLOW_UP_OVERDUE")] += 1;
  }
  return std::vector<std::pair<std::string, int64_t>>(counts.begin(),
                                                      counts.end());
}

DayStatistics TransferDayStatistics(const std::map<int, int64_t>& histogram) {
  DayStatistics stats;
  for (const auto& [day, n] : histogram) stats.count += n;
  if (stats.count == 0) return stats;
  // Nearest rank: the smallest day whose cumulative count reaches
  // ceil(p * count).
  auto rank_value = [&](int64_t rank) {
    int64_t seen = 0;
    for (const auto& [day, n] : histogram) {
      seen += n;
      if (seen >= rank) return static_cast<double>(day);
    }
    return static_cast<double>(histogram.rbegin()->first);
  };
  const int64_t n = stats.count;
  // Median: the mean of the two middle values for an even count.
  stats.median = n % 2 == 1 ? rank_value((n + 1) / 2)
                            : (rank_value(n / 2) + rank_value(n / 2 + 1)) / 2.0;
  stats.p90 = rank_value((9 * n + 9) / 10);
  return stats;
}

}  // namespace ruta::core
