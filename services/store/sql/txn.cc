#include "sql/txn.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ruta/common/status_macros.h"

namespace ruta::store::sql_internal {
namespace {

// The domain columns of `cases` and `case_history`, in the order that
// BindCase binds (?1..?22) and ReadCase reads (0..21).
constexpr char kCaseColumns[] =
    "case_id, person_ref, kind, owner_region, stage, care_stage, "
    "closed_reason, age_band, sex, origin_province, exploitation_forms, "
    "setting, recruitment_means, identified_year, identified_month, "
    "legal_basis, consent_partner_sharing, referrals, version, opened_at_us, "
    "updated_at_us, opened_by";
constexpr char kCasePlaceholders[] =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18, ?19, ?20, ?21, ?22";

// SHA-256: the size of every audit hash.
constexpr size_t kAuditHashSize = 32;

template <typename Enum>
int64_t E(Enum value) {
  return static_cast<int64_t>(value);
}

std::string EncodeForms(const std::vector<core::ExploitationForm>& forms) {
  return absl::StrJoin(forms, ",",
                       [](std::string* out, core::ExploitationForm form) {
                         absl::StrAppend(out, E(form));
                       });
}

absl::StatusOr<std::vector<core::ExploitationForm>> DecodeForms(
    absl::string_view text) {
  std::vector<core::ExploitationForm> forms;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value)) {
      return absl::DataLossError(
          "store: malformed exploitation_forms column in cases");
    }
    forms.push_back(static_cast<core::ExploitationForm>(value));
  }
  return forms;
}

absl::Status ValidateCase(const core::Case& c) {
  if (c.case_id.empty()) {
    return absl::InvalidArgumentError("PutCase: case_id is empty");
  }
  for (const std::string& partner : c.referrals) {
    if (partner.empty() || partner.find(',') != std::string::npos) {
      return absl::InvalidArgumentError(
          "PutCase: a referral partner id is empty or contains ','");
    }
  }
  return absl::OkStatus();
}

void BindCase(Statement& stmt, const core::Case& c) {
  stmt.Bind(1, c.case_id)
      .Bind(2, c.person_ref)
      .Bind(3, E(c.kind))
      .Bind(4, c.owner_region)
      .Bind(5, E(c.stage))
      .Bind(6, E(c.care_stage))
      .Bind(7, E(c.closed_reason))
      .Bind(8, E(c.profile.age_band))
      .Bind(9, E(c.profile.sex))
      .Bind(10, c.profile.origin_province)
      .Bind(11, EncodeForms(c.profile.exploitation_forms))
      .Bind(12, E(c.profile.setting))
      .Bind(13, E(c.profile.recruitment_means))
      .Bind(14, int64_t{c.profile.identified_month.year})
      .Bind(15, int64_t{c.profile.identified_month.month})
      .Bind(16, E(c.legal_basis))
      .Bind(17, int64_t{c.consent_partner_sharing ? 1 : 0})
      .Bind(18, absl::StrJoin(c.referrals, ","))
      .Bind(19, c.version)
      .Bind(20, TimeToMicros(c.opened_at))
      .Bind(21, TimeToMicros(c.updated_at))
      .Bind(22, c.opened_by);
}

absl::StatusOr<core::Case> ReadCase(const Statement& stmt) {
  core::Case c;
  c.case_id = stmt.ColumnText(0);
  c.person_ref = stmt.ColumnText(1);
  c.kind = static_cast<core::CaseKind>(stmt.ColumnInt64(2));
  c.owner_region = stmt.ColumnText(3);
  c.stage = static_cast<core::Stage>(stmt.ColumnInt64(4));
  c.care_stage = static_cast<core::Stage>(stmt.ColumnInt64(5));
  c.closed_reason = static_cast<core::ClosedReason>(stmt.ColumnInt64(6));
  c.profile.age_band = static_cast<core::AgeBand>(stmt.ColumnInt64(7));
  c.profile.sex = static_cast<core::Sex>(stmt.ColumnInt64(8));
  c.profile.origin_province = stmt.ColumnText(9);
  RUTA_ASSIGN_OR_RETURN(c.profile.exploitation_forms,
                        DecodeForms(stmt.ColumnText(10)));
  c.profile.setting = static_cast<core::Setting>(stmt.ColumnInt64(11));
  c.profile.recruitment_means =
      static_cast<core::RecruitmentMeans>(stmt.ColumnInt64(12));
  c.profile.identified_month.year = static_cast<int>(stmt.ColumnInt64(13));
  c.profile.identified_month.month = static_cast<int>(stmt.ColumnInt64(14));
  c.legal_basis = static_cast<core::LegalBasis>(stmt.ColumnInt64(15));
  c.consent_partner_sharing = stmt.ColumnInt64(16) != 0;
  c.referrals = absl::StrSplit(stmt.ColumnText(17), ',', absl::SkipEmpty());
  c.version = stmt.ColumnInt64(18);
  c.opened_at = MicrosToTime(stmt.ColumnInt64(19));
  c.updated_at = MicrosToTime(stmt.ColumnInt64(20));
  c.opened_by = stmt.ColumnText(21);
  return c;
}

