// Transfers, services, case shares, outbox and inbox of the SQLite store
// (schema: migrations/sqlite/0003_federation.sql).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ruta/common/status_macros.h"
#include "sql/txn.h"

namespace ruta::store::sql_internal {
namespace {

// Columns of `transfers` in the order BindTransfer binds (?1..?18) and
// ReadTransfer reads (0..17); transfer_history has the same ones.
constexpr char kTransferColumns[] =
    "transfer_id, case_id, from_region, to_region, destination_province, "
    "requested_services, state, requested_on, accepted_on, departed_on, "
    "received_on, rejected, reject_reason, reject_note, cancelled, "
    "cancel_note, version, updated_at_us";
constexpr char kTransferPlaceholders[] =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18";

constexpr char kServiceColumns[] =
    "service_id, case_id, type, provider, status, start_year, start_month, "
    "end_year, end_month, version, author_region, updated_at_us";
constexpr char kServicePlaceholders[] =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12";

template <typename Enum>
int64_t E(Enum value) {
  return static_cast<int64_t>(value);
}

void BindTransfer(Statement& stmt, const core::Transfer& t) {
  stmt.Bind(1, t.transfer_id)
      .Bind(2, t.case_id)
      .Bind(3, t.from_region)
      .Bind(4, t.to_region)
      .Bind(5, t.destination_province)
      .Bind(6, absl::StrJoin(t.requested_services, ",",
                             [](std::string* out, core::ServiceType type) {
                               absl::StrAppend(out, E(type));
                             }))
      .Bind(7, E(core::TransferStateOf(t)))
      .Bind(8, core::FormatDate(t.requested_on))
      .Bind(9, core::FormatDate(t.accepted_on))
      .Bind(10, core::FormatDate(t.departed_on))
      .Bind(11, core::FormatDate(t.received_on))
      .Bind(12, int64_t{t.rejected ? 1 : 0})
      .Bind(13, E(t.reject_reason))
      .Bind(14, t.reject_note)
      .Bind(15, int64_t{t.cancelled ? 1 : 0})
      .Bind(16, t.cancel_note)
      .Bind(17, core::TransferVersionOf(t))
      .Bind(18, TimeToMicros(t.updated_at));
}

absl::Status Malformed(const char* column) {
  return absl::DataLossError(
      absl::StrCat("store: malformed ", column, " column in transfers"));
}

// Reads the transfer columns starting at column `first` (0 for a plain
// SELECT of kTransferColumns; 1 after a leading column).
absl::StatusOr<core::Transfer> ReadTransfer(const Statement& stmt,
                                            int first = 0) {
  auto column = [first](int i) { return first + i; };
  core::Transfer t;
  t.transfer_id = stmt.ColumnText(column(0));
  t.case_id = stmt.ColumnText(column(1));
  t.from_region = stmt.ColumnText(column(2));
  t.to_region = stmt.ColumnText(column(3));
  t.destination_province = stmt.ColumnText(column(4));
  for (absl::string_view part :
       absl::StrSplit(stmt.ColumnText(column(5)), ',', absl::SkipEmpty())) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value)) return Malformed("requested_services");
    t.requested_services.push_back(static_cast<core::ServiceType>(value));
  }
  if (!core::ParseDate(stmt.ColumnText(column(7)), &t.requested_on) ||
      !core::ParseDate(stmt.ColumnText(column(8)), &t.accepted_on) ||
      !core::ParseDate(stmt.ColumnText(column(9)), &t.departed_on) ||
      !core::ParseDate(stmt.ColumnText(column(10)), &t.received_on)) {
    return Malformed("date");
  }
  t.rejected = stmt.ColumnInt64(column(11)) != 0;
  t.reject_reason =
      static_cast<core::RejectReason>(stmt.ColumnInt64(column(12)));
  t.reject_note = stmt.ColumnText(column(13));
  t.cancelled = stmt.ColumnInt64(column(14)) != 0;
  t.cancel_note = stmt.ColumnText(column(15));
  t.updated_at = MicrosToTime(stmt.ColumnInt64(column(17)));
  return t;
}

