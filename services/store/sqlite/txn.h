// ReadTxn / WriteTxn over one SQLite connection. The caller (sqlite_store.cc)
// owns the transaction boundaries; these classes only run statements.
#ifndef RUTA_STORE_SQLITE_TXN_H_
#define RUTA_STORE_SQLITE_TXN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"
#include "sqlite/connection.h"

namespace ruta::store::sqlite_internal {

class SqliteReadTxn : public ReadTxn {
 public:
  explicit SqliteReadTxn(Connection& connection) : connection_(connection) {}

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
  absl::StatusOr<AuditHead> GetAuditHead() override;
  absl::StatusOr<std::vector<AuditRecord>> ScanAudit(int64_t from_index,
                                                     int limit) override;
  absl::StatusOr<std::optional<AuditCheckpoint>> GetPeerCheckpoint(
      const std::string& region) override;
  absl::StatusOr<std::optional<AuditCheckpoint>> GetSentCheckpoint(
      const std::string& peer_region) override;

 private:
  Connection& connection_;
};

class SqliteWriteTxn : public WriteTxn {
 public:
  explicit SqliteWriteTxn(Connection& connection)
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

  absl::Status PutCase(const core::Case& c) override;
  absl::Status PutRequest(const RequestRecord& record) override;
  absl::Status AddToAggregate(const std::string& table, const std::string& key,
                              int64_t delta) override;
  absl::Status AppendAudit(const AuditRecord& record) override;
  absl::Status PutPeerCheckpoint(const AuditCheckpoint& checkpoint) override;
  absl::Status PutSentCheckpoint(const std::string& peer_region,
                                 const AuditCheckpoint& checkpoint) override;

 private:
  Connection& connection_;
  SqliteReadTxn reads_;
};

// absl::Time <-> microseconds since the Unix epoch. The infinite times map to
// INT64_MIN / INT64_MAX and back.
int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t micros);

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_TXN_H_
