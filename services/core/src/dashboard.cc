#include "ruta/core/dashboard.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/activities.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/disclosure.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"

namespace ruta::core {
namespace {

constexpr char kTotal[] = "TOTAL";

template <typename E, typename F>
std::vector<std::string> EnumNames(int first, int last, F name) {
  std::vector<std::string> out;
  for (int v = first; v <= last; ++v) out.push_back(name(static_cast<E>(v)));
  return out;
}

// Row values of a table's first dimension when it is an enum; empty for
// open dimensions.
std::vector<std::string> EnumRows(const std::string& dimension) {
  if (dimension == "stage") {
    return EnumNames<Stage>(1, 12, [](Stage s) { return StageName(s); });
  }
  if (dimension == "age_band") {
    return EnumNames<AgeBand>(1, 5, [](AgeBand b) { return AgeBandName(b); });
  }
  if (dimension == "sex") {
    return EnumNames<Sex>(1, 3, [](Sex s) { return SexName(s); });
  }
  if (dimension == "exploitation_form") {
    return EnumNames<ExploitationForm>(
        1, 5, [](ExploitationForm f) { return ExploitationFormName(f); });
  }
  if (dimension == "transfer_state") {
    return EnumNames<TransferState>(
        1, 6, [](TransferState s) { return TransferStateName(s); });
  }
  if (dimension == "service_type") {
    return EnumNames<ServiceType>(
        1, 8, [](ServiceType t) { return ServiceTypeName(t); });
  }
  if (dimension == "service_status") {
    return EnumNames<ServiceStatus>(
        1, 4, [](ServiceStatus s) { return ServiceStatusName(s); });
  }
  if (dimension == "closed_reason") {
    return EnumNames<ClosedReason>(
        1, 6, [](ClosedReason r) { return ClosedReasonName(r); });
  }
  if (dimension == "measure") return {"ACCEPTANCE", "ARRIVAL"};
  if (dimension == "work") {
    return {"TRANSFER_NOT_ACCEPTED", "FOLLOW_UP_OVERDUE"};
  }
  return {};
}

bool ParseQuarter(absl::string_view q, int* year, int* quarter) {
  if (q.size() != 6 || q[4] != 'Q') return false;
  int y = 0;
  for (int i = 0; i < 4; ++i) {
    if (q[i] < '0' || q[i] > '9') return false;
    y = y * 10 + (q[i] - '0');
  }
  if (q[5] < '1' || q[5] > '4') return false;
  *year = y;
  *quarter = q[5] - '0';
  return true;
}

DashboardCell Count(int64_t n) {
  DashboardCell cell;
  cell.count = n;
  return cell;
}
DashboardCell Suppressed() {
  DashboardCell cell;
  cell.kind = DashboardCell::Kind::kSuppressed;
  return cell;
}
DashboardCell Statistic(double v) {
  DashboardCell cell;
  cell.kind = DashboardCell::Kind::kStatistic;
  cell.statistic = v;
  return cell;
}
DashboardCell Released(const std::optional<int64_t>& v) {
  return v.has_value() ? Count(*v) : Suppressed();
}

std::vector<std::string> SortedRows(const std::map<std::string, int64_t>& m,
                                    size_t part) {
  std::set<std::string> rows;
  for (const auto& [key, value] : m) {
    std::vector<std::string> parts = absl::StrSplit(key, '|');
    if (part < parts.size()) rows.insert(parts[part]);
  }
  return std::vector<std::string>(rows.begin(), rows.end());
}

// One row dimension, one column `column`; rows as given.
absl::StatusOr<DashboardTable> OneDimension(
    const DashboardTableSpec& spec, const std::map<std::string, int64_t>& m,
    std::vector<std::string> rows, const std::string& column, bool totals,
    int64_t k) {
  if (rows.empty()) rows = SortedRows(m, 0);
  DashboardTable table;
  table.columns = {column};
  if (rows.empty()) return table;  // an open dimension without counts
  CountTable counts;
  counts.publish_totals = totals;
  for (const std::string& row : rows) {
    auto it = m.find(row);
    counts.counts.push_back({it == m.end() ? 0 : it->second});
  }
  RUTA_ASSIGN_OR_RETURN(ReleasedTable released,
                        ReleaseCountTable(counts, DisclosureOptions{k}));
  for (size_t r = 0; r < rows.size(); ++r) {
    table.rows.push_back({{rows[r]}, {Released(released.cells[r][0])}});
  }
  if (totals && released.has_grand_total) {
    table.rows.push_back({{kTotal}, {Released(released.grand_total)}});
  }
  (void)spec;
  return table;
}

// Rows x columns crossed ("row|col" keys), with row and column totals.
absl::StatusOr<DashboardTable> Crossed(const std::map<std::string, int64_t>& m,
                                       std::vector<std::string> rows,
                                       const std::vector<std::string>& cols,
                                       int64_t k) {
  if (rows.empty()) rows = SortedRows(m, 0);
  if (rows.empty()) {  // an open dimension without counts
    DashboardTable table;
    table.columns = cols;
    return table;
  }
  CountTable counts;
  for (const std::string& row : rows) {
    std::vector<int64_t> line;
    for (const std::string& col : cols) {
      auto it = m.find(absl::StrCat(row, "|", col));
      line.push_back(it == m.end() ? 0 : it->second);
    }
    counts.counts.push_back(std::move(line));
  }
  RUTA_ASSIGN_OR_RETURN(ReleasedTable released,
                        ReleaseCountTable(counts, DisclosureOptions{k}));
  DashboardTable table;
  table.columns = cols;
  const bool row_totals = released.row_totals.size() == rows.size();
  if (row_totals) table.columns.push_back(kTotal);
  for (size_t r = 0; r < rows.size(); ++r) {
    DashboardRow row{{rows[r]}, {}};
    for (const auto& v : released.cells[r]) row.cells.push_back(Released(v));
    if (row_totals) row.cells.push_back(Released(released.row_totals[r]));
    table.rows.push_back(std::move(row));
  }
  if (released.column_totals.size() == cols.size()) {
    DashboardRow total{{kTotal}, {}};
    for (const auto& v : released.column_totals) {
      total.cells.push_back(Released(v));
    }
    if (row_totals) {
      total.cells.push_back(released.has_grand_total
                                ? Released(released.grand_total)
                                : Suppressed());
    }
    table.rows.push_back(std::move(total));
  }
  return table;
}

DashboardTable TransferTimes(const std::map<std::string, int64_t>& m,
                             int64_t k) {
  DashboardTable table;
  table.columns = {"transfers", "median_days", "p90_days"};
  for (const std::string measure : {"ACCEPTANCE", "ARRIVAL"}) {
    std::map<int, int64_t> histogram;
    const std::string prefix = absl::StrCat(measure, "|");
    for (auto it = m.lower_bound(prefix);
         it != m.end() && absl::StartsWith(it->first, prefix); ++it) {
      int days = 0;
      if (absl::SimpleAtoi(it->first.substr(prefix.size()), &days)) {
        histogram[days] += it->second;
      }
    }
    const DayStatistics stats = TransferDayStatistics(histogram);
    DashboardRow row{{measure}, {}};
    if (stats.count < k) {  // 0 included, as ReleaseCountTable does
      row.cells = {Suppressed(), Suppressed(), Suppressed()};
    } else {
      row.cells = {Count(stats.count), Statistic(stats.median),
                   Statistic(stats.p90)};
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

// Activities: non-personal, released as counted.
DashboardTable Awareness(const std::map<std::string, int64_t>& people,
                         const std::map<std::string, int64_t>& activities) {
  DashboardTable table;
  table.columns = {"people_reached", "activities"};
  // Keys "<province>|<campaign>"; rows by campaign, then province.
  std::set<std::pair<std::string, std::string>> rows;
  for (const auto* m : {&people, &activities}) {
    for (const auto& [key, value] : *m) {
      std::pair<std::string, std::string> parts =
          absl::StrSplit(key, absl::MaxSplits('|', 1));
      rows.insert({parts.second, parts.first});
    }
  }
  int64_t total_people = 0, total_activities = 0;
  for (const auto& [campaign, province] : rows) {
    const std::string key = absl::StrCat(province, "|", campaign);
    auto p = people.find(key);
    auto a = activities.find(key);
    const int64_t np = p == people.end() ? 0 : p->second;
    const int64_t na = a == activities.end() ? 0 : a->second;
    total_people += np;
    total_activities += na;
    table.rows.push_back({{campaign, province}, {Count(np), Count(na)}});
  }
  table.rows.push_back(
      {{kTotal, ""}, {Count(total_people), Count(total_activities)}});
  return table;
}

DashboardTable Trainings(const std::map<std::string, int64_t>& m) {
  DashboardTable table;
  table.columns = {"members_trained"};
  std::map<std::string, int64_t> by_level;  // keys "<LEVEL>|<province>"
  int64_t total = 0;
  for (const auto& [key, value] : m) {
    by_level[key.substr(0, key.find('|'))] += value;
    total += value;
  }
  for (const auto& [level, n] : by_level) {
    table.rows.push_back({{level}, {Count(n)}});
  }
  table.rows.push_back({{kTotal}, {Count(total)}});
  return table;
}

}  // namespace

const std::vector<DashboardTableSpec>& DashboardTables() {
  static const auto* const tables = new std::vector<DashboardTableSpec>{
      {"cases_by_stage",
       "Casos por etapa de la ruta de atención",
       {"stage"},
       "",
       {"cases_by_stage"}},
      {"cases_by_age_sex",
       "Casos por grupo de edad y sexo",
       {"age_band"},
       "sex",
       {"cases_by_age_sex"}},
      {"cases_by_exploitation_form",
       "Casos por forma de explotación",
       {"exploitation_form"},
       "",
       {"cases_by_exploitation_form"}},
      {"cases_by_origin_province",
       "Casos por provincia de origen",
       {"origin_province"},
       "",
       {"cases_by_origin_province"}},
      {"transfers_by_state",
       "Traslados por estado",
       {"transfer_state"},
       "",
       {"transfers_by_state"}},
      {"transfer_times",
       "Tiempos de traslado (días hasta la aceptación y hasta la llegada)",
       {"measure"},
       "",
       {"transfer_times"}},
      {"services_by_type_status",
       "Servicios por tipo y estado",
       {"service_type"},
       "service_status",
       {"services_by_type_status"}},
      {"closures_by_reason",
       "Casos cerrados por motivo",
       {"closed_reason"},
       "",
       {"closures_by_reason"}},
      {"revictimizations",
       "Revictimizaciones (casos nuevos de una misma "
       "persona) por grupo de edad",
       {"age_band"},
       "",
       {"revictimizations"}},
      {"stalled_work",
       "Trabajo pendiente: traslados sin aceptar y seguimientos vencidos",
       {"work"},
       "",
       {"stalled_work"}},
      {"alternative_measures",
       "Niñas, niños y adolescentes con medidas alternativas, por medida",
       {"service_type"},
       "",
       {"alternative_measures"}},
      {"awareness_people_reached",
       "Personas alcanzadas por campañas de sensibilización",
       {"campaign", "province"},
       "",
       // Activity counters (CaseOffice.RecordActivity, activities.h).
       {std::string(kAwarenessPeopleReachedTable),
        std::string(kAwarenessActivitiesTable)}},
      {"authority_members_trained",
       "Autoridades capacitadas por nivel",
       {"level"},
       "",
       {std::string(kAuthorityMembersTrainedTable)}},
  };
  return *tables;
}

const DashboardTableSpec* FindDashboardTable(const std::string& name) {
  for (const DashboardTableSpec& spec : DashboardTables()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string DashboardTableNames() {
  std::vector<std::string> names;
  for (const DashboardTableSpec& spec : DashboardTables()) {
    names.push_back(spec.name);
  }
  return absl::StrJoin(names, ", ");
}

std::string QuarterRange::from() const {
  return absl::StrCat(from_year, "Q", from_quarter);
}
std::string QuarterRange::to() const {
  return absl::StrCat(to_year, "Q", to_quarter);
}
int QuarterRange::quarters() const {
  return (to_year * 4 + to_quarter) - (from_year * 4 + from_quarter) + 1;
}

absl::Status ValidateQuarterRange(const QuarterRange& range, int max_quarters) {
  auto valid = [](int year, int quarter) {
    return year >= 2000 && year <= 2199 && quarter >= 1 && quarter <= 4;
  };
  if (!valid(range.from_year, range.from_quarter)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_quarter ", range.from_year, "Q", range.from_quarter,
        " is not a quarter: year 2000 to 2199, quarter 1 to 4 (e.g. 2026Q1)"));
  }
  if (!valid(range.to_year, range.to_quarter)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "to_quarter ", range.to_year, "Q", range.to_quarter,
        " is not a quarter: year 2000 to 2199, quarter 1 to 4 (e.g. 2026Q4)"));
  }
  if (range.quarters() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_quarter ", range.from(), " is after to_quarter ", range.to()));
  }
  if (range.quarters() > max_quarters) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the range ", range.from(), " to ", range.to(), " covers ",
        range.quarters(), " quarters; at most ", max_quarters, " per request"));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& DashboardSourceTables() {
  static const auto* const sources = [] {
    std::set<std::string> all;
    for (const DashboardTableSpec& spec : DashboardTables()) {
      all.insert(spec.sources.begin(), spec.sources.end());
    }
    return new std::vector<std::string>(all.begin(), all.end());
  }();
  return *sources;
}

absl::StatusOr<RegionCounters> ReadRegionCounters(
    store::ReadTxn& txn, const std::string& region,
    const std::vector<std::string>& sources, const QuarterRange& range,
    absl::Time now, const StalledWorkOptions& stalled) {
  const int lo = range.from_year * 4 + range.from_quarter;
  const int hi = range.to_year * 4 + range.to_quarter;
  const std::vector<std::string>& known = DashboardSourceTables();
  RegionCounters out;
  for (const std::string& source : sources) {
    if (std::find(known.begin(), known.end(), source) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown counter table \"", source,
                       "\"; known: ", absl::StrJoin(known, ", ")));
    }
    std::vector<std::pair<std::string, int64_t>> rows;
    if (source == kStalledWorkTable) {
      RUTA_ASSIGN_OR_RETURN(rows,
                            ComputeStalledWork(txn, region, now, stalled));
    } else {
      RUTA_ASSIGN_OR_RETURN(
          rows, txn.ScanAggregates(source, absl::StrCat(region, "|")));
    }
    std::vector<std::pair<std::string, int64_t>>& kept = out[source];
    const size_t head = region.size() + 1;
    for (auto& [key, value] : rows) {
      int year = 0, quarter = 0;
      if (value == 0 || key.size() < head + 6 ||
          !ParseQuarter(absl::string_view(key).substr(head, 6), &year,
                        &quarter)) {
        continue;
      }
      const int q = year * 4 + quarter;
      if (q < lo || q > hi) continue;
      kept.emplace_back(std::move(key), value);
    }
  }
  return out;
}