// Runs a statement expected to return at most one case.
absl::StatusOr<std::optional<core::Case>> QueryOneCase(Statement& stmt) {
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  RUTA_ASSIGN_OR_RETURN(core::Case c, ReadCase(stmt));
  return c;
}

}  // namespace

std::string UpsertSql(absl::string_view table, absl::string_view columns,
                      absl::string_view placeholders, absl::string_view key) {
  std::string sql =
      absl::StrCat("INSERT INTO ", table, " (", columns, ") VALUES (",
                   placeholders, ") ON CONFLICT (", key, ") DO UPDATE SET ");
  bool first = true;
  for (absl::string_view column :
       absl::StrSplit(columns, ',', absl::SkipWhitespace())) {
    column = absl::StripAsciiWhitespace(column);
    if (column == key) continue;
    absl::StrAppend(&sql, first ? "" : ", ", column, " = excluded.", column);
    first = false;
  }
  return sql;
}

absl::StatusOr<int64_t> ReturnedId(Statement& stmt,
                                   absl::string_view operation) {
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return absl::InternalError(
        absl::StrCat(operation, ": the insert returned no id"));
  }
  int64_t id = stmt.ColumnInt64(0);
  // Runs the statement to completion (SQLite applies RETURNING's insert
  // when stepped to the end).
  RUTA_ASSIGN_OR_RETURN(row, stmt.Step());
  return id;
}

int64_t TimeToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixMicros(t);
}

absl::Time MicrosToTime(int64_t micros) {
  if (micros == std::numeric_limits<int64_t>::min()) {
    return absl::InfinitePast();
  }
  if (micros == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixMicros(micros);
}

// --- Reads
// ----------------------------------------------------------------------

absl::StatusOr<std::optional<core::Case>> SqlReadTxn::FindCase(
    const std::string& case_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE case_id = ?1");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, case_id);
  return QueryOneCase(stmt);
}

absl::StatusOr<std::optional<core::Case>> SqlReadTxn::FindCaseVersion(
    const std::string& case_id, int64_t version) {
  // The current version is the row in `cases`; `case_history` holds the
  // versions it superseded (migration 0008).
  static const std::string sql = absl::StrCat(
      "SELECT ", kCaseColumns,
      " FROM cases WHERE case_id = ?1 AND version = ?2 UNION ALL SELECT ",
      kCaseColumns, " FROM case_history WHERE case_id = ?1 AND version = ?2");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, case_id).Bind(2, version);
  return QueryOneCase(stmt);
}

absl::StatusOr<CasePage> SqlReadTxn::ListCases(const CaseFilter& filter,
                                               const std::string& after,
                                               int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError("ListCases: limit must be positive");
  }
  // One statement text per combination of filters, each cached: a fixed text
  // with "(?2 = '' OR owner_region = ?2)" would keep SQLite from using the
  // indexes.
  std::string sql =
      absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE case_id > ?1");
  if (!filter.owner_region.empty())
    absl::StrAppend(&sql, " AND owner_region = ?2");
  if (filter.stage != core::Stage::kUnspecified) {
    absl::StrAppend(&sql, " AND stage = ?3");
  }
  if (filter.kind != core::CaseKind::kUnspecified) {
    absl::StrAppend(&sql, " AND kind = ?4");
  }
  if (!filter.person_ref.empty()) absl::StrAppend(&sql, " AND person_ref = ?5");
  if (!filter.include_closed) absl::StrAppend(&sql, " AND stage <> ?6");
  absl::StrAppend(&sql, " ORDER BY case_id LIMIT ?7");

  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, after);
  if (!filter.owner_region.empty()) stmt.Bind(2, filter.owner_region);
  if (filter.stage != core::Stage::kUnspecified) stmt.Bind(3, E(filter.stage));
  if (filter.kind != core::CaseKind::kUnspecified) stmt.Bind(4, E(filter.kind));
  if (!filter.person_ref.empty()) stmt.Bind(5, filter.person_ref);
  if (!filter.include_closed) stmt.Bind(6, E(core::Stage::kClosed));
  // One more than asked: tells whether another page follows.
  stmt.Bind(7, int64_t{limit} + 1);

  CasePage page;
  RUTA_ASSIGN_OR_RETURN(
      page.next_after,
      ReadPage(
          stmt, limit, [](const Statement& row) { return ReadCase(row); },
          [](const core::Case& item) { return item.case_id; }, &page.cases));
  return page;
}