absl::StatusOr<std::optional<core::Transfer>> QueryOneTransfer(
    Statement& stmt) {
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  RUTA_ASSIGN_OR_RETURN(core::Transfer t, ReadTransfer(stmt));
  return t;
}

void BindService(Statement& stmt, const core::ServiceRecord& s) {
  stmt.Bind(1, s.service_id)
      .Bind(2, s.case_id)
      .Bind(3, E(s.type))
      .Bind(4, s.provider)
      .Bind(5, E(s.status))
      .Bind(6, int64_t{s.start_month.year})
      .Bind(7, int64_t{s.start_month.month})
      .Bind(8, int64_t{s.end_month.year})
      .Bind(9, int64_t{s.end_month.month})
      .Bind(10, s.version)
      .Bind(11, s.author_region)
      .Bind(12, TimeToMicros(s.updated_at));
}

core::ServiceRecord ReadService(const Statement& stmt) {
  core::ServiceRecord s;
  s.service_id = stmt.ColumnText(0);
  s.case_id = stmt.ColumnText(1);
  s.type = static_cast<core::ServiceType>(stmt.ColumnInt64(2));
  s.provider = stmt.ColumnText(3);
  s.status = static_cast<core::ServiceStatus>(stmt.ColumnInt64(4));
  s.start_month.year = static_cast<int>(stmt.ColumnInt64(5));
  s.start_month.month = static_cast<int>(stmt.ColumnInt64(6));
  s.end_month.year = static_cast<int>(stmt.ColumnInt64(7));
  s.end_month.month = static_cast<int>(stmt.ColumnInt64(8));
  s.version = stmt.ColumnInt64(9);
  s.author_region = stmt.ColumnText(10);
  s.updated_at = MicrosToTime(stmt.ColumnInt64(11));
  return s;
}

absl::Status CheckLimit(const char* method, int limit) {
  if (limit <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(method, ": limit must be positive"));
  }
  return absl::OkStatus();
}

OutboxEvent ReadOutboxRow(const Statement& stmt) {
  OutboxEvent e;
  e.id = stmt.ColumnInt64(0);
  e.destination = stmt.ColumnText(1);
  e.case_id = stmt.ColumnText(2);
  e.payload = stmt.ColumnBlob(3);
  e.committed_at = MicrosToTime(stmt.ColumnInt64(4));
  e.sequence = stmt.ColumnIsNull(5) ? 0 : stmt.ColumnInt64(5);
  e.bytes = stmt.ColumnIsNull(6) ? std::string() : stmt.ColumnBlob(6);
  return e;
}

constexpr char kOutboxColumns[] =
    "id, destination, case_id, payload, committed_at_us, sequence, bytes";

}  // namespace

// --- Reads --------------------------------------------------------------

absl::StatusOr<std::optional<core::Transfer>> SqlReadTxn::FindTransfer(
    const std::string& transfer_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kTransferColumns, " FROM transfers WHERE transfer_id = ?1");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, transfer_id);
  return QueryOneTransfer(stmt);
}

absl::StatusOr<std::optional<core::Transfer>> SqlReadTxn::FindTransferVersion(
    const std::string& transfer_id, int64_t version) {
  // The current version is the row in `transfers`; transfer_history (same
  // columns) holds the versions it superseded (migration 0009).
  static const std::string sql = absl::StrCat(
      "SELECT ", kTransferColumns,
      " FROM transfers WHERE transfer_id = ?1 AND version = ?2 UNION ALL "
      "SELECT ",
      kTransferColumns,
      " FROM transfer_history WHERE transfer_id = ?1 AND version = ?2");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, transfer_id).Bind(2, version);
  return QueryOneTransfer(stmt);
}

