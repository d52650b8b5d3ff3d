// SqlReadTxn / SqlWriteTxn: person links, erasure and node settings
// (DESIGN.md section 6; schema in migrations/sqlite/0004_privacy.sql).
#include <openssl/sha.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "sql/txn.h"

namespace ruta::store::sql_internal {

std::string Sha256Of(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

namespace {

// Runs `sql` (no result rows) with `case_id` bound to ?1.
absl::Status RunForCase(Connection& connection, const char* sql,
                        const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  stmt.Bind(1, case_id);
  return stmt.Run();
}

}  // namespace

absl::StatusOr<std::optional<std::string>> SqlReadTxn::FindPersonAlias(
    const std::string& ref) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT root FROM person_aliases WHERE ref = ?1"));
  stmt.Bind(1, ref);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return stmt.ColumnText(0);
}

absl::StatusOr<bool> SqlReadTxn::IsCaseErased(const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT 1 FROM erased_cases WHERE case_id = ?1"));
  stmt.Bind(1, case_id);
  return stmt.Step();
}

absl::StatusOr<std::optional<std::string>> SqlReadTxn::GetSetting(
    const std::string& name) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT value FROM node_settings WHERE name = ?1"));
  stmt.Bind(1, name);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return stmt.ColumnText(0);
}

absl::Status SqlWriteTxn::PutSetting(const std::string& name,
                                     const std::string& value) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO node_settings (name, value) VALUES "
                          "(?1, ?2) ON CONFLICT (name) DO UPDATE SET value = "
                          "excluded.value"));
  stmt.Bind(1, name).Bind(2, value);
  return stmt.Run();
}

absl::StatusOr<int64_t> SqlWriteTxn::JoinPersonRef(const std::string& from,
                                                   const std::string& to) {
  if (from.empty() || to.empty() || from == to) {
    return absl::InvalidArgumentError(
        "JoinPersonRef: two different, non-empty refs are required");
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<std::string> to_root,
                        reads_.FindPersonAlias(to));
  if (to_root.has_value()) {
    return absl::InvalidArgumentError(
        "JoinPersonRef: the target ref is itself joined into another");
  }
  int64_t changed = 0;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "UPDATE cases SET person_ref = ?2 WHERE person_ref = ?1"));
    stmt.Bind(1, from).Bind(2, to);
    RUTA_RETURN_IF_ERROR(stmt.Run());
    changed = connection_.Changes();
  }
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "UPDATE case_history SET person_ref = ?2 WHERE person_ref = ?1"));
    stmt.Bind(1, from).Bind(2, to);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "UPDATE person_aliases SET root = ?2 WHERE root = ?1"));
    stmt.Bind(1, from).Bind(2, to);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO person_aliases (ref, root) VALUES (?1, "
                          "?2) ON CONFLICT (ref) DO UPDATE SET root = "
                          "excluded.root"));
  stmt.Bind(1, from).Bind(2, to);
  RUTA_RETURN_IF_ERROR(stmt.Run());
  return changed;
}

absl::Status SqlWriteTxn::EraseCase(const std::string& case_id,
                                    const std::string& owner_region,
                                    absl::Time at) {
  if (case_id.empty() || owner_region.empty()) {
    return absl::InvalidArgumentError(
        "EraseCase: case_id and owner_region are required");
  }
  RUTA_ASSIGN_OR_RETURN(bool erased, reads_.IsCaseErased(case_id));
  if (erased) {
    return absl::AlreadyExistsError(
        absl::StrCat("case ", case_id, " is already erased"));
  }
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("INSERT INTO erased_cases (case_id, owner_region, "
                            "erased_at_us) VALUES (?1, ?2, ?3)"));
    stmt.Bind(1, case_id).Bind(2, owner_region).Bind(3, TimeToMicros(at));
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  // Services and transfers first (they are found through the case id), then
  // the case itself.
  static constexpr const char* kDeletes[] = {
      "DELETE FROM service_history WHERE case_id = ?1",
      "DELETE FROM services WHERE case_id = ?1",
      "DELETE FROM transfer_changes WHERE transfer_id IN (SELECT transfer_id "
      "FROM transfers WHERE case_id = ?1)",
      "DELETE FROM transfer_history WHERE case_id = ?1",
      "DELETE FROM transfers WHERE case_id = ?1",
      "DELETE FROM case_history WHERE case_id = ?1",
      "DELETE FROM cases WHERE case_id = ?1",
      "DELETE FROM case_shares WHERE case_id = ?1",
      // Never sent: no sequence was given, so dropping leaves no gap.
      "DELETE FROM outbox WHERE case_id = ?1 AND sequence IS NULL",
  };
  RUTA_RETURN_IF_ERROR(ErasePartnerData(case_id));
  for (const char* sql : kDeletes) {
    RUTA_RETURN_IF_ERROR(RunForCase(connection_, sql, case_id));
  }
  // Sent events are marked; those already acknowledged keep their hash only
  // from now, the others once the peer acknowledges them (PutOutboxAck).
  RUTA_RETURN_IF_ERROR(RunForCase(
      connection_,
      "UPDATE outbox SET erase_pending = 1 WHERE case_id = ?1 AND sequence "
      "IS NOT NULL AND hash IS NULL",
      case_id));
  std::vector<std::pair<std::string, int64_t>> acks;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "SELECT destination, applied_through FROM outbox_acks"));
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      acks.emplace_back(stmt.ColumnText(0), stmt.ColumnInt64(1));
    }
  }
  for (const auto& [destination, applied_through] : acks) {
    RUTA_RETURN_IF_ERROR(
        RedactAcknowledgedErased(destination, applied_through));
  }
  std::vector<std::pair<std::pair<std::string, int64_t>, std::string>> kept;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT origin, sequence, bytes FROM inbox_events "
                            "WHERE case_id = ?1 AND hash IS NULL"));
    stmt.Bind(1, case_id);
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      kept.push_back({{stmt.ColumnText(0), stmt.ColumnInt64(1)},
                      Sha256Of(stmt.ColumnBlob(2))});
    }
  }
  for (const auto& [key, hash] : kept) {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("UPDATE inbox_events SET bytes = ?4, hash = ?3 "
                            "WHERE origin = ?1 AND sequence = ?2"));
    // ?4: an empty blob (a literal's syntax differs between the dialects).
    stmt.Bind(1, key.first)
        .Bind(2, key.second)
        .BindBlob(3, hash)
        .BindBlob(4, "");
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

absl::Status SqlWriteTxn::RedactAcknowledgedErased(
    const std::string& destination, int64_t applied_through) {
  std::vector<std::pair<int64_t, std::string>> rows;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "SELECT id, bytes FROM outbox WHERE destination = ?1 AND "
            "erase_pending = 1 AND sequence <= ?2"));
    stmt.Bind(1, destination).Bind(2, applied_through);
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      rows.emplace_back(stmt.ColumnInt64(0), Sha256Of(stmt.ColumnBlob(1)));
    }
  }
  for (const auto& [id, hash] : rows) {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("UPDATE outbox SET payload = ?3, bytes = ?3, "
                            "hash = ?2, erase_pending = 0 WHERE id = ?1"));
    // ?3: an empty blob (a literal's syntax differs between the dialects).
    stmt.Bind(1, id).BindBlob(2, hash).BindBlob(3, "");
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

}  // namespace ruta::store::sql_internal
