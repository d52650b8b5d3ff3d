// What only the PostgreSQL backend has: several Store objects (replicas of
// one node) sharing one database, connection errors, reconnection, and
// replicas migrating at once. The behaviour both backends share is tested by
// the conformance suite (store_test.cc and the other *_store_test.cc).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

using ::ruta::testing::ScratchPostgresDatabase;
using ::ruta::testing::ScratchStore;
using ::ruta::testing::StoreBackend;

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const absl::Status assert_ok_status_ = (expr);            \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (false)

constexpr char kPartner[] = "madre-de-dios/tdh";

// "cs_" + 20 lowercase letters, distinct for each n.
std::string CaseId(int n) {
  std::string id = "cs_aaaaaaaaaaaaaaaaaaaa";
  for (size_t i = id.size() - 1; n > 0; --i, n /= 26) {
    id[i] = static_cast<char>('a' + n % 26);
  }
  return id;
}

core::Case MakeCase(const std::string& case_id) {
  core::Case c;
  c.case_id = case_id;
  c.person_ref = "pr1_" + case_id.substr(3);
  c.kind = core::CaseKind::kVictim;
  c.owner_region = "madre-de-dios";
  c.stage = core::Stage::kIdentified;
  c.profile.identified_month = {2026, 3};
  c.referrals = {kPartner};
  c.version = 1;
  c.opened_at = absl::FromUnixMicros(1767225600123456);
  c.updated_at = c.opened_at;
  c.opened_by = "spiffe://madre-de-dios.ruta.pe/office/upe";
  return c;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(StoreBackend::kPostgres);
    auto scratch = ScratchStore::Create(StoreBackend::kPostgres);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
  }

  std::unique_ptr<Store> OpenReplica() {
    auto store = scratch_->Open();
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::unique_ptr<ScratchStore> scratch_;
};