absl::StatusOr<CasePage> SqlReadTxn::ListClosedCasesBefore(
    const std::string& owner_region, absl::Time updated_before,
    const std::string& after, int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError(
        "ListClosedCasesBefore: limit must be positive");
  }
  static const std::string sql = absl::StrCat(
      "SELECT ", kCaseColumns,
      " FROM cases WHERE owner_region = ?1 AND case_id > ?2 AND stage = ?3 "
      "AND updated_at_us < ?4 ORDER BY case_id LIMIT ?5");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, owner_region)
      .Bind(2, after)
      .Bind(3, E(core::Stage::kClosed))
      .Bind(4, TimeToMicros(updated_before))
      .Bind(5, int64_t{limit} + 1);
  CasePage page;
  RUTA_ASSIGN_OR_RETURN(
      page.next_after,
      ReadPage(
          stmt, limit, [](const Statement& row) { return ReadCase(row); },
          [](const core::Case& item) { return item.case_id; }, &page.cases));
  return page;
}

absl::StatusOr<std::optional<RequestRecord>> SqlReadTxn::FindRequest(
    const std::string& principal, const std::string& request_id) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "SELECT method, fingerprint, case_id, case_version, recorded_at_us "
          "FROM requests WHERE principal = ?1 AND request_id = ?2"));
  stmt.Bind(1, principal).Bind(2, request_id);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  RequestRecord record;
  record.principal = principal;
  record.request_id = request_id;
  record.method = stmt.ColumnText(0);
  record.fingerprint = stmt.ColumnText(1);
  record.case_id = stmt.ColumnText(2);
  record.case_version = stmt.ColumnInt64(3);
  record.recorded_at = MicrosToTime(stmt.ColumnInt64(4));
  return record;
}

absl::StatusOr<int64_t> SqlReadTxn::GetAggregate(const std::string& table,
                                                 const std::string& key) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT value FROM aggregates "
                          "WHERE table_name = ?1 AND key = ?2"));
  stmt.Bind(1, table).Bind(2, key);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
SqlReadTxn::ScanAggregates(const std::string& table,
                           const std::string& key_prefix) {
  // A range on the primary key: key >= prefix AND key < prefix + U+10FFFF
  // would need care with bytes; compare the prefix with substr instead, on
  // the key range starting at the prefix, which the index serves.
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt, connection_.Prepare("SELECT key, value FROM aggregates "
                                          "WHERE table_name = ?1 AND key >= ?2 "
                                          "ORDER BY key"));
  stmt.Bind(1, table).Bind(2, key_prefix);
  std::vector<std::pair<std::string, int64_t>> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string key = stmt.ColumnText(0);
    if (key.compare(0, key_prefix.size(), key_prefix) != 0) break;
    out.emplace_back(std::move(key), stmt.ColumnInt64(1));
  }
  return out;
}

absl::StatusOr<std::vector<core::Case>> SqlReadTxn::ListStalledFollowUps(
    const std::string& owner_region, absl::Time updated_before) {
  // Served by the partial index cases_follow_up (migration *_dashboard.sql).
  static const std::string sql =
      absl::StrCat("SELECT ", kCaseColumns,
                   " FROM cases WHERE stage = 10 AND owner_region = ?1 "
                   "AND updated_at_us < ?2 ORDER BY case_id");
  static_assert(static_cast<int>(core::Stage::kFollowUp) == 10);
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, owner_region).Bind(2, TimeToMicros(updated_before));
  std::vector<core::Case> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    RUTA_ASSIGN_OR_RETURN(core::Case c, ReadCase(stmt));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<AuditHead> SqlReadTxn::GetAuditHead() {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "SELECT idx, hash FROM audit_log ORDER BY idx DESC LIMIT 1"));
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  AuditHead head;
  if (!row) {
    head.hash = std::string(kAuditHashSize, '\0');
    return head;
  }
  head.length = stmt.ColumnInt64(0) + 1;
  head.hash = stmt.ColumnBlob(1);
  return head;
}

