// ReadTxn / WriteTxn over one SQL connection (SQLite or PostgreSQL: see
// sql/connection.h for the dialect). The caller (sql/sql_store.cc)
// owns the transaction boundaries; these classes only run statements.
#ifndef RUTA_STORE_SQL_TXN_H_
#define RUTA_STORE_SQL_TXN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"
#include "sql/connection.h"

namespace ruta::store::sql_internal {

class SqlReadTxn : public ReadTxn {
 public:
  explicit SqlReadTxn(Connection& connection) : connection_(connection) {}

  absl::StatusOr<std::optional<core::Case>> FindCase(
      const std::string& case_id) override;
  absl::StatusOr<std::optional<core::Case>> FindCaseVersion(
      const std::string& case_id, int64_t version) override;
  absl::StatusOr<CasePage> ListCases(const CaseFilter& filter,
                                     const std::string& after,
                                     int limit) override;
  absl::StatusOr<std::optional<RequestRecord>> FindRequest(
      const std::string& principal, const std::string& request_id) override;
  absl::StatusOr<int64_t> GetAggregate(const std::string& table,
                                       const std::string& key) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ScanAggregates(
      const std::string& table, const std::string& key_prefix) override;
  absl::StatusOr<std::vector<core::Transfer>> ListCaseTransfers(
      const std::string& case_id) override;
  absl::StatusOr<std::vector<core::Transfer>> ListStalledRequests(
      const std::string& from_region,
      const core::Date& requested_before) override;
  absl::StatusOr<std::vector<core::Case>> ListStalledFollowUps(
      const std::string& owner_region, absl::Time updated_before) override;
  absl::StatusOr<AuditHead> GetAuditHead() override;
  absl::StatusOr<std::vector<AuditRecord>> ScanAudit(int64_t from_index,
                                                     int limit) override;
  absl::StatusOr<std::optional<AuditCheckpoint>> GetPeerCheckpoint(
      const std::string& region) override;
  absl::StatusOr<std::optional<AuditCheckpoint>> GetSentCheckpoint(
      const std::string& peer_region) override;
  absl::StatusOr<std::optional<core::Transfer>> FindTransfer(
      const std::string& transfer_id) override;
  absl::StatusOr<std::optional<core::Transfer>> FindTransferVersion(
      const std::string& transfer_id, int64_t version) override;
  absl::StatusOr<TransferPage> ListTransfers(const TransferFilter& filter,
                                             const std::string& after,
                                             int limit) override;
  absl::StatusOr<std::vector<TransferChange>> ScanTransferChanges(
      const std::string& region, int64_t after, int limit) override;
  absl::StatusOr<int64_t> LastTransferChange() override;
  absl::StatusOr<std::optional<core::ServiceRecord>> FindService(
      const std::string& service_id) override;
  absl::StatusOr<std::optional<core::ServiceRecord>> FindServiceVersion(
      const std::string& service_id, int64_t version) override;
  absl::StatusOr<ServicePage> ListServices(const std::string& case_id,
                                           const std::string& after,
                                           int limit) override;
  absl::StatusOr<std::vector<std::string>> ListCaseShares(
      const std::string& case_id) override;
  absl::StatusOr<std::vector<OutboxEvent>> ReadOutbox(
      const std::string& destination, int64_t from_sequence,
      int limit) override;
  absl::StatusOr<std::vector<OutboxEvent>> ReadUnstamped(
      const std::string& destination, int limit) override;
  absl::StatusOr<OutboxStats> GetOutboxStats(
      const std::string& destination) override;
  absl::StatusOr<int64_t> GetInboxPosition(const std::string& origin) override;
  absl::StatusOr<std::vector<InboxBatch>> ReadInboxBatches(
      const std::string& origin, int64_t from_sequence, int limit) override;
  absl::StatusOr<std::optional<std::string>> FindPersonAlias(
      const std::string& ref) override;
  absl::StatusOr<bool> IsCaseErased(const std::string& case_id) override;
  absl::StatusOr<CasePage> ListClosedCasesBefore(
      const std::string& owner_region, absl::Time updated_before,
      const std::string& after, int limit) override;
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override;
  absl::StatusOr<std::optional<core::Activity>> FindActivity(
      const std::string& activity_id) override;
  absl::StatusOr<ActivityPage> ListActivities(const ActivityFilter& filter,
                                              const std::string& after,
                                              int limit) override;