// Two replicas write concurrently: each write appends an audit record at the
// head, puts a new case (referred to a partner: a partner change) and
// appends an outbox event; every seventh fails on purpose after doing all
// that. A watcher polls the partner change feed meanwhile, as
// WatchReferredCases does. Every write commits or fails cleanly; the chain
// has no gap and no duplicate; outbox ids and partner positions follow the
// chain's (commit) order, so the watcher, resuming after the last position
// it saw, misses nothing.
TEST_F(PostgresStoreTest, TwoReplicasWriteConcurrentlyAsOneWriter) {
  // A server whose default isolation is stricter must not change what the
  // writers see: the store sets the isolation of each transaction itself.
  ASSERT_OK(scratch_->Exec(
      absl::StrCat("ALTER DATABASE ", scratch_->postgres()->name(),
                   " SET default_transaction_isolation TO 'repeatable read'")));
  std::unique_ptr<Store> replicas[2] = {OpenReplica(), OpenReplica()};
  ASSERT_NE(replicas[0], nullptr);
  ASSERT_NE(replicas[1], nullptr);

  constexpr int kThreadsPerReplica = 3;
  constexpr int kWritesPerThread = 40;
  absl::Mutex mu;
  std::set<std::string> committed;  // case ids
  std::set<std::string> failed;
  std::vector<std::string> unexpected;

  std::atomic<bool> writing{true};
  std::vector<int64_t> watched;
  std::thread watcher([&] {
    int64_t after = 0;
    auto poll = [&] {
      absl::Status status = replicas[1]->ReadSync([&](ReadTxn& txn) {
        auto changes = txn.ScanPartnerChanges(kPartner, after, 1000);
        if (!changes.ok()) return changes.status();
        for (const PartnerChange& c : *changes) {
          watched.push_back(c.position);
          after = c.position;
        }
        return absl::OkStatus();
      });
      EXPECT_TRUE(status.ok()) << status;
    };
    while (writing.load()) poll();
    poll();
  });

  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < kThreadsPerReplica; ++t) {
      threads.emplace_back([&, r, t] {
        for (int i = 0; i < kWritesPerThread; ++i) {
          const int n = (r * kThreadsPerReplica + t) * kWritesPerThread + i;
          const std::string case_id = CaseId(n + 1);
          const bool fail = n % 7 == 3;
          absl::Status status =
              replicas[r]->WriteSync([&](WriteTxn& txn) -> absl::Status {
                auto head = txn.GetAuditHead();
                if (!head.ok()) return head.status();
                AuditRecord record;
                record.index = head->length;
                record.at = absl::Now();
                record.principal = "spiffe://madre-de-dios.ruta.pe/office/upe";
                record.method = "CaseOffice.OpenCase";
                record.subject = case_id;
                record.hash = std::string(32, 'h');
                if (auto s = txn.AppendAudit(record); !s.ok()) return s;
                if (auto s = txn.PutCase(MakeCase(case_id)); !s.ok()) return s;
                OutboxEvent event;
                event.destination = "cusco";
                event.case_id = case_id;
                event.payload = case_id;
                event.committed_at = absl::Now();
                if (auto id = txn.AppendOutbox(event); !id.ok()) {
                  return id.status();
                }
                if (fail) return absl::AbortedError("injected");
                return absl::OkStatus();
              });
          absl::MutexLock lock(&mu);
          if (status.ok()) {
            committed.insert(case_id);
          } else if (fail && status.code() == absl::StatusCode::kAborted) {
            failed.insert(case_id);
          } else {
            unexpected.push_back(status.ToString());
          }
        }
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  writing.store(false);
  watcher.join();

  EXPECT_TRUE(unexpected.empty()) << unexpected.front();
  const size_t total = 2 * kThreadsPerReplica * kWritesPerThread;
  ASSERT_EQ(committed.size() + failed.size(), total);

  std::vector<AuditRecord> audit;
  std::vector<OutboxEvent> outbox;
  std::vector<PartnerChange> changes;
  ASSERT_OK(replicas[0]->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto a = txn.ScanAudit(0, 10000);
    if (!a.ok()) return a.status();
    audit = *std::move(a);
    auto o = txn.ReadUnstamped("cusco", 10000);
    if (!o.ok()) return o.status();
    outbox = *std::move(o);
    auto c = txn.ScanPartnerChanges(kPartner, 0, 10000);
    if (!c.ok()) return c.status();
    changes = *std::move(c);
    return absl::OkStatus();
  }));

  // The chain: indexes 0..n-1, one per committed write, none of a failed one.
  ASSERT_EQ(audit.size(), committed.size());
  std::map<std::string, int64_t> index_of;
  for (size_t i = 0; i < audit.size(); ++i) {
    EXPECT_EQ(audit[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(committed.count(audit[i].subject), 1u) << audit[i].subject;
    EXPECT_TRUE(index_of.emplace(audit[i].subject, audit[i].index).second)
        << "two records of one write";
  }
  // Outbox ids and partner positions increase with the chain index: they
  // were given in commit order.
  ASSERT_EQ(outbox.size(), committed.size());
  for (size_t i = 1; i < outbox.size(); ++i) {
    EXPECT_LT(outbox[i - 1].id, outbox[i].id);
    EXPECT_LT(index_of.at(outbox[i - 1].case_id),
              index_of.at(outbox[i].case_id));
  }
  ASSERT_EQ(changes.size(), committed.size());
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_LT(changes[i - 1].position, changes[i].position);
    EXPECT_LT(index_of.at(changes[i - 1].case_id),
              index_of.at(changes[i].case_id));
  }
  // The watcher saw every change, in order, none twice.
  std::vector<int64_t> all;
  for (const PartnerChange& c : changes) all.push_back(c.position);
  EXPECT_EQ(watched, all);
  // Failed writes left nothing.
  for (const std::string& case_id : failed) {
    ASSERT_OK(replicas[1]->ReadSync([&](ReadTxn& txn) -> absl::Status {
      auto c = txn.FindCase(case_id);
      if (!c.ok()) return c.status();
      EXPECT_FALSE(c->has_value()) << case_id;
      return absl::OkStatus();
    }));
  }
}

TEST_F(PostgresStoreTest, ReplicasStartingAtOnceMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto store = scratch_->Open();
      EXPECT_TRUE(store.ok()) << store.status();
      if (store.ok()) ++opened;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 4);
  absl::StatusOr<int64_t> count =
      scratch_->QueryInt64("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, PostgresSchemaVersion());
  EXPECT_EQ(PostgresSchemaVersion(), SqliteSchemaVersion());
}

TEST_F(PostgresStoreTest, ABrokenConnectionIsReopenedByTheNextTransaction) {
  std::unique_ptr<Store> store = OpenReplica();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->WriteSync(
      [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(1))); }));
  // The server ends every session of the store (as a restart would).
  ASSERT_OK(scratch_->Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()"));
  // The first transaction on each dead connection fails UNAVAILABLE (or
  // already runs on a new one); the next one runs on a new connection.
  absl::Status first = store->WriteSync(
      [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(2))); });
  EXPECT_TRUE(first.ok() || first.code() == absl::StatusCode::kUnavailable)
      << first;
  if (!first.ok()) {
    ASSERT_OK(store->WriteSync(
        [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(2))); }));
  }
  int found = 0;
  for (int attempt = 0; attempt < 4 && found == 0; ++attempt) {
    absl::Status read = store->ReadSync([&](ReadTxn& txn) -> absl::Status {
      auto c = txn.FindCase(CaseId(2));
      if (!c.ok()) return c.status();
      found = c->has_value() ? 1 : 0;
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok() || read.code() == absl::StatusCode::kUnavailable)
        << read;
  }
  EXPECT_EQ(found, 1);
}