absl::StatusOr<std::vector<AuditRecord>> SqlReadTxn::ScanAudit(
    int64_t from_index, int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError("ScanAudit: limit must be positive");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT idx, at_us, principal, clerk, method, "
                          "subject, outcome, hash FROM audit_log "
                          "WHERE idx >= ?1 ORDER BY idx LIMIT ?2"));
  stmt.Bind(1, from_index).Bind(2, int64_t{limit});
  std::vector<AuditRecord> records;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    AuditRecord record;
    record.index = stmt.ColumnInt64(0);
    record.at = MicrosToTime(stmt.ColumnInt64(1));
    record.principal = stmt.ColumnText(2);
    record.clerk = stmt.ColumnText(3);
    record.method = stmt.ColumnText(4);
    record.subject = stmt.ColumnText(5);
    record.outcome = static_cast<int32_t>(stmt.ColumnInt64(6));
    record.hash = stmt.ColumnBlob(7);
    records.push_back(std::move(record));
  }
  return records;
}

namespace {

absl::StatusOr<std::optional<AuditCheckpoint>> QueryCheckpoint(
    Statement& stmt) {
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  AuditCheckpoint checkpoint;
  checkpoint.region = stmt.ColumnText(0);
  checkpoint.length = stmt.ColumnInt64(1);
  checkpoint.head_hash = stmt.ColumnBlob(2);
  checkpoint.signed_at = MicrosToTime(stmt.ColumnInt64(3));
  checkpoint.signature = stmt.ColumnBlob(4);
  return checkpoint;
}

}  // namespace

absl::StatusOr<std::optional<AuditCheckpoint>> SqlReadTxn::GetPeerCheckpoint(
    const std::string& region) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT region, length, head_hash, signed_at_us, "
                          "signature FROM audit_peer_checkpoints "
                          "WHERE region = ?1"));
  stmt.Bind(1, region);
  return QueryCheckpoint(stmt);
}

absl::StatusOr<std::optional<AuditCheckpoint>> SqlReadTxn::GetSentCheckpoint(
    const std::string& peer_region) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT region, length, head_hash, signed_at_us, "
                          "signature FROM audit_sent_checkpoints "
                          "WHERE peer_region = ?1"));
  stmt.Bind(1, peer_region);
  return QueryCheckpoint(stmt);
}

// --- Writes
// ---------------------------------------------------------------------

absl::Status SqlWriteTxn::PutCase(const core::Case& c) {
  RUTA_RETURN_IF_ERROR(ValidateCase(c));

  int64_t stored = 0;
  std::vector<std::string> referrals_before;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "SELECT version, referrals FROM cases WHERE case_id = ?1"));
    stmt.Bind(1, c.case_id);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      stored = stmt.ColumnInt64(0);
      referrals_before =
          absl::StrSplit(stmt.ColumnText(1), ',', absl::SkipEmpty());
    }
  }
  if (c.version != stored + 1) {
    // Versions only: the message carries no case data.
    return absl::FailedPreconditionError(absl::StrCat(
        "PutCase: version conflict: stored version ", stored,
        ", new version must be ", stored + 1, ", got ", c.version));
  }

  if (stored > 0) {
    // The version being replaced moves to the history; the current one is
    // only in `cases` (one random-key page less per change: migration 0008).
    static const std::string supersede =
        absl::StrCat("INSERT INTO case_history (", kCaseColumns, ") SELECT ",
                     kCaseColumns, " FROM cases WHERE case_id = ?1");
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(supersede));
    stmt.Bind(1, c.case_id);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }

  static const std::string upsert = absl::StrCat(
      "INSERT INTO cases (", kCaseColumns, ") VALUES (", kCasePlaceholders,
      ") ON CONFLICT (case_id) DO UPDATE SET "
      "person_ref = excluded.person_ref, kind = excluded.kind, "
      "owner_region = excluded.owner_region, stage = excluded.stage, "
      "care_stage = excluded.care_stage, "
      "closed_reason = excluded.closed_reason, "
      "age_band = excluded.age_band, sex = excluded.sex, "
      "origin_province = excluded.origin_province, "
      "exploitation_forms = excluded.exploitation_forms, "
      "setting = excluded.setting, "
      "recruitment_means = excluded.recruitment_means, "
      "identified_year = excluded.identified_year, "
      "identified_month = excluded.identified_month, "
      "legal_basis = excluded.legal_basis, "
      "consent_partner_sharing = excluded.consent_partner_sharing, "
      "referrals = excluded.referrals, version = excluded.version, "
      "opened_at_us = excluded.opened_at_us, "
      "updated_at_us = excluded.updated_at_us, "
      "opened_by = excluded.opened_by");
  {
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(upsert));
    BindCase(stmt, c);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }

  return UpdatePartnerReferrals(c, referrals_before);
}