  absl::StatusOr<std::vector<PartnerReferral>> ListPartnerReferrals(
      const std::string& partner_id, const std::string& owner_region) override;
  absl::StatusOr<std::optional<PartnerReferral>> FindPartnerReferral(
      const std::string& partner_id, const std::string& case_id) override;
  absl::StatusOr<std::vector<PartnerChange>> ScanPartnerChanges(
      const std::string& partner_id, int64_t after, int limit) override;
  absl::StatusOr<int64_t> LastPartnerChange() override;
  absl::StatusOr<std::vector<CaseStageVersion>> ListCaseStages(
      const std::string& case_id, int64_t max_version) override;

 private:
  Connection& connection_;
};

class SqlWriteTxn : public WriteTxn {
 public:
  explicit SqlWriteTxn(Connection& connection)
      : connection_(connection), reads_(connection) {}

  absl::StatusOr<std::optional<core::Case>> FindCase(
      const std::string& case_id) override {
    return reads_.FindCase(case_id);
  }
  absl::StatusOr<std::optional<core::Case>> FindCaseVersion(
      const std::string& case_id, int64_t version) override {
    return reads_.FindCaseVersion(case_id, version);
  }
  absl::StatusOr<CasePage> ListCases(const CaseFilter& filter,
                                     const std::string& after,
                                     int limit) override {
    return reads_.ListCases(filter, after, limit);
  }
  absl::StatusOr<std::optional<RequestRecord>> FindRequest(
      const std::string& principal, const std::string& request_id) override {
    return reads_.FindRequest(principal, request_id);
  }
  absl::StatusOr<int64_t> GetAggregate(const std::string& table,
                                       const std::string& key) override {
    return reads_.GetAggregate(table, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ScanAggregates(
      const std::string& table, const std::string& key_prefix) override {
    return reads_.ScanAggregates(table, key_prefix);
  }
  absl::StatusOr<std::vector<core::Transfer>> ListCaseTransfers(
      const std::string& case_id) override {
    return reads_.ListCaseTransfers(case_id);
  }
  absl::StatusOr<std::vector<core::Transfer>> ListStalledRequests(
      const std::string& from_region,
      const core::Date& requested_before) override {
    return reads_.ListStalledRequests(from_region, requested_before);
  }
  absl::StatusOr<std::vector<core::Case>> ListStalledFollowUps(
      const std::string& owner_region, absl::Time updated_before) override {
    return reads_.ListStalledFollowUps(owner_region, updated_before);
  }
  absl::StatusOr<AuditHead> GetAuditHead() override {
    return reads_.GetAuditHead();
  }
  absl::StatusOr<std::vector<AuditRecord>> ScanAudit(int64_t from_index,
                                                     int limit) override {
    return reads_.ScanAudit(from_index, limit);
  }
  absl::StatusOr<std::optional<AuditCheckpoint>> GetPeerCheckpoint(
      const std::string& region) override {
    return reads_.GetPeerCheckpoint(region);
  }
  absl::StatusOr<std::optional<AuditCheckpoint>> GetSentCheckpoint(
      const std::string& peer_region) override {
    return reads_.GetSentCheckpoint(peer_region);
  }

  absl::StatusOr<std::optional<core::Transfer>> FindTransfer(
      const std::string& transfer_id) override {
    return reads_.FindTransfer(transfer_id);
  }
  absl::StatusOr<std::optional<core::Transfer>> FindTransferVersion(
      const std::string& transfer_id, int64_t version) override {
    return reads_.FindTransferVersion(transfer_id, version);
  }
  absl::StatusOr<TransferPage> ListTransfers(const TransferFilter& filter,
                                             const std::string& after,
                                             int limit) override {
    return reads_.ListTransfers(filter, after, limit);
  }
  absl::StatusOr<std::vector<TransferChange>> ScanTransferChanges(
      const std::string& region, int64_t after, int limit) override {
    return reads_.ScanTransferChanges(region, after, limit);
  }
  absl::StatusOr<int64_t> LastTransferChange() override {
    return reads_.LastTransferChange();
  }
  absl::StatusOr<std::optional<core::ServiceRecord>> FindService(
      const std::string& service_id) override {
    return reads_.FindService(service_id);
  }
  absl::StatusOr<std::optional<core::ServiceRecord>> FindServiceVersion(
      const std::string& service_id, int64_t version) override {
    return reads_.FindServiceVersion(service_id, version);
  }
  absl::StatusOr<ServicePage> ListServices(const std::string& case_id,
                                           const std::string& after,
                                           int limit) override {
    return reads_.ListServices(case_id, after, limit);
  }
  absl::StatusOr<std::vector<std::string>> ListCaseShares(
      const std::string& case_id) override {
    return reads_.ListCaseShares(case_id);
  }
  absl::StatusOr<std::vector<OutboxEvent>> ReadOutbox(
      const std::string& destination, int64_t from_sequence,
      int limit) override {
    return reads_.ReadOutbox(destination, from_sequence, limit);
  }
  absl::StatusOr<std::vector<OutboxEvent>> ReadUnstamped(
      const std::string& destination, int limit) override {
    return reads_.ReadUnstamped(destination, limit);
  }
  absl::StatusOr<OutboxStats> GetOutboxStats(
      const std::string& destination) override {
    return reads_.GetOutboxStats(destination);
  }
  absl::StatusOr<int64_t> GetInboxPosition(const std::string& origin) override {
    return reads_.GetInboxPosition(origin);
  }
  absl::StatusOr<std::vector<InboxBatch>> ReadInboxBatches(
      const std::string& origin, int64_t from_sequence, int limit) override {
    return reads_.ReadInboxBatches(origin, from_sequence, limit);
  }
  absl::StatusOr<std::optional<std::string>> FindPersonAlias(
      const std::string& ref) override {
    return reads_.FindPersonAlias(ref);
  }
  absl::StatusOr<bool> IsCaseErased(const std::string& case_id) override {
    return reads_.IsCaseErased(case_id);
  }
  absl::StatusOr<CasePage> ListClosedCasesBefore(
      const std::string& owner_region, absl::Time updated_before,
      const std::string& after, int limit) override {
    return reads_.ListClosedCasesBefore(owner_region, updated_before, after,
                                        limit);
  }
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override {
    return reads_.GetSetting(name);
  }
  absl::StatusOr<std::optional<core::Activity>> FindActivity(
      const std::string& activity_id) override {
    return reads_.FindActivity(activity_id);
  }
  absl::StatusOr<ActivityPage> ListActivities(const ActivityFilter& filter,
                                              const std::string& after,
                                              int limit) override {
    return reads_.ListActivities(filter, after, limit);
  }

  absl::StatusOr<std::vector<PartnerReferral>> ListPartnerReferrals(
      const std::string& partner_id, const std::string& owner_region) override {
    return reads_.ListPartnerReferrals(partner_id, owner_region);
  }
  absl::StatusOr<std::optional<PartnerReferral>> FindPartnerReferral(
      const std::string& partner_id, const std::string& case_id) override {
    return reads_.FindPartnerReferral(partner_id, case_id);
  }
  absl::StatusOr<std::vector<PartnerChange>> ScanPartnerChanges(
      const std::string& partner_id, int64_t after, int limit) override {
    return reads_.ScanPartnerChanges(partner_id, after, limit);
  }
  absl::StatusOr<int64_t> LastPartnerChange() override {
    return reads_.LastPartnerChange();
  }
  absl::StatusOr<std::vector<CaseStageVersion>> ListCaseStages(
      const std::string& case_id, int64_t max_version) override {
    return reads_.ListCaseStages(case_id, max_version);
  }
  absl::StatusOr<int64_t> JoinPersonRef(const std::string& from,
                                        const std::string& to) override;
  absl::Status EraseCase(const std::string& case_id,
                         const std::string& owner_region,
                         absl::Time at) override;
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override;
  absl::Status PutActivity(const core::Activity& activity) override;

  absl::Status PutTransfer(const core::Transfer& transfer) override;
  absl::Status PutService(const core::ServiceRecord& service) override;
  absl::Status AddCaseShare(const std::string& case_id,
                            const std::string& region) override;
  absl::StatusOr<int64_t> AppendOutbox(const OutboxEvent& event) override;
  absl::Status StampOutbox(int64_t id, int64_t sequence,
                           const std::string& bytes) override;
  absl::Status PutOutboxAck(const std::string& destination,
                            int64_t applied_through) override;
  absl::Status PutInboxBatch(const InboxBatch& batch) override;
  absl::Status PutCase(const core::Case& c) override;
  absl::Status PutRequest(const RequestRecord& record) override;
  absl::Status AddToAggregate(const std::string& table, const std::string& key,
                              int64_t delta) override;
  absl::Status ClearAggregates(const std::string& table) override;
  absl::Status AppendAudit(const AuditRecord& record) override;
  absl::Status PutPeerCheckpoint(const AuditCheckpoint& checkpoint) override;
  absl::Status PutSentCheckpoint(const std::string& peer_region,
                                 const AuditCheckpoint& checkpoint) override;

 private:
  // Partner referrals and change log (partner_txn.cc): after `c` was put,
  // with `before` the referrals of the version it replaced.
  absl::Status UpdatePartnerReferrals(const core::Case& c,
                                      const std::vector<std::string>& before);
  absl::Status LogPartnerServiceChange(const core::ServiceRecord& s);
  absl::Status ErasePartnerData(const std::string& case_id);
  // Returns the new change's position.
  absl::StatusOr<int64_t> AppendPartnerChange(const std::string& partner_id,
                                              const std::string& case_id,
                                              int64_t case_version,
                                              bool withdrawn);
  // Reduces the events of erased cases marked erase_pending that the peer
  // acknowledged (sequence <= applied_through) to their hash.
  absl::Status RedactAcknowledgedErased(const std::string& destination,
                                        int64_t applied_through);

  Connection& connection_;
  SqlReadTxn reads_;
};

// "INSERT INTO <table> (<columns>) VALUES (<placeholders>) ON CONFLICT
// (<key>) DO UPDATE SET" every column but the key to its new value: replaces
// the row, in the dialect both backends speak.
std::string UpsertSql(absl::string_view table, absl::string_view columns,
                      absl::string_view placeholders, absl::string_view key);

// Reads one page from `stmt`, which was bound with LIMIT `limit` + 1: at
// most `limit` rows, each through `read` (returning T or StatusOr<T>), into
// `items`. Returns `key` of the last item kept when one more row followed
// (the `after` of the next page), else "" (the end).
template <typename T, typename Read, typename Key>
absl::StatusOr<std::string> ReadPage(Statement& stmt, int limit,
                                     const Read& read, const Key& key,
                                     std::vector<T>* items) {
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::string();
    if (items->size() == static_cast<size_t>(limit)) return key(items->back());
    absl::StatusOr<T> item = read(stmt);
    if (!item.ok()) return item.status();
    items->push_back(*std::move(item));
  }
}

// Steps an INSERT ... RETURNING <id> and returns the id.
absl::StatusOr<int64_t> ReturnedId(Statement& stmt,
                                   absl::string_view operation);

// SHA-256 of `bytes`, raw (32 bytes).
std::string Sha256Of(absl::string_view bytes);

// absl::Time <-> microseconds since the Unix epoch. The infinite times map to
// INT64_MIN / INT64_MAX and back.
int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t micros);

}  // namespace ruta::store::sql_internal

#endif  // RUTA_STORE_SQL_TXN_H_
