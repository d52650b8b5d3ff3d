// The audit chain (core/audit.h): canonical encoding, chaining and
// verification against the real SQLite store (tampered with directly), the
// asynchronous AuditLog, and CaseService's in-transaction records.
#include "ruta/core/audit.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "fake_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/case_service.h"
#include "ruta/core/pseudonym.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;

constexpr char kCaseA[] = "cs_abcdefghijklmnopqrst";

Actor Office() {
  return Actor{"spiffe://cusco.ruta.pe/office/main-office", "cusco", "clerk-7"};
}

AuditEntry Entry(int i) {
  AuditEntry entry = MakeAuditEntry(Office(), "CaseOffice.GetCase", kCaseA,
                                    absl::StatusCode::kOk);
  entry.clerk = absl::StrCat("clerk-", i);
  return entry;
}

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/ruta_audit_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// Runs `sql` on a separate connection to `path`, as someone holding the
// database file would (the append-only triggers dropped first).
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const std::string all = absl::StrCat(
      "DROP TRIGGER IF EXISTS audit_log_no_update;"
      "DROP TRIGGER IF EXISTS audit_log_no_delete;",
      sql);
  const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST(AuditEncodingTest, CanonicalEncodingIsUnambiguous) {
  store::AuditRecord a;
  a.index = 3;
  a.at = absl::FromUnixMicros(1700000000123456);
  a.principal = "spiffe://cusco.ruta.pe/office/x";
  a.clerk = "ab";
  a.method = "CaseOffice.GetCase";
  // Moving a character from one field to the next changes the encoding.
  store::AuditRecord b = a;
  b.clerk = "a";
  b.method = "bCaseOffice.GetCase";
  EXPECT_NE(CanonicalAuditRecord(a), CanonicalAuditRecord(b));
  // Every field is covered.
  std::set<std::string> encodings = {CanonicalAuditRecord(a)};
  auto vary = [&](auto mutate) {
    store::AuditRecord c = a;
    mutate(c);
    EXPECT_TRUE(encodings.insert(CanonicalAuditRecord(c)).second);
  };
  vary([](store::AuditRecord& c) { c.index = 4; });
  vary([](store::AuditRecord& c) { c.at += absl::Microseconds(1); });
  vary([](store::AuditRecord& c) { c.principal += "y"; });
  vary([](store::AuditRecord& c) { c.clerk = "ac"; });
  vary([](store::AuditRecord& c) { c.method = "CaseOffice.ListCases"; });
  vary([](store::AuditRecord& c) { c.subject = kCaseA; });
  vary([](store::AuditRecord& c) { c.outcome = 7; });
  // The stored hash is not part of what is hashed.
  store::AuditRecord d = a;
  d.hash = std::string(32, 'x');
  EXPECT_EQ(CanonicalAuditRecord(a), CanonicalAuditRecord(d));
  // h = SHA-256(prev || canonical): 32 bytes, depends on prev.
  EXPECT_EQ(ChainAuditHash(ZeroAuditHash(), a).size(), kAuditHashSize);
  EXPECT_NE(ChainAuditHash(ZeroAuditHash(), a),
            ChainAuditHash(std::string(32, '\1'), a));
}

TEST(AuditEncodingTest, OnlyCaseAndTransferIdsAreSubjects) {
  EXPECT_TRUE(IsAuditableSubject(kCaseA));
  EXPECT_TRUE(IsAuditableSubject("tr_abcdefghijklmnopqrst"));
  for (const char* bad :
       {"", "45678912", "cs_ABCDEFGHIJKLMNOPQRST", "cs_abc", "pr1_abcdef",
        "cs_abcdefghijklmnopqrs1", "sv_abcdefghijklmnopqrst"}) {
    EXPECT_FALSE(IsAuditableSubject(bad)) << bad;
    EXPECT_EQ(
        MakeAuditEntry(Office(), "M.N", bad, absl::StatusCode::kOk).subject,
        "");
  }
  AuditEntry anonymous =
      MakeAuditEntry(Actor{}, "CaseOffice.GetCase", "", absl::StatusCode::kOk);
  EXPECT_EQ(anonymous.principal, kUnauthenticatedPrincipal);
}