absl::Status SqlWriteTxn::PutRequest(const RequestRecord& record) {
  if (record.principal.empty() || record.request_id.empty()) {
    return absl::InvalidArgumentError(
        "PutRequest: principal and request_id must be non-empty");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO requests (principal, request_id, method, fingerprint, "
          "case_id, case_version, recorded_at_us) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
          "ON CONFLICT (principal, request_id) DO NOTHING"));
  stmt.Bind(1, record.principal)
      .Bind(2, record.request_id)
      .Bind(3, record.method)
      .Bind(4, record.fingerprint)
      .Bind(5, record.case_id)
      .Bind(6, record.case_version)
      .Bind(7, TimeToMicros(record.recorded_at));
  RUTA_RETURN_IF_ERROR(stmt.Run());
  if (connection_.Changes() == 0) {
    return absl::AlreadyExistsError("PutRequest: request already recorded");
  }
  return absl::OkStatus();
}

absl::Status SqlWriteTxn::AddToAggregate(const std::string& table,
                                         const std::string& key,
                                         int64_t delta) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO aggregates (table_name, key, value) "
          "VALUES (?1, ?2, ?3) "
          "ON CONFLICT (table_name, key) "
          "DO UPDATE SET value = aggregates.value + excluded.value"));
  stmt.Bind(1, table).Bind(2, key).Bind(3, delta);
  return stmt.Run();
}

absl::Status SqlWriteTxn::ClearAggregates(const std::string& table) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("DELETE FROM aggregates WHERE table_name = ?1"));
  stmt.Bind(1, table);
  return stmt.Run();
}

absl::Status SqlWriteTxn::AppendAudit(const AuditRecord& record) {
  if (record.hash.size() != kAuditHashSize) {
    return absl::InvalidArgumentError(
        "AppendAudit: the record's hash must be 32 bytes");
  }
  RUTA_ASSIGN_OR_RETURN(AuditHead head, reads_.GetAuditHead());
  if (record.index != head.length) {
    return absl::FailedPreconditionError(absl::StrCat(
        "AppendAudit: the chain has ", head.length,
        " records; the next index is ", head.length, ", not ", record.index));
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO audit_log (idx, at_us, principal, "
                          "clerk, method, subject, outcome, hash) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  stmt.Bind(1, record.index)
      .Bind(2, TimeToMicros(record.at))
      .Bind(3, record.principal)
      .Bind(4, record.clerk)
      .Bind(5, record.method)
      .Bind(6, record.subject)
      .Bind(7, int64_t{record.outcome})
      .BindBlob(8, record.hash);
  return stmt.Run();
}

absl::Status SqlWriteTxn::PutPeerCheckpoint(const AuditCheckpoint& checkpoint) {
  if (checkpoint.region.empty()) {
    return absl::InvalidArgumentError("PutPeerCheckpoint: region is empty");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO audit_peer_checkpoints (region, length, head_hash, "
          "signed_at_us, signature) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (region) DO UPDATE SET length = excluded.length, "
          "head_hash = excluded.head_hash, "
          "signed_at_us = excluded.signed_at_us, "
          "signature = excluded.signature"));
  stmt.Bind(1, checkpoint.region)
      .Bind(2, checkpoint.length)
      .BindBlob(3, checkpoint.head_hash)
      .Bind(4, TimeToMicros(checkpoint.signed_at))
      .BindBlob(5, checkpoint.signature);
  return stmt.Run();
}

absl::Status SqlWriteTxn::PutSentCheckpoint(const std::string& peer_region,
                                            const AuditCheckpoint& checkpoint) {
  if (peer_region.empty()) {
    return absl::InvalidArgumentError("PutSentCheckpoint: peer is empty");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO audit_sent_checkpoints (peer_region, region, length, "
          "head_hash, signed_at_us, signature) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
          "ON CONFLICT (peer_region) DO UPDATE SET region = excluded.region, "
          "length = excluded.length, head_hash = excluded.head_hash, "
          "signed_at_us = excluded.signed_at_us, "
          "signature = excluded.signature"));
  stmt.Bind(1, peer_region)
      .Bind(2, checkpoint.region)
      .Bind(3, checkpoint.length)
      .BindBlob(4, checkpoint.head_hash)
      .Bind(5, TimeToMicros(checkpoint.signed_at))
      .BindBlob(6, checkpoint.signature);
  return stmt.Run();
}

}  // namespace ruta::store::sql_internal