// The password travels apart from the conninfo: a role with a password,
// over TCP on the loopback (where Debian's pg_hba asks for scram-sha-256),
// opens with the right one; the wrong one is UNAVAILABLE, and neither
// appears in a message.
TEST_F(PostgresStoreTest, PasswordIsUsedAndNeverShown) {
  const std::string role = absl::StrCat(scratch_->postgres()->name(), "_role");
  const std::string password = "Pw-for-the-test-only";
  ASSERT_OK(scratch_->Exec(
      absl::StrCat("CREATE ROLE ", role, " LOGIN PASSWORD '", password, "'; ",
                   "GRANT ALL ON DATABASE ", scratch_->postgres()->name(),
                   " TO ", role, "; GRANT ALL ON SCHEMA public TO ", role)));
  PostgresOptions options;
  options.conninfo =
      absl::StrCat("host=127.0.0.1 dbname=", scratch_->postgres()->name(),
                   " user=", role, " connect_timeout=5");
  options.password = "Wrong-password-here";
  absl::StatusOr<std::unique_ptr<Store>> refused = OpenPostgresStore(options);
  const std::string message(refused.status().message());
  if (message.find("refused") != std::string::npos) {
    ASSERT_OK(scratch_->Exec(
        absl::StrCat("DROP OWNED BY ", role, "; DROP ROLE ", role)));
    GTEST_SKIP() << "the server does not listen on 127.0.0.1: " << message;
  }
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable)
      << refused.status();
  EXPECT_EQ(message.find("Wrong-password"), std::string::npos) << message;
  EXPECT_NE(message.find(scratch_->postgres()->name()), std::string::npos)
      << message;

  options.password = password;
  {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_OK((*store)->WriteSync(
        [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(1))); }));
  }
  ASSERT_OK(scratch_->Exec(absl::StrCat("REASSIGN OWNED BY ", role,
                                        " TO CURRENT_USER; DROP OWNED BY ",
                                        role, "; DROP ROLE ", role)));
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailableWithoutThePassword) {
  PostgresOptions options;
  // Port 1 on loopback: nothing listens there.
  options.conninfo =
      "host=127.0.0.1 port=1 dbname=ruta_nowhere connect_timeout=2";
  options.password = "s3cret-Pa55word";
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore(options);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kUnavailable)
      << store.status();
  const std::string message(store.status().message());
  EXPECT_NE(message.find("ruta_nowhere"), std::string::npos) << message;
  EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
}

TEST(PostgresOpenTest, InvalidOptionsAreRejected) {
  PostgresOptions options;
  options.conninfo = "host=127.0.0.1 port=1 dbname=ruta_nowhere";
  options.reader_connections = 0;
  EXPECT_EQ(OpenPostgresStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.reader_connections = 1;
  options.max_group_size = 0;
  EXPECT_EQ(OpenPostgresStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.max_group_size = 1;
  options.conninfo = "dbname=x no_such_option=1";
  EXPECT_EQ(OpenPostgresStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::store