TEST(AuditEncodingTest, CheckpointSigningBytesCoverEveryField) {
  store::AuditCheckpoint a;
  a.region = "cusco";
  a.length = 10;
  a.head_hash = std::string(32, 'h');
  a.signed_at = absl::FromUnixMicros(1700000000000000);
  std::set<std::string> all = {CheckpointSigningBytes(a)};
  store::AuditCheckpoint c = a;
  c.region = "madre-de-dios";
  EXPECT_TRUE(all.insert(CheckpointSigningBytes(c)).second);
  c = a;
  c.length = 11;
  EXPECT_TRUE(all.insert(CheckpointSigningBytes(c)).second);
  c = a;
  c.head_hash[0] = 'g';
  EXPECT_TRUE(all.insert(CheckpointSigningBytes(c)).second);
  c = a;
  c.signed_at += absl::Seconds(1);
  EXPECT_TRUE(all.insert(CheckpointSigningBytes(c)).second);
  c = a;
  c.signature = "whatever";
  EXPECT_EQ(CheckpointSigningBytes(c), CheckpointSigningBytes(a));
}

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    path_ = dir_ + "/node.db";
    Open();
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      ::unlink((path_ + suffix).c_str());
    }
    ::rmdir(dir_.c_str());
  }
  void Open() {
    store::SqliteOptions options;
    options.path = path_;
    auto opened = store::OpenSqliteStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }
  void Append(int n) {
    ASSERT_TRUE(store_
                    ->WriteSync([n](store::WriteTxn& txn) -> absl::Status {
                      for (int i = 0; i < n; ++i) {
                        auto r = AppendAuditEntry(txn, Entry(i));
                        if (!r.ok()) return r.status();
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }
  ChainVerification Verify(std::vector<int64_t> lengths = {},
                           int page_size = 7) {
    ChainVerification result;
    EXPECT_TRUE(store_
                    ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                      auto v = VerifyAuditChain(txn, lengths, page_size);
                      if (!v.ok()) return v.status();
                      result = *std::move(v);
                      return absl::OkStatus();
                    })
                    .ok());
    return result;
  }
  store::AuditHead Head() {
    store::AuditHead head;
    EXPECT_TRUE(store_
                    ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                      auto h = txn.GetAuditHead();
                      if (!h.ok()) return h.status();
                      head = *h;
                      return absl::OkStatus();
                    })
                    .ok());
    return head;
  }
  // Tampers with the closed database, then reopens it.
  void TamperClosed(const std::string& sql) {
    store_.reset();
    Tamper(path_, sql);
    Open();
  }

  std::string dir_, path_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuditChainTest, ChainOfAppendsVerifies) {
  ChainVerification empty = Verify();
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.records_checked, 0);
  Append(20);
  Append(3);
  ChainVerification v = Verify({5, 23, 40});
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records_checked, 23);
  EXPECT_EQ(v.chain_length, 23);
  EXPECT_EQ(v.first_bad_index, -1);
  ASSERT_EQ(v.hashes_at.count(23), 1u);
  EXPECT_EQ(v.hashes_at.at(23), Head().hash);
  EXPECT_EQ(v.hashes_at.count(40), 0u);

  // Recompute by hand: h_i = SHA-256(h_{i-1} || canonical_i).
  std::vector<store::AuditRecord> records;
  ASSERT_TRUE(store_
                  ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                    auto r = txn.ScanAudit(0, 100);
                    if (!r.ok()) return r.status();
                    records = *r;
                    return absl::OkStatus();
                  })
                  .ok());
  std::string previous = ZeroAuditHash();
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(records[i].hash, ChainAuditHash(previous, records[i]));
    previous = records[i].hash;
  }
}