absl::StatusOr<std::vector<core::Transfer>> SqlReadTxn::ListCaseTransfers(
    const std::string& case_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTransferColumns,
                   " FROM transfers WHERE case_id = ?1 ORDER BY transfer_id");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, case_id);
  std::vector<core::Transfer> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    RUTA_ASSIGN_OR_RETURN(core::Transfer t, ReadTransfer(stmt));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<core::Transfer>> SqlReadTxn::ListStalledRequests(
    const std::string& from_region, const core::Date& requested_before) {
  // Served by the partial index transfers_requested (migration
  // *_dashboard.sql); dates are stored as "YYYY-MM-DD", which sorts as the days
  // do.
  static_assert(static_cast<int>(core::TransferState::kRequested) == 1);
  static const std::string sql =
      absl::StrCat("SELECT ", kTransferColumns,
                   " FROM transfers WHERE state = 1 AND from_region = ?1 "
                   "AND requested_on < ?2 ORDER BY transfer_id");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, from_region).Bind(2, core::FormatDate(requested_before));
  std::vector<core::Transfer> out;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    RUTA_ASSIGN_OR_RETURN(core::Transfer t, ReadTransfer(stmt));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<TransferPage> SqlReadTxn::ListTransfers(
    const TransferFilter& filter, const std::string& after, int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ListTransfers", limit));
  if (filter.region.empty()) {
    return absl::InvalidArgumentError("ListTransfers: region is required");
  }
  std::string sql = absl::StrCat("SELECT ", kTransferColumns,
                                 " FROM transfers WHERE transfer_id > ?1");
  switch (filter.direction) {
    case core::TransferRole::kSender:
      absl::StrAppend(&sql, " AND from_region = ?2");
      break;
    case core::TransferRole::kReceiver:
      absl::StrAppend(&sql, " AND to_region = ?2");
      break;
    case core::TransferRole::kNone:
      absl::StrAppend(&sql, " AND (from_region = ?2 OR to_region = ?2)");
      break;
  }
  if (filter.state != core::TransferState::kUnspecified) {
    absl::StrAppend(&sql, " AND state = ?3");
  }
  if (!filter.case_id.empty()) absl::StrAppend(&sql, " AND case_id = ?4");
  absl::StrAppend(&sql, " ORDER BY transfer_id LIMIT ?5");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, after).Bind(2, filter.region);
  if (filter.state != core::TransferState::kUnspecified) {
    stmt.Bind(3, E(filter.state));
  }
  if (!filter.case_id.empty()) stmt.Bind(4, filter.case_id);
  stmt.Bind(5, int64_t{limit} + 1);
  TransferPage page;
  RUTA_ASSIGN_OR_RETURN(
      page.next_after,
      ReadPage(
          stmt, limit, [](const Statement& row) { return ReadTransfer(row); },
          [](const core::Transfer& item) { return item.transfer_id; },
          &page.transfers));
  return page;
}

absl::StatusOr<std::vector<TransferChange>> SqlReadTxn::ScanTransferChanges(
    const std::string& region, int64_t after, int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ScanTransferChanges", limit));
  // The version each change made: superseded since (transfer_history) or
  // still current (transfers; migration 0009).
  std::string sql;
  for (absl::string_view table : {"transfer_history", "transfers"}) {
    if (!sql.empty()) absl::StrAppend(&sql, " UNION ALL ");
    absl::StrAppend(&sql, "SELECT c.position");
    for (absl::string_view column : absl::StrSplit(kTransferColumns, ", ")) {
      absl::StrAppend(&sql, ", h.", column);
    }
    absl::StrAppend(
        &sql, " FROM transfer_changes c JOIN ", table,
        " h ON h.transfer_id = c.transfer_id AND h.version = c.version"
        " WHERE c.position > ?1 AND (c.from_region = ?2 OR c.to_region = ?2)");
  }
  absl::StrAppend(&sql, " ORDER BY position LIMIT ?3");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, after).Bind(2, region).Bind(3, int64_t{limit});
  std::vector<TransferChange> changes;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    TransferChange change;
    change.position = stmt.ColumnInt64(0);
    RUTA_ASSIGN_OR_RETURN(change.transfer, ReadTransfer(stmt, 1));
    changes.push_back(std::move(change));
  }
  return changes;
}

