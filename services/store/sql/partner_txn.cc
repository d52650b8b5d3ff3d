// NGO partners of the SQLite store: referrals and the partner change log
// (schema: migrations/sqlite/0006_partners.sql).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "sql/txn.h"

namespace ruta::store::sql_internal {
namespace {

PartnerReferral ReadReferral(const Statement& stmt) {
  PartnerReferral r;
  r.partner_id = stmt.ColumnText(0);
  r.case_id = stmt.ColumnText(1);
  r.owner_region = stmt.ColumnText(2);
  r.referred_at = MicrosToTime(stmt.ColumnInt64(3));
  r.since_position = stmt.ColumnInt64(4);
  return r;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

absl::StatusOr<std::vector<PartnerReferral>> SqlReadTxn::ListPartnerReferrals(
    const std::string& partner_id, const std::string& owner_region) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "SELECT partner_id, case_id, owner_region, referred_at_us, "
          "since_position FROM "
          "partner_referrals WHERE partner_id = ?1 AND owner_region = ?2 "
          "ORDER BY case_id"));
  stmt.Bind(1, partner_id).Bind(2, owner_region);
  std::vector<PartnerReferral> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadReferral(stmt));
  }
  return out;
}

absl::StatusOr<std::optional<PartnerReferral>> SqlReadTxn::FindPartnerReferral(
    const std::string& partner_id, const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "SELECT partner_id, case_id, owner_region, referred_at_us, "
          "since_position FROM "
          "partner_referrals WHERE partner_id = ?1 AND case_id = ?2"));
  stmt.Bind(1, partner_id).Bind(2, case_id);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadReferral(stmt);
}

absl::StatusOr<std::vector<PartnerChange>> SqlReadTxn::ScanPartnerChanges(
    const std::string& partner_id, int64_t after, int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError(
        "ScanPartnerChanges: limit must be positive");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "SELECT position, partner_id, case_id, case_version, withdrawn FROM "
          "partner_changes WHERE partner_id = ?1 AND position > ?2 "
          "ORDER BY position LIMIT ?3"));
  stmt.Bind(1, partner_id).Bind(2, after).Bind(3, int64_t{limit});
  std::vector<PartnerChange> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    PartnerChange change;
    change.position = stmt.ColumnInt64(0);
    change.partner_id = stmt.ColumnText(1);
    change.case_id = stmt.ColumnText(2);
    change.case_version = stmt.ColumnInt64(3);
    change.withdrawn = stmt.ColumnInt64(4) != 0;
    out.push_back(std::move(change));
  }
  return out;
}

absl::StatusOr<int64_t> SqlReadTxn::LastPartnerChange() {
  // The highest position ever given, even when the rows holding it were
  // deleted: SQLite keeps it in sqlite_sequence (AUTOINCREMENT); the
  // PostgreSQL schema in partner_changes_high, maintained by a trigger in the
  // writer's transaction (a sequence's value is not transactional: it would
  // show positions of transactions not yet committed).
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          connection_.backend() == "sqlite"
              ? "SELECT coalesce((SELECT seq FROM sqlite_sequence "
                "WHERE name = 'partner_changes'), 0)"
              : "SELECT coalesce((SELECT position FROM partner_changes_high), "
                "0)"));
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<std::vector<CaseStageVersion>> SqlReadTxn::ListCaseStages(
    const std::string& case_id, int64_t max_version) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      // The superseded versions and the current one (migration 0008).
      connection_.Prepare("SELECT version, stage, updated_at_us FROM "
                          "case_history WHERE case_id = ?1 AND version <= ?2 "
                          "UNION ALL SELECT version, stage, updated_at_us "
                          "FROM cases WHERE case_id = ?1 AND version <= ?2 "
                          "ORDER BY version"));
  stmt.Bind(1, case_id).Bind(2, max_version);
  std::vector<CaseStageVersion> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    CaseStageVersion v;
    v.version = stmt.ColumnInt64(0);
    v.stage = static_cast<core::Stage>(stmt.ColumnInt64(1));
    v.at = MicrosToTime(stmt.ColumnInt64(2));
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<int64_t> SqlWriteTxn::AppendPartnerChange(
    const std::string& partner_id, const std::string& case_id,
    int64_t case_version, bool withdrawn) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO partner_changes (partner_id, case_id, "
                          "case_version, withdrawn) VALUES (?1, ?2, ?3, ?4) "
                          "RETURNING position"));
  stmt.Bind(1, partner_id)
      .Bind(2, case_id)
      .Bind(3, case_version)
      .Bind(4, int64_t{withdrawn ? 1 : 0});
  return ReturnedId(stmt, "AppendPartnerChange");
}

