// The store's audit additions (migration 0002): the audit_log table and the
// checkpoint tables, through ReadTxn/WriteTxn and inspected directly.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const absl::Status assert_ok_status_ = (expr);            \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (false)

AuditRecord Record(int64_t index) {
  AuditRecord r;
  r.index = index;
  r.at = absl::FromUnixMicros(1767225600000000 + index);
  r.principal = "spiffe://cusco.ruta.pe/office/main-office";
  r.clerk = absl::StrCat("clerk-", index);
  r.method = "CaseOffice.GetCase";
  r.subject = "cs_abcdefghijklmnopqrst";
  r.outcome = static_cast<int32_t>(index % 17);
  r.hash = std::string(32, static_cast<char>('a' + index % 26));
  return r;
}

AuditCheckpoint Checkpoint(const std::string& region, int64_t length) {
  AuditCheckpoint c;
  c.region = region;
  c.length = length;
  c.head_hash = std::string(32, '\x7f');
  c.head_hash[0] = '\0';  // raw bytes, NUL included
  c.signed_at = absl::FromUnixMicros(1767225600000000 + length);
  c.signature = std::string(64, '\x01');
  return c;
}

using ::ruta::testing::ScratchStore;
using ::ruta::testing::StoreBackend;

// Runs on both backends (the store conformance suite).
class AuditStoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(GetParam());
    auto scratch = ScratchStore::Create(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    auto opened = scratch_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }
  void TearDown() override { store_.reset(); }

  // SQL on the database, bypassing the store.
  absl::Status RawExec(const std::string& sql) { return scratch_->Exec(sql); }
  bool IsSqlite() const { return GetParam() == StoreBackend::kSqlite; }

  AuditHead Head() {
    AuditHead head;
    EXPECT_TRUE(store_
                    ->ReadSync([&](ReadTxn& txn) -> absl::Status {
                      auto h = txn.GetAuditHead();
                      if (!h.ok()) return h.status();
                      head = *h;
                      return absl::OkStatus();
                    })
                    .ok());
    return head;
  }
  std::vector<AuditRecord> Scan(int64_t from, int limit) {
    std::vector<AuditRecord> records;
    EXPECT_TRUE(store_
                    ->ReadSync([&](ReadTxn& txn) -> absl::Status {
                      auto r = txn.ScanAudit(from, limit);
                      if (!r.ok()) return r.status();
                      records = *r;
                      return absl::OkStatus();
                    })
                    .ok());
    return records;
  }

  std::unique_ptr<ScratchStore> scratch_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, AuditStoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

// SQLite only: STRICT tables are a SQLite notion (PostgreSQL columns are
// always typed).
using SqliteAuditStoreTest = AuditStoreTest;
INSTANTIATE_TEST_SUITE_P(SqliteOnly, SqliteAuditStoreTest,
                         ::testing::Values(StoreBackend::kSqlite),
                         ::ruta::testing::StoreBackendName);

TEST_P(AuditStoreTest, EmptyChainHasZeroHead) {
  AuditHead head = Head();
  EXPECT_EQ(head.length, 0);
  EXPECT_EQ(head.hash, std::string(32, '\0'));
  EXPECT_TRUE(Scan(0, 10).empty());
  EXPECT_GE(SqliteSchemaVersion(), 2);
}

TEST_P(AuditStoreTest, AppendAndScanKeepEveryField) {
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    for (int i = 0; i < 5; ++i) {
      if (absl::Status s = txn.AppendAudit(Record(i)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  AuditHead head = Head();
  EXPECT_EQ(head.length, 5);
  EXPECT_EQ(head.hash, Record(4).hash);
  std::vector<AuditRecord> all = Scan(0, 100);
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const AuditRecord expected = Record(i);
    EXPECT_EQ(all[i].index, expected.index);
    EXPECT_EQ(all[i].at, expected.at);
    EXPECT_EQ(all[i].principal, expected.principal);
    EXPECT_EQ(all[i].clerk, expected.clerk);
    EXPECT_EQ(all[i].method, expected.method);
    EXPECT_EQ(all[i].subject, expected.subject);
    EXPECT_EQ(all[i].outcome, expected.outcome);
    EXPECT_EQ(all[i].hash, expected.hash);
  }
  // Pages.
  std::vector<AuditRecord> page = Scan(2, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].index, 2);
  EXPECT_EQ(page[1].index, 3);
  EXPECT_EQ(Scan(5, 2).size(), 0u);
}

TEST_P(AuditStoreTest, AppendChecksIndexAndHash) {
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.AppendAudit(Record(0)); }));
  EXPECT_EQ(
      store_
          ->WriteSync([](WriteTxn& txn) { return txn.AppendAudit(Record(0)); })
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      store_
          ->WriteSync([](WriteTxn& txn) { return txn.AppendAudit(Record(2)); })
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_
                ->WriteSync([](WriteTxn& txn) {
                  AuditRecord r = Record(1);
                  r.hash = "short";
                  return txn.AppendAudit(r);
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store_
          ->ReadSync([](ReadTxn& txn) { return txn.ScanAudit(0, 0).status(); })
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Head().length, 1);
}

TEST_P(AuditStoreTest, FailedWriteFunctionTakesItsRecordsWithIt) {
  absl::Status status = store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    if (absl::Status s = txn.AppendAudit(Record(0)); !s.ok()) return s;
    return absl::AbortedError("the change failed");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Head().length, 0);
}