absl::StatusOr<int64_t> SqlReadTxn::LastTransferChange() {
  RUTA_ASSIGN_OR_RETURN(Statement stmt,
                        connection_.Prepare("SELECT coalesce(max(position), 0) "
                                            "FROM transfer_changes"));
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<std::optional<core::ServiceRecord>> SqlReadTxn::FindService(
    const std::string& service_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kServiceColumns, " FROM services WHERE service_id = ?1");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, service_id);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadService(stmt);
}

absl::StatusOr<std::optional<core::ServiceRecord>>
SqlReadTxn::FindServiceVersion(const std::string& service_id, int64_t version) {
  // At equal versions from two authors, the one that superseded (the author
  // sorting last) is the one that was current.
  static const std::string sql = absl::StrCat(
      "SELECT ", kServiceColumns,
      " FROM service_history WHERE service_id = ?1 AND version = ?2"
      " ORDER BY author_region DESC LIMIT 1");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, service_id).Bind(2, version);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadService(stmt);
}

absl::StatusOr<ServicePage> SqlReadTxn::ListServices(const std::string& case_id,
                                                     const std::string& after,
                                                     int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ListServices", limit));
  static const std::string sql =
      absl::StrCat("SELECT ", kServiceColumns,
                   " FROM services WHERE case_id = ?1 AND service_id > ?2"
                   " ORDER BY service_id LIMIT ?3");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, case_id).Bind(2, after).Bind(3, int64_t{limit} + 1);
  ServicePage page;
  RUTA_ASSIGN_OR_RETURN(
      page.next_after,
      ReadPage(
          stmt, limit, [](const Statement& row) { return ReadService(row); },
          [](const core::ServiceRecord& item) { return item.service_id; },
          &page.services));
  return page;
}

absl::StatusOr<std::vector<std::string>> SqlReadTxn::ListCaseShares(
    const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(Statement stmt,
                        connection_.Prepare("SELECT region FROM case_shares "
                                            "WHERE case_id = ?1 ORDER BY "
                                            "region"));
  stmt.Bind(1, case_id);
  std::vector<std::string> regions;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    regions.push_back(stmt.ColumnText(0));
  }
  return regions;
}

absl::StatusOr<std::vector<OutboxEvent>> SqlReadTxn::ReadOutbox(
    const std::string& destination, int64_t from_sequence, int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ReadOutbox", limit));
  static const std::string sql =
      absl::StrCat("SELECT ", kOutboxColumns,
                   " FROM outbox WHERE destination = ?1 AND sequence >= ?2"
                   " ORDER BY sequence LIMIT ?3");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, destination).Bind(2, from_sequence).Bind(3, int64_t{limit});
  std::vector<OutboxEvent> events;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    events.push_back(ReadOutboxRow(stmt));
  }
  return events;
}

absl::StatusOr<std::vector<OutboxEvent>> SqlReadTxn::ReadUnstamped(
    const std::string& destination, int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ReadUnstamped", limit));
  static const std::string sql =
      absl::StrCat("SELECT ", kOutboxColumns,
                   " FROM outbox WHERE destination = ?1 AND sequence IS NULL"
                   " ORDER BY id LIMIT ?2");
  RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(sql));
  stmt.Bind(1, destination).Bind(2, int64_t{limit});
  std::vector<OutboxEvent> events;
  while (true) {
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    events.push_back(ReadOutboxRow(stmt));
  }
  return events;
}