TEST(AuditEncodingTest, RestoreDeclarationSigningBytesCoverEveryField) {
  RestoreDeclaration a;
  a.region = "madre-de-dios";
  a.superseded_length = 400;
  a.superseded_head_hash = std::string(32, 's');
  a.restored_length = 200;
  a.resumed_length = 201;
  a.resumed_head_hash = std::string(32, 'r');
  a.signed_at = absl::FromUnixMicros(1700000000000000);
  std::set<std::string> all = {RestoreDeclarationSigningBytes(a)};
  const std::vector<std::function<void(RestoreDeclaration&)>> changes = {
      [](RestoreDeclaration& d) { d.region = "cusco"; },
      [](RestoreDeclaration& d) { d.superseded_length += 1; },
      [](RestoreDeclaration& d) { d.superseded_head_hash[0] = 't'; },
      [](RestoreDeclaration& d) { d.restored_length += 1; },
      [](RestoreDeclaration& d) { d.resumed_length += 1; },
      [](RestoreDeclaration& d) { d.resumed_head_hash[0] = 'q'; },
      [](RestoreDeclaration& d) { d.signed_at += absl::Seconds(1); },
  };
  for (const auto& change : changes) {
    RestoreDeclaration d = a;
    change(d);
    EXPECT_TRUE(all.insert(RestoreDeclarationSigningBytes(d)).second);
  }
  // Never the bytes of a checkpoint (another domain).
  store::AuditCheckpoint c;
  c.region = a.region;
  EXPECT_TRUE(all.insert(CheckpointSigningBytes(c)).second);
  RestoreDeclaration d = a;
  d.signature = "whatever";
  EXPECT_EQ(RestoreDeclarationSigningBytes(d),
            RestoreDeclarationSigningBytes(a));
}

TEST(AuditEncodingTest, RestoredBackupSubjectIsTheFileNameOrBackup) {
  EXPECT_EQ(RestoredBackupSubject("/var/backups/ruta/mdd-2026-11-29.db.enc"),
            "mdd-2026-11-29.db.enc");
  EXPECT_EQ(RestoredBackupSubject("mdd_backup.db"), "mdd_backup.db");
  EXPECT_EQ(RestoredBackupSubject(""), "backup");
  EXPECT_EQ(RestoredBackupSubject("dir/"), "backup");
  EXPECT_EQ(RestoredBackupSubject("with space.db"), "backup");
  EXPECT_EQ(RestoredBackupSubject(std::string(129, 'a')), "backup");
}

TEST_F(AuditChainTest, RestoredRecordExtendsTheChainWithItsSubject) {
  Append(5);
  ASSERT_TRUE(store_
                  ->WriteSync([](store::WriteTxn& txn) {
                    return AppendRestoreAuditEntry(txn, "node:madre-de-dios",
                                                   "/backups/mdd.db")
                        .status();
                  })
                  .ok());
  Append(2);
  ChainVerification v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.chain_length, 8);
  std::vector<store::AuditRecord> records;
  ASSERT_TRUE(store_
                  ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                    auto r = txn.ScanAudit(5, 1);
                    if (!r.ok()) return r.status();
                    records = *r;
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].method, kRestoreAuditMethod);
  EXPECT_EQ(records[0].subject, "mdd.db");
  EXPECT_EQ(records[0].principal, "node:madre-de-dios");
}

TEST_F(AuditChainTest, EditDeletionAndReorderingAreFoundAtTheirIndex) {
  Append(30);
  TamperClosed("UPDATE audit_log SET clerk = 'someone-else' WHERE idx = 12");
  ChainVerification edited = Verify();
  EXPECT_FALSE(edited.ok);
  EXPECT_EQ(edited.first_bad_index, 12);
  EXPECT_THAT(edited.problem, HasSubstr("record 12"));
  EXPECT_EQ(edited.records_checked, 30);  // read to the end anyway
  EXPECT_EQ(edited.chain_length, 30);
  TamperClosed(
      "UPDATE audit_log SET clerk = 'clerk-12' WHERE idx = 12;"
      "DELETE FROM audit_log WHERE idx = 7");
  ChainVerification deleted = Verify();
  EXPECT_FALSE(deleted.ok);
  EXPECT_EQ(deleted.first_bad_index, 7);
  EXPECT_THAT(deleted.problem, HasSubstr("missing"));
  EXPECT_EQ(deleted.chain_length, 30);
}