absl::Status SqlWriteTxn::UpdatePartnerReferrals(
    const core::Case& c, const std::vector<std::string>& before) {
  for (const std::string& partner : before) {
    if (Contains(c.referrals, partner)) continue;
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("DELETE FROM partner_referrals WHERE partner_id = "
                            "?1 AND case_id = ?2"));
    stmt.Bind(1, partner).Bind(2, c.case_id);
    RUTA_RETURN_IF_ERROR(stmt.Run());
    RUTA_RETURN_IF_ERROR(
        AppendPartnerChange(partner, c.case_id, c.version, /*withdrawn=*/true)
            .status());
  }
  for (const std::string& partner : c.referrals) {
    RUTA_ASSIGN_OR_RETURN(const int64_t position,
                          AppendPartnerChange(partner, c.case_id, c.version,
                                              /*withdrawn=*/false));
    if (Contains(before, partner)) {
      RUTA_ASSIGN_OR_RETURN(
          Statement stmt,
          connection_.Prepare("UPDATE partner_referrals SET owner_region = ?3 "
                              "WHERE partner_id = ?1 AND case_id = ?2"));
      stmt.Bind(1, partner).Bind(2, c.case_id).Bind(3, c.owner_region);
      RUTA_RETURN_IF_ERROR(stmt.Run());
    } else {
      RUTA_ASSIGN_OR_RETURN(
          Statement stmt,
          connection_.Prepare(
              "INSERT INTO partner_referrals (partner_id, case_id, "
              "owner_region, referred_at_us, since_position) VALUES (?1, ?2, "
              "?3, ?4, ?5) ON CONFLICT (partner_id, case_id) DO UPDATE SET "
              "owner_region = excluded.owner_region, "
              "referred_at_us = excluded.referred_at_us, "
              "since_position = excluded.since_position"));
      stmt.Bind(1, partner)
          .Bind(2, c.case_id)
          .Bind(3, c.owner_region)
          .Bind(4, TimeToMicros(c.updated_at))
          .Bind(5, position);
      RUTA_RETURN_IF_ERROR(stmt.Run());
    }
  }
  return absl::OkStatus();
}

absl::Status SqlWriteTxn::LogPartnerServiceChange(
    const core::ServiceRecord& s) {
  if (s.provider.empty()) return absl::OkStatus();
  // Only a partner the case is referred to sees its services.
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO partner_changes (partner_id, case_id, case_version, "
          "withdrawn) SELECT r.partner_id, r.case_id, c.version, 0 FROM "
          "partner_referrals r JOIN cases c ON c.case_id = r.case_id WHERE "
          "r.partner_id = ?1 AND r.case_id = ?2"));
  stmt.Bind(1, s.provider).Bind(2, s.case_id);
  return stmt.Run();
}

absl::Status SqlWriteTxn::ErasePartnerData(const std::string& case_id) {
  std::vector<std::string> partners;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT partner_id FROM partner_referrals WHERE "
                            "case_id = ?1 ORDER BY partner_id"));
    stmt.Bind(1, case_id);
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      partners.push_back(stmt.ColumnText(0));
    }
  }
  for (const char* sql : {"DELETE FROM partner_referrals WHERE case_id = ?1",
                          "DELETE FROM partner_changes WHERE case_id = ?1"}) {
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
    stmt.Bind(1, case_id);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  for (const std::string& partner : partners) {
    RUTA_RETURN_IF_ERROR(
        AppendPartnerChange(partner, case_id, 0, /*withdrawn=*/true).status());
  }
  return absl::OkStatus();
}

}  // namespace ruta::store::sql_internal