absl::StatusOr<OutboxStats> SqlReadTxn::GetOutboxStats(
    const std::string& destination) {
  OutboxStats stats;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT coalesce(max(sequence), 0) FROM outbox "
                            "WHERE destination = ?1 AND sequence IS NOT "
                            "NULL"));
    stmt.Bind(1, destination);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stats.last_sequence = stmt.ColumnInt64(0);
  }
  {
    // Counted in the partial index outbox_unstamped alone (no row is read):
    // a backlog of a million events is counted on every status request.
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT count(*) FROM outbox "
                            "WHERE destination = ?1 AND sequence IS NULL"));
    stmt.Bind(1, destination);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stats.unstamped = stmt.ColumnInt64(0);
  }
  if (stats.unstamped > 0) {
    // Written in commit order: the first unstamped one is the oldest.
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT committed_at_us FROM outbox "
                            "WHERE destination = ?1 AND sequence IS NULL "
                            "ORDER BY id LIMIT 1"));
    stmt.Bind(1, destination);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stats.oldest_unacknowledged_at = MicrosToTime(stmt.ColumnInt64(0));
  }
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT applied_through FROM outbox_acks "
                            "WHERE destination = ?1"));
    stmt.Bind(1, destination);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stats.acknowledged = stmt.ColumnInt64(0);
  }
  if (stats.acknowledged < stats.last_sequence) {
    // Stamped in commit order: the first unacknowledged one is the oldest.
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT committed_at_us FROM outbox "
                            "WHERE destination = ?1 AND sequence = ?2"));
    stmt.Bind(1, destination).Bind(2, stats.acknowledged + 1);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stats.oldest_unacknowledged_at = MicrosToTime(stmt.ColumnInt64(0));
  }
  return stats;
}

absl::StatusOr<int64_t> SqlReadTxn::GetInboxPosition(
    const std::string& origin) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("SELECT applied_through FROM inbox_positions "
                          "WHERE origin = ?1"));
  stmt.Bind(1, origin);
  RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<std::vector<InboxBatch>> SqlReadTxn::ReadInboxBatches(
    const std::string& origin, int64_t from_sequence, int limit) {
  RUTA_RETURN_IF_ERROR(CheckLimit("ReadInboxBatches", limit));
  std::vector<InboxBatch> batches;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT first_sequence, last_sequence, signature, "
                            "signing_key_id, received_at_us FROM inbox_batches "
                            "WHERE origin = ?1 AND last_sequence >= ?2 "
                            "ORDER BY last_sequence LIMIT ?3"));
    stmt.Bind(1, origin).Bind(2, from_sequence).Bind(3, int64_t{limit});
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      InboxBatch batch;
      batch.origin = origin;
      batch.first_sequence = stmt.ColumnInt64(0);
      batch.last_sequence = stmt.ColumnInt64(1);
      batch.signature = stmt.ColumnBlob(2);
      batch.signing_key_id = stmt.ColumnText(3);
      batch.received_at = MicrosToTime(stmt.ColumnInt64(4));
      batches.push_back(std::move(batch));
    }
  }
  for (InboxBatch& batch : batches) {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT bytes, case_id, hash FROM inbox_events "
                            "WHERE origin = ?1 AND sequence BETWEEN ?2 AND ?3 "
                            "ORDER BY sequence"));
    stmt.Bind(1, origin)
        .Bind(2, batch.first_sequence)
        .Bind(3, batch.last_sequence);
    while (true) {
      RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      if (!stmt.ColumnIsNull(2)) {
        batch.erased_hashes[batch.events.size()] = stmt.ColumnBlob(2);
      }
      batch.events.push_back(stmt.ColumnBlob(0));
      batch.event_case_ids.push_back(stmt.ColumnText(1));
    }
  }
  return batches;
}

// --- Writes -------------------------------------------------------------

absl::Status SqlWriteTxn::PutTransfer(const core::Transfer& t) {
  if (t.transfer_id.empty() || t.case_id.empty()) {
    return absl::InvalidArgumentError(
        "PutTransfer: transfer_id and case_id must be non-empty");
  }
  const int64_t version = core::TransferVersionOf(t);
  int64_t stored_version = 0;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "SELECT version FROM transfers WHERE transfer_id = ?1"));
    stmt.Bind(1, t.transfer_id);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) stored_version = stmt.ColumnInt64(0);
  }
  if (version <= stored_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("PutTransfer: version conflict: stored version ",
                     stored_version, ", got ", version));
  }
  if (stored_version > 0) {
    // The version being replaced moves to the history; the current one is
    // only in `transfers` (one random-key page less per change: migration
    // 0009).
    static const std::string supersede = absl::StrCat(
        "INSERT INTO transfer_history (", kTransferColumns, ") SELECT ",
        kTransferColumns, " FROM transfers WHERE transfer_id = ?1");
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(supersede));
    stmt.Bind(1, t.transfer_id);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  static const std::string upsert = UpsertSql(
      "transfers", kTransferColumns, kTransferPlaceholders, "transfer_id");
  {
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(upsert));
    BindTransfer(stmt, t);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO transfer_changes (transfer_id, version, "
                          "from_region, to_region) VALUES (?1, ?2, ?3, ?4)"));
  stmt.Bind(1, t.transfer_id)
      .Bind(2, version)
      .Bind(3, t.from_region)
      .Bind(4, t.to_region);
  return stmt.Run();
}