TEST_F(AuditChainTest, SwappedRecordsAreFoundAtTheFirst) {
  Append(10);
  // Swap the whole content of records 3 and 8, their hashes included.
  TamperClosed(
      "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE idx IN (3, 8);"
      "UPDATE audit_log SET (at_us, principal, clerk, method, subject, "
      "outcome, hash) = (SELECT at_us, principal, clerk, method, subject, "
      "outcome, hash FROM t WHERE t.idx = 11 - audit_log.idx) "
      "WHERE idx IN (3, 8);");
  ChainVerification v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_index, 3);
}

TEST_F(AuditChainTest, CheckpointsDetectTruncationAndRewriting) {
  Append(25);
  const store::AuditHead head = Head();
  store::AuditCheckpoint checkpoint;
  checkpoint.region = "cusco";
  checkpoint.length = head.length;
  checkpoint.head_hash = head.hash;
  EXPECT_EQ(CompareWithCheckpoint(Verify({25}), checkpoint),
            CheckpointMatch::kMatches);
  // More records after the checkpoint still match it.
  Append(5);
  EXPECT_EQ(CompareWithCheckpoint(Verify({25}), checkpoint),
            CheckpointMatch::kMatches);

  // Remove the last 12 records: the chain itself still verifies.
  TamperClosed("DELETE FROM audit_log WHERE idx >= 18");
  ChainVerification truncated = Verify({25});
  EXPECT_TRUE(truncated.ok);
  EXPECT_EQ(truncated.chain_length, 18);
  EXPECT_EQ(CompareWithCheckpoint(truncated, checkpoint),
            CheckpointMatch::kTruncated);

  // Grow it back past the checkpoint with other records: rewritten.
  Append(10);
  ChainVerification rewritten = Verify({25});
  EXPECT_TRUE(rewritten.ok);
  EXPECT_EQ(CompareWithCheckpoint(rewritten, checkpoint),
            CheckpointMatch::kDiverges);
}