std::map<std::string, int64_t> MergeCounters(
    const std::vector<const RegionCounters*>& regions,
    const std::string& source, const QuarterRange& range) {
  std::map<std::string, int64_t> merged;
  const int lo = range.from_year * 4 + range.from_quarter;
  const int hi = range.to_year * 4 + range.to_quarter;
  for (const RegionCounters* counters : regions) {
    auto it = counters->find(source);
    if (it == counters->end()) continue;
    for (const auto& [key, value] : it->second) {
      const size_t first = key.find('|');
      if (first == std::string::npos) continue;
      const size_t second = key.find('|', first + 1);
      if (second == std::string::npos) continue;
      int year = 0, quarter = 0;
      if (!ParseQuarter(
              absl::string_view(key).substr(first + 1, second - first - 1),
              &year, &quarter)) {
        continue;
      }
      const int q = year * 4 + quarter;
      if (q < lo || q > hi) continue;
      merged[key.substr(second + 1)] += value;
    }
  }
  return merged;
}

absl::StatusOr<DashboardTable> BuildDashboardTable(
    const DashboardTableSpec& spec,
    const std::vector<const RegionCounters*>& regions,
    const QuarterRange& range, int64_t threshold) {
  if (threshold < 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("threshold ", threshold, " is below 5"));
  }
  const std::map<std::string, int64_t> m =
      MergeCounters(regions, spec.sources[0], range);
  const std::string& dim = spec.dimensions[0];
  DashboardTable table;
  if (spec.name == "transfer_times") {
    table = TransferTimes(m, threshold);
  } else if (spec.name == "awareness_people_reached") {
    table = Awareness(m, MergeCounters(regions, spec.sources[1], range));
  } else if (spec.name == "authority_members_trained") {
    table = Trainings(m);
  } else if (!spec.column_dimension.empty()) {
    RUTA_ASSIGN_OR_RETURN(
        table,
        Crossed(m, EnumRows(dim), EnumRows(spec.column_dimension), threshold));
  } else {
    // A case counted under several values (forms, measures) or rows of
    // different kinds (stalled work): no total.
    const bool totals = spec.name != "cases_by_exploitation_form" &&
                        spec.name != "alternative_measures" &&
                        spec.name != "stalled_work";
    std::string column = "cases";
    if (spec.name == "transfers_by_state") column = "transfers";
    if (spec.name == "stalled_work") column = "items";
    if (spec.name == "alternative_measures") column = "children";
    RUTA_ASSIGN_OR_RETURN(
        table, OneDimension(spec, m, EnumRows(dim), column, totals, threshold));
  }
  table.table = spec.name;
  table.dimensions = spec.dimensions;
  table.column_dimension = spec.column_dimension;
  table.threshold = threshold;
  return table;
}

}  // namespace ruta::core
