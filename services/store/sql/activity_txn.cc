// Activities of the SQLite store (schema:
// migrations/sqlite/0005_activities.sql).
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "sql/txn.h"

namespace ruta::store::sql_internal {
namespace {

// Columns in the order ReadActivity reads (0..10) and PutActivity binds
// (?1..?11).
constexpr char kActivityColumns[] =
    "activity_id, region, kind, province, year, month, month_index, "
    "campaign, level, count, recorded_at_us";

int64_t MonthIndex(const core::YearMonth& m) {
  return int64_t{m.year} * 12 + m.month - 1;
}

core::Activity ReadActivity(const Statement& stmt) {
  core::Activity a;
  a.activity_id = stmt.ColumnText(0);
  a.region = stmt.ColumnText(1);
  a.kind = static_cast<core::ActivityKind>(stmt.ColumnInt64(2));
  a.province = stmt.ColumnText(3);
  a.month.year = static_cast<int>(stmt.ColumnInt64(4));
  a.month.month = static_cast<int>(stmt.ColumnInt64(5));
  a.campaign = stmt.ColumnText(7);
  a.level = static_cast<core::TrainingLevel>(stmt.ColumnInt64(8));
  const int64_t count = stmt.ColumnInt64(9);
  if (a.kind == core::ActivityKind::kTraining) {
    a.members_trained = count;
  } else {
    a.people_reached = count;
  }
  a.recorded_at = MicrosToTime(stmt.ColumnInt64(10));
  return a;
}

}  // namespace

absl::StatusOr<std::optional<core::Activity>> SqlReadTxn::FindActivity(
    const std::string& activity_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kActivityColumns, " FROM activities WHERE activity_id = ?1");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, activity_id);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadActivity(stmt);
}

absl::StatusOr<ActivityPage> SqlReadTxn::ListActivities(
    const ActivityFilter& filter, const std::string& after, int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError("ListActivities: limit must be positive");
  }
  if (filter.region.empty()) {
    return absl::InvalidArgumentError("ListActivities: region is required");
  }
  // An unset bound is the widest range.
  const int64_t from =
      filter.from_month.year == 0 ? INT64_MIN : MonthIndex(filter.from_month);
  const int64_t to =
      filter.to_month.year == 0 ? INT64_MAX : MonthIndex(filter.to_month);
  static const std::string sql = absl::StrCat(
      "SELECT ", kActivityColumns,
      " FROM activities WHERE region = ?1 AND activity_id > ?2"
      " AND month_index BETWEEN ?3 AND ?4 ORDER BY activity_id LIMIT ?5");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, filter.region)
      .Bind(2, after)
      .Bind(3, from)
      .Bind(4, to)
      .Bind(5, int64_t{limit} + 1);
  ActivityPage page;
  RUTA_ASSIGN_OR_RETURN(
      page.next_after,
      ReadPage(
          stmt, limit, [](const Statement& row) { return ReadActivity(row); },
          [](const core::Activity& item) { return item.activity_id; },
          &page.activities));
  return page;
}

absl::Status SqlWriteTxn::PutActivity(const core::Activity& a) {
  if (a.activity_id.empty() || a.region.empty()) {
    return absl::InvalidArgumentError(
        "PutActivity: activity_id and region are required");
  }
  static const std::string sql =
      absl::StrCat("INSERT INTO activities (", kActivityColumns,
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                   " ON CONFLICT (activity_id) DO NOTHING");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  const bool training = a.kind == core::ActivityKind::kTraining;
  stmt.Bind(1, a.activity_id)
      .Bind(2, a.region)
      .Bind(3, static_cast<int64_t>(a.kind))
      .Bind(4, a.province)
      .Bind(5, int64_t{a.month.year})
      .Bind(6, int64_t{a.month.month})
      .Bind(7, MonthIndex(a.month))
      .Bind(8, a.campaign)
      .Bind(9, static_cast<int64_t>(a.level))
      .Bind(10, training ? a.members_trained : a.people_reached)
      .Bind(11, TimeToMicros(a.recorded_at));
  RUTA_RETURN_IF_ERROR(stmt.Run());
  if (connection_.Changes() == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("PutActivity: activity ", a.activity_id, " exists"));
  }
  return absl::OkStatus();
}

}  // namespace ruta::store::sql_internal