TEST_F(AuditChainTest, StoreRefusesOutOfOrderAppends) {
  Append(2);
  absl::Status status = store_->WriteSync([](store::WriteTxn& txn) {
    store::AuditRecord record;
    record.index = 5;
    record.hash = std::string(32, 'x');
    return txn.AppendAudit(record);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

// --- AuditLog ---------------------------------------------------------------

TEST(AuditLogTest, QueuedRecordsAreCommittedWithinTheFlushInterval) {
  testing::FakeStore store;
  AuditLogOptions options;
  options.flush_interval = absl::Milliseconds(100);
  AuditLog log(&store, options);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 50; ++i) log.Record(Entry(i));
  // The records become visible at the commit; the log counts them as no
  // longer pending when the commit's completion reaches it, a moment later.
  while ((store.AuditRecords().size() < 50 || log.pending() != 0) &&
         absl::Now() - start < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  const std::vector<store::AuditRecord> records = store.AuditRecords();
  ASSERT_EQ(records.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(records[i].index, i);
    EXPECT_EQ(records[i].clerk, absl::StrCat("clerk-", i));  // queue order
  }
  EXPECT_EQ(log.pending(), 0);
}

TEST(AuditLogTest, FailedFlushesAreRetriedAndNothingIsDropped) {
  testing::FakeStore store;
  AuditLogOptions options;
  options.flush_interval = absl::Milliseconds(20);
  options.retry_delay = absl::Milliseconds(20);
  AuditLog log(&store, options);
  store.FailNextCommits(3);
  for (int i = 0; i < 10; ++i) log.Record(Entry(i));
  ASSERT_TRUE(log.Flush(absl::Seconds(10)).ok());
  EXPECT_GE(log.failed_flushes(), 3);
  const std::vector<store::AuditRecord> records = store.AuditRecords();
  ASSERT_EQ(records.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(records[i].clerk, absl::StrCat("clerk-", i));
  }
}

TEST(AuditLogTest, AppendFailuresAreRetriedUntilTheTableWorksAgain) {
  testing::FakeStore store;
  AuditLogOptions options;
  options.flush_interval = absl::Milliseconds(20);
  options.retry_delay = absl::Milliseconds(20);
  AuditLog log(&store, options);
  store.FailAuditAppends(true);
  log.Record(Entry(1));
  EXPECT_EQ(log.Flush(absl::Milliseconds(200)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(log.pending(), 1);
  store.FailAuditAppends(false);
  ASSERT_TRUE(log.Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(store.AuditRecords().size(), 1u);
}

TEST(AuditLogTest, DestructionCommitsWhatIsQueued) {
  testing::FakeStore store;
  {
    AuditLogOptions options;
    options.flush_interval = absl::Seconds(30);  // never by the timer
    AuditLog log(&store, options);
    for (int i = 0; i < 7; ++i) log.Record(Entry(i));
  }
  EXPECT_EQ(store.AuditRecords().size(), 7u);
}

// --- CaseService: mutations record themselves in their transaction
// -------------

class CaseServiceAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = LinkageKeyring::FromKeys({{1, std::string(32, 'k')}});
    ASSERT_TRUE(ring.ok());
    keyring_ = std::make_unique<LinkageKeyring>(*std::move(ring));
    service_ = std::make_unique<CaseService>(CaseServiceOptions{"cusco"},
                                             &store_, keyring_.get());
  }

  absl::StatusOr<Case> Open(int request) {
    OpenCaseCommand c;
    c.request_id = absl::StrFormat("6f1c2b9e-0000-4000-8000-%012d", request);
    c.identity.dni = "73918264";
    c.kind = CaseKind::kVictim;
    c.initial_stage = Stage::kDetected;
    c.profile.age_band = AgeBand::k15To17;
    c.profile.sex = Sex::kFemale;
    c.profile.origin_province = "0812";
    c.profile.exploitation_forms = {ExploitationForm::kSexual};
    c.profile.setting = Setting::kBar;
    c.profile.recruitment_means = RecruitmentMeans::kFalseJobOffer;
    c.profile.identified_month = {2026, 8};
    c.legal_basis = LegalBasis::kUpeProtectiveMeasure;
    std::promise<absl::StatusOr<Case>> promise;
    service_->OpenCase(Office(), std::move(c),
                       [&promise](absl::StatusOr<Case> r) {
                         promise.set_value(std::move(r));
                       });
    return promise.get_future().get();
  }

  testing::FakeStore store_;
  std::unique_ptr<LinkageKeyring> keyring_;
  std::unique_ptr<CaseService> service_;
};

TEST_F(CaseServiceAuditTest, SuccessfulMutationAndItsReplayAreRecorded) {
  absl::StatusOr<Case> opened = Open(1);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::vector<store::AuditRecord> records = store_.AuditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].principal, Office().principal);
  EXPECT_EQ(records[0].clerk, "clerk-7");
  EXPECT_EQ(records[0].method, "CaseOffice.OpenCase");
  EXPECT_EQ(records[0].subject, opened->case_id);
  EXPECT_EQ(records[0].outcome, 0);
  // A retry is a call too.
  ASSERT_TRUE(Open(1).ok());
  records = store_.AuditRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].subject, opened->case_id);
  // The identifiers never reach a record.
  for (const std::string& s : store_.WrittenStrings()) {
    EXPECT_EQ(s.find("73918264"), std::string::npos) << s;
  }
}

TEST_F(CaseServiceAuditTest, ChangeIsRefusedWhenItsRecordCannotBeWritten) {
  store_.FailAuditAppends(true);
  absl::StatusOr<Case> opened = Open(2);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(opened.status().message(), HasSubstr("audit"));
  store_.FailAuditAppends(false);
  // Nothing was applied: no case, no request record, no audit record.
  EXPECT_TRUE(store_.AuditRecords().empty());
  for (const std::string& s : store_.WrittenStrings()) {
    EXPECT_EQ(s.rfind("cs_", 0), std::string::npos) << s;
  }
  // The same request now succeeds (it was never recorded as done).
  EXPECT_TRUE(Open(2).ok());
}

}  // namespace
}  // namespace ruta::core