absl::Status SqlWriteTxn::PutService(const core::ServiceRecord& s) {
  if (s.service_id.empty() || s.case_id.empty() || s.version < 1) {
    return absl::InvalidArgumentError(
        "PutService: service_id, case_id and a version >= 1 are required");
  }
  {
    // Only what supersession compares: version, then author region.
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT version, author_region FROM services "
                            "WHERE service_id = ?1"));
    stmt.Bind(1, s.service_id);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      core::ServiceRecord stored;
      stored.version = stmt.ColumnInt64(0);
      stored.author_region = stmt.ColumnText(1);
      if (!core::ServiceSupersedes(s, stored)) {
        return absl::FailedPreconditionError(
            absl::StrCat("PutService: version conflict: stored version ",
                         stored.version, " by ", stored.author_region, ", got ",
                         s.version, " by ", s.author_region));
      }
    }
  }
  static const std::string upsert = UpsertSql(
      "services", kServiceColumns, kServicePlaceholders, "service_id");
  {
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(upsert));
    BindService(stmt, s);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  static const std::string history =
      absl::StrCat("INSERT INTO service_history (", kServiceColumns,
                   ") VALUES (", kServicePlaceholders, ")");
  {
    RUTA_ASSIGN_OR_RETURN(Statement stmt, connection_.Prepare(history));
    BindService(stmt, s);
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  return LogPartnerServiceChange(s);
}

absl::Status SqlWriteTxn::AddCaseShare(const std::string& case_id,
                                       const std::string& region) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO case_shares (case_id, region) "
                          "VALUES (?1, ?2) ON CONFLICT DO NOTHING"));
  stmt.Bind(1, case_id).Bind(2, region);
  return stmt.Run();
}

absl::StatusOr<int64_t> SqlWriteTxn::AppendOutbox(const OutboxEvent& e) {
  if (e.destination.empty() || e.payload.empty()) {
    return absl::InvalidArgumentError(
        "AppendOutbox: destination and payload are required");
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare("INSERT INTO outbox (destination, case_id, payload, "
                          "committed_at_us) VALUES (?1, ?2, ?3, ?4) "
                          "RETURNING id"));
  stmt.Bind(1, e.destination)
      .Bind(2, e.case_id)
      .BindBlob(3, e.payload)
      .Bind(4, TimeToMicros(e.committed_at));
  return ReturnedId(stmt, "AppendOutbox");
}

absl::Status SqlWriteTxn::StampOutbox(int64_t id, int64_t sequence,
                                      const std::string& bytes) {
  std::string destination;
  {
    RUTA_ASSIGN_OR_RETURN(Statement stmt,
                          connection_.Prepare("SELECT destination, sequence "
                                              "FROM outbox WHERE id = ?1"));
    stmt.Bind(1, id);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("StampOutbox: no event ", id));
    }
    if (!stmt.ColumnIsNull(1)) {
      return absl::FailedPreconditionError(
          absl::StrCat("StampOutbox: event ", id, " is already stamped"));
    }
    destination = stmt.ColumnText(0);
  }
  int64_t last = 0;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("SELECT coalesce(max(sequence), 0) FROM outbox "
                            "WHERE destination = ?1 AND sequence IS NOT "
                            "NULL"));
    stmt.Bind(1, destination);
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) last = stmt.ColumnInt64(0);
  }
  if (sequence != last + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "StampOutbox: the stream to ", destination, " is at sequence ", last,
        "; the next is ", last + 1, ", not ", sequence));
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      // An event of a case erased here (its CaseErased event above all) is
      // kept only until the peer acknowledges it (EraseCase).
      connection_.Prepare(
          "UPDATE outbox SET sequence = ?2, bytes = ?3, erase_pending = "
          "CASE WHEN EXISTS (SELECT 1 FROM erased_cases e WHERE e.case_id = "
          "outbox.case_id) THEN 1 ELSE 0 END WHERE id = ?1"));
  stmt.Bind(1, id).Bind(2, sequence).BindBlob(3, bytes);
  return stmt.Run();
}