TEST_P(AuditStoreTest, AuditLogIsAppendOnlyThroughTheSchema) {
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.AppendAudit(Record(0)); }));
  absl::Status update = RawExec("UPDATE audit_log SET clerk = 'x'");
  EXPECT_FALSE(update.ok());
  EXPECT_NE(update.message().find("append-only"), absl::string_view::npos);
  EXPECT_FALSE(RawExec("DELETE FROM audit_log").ok());
  EXPECT_EQ(Scan(0, 10).size(), 1u);
  EXPECT_FALSE(RawExec(absl::StrCat("INSERT INTO audit_log VALUES (1, 0, "
                                    "'p', '', 'm', '', 0, ",
                                    IsSqlite() ? "x'00'" : "'\\x00'::bytea",
                                    ")"))
                   .ok());  // hash must be 32 bytes
}

TEST_P(AuditStoreTest, AnInsertTriggerMakesAppendsFail) {
  // What the integration test injects to break the audit table.
  ASSERT_OK(RawExec(
      IsSqlite()
          ? "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN "
            "SELECT RAISE(ABORT, 'injected'); END;"
          : "CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected'; END; $$; "
            "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION fail_audit();"));
  absl::Status status = store_->WriteSync(
      [](WriteTxn& txn) { return txn.AppendAudit(Record(0)); });
  EXPECT_FALSE(status.ok());
  ASSERT_OK(RawExec(IsSqlite() ? "DROP TRIGGER fail_audit"
                               : "DROP TRIGGER fail_audit ON audit_log"));
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.AppendAudit(Record(0)); }));
}

TEST_P(AuditStoreTest, PeerAndSentCheckpoints) {
  ASSERT_OK(store_->ReadSync([](ReadTxn& txn) -> absl::Status {
    auto none = txn.GetPeerCheckpoint("cusco");
    if (!none.ok()) return none.status();
    EXPECT_FALSE(none->has_value());
    auto sent = txn.GetSentCheckpoint("cusco");
    if (!sent.ok()) return sent.status();
    EXPECT_FALSE(sent->has_value());
    return absl::OkStatus();
  }));
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    if (absl::Status s = txn.PutPeerCheckpoint(Checkpoint("cusco", 10));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = txn.PutPeerCheckpoint(Checkpoint("cusco", 12));
        !s.ok()) {
      return s;
    }
    return txn.PutSentCheckpoint("cusco", Checkpoint("madre-de-dios", 7));
  }));
  ASSERT_OK(store_->ReadSync([](ReadTxn& txn) -> absl::Status {
    auto held = txn.GetPeerCheckpoint("cusco");
    if (!held.ok()) return held.status();
    EXPECT_TRUE(held->has_value());
    if (!held->has_value()) return absl::OkStatus();
    const AuditCheckpoint expected = Checkpoint("cusco", 12);
    EXPECT_EQ((*held)->region, "cusco");
    EXPECT_EQ((*held)->length, 12);
    EXPECT_EQ((*held)->head_hash, expected.head_hash);
    EXPECT_EQ((*held)->signed_at, expected.signed_at);
    EXPECT_EQ((*held)->signature, expected.signature);
    auto sent = txn.GetSentCheckpoint("cusco");
    if (!sent.ok()) return sent.status();
    EXPECT_TRUE(sent->has_value() && (*sent)->region == "madre-de-dios" &&
                (*sent)->length == 7);
    auto other = txn.GetPeerCheckpoint("madre-de-dios");
    if (!other.ok()) return other.status();
    EXPECT_FALSE(other->has_value());
    return absl::OkStatus();
  }));
  EXPECT_EQ(store_
                ->WriteSync([](WriteTxn& txn) {
                  return txn.PutPeerCheckpoint(Checkpoint("", 1));
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SqliteAuditStoreTest, TablesAreStrict) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(scratch_->sqlite_path().c_str(), &db), SQLITE_OK);
  for (const char* table :
       {"audit_log", "audit_peer_checkpoints", "audit_sent_checkpoints"}) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT strict FROM pragma_table_list "
                                 "WHERE name = ?1",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW) << table;
    EXPECT_EQ(sqlite3_column_int(stmt, 0), 1) << table;
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
}

}  // namespace
}  // namespace ruta::store