absl::Status SqlWriteTxn::PutOutboxAck(const std::string& destination,
                                       int64_t applied_through) {
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO outbox_acks (destination, applied_through) "
          "VALUES (?1, ?2) ON CONFLICT (destination) DO UPDATE SET "
          "applied_through = CASE WHEN excluded.applied_through > "
          "outbox_acks.applied_through THEN excluded.applied_through "
          "ELSE outbox_acks.applied_through END"));
  stmt.Bind(1, destination).Bind(2, applied_through);
  RUTA_RETURN_IF_ERROR(stmt.Run());
  return RedactAcknowledgedErased(destination, applied_through);
}

absl::Status SqlWriteTxn::PutInboxBatch(const InboxBatch& batch) {
  RUTA_ASSIGN_OR_RETURN(int64_t position,
                        reads_.GetInboxPosition(batch.origin));
  const int64_t count = batch.last_sequence - batch.first_sequence + 1;
  if (batch.last_sequence <= position || batch.first_sequence > position + 1 ||
      count < 1 || static_cast<int64_t>(batch.events.size()) != count ||
      !(batch.event_case_ids.empty() ||
        batch.event_case_ids.size() == batch.events.size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PutInboxBatch: batch ", batch.first_sequence, "..",
        batch.last_sequence, " of ", batch.origin, " with ",
        batch.events.size(), " events does not continue position ", position));
  }
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare(
            "INSERT INTO inbox_batches (origin, first_sequence, "
            "last_sequence, signature, signing_key_id, received_at_us) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.Bind(1, batch.origin)
        .Bind(2, batch.first_sequence)
        .Bind(3, batch.last_sequence)
        .BindBlob(4, batch.signature)
        .Bind(5, batch.signing_key_id)
        .Bind(6, TimeToMicros(batch.received_at));
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  for (int64_t i = 0; i < count; ++i) {
    const size_t at = static_cast<size_t>(i);
    const std::string case_id =
        batch.event_case_ids.empty() ? "" : batch.event_case_ids[at];
    // An event of a case erased here (possibly by an earlier event of this
    // very batch) is kept as its hash only.
    bool erased = false;
    if (!case_id.empty()) {
      RUTA_ASSIGN_OR_RETURN(erased, reads_.IsCaseErased(case_id));
    }
    RUTA_ASSIGN_OR_RETURN(
        Statement stmt,
        connection_.Prepare("INSERT INTO inbox_events (origin, "
                            "sequence, bytes, case_id, hash) VALUES (?1, ?2, "
                            "?3, ?4, ?5) ON CONFLICT DO NOTHING"));
    stmt.Bind(1, batch.origin)
        .Bind(2, batch.first_sequence + i)
        .BindBlob(3, erased ? absl::string_view() : batch.events[at])
        .Bind(4, case_id);
    if (erased) stmt.BindBlob(5, Sha256Of(batch.events[at]));
    RUTA_RETURN_IF_ERROR(stmt.Run());
  }
  RUTA_ASSIGN_OR_RETURN(
      Statement stmt,
      connection_.Prepare(
          "INSERT INTO inbox_positions (origin, applied_through) "
          "VALUES (?1, ?2) ON CONFLICT (origin) DO UPDATE SET "
          "applied_through = excluded.applied_through"));
  stmt.Bind(1, batch.origin).Bind(2, batch.last_sequence);
  return stmt.Run();
}

}  // namespace ruta::store::sql_internal
