// Backup under load and restore (DESIGN.md section 7, docs/restore.md).
//
// Cusco and Madre de Dios exchange under load: transfers both ways walked
// through request, accept, departure and reception. Mid-load Madre de Dios
// makes an encrypted backup of itself while it serves (Admin.Backup, what
// `ruta admin backup` calls); the load goes on; under load Madre de Dios is
// killed (SIGKILL), `ruta-node restore` puts the backup in place (leaving
// the store setting restore.pending), and the node starts on it while the
// walks go on; then one more phase of load.
// At the end both nodes converge (every transfer in the same state on both),
// each inbox holds its peer's whole stream 1..last once (no gap; no event id
// twice), and Admin.VerifyAudit passes on both with Madre de Dios's
// "restored" record present and Cusco holding the superseded checkpoint.
// RUTA_RESTORE_TRANSFERS (default 24 per phase) sizes the load.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "fault_support.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/federation.pb.h"

namespace ruta::fault {
namespace {

using testing::OfficeClient;
using testing::RequestIdFor;

void Say(const std::string& line) {
  std::printf("[restore] %s\n", line.c_str());
  std::fflush(stdout);
}

// Transfers walked through their lifecycle by a few threads, from both
// sides. Errors while a node is down or recovering are expected: a step
// that fails is left (the transfer stays where it is, on both nodes alike).
class Load final {
 public:
  Load(NodeProcess* cusco, NodeProcess* mdd)
      : cusco_(cusco->address(), kCusco), mdd_(mdd->address(), kMdd) {
    for (OfficeClient* office : {&cusco_, &mdd_}) {
      office->set_attempts(3);
      office->set_deadline(absl::Seconds(5));
    }
  }

  // Runs `count` transfers, `threads` at a time; returns how many were
  // walked to RECEIVED.
  int Run(int count, int threads, uint64_t phase) {
    std::atomic<int> next{0};
    std::atomic<int> received{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w) {
      workers.emplace_back([&] {
        for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
          if (Walk(phase * 100000 + static_cast<uint64_t>(i))) {
            received.fetch_add(1);
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    return received.load();
  }

  // How many walks stopped at each step, and the first error of each.
  std::string Failures() {
    absl::MutexLock lock(&mu_);
    std::string out;
    for (const auto& [step, count] : failures_) {
      absl::StrAppend(&out, out.empty() ? "" : "; ", step, " x", count, " (",
                      first_error_[step], ")");
    }
    return out.empty() ? "none" : out;
  }

 private:
  bool Fail(const std::string& step, const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (failures_[step]++ == 0) first_error_[step] = status.ToString();
    return false;
  }

  // Request ids: OpenCaseInCare takes n*4 + 0..2, the request n*4 + 3, the
  // later steps (k << 40) | n.
  bool Walk(uint64_t n) {
    const bool from_mdd = n % 3 != 0;
    OfficeClient& sender = from_mdd ? mdd_ : cusco_;
    OfficeClient& receiver = from_mdd ? cusco_ : mdd_;
    const char* to = from_mdd ? kCusco : kMdd;
    const char* province = from_mdd ? kCuscoProvince : kMddProvince;
    absl::StatusOr<v1::Case> c = sender.OpenCaseInCare(salt_, n);
    if (!c.ok()) return Fail("open", c.status());
    absl::StatusOr<v1::Transfer> t = sender.Request(
        RequestIdFor(salt_, n * 4 + 3), c->case_id(), to, province);
    if (!t.ok()) return Fail("request", t.status());
    const std::string id = t->transfer_id();
    auto arrived = [](const v1::Transfer&) { return true; };
    if (absl::StatusOr<v1::Transfer> x =
            receiver.WaitFor(id, arrived, absl::Seconds(15));
        !x.ok()) {
      return Fail("arrive", x.status());
    }
    if (absl::StatusOr<v1::Transfer> x =
            receiver.Accept(RequestIdFor(salt_, (uint64_t{1} << 40) | n), id);
        !x.ok()) {
      return Fail("accept", x.status());
    }
    auto accepted = [](const v1::Transfer& x) {
      return x.state() == v1::TRANSFER_STATE_ACCEPTED;
    };
    if (absl::StatusOr<v1::Transfer> x =
            sender.WaitFor(id, accepted, absl::Seconds(15));
        !x.ok() || x->state() != v1::TRANSFER_STATE_ACCEPTED) {
      return Fail("accepted",
                  x.ok() ? absl::DeadlineExceededError("not accepted in time")
                         : x.status());
    }
    if (absl::StatusOr<v1::Transfer> x =
            sender.Depart(RequestIdFor(salt_, (uint64_t{2} << 40) | n), id);
        !x.ok()) {
      return Fail("depart", x.status());
    }
    auto departed = [](const v1::Transfer& x) {
      return x.state() == v1::TRANSFER_STATE_IN_TRANSIT;
    };
    if (absl::StatusOr<v1::Transfer> x =
            receiver.WaitFor(id, departed, absl::Seconds(15));
        !x.ok() || x->state() != v1::TRANSFER_STATE_IN_TRANSIT) {
      return Fail("departed",
                  x.ok() ? absl::DeadlineExceededError("not departed in time")
                         : x.status());
    }
    if (absl::StatusOr<v1::Transfer> x =
            receiver.Receive(RequestIdFor(salt_, (uint64_t{3} << 40) | n), id);
        !x.ok()) {
      return Fail("receive", x.status());
    }
    return true;
  }

  const uint64_t salt_ = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  OfficeClient cusco_;
  OfficeClient mdd_;
  absl::Mutex mu_;
  std::map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> first_error_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<v1::VerifyAuditResponse> VerifyAudit(NodeProcess& node) {
  auto admin = v1::Admin::NewStub(testing::MakeChannel(
      node.address(),
      testing::DevPki::Get().Leaf(node.region(), "admin", "operator"),
      node.region()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::VerifyAuditResponse response;
  grpc::Status status =
      admin->VerifyAudit(&context, v1::VerifyAuditRequest(), &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

// `receiver`'s inbox of `origin`: position, and every sequence 1..position
// present once with a distinct event id.
struct InboxCheck {
  int64_t position = 0;
  int64_t rows = 0;
  int64_t distinct_sequences = 0;
  int64_t min_sequence = 0;
  int64_t max_sequence = 0;
  int64_t duplicate_event_ids = 0;
};

absl::StatusOr<InboxCheck> CheckInbox(Database& db, const std::string& origin) {
  InboxCheck check;
  const std::string where = absl::StrCat("WHERE origin = '", origin, "'");
  absl::StatusOr<int64_t> v = db.Int(
      absl::StrCat("SELECT applied_through FROM inbox_positions ", where));
  if (!v.ok()) return v.status();
  check.position = *v;
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      db.Query(absl::StrCat("SELECT sequence, hex(bytes) FROM inbox_events ",
                            where, " ORDER BY sequence"));
  if (!rows.ok()) return rows.status();
  std::set<int64_t> sequences;
  std::set<std::string> event_ids;
  for (const auto& row : *rows) {
    ++check.rows;
    const int64_t sequence = std::stoll(row[0]);
    sequences.insert(sequence);
    std::string bytes;
    for (size_t i = 0; i + 1 < row[1].size(); i += 2) {
      bytes.push_back(
          static_cast<char>(std::stoi(row[1].substr(i, 2), nullptr, 16)));
    }
    v1::Event event;
    if (event.ParseFromString(bytes) && !event.event_id().empty() &&
        !event_ids.insert(event.event_id()).second) {
      ++check.duplicate_event_ids;
    }
  }
  check.distinct_sequences = static_cast<int64_t>(sequences.size());
  if (!sequences.empty()) {
    check.min_sequence = *sequences.begin();
    check.max_sequence = *sequences.rbegin();
  }
  return check;
}

TEST(RestoreTest, RestoredNodeFetchesBackAndFederationResumesExactlyOnce) {
  const int per_phase = IntFromEnv("RUTA_RESTORE_TRANSFERS", 24);
  const int threads = IntFromEnv("RUTA_RESTORE_CONCURRENCY", 6);
  const int cusco_port = testing::PickFreePort();
  const int mdd_port = testing::PickFreePort();
  ASSERT_GT(cusco_port, 0);
  ASSERT_GT(mdd_port, 0);
  ASSERT_NE(cusco_port, mdd_port);
  RelayTimings timings;
  timings.checkpoint_interval_seconds = 1;
  NodeProcess cusco(kCusco, cusco_port, kMdd,
                    absl::StrCat("127.0.0.1:", mdd_port), timings);
  NodeProcess mdd(kMdd, mdd_port, kCusco,
                  absl::StrCat("127.0.0.1:", cusco_port), timings);
  ASSERT_TRUE(cusco.Start().ok());
  ASSERT_TRUE(mdd.Start().ok());
  Load load(&cusco, &mdd);

  // Phase 1, and the backup taken while phase 2 runs.
  int received = load.Run(per_phase, threads, 1);
  Say(absl::StrFormat("phase 1: %d of %d transfers received", received,
                      per_phase));
  absl::StatusOr<std::string> backup;
  std::thread backup_taker([&] {
    absl::SleepFor(absl::Milliseconds(300));
    backup = mdd.Backup(RequestIdFor(0x6261636b, 1));
  });
  received = load.Run(per_phase, threads, 2);
  backup_taker.join();
  ASSERT_TRUE(backup.ok()) << backup.status();
  Say(absl::StrCat("backup written: ", *backup));
  Say(absl::StrFormat("phase 2 (backup taken during it): %d of %d received",
                      received, per_phase));
  // Phase 3 after the backup; then a checkpoint of the longer chain reaches
  // Cusco (every second), which the restored chain will no longer reach.
  received = load.Run(per_phase, threads, 3);
  Say(absl::StrFormat("phase 3 (after the backup): %d of %d received", received,
                      per_phase));
  absl::SleepFor(absl::Seconds(2));

  // Phase 3b: Madre de Dios dies (SIGKILL) under load, its backup is put in
  // place and it starts on it while the walks go on.
  int64_t lost_tail = 0;
  absl::Status restarted;
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(700));
    mdd.Kill();
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Open(mdd.database());
    if (!db.ok()) {
      restarted = db.status();
      return;
    }
    absl::StatusOr<int64_t> last = (*db)->Int(
        "SELECT coalesce(max(sequence), 0) FROM outbox WHERE destination = "
        "'cusco'");
    db->reset();
    if (!last.ok()) {
      restarted = last.status();
      return;
    }
    lost_tail = *last;
    restarted = mdd.Restore(*backup);
    if (restarted.ok()) restarted = mdd.Start();
  });
  received = load.Run(per_phase, threads, 5);
  killer.join();
  ASSERT_TRUE(restarted.ok()) << restarted;
  Say(absl::StrFormat(
      "phase 3b: Madre de Dios killed under load with its stream to Cusco at "
      "%d, restarted on the backup; %d of %d received",
      lost_tail, received, per_phase));

  // Phase 4: the load goes on against the restored node.
  received = load.Run(per_phase, threads, 4);
  Say(absl::StrFormat("phase 4 (after the restore): %d of %d received",
                      received, per_phase));
  Say(absl::StrCat("walks stopped early, by step: ", load.Failures()));
  EXPECT_GT(received, 0) << mdd.LogTail();

  absl::StatusOr<v1::RelayStatus> mdd_relay =
      WaitDrained(mdd, absl::Seconds(60));
  absl::StatusOr<v1::RelayStatus> cusco_relay =
      WaitDrained(cusco, absl::Seconds(60));
  ASSERT_TRUE(mdd_relay.ok()) << mdd_relay.status();
  ASSERT_TRUE(cusco_relay.ok()) << cusco_relay.status();
  EXPECT_EQ(mdd_relay->acknowledged_sequence(), mdd_relay->last_sequence());
  EXPECT_EQ(cusco_relay->acknowledged_sequence(), cusco_relay->last_sequence());
  // Cusco's stored acknowledgement was already past what the restored node
  // had applied: wait until Madre de Dios's inbox reaches Cusco's last
  // sequence (its database is read while it runs, WAL allows it).
  {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    int64_t position = -1;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::unique_ptr<Database>> db =
          Database::Open(mdd.database());
      if (db.ok()) {
        absl::StatusOr<int64_t> p = (*db)->Int(
            "SELECT applied_through FROM inbox_positions WHERE origin = "
            "'cusco'");
        if (p.ok()) position = *p;
      }
      if (position >= cusco_relay->last_sequence()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_EQ(position, cusco_relay->last_sequence());
  }
  // One more checkpoint round of the resumed chain.
  absl::SleepFor(absl::Seconds(2));

  absl::StatusOr<v1::VerifyAuditResponse> mdd_audit = VerifyAudit(mdd);
  absl::StatusOr<v1::VerifyAuditResponse> cusco_audit = VerifyAudit(cusco);
  ASSERT_TRUE(mdd_audit.ok()) << mdd_audit.status();
  ASSERT_TRUE(cusco_audit.ok()) << cusco_audit.status();
  EXPECT_TRUE(mdd_audit->ok()) << mdd_audit->DebugString();
  EXPECT_TRUE(cusco_audit->ok()) << cusco_audit->DebugString();
  for (const auto& check : mdd_audit->checkpoints()) {
    EXPECT_NE(check.result(), v1::CHECKPOINT_RESULT_UNREACHABLE)
        << check.DebugString();
  }

  EXPECT_EQ(mdd.Terminate(), 0);
  EXPECT_EQ(cusco.Terminate(), 0);
  absl::StatusOr<std::unique_ptr<Database>> mdd_db =
      Database::Open(mdd.database());
  absl::StatusOr<std::unique_ptr<Database>> cusco_db =
      Database::Open(cusco.database());
  ASSERT_TRUE(mdd_db.ok()) << mdd_db.status();
  ASSERT_TRUE(cusco_db.ok()) << cusco_db.status();

  // Convergence: every transfer in the same state on both nodes.
  const std::string transfers =
      "SELECT transfer_id, state, rejected FROM transfers ORDER BY "
      "transfer_id";
  absl::StatusOr<std::vector<std::vector<std::string>>> at_mdd =
      (*mdd_db)->Query(transfers);
  absl::StatusOr<std::vector<std::vector<std::string>>> at_cusco =
      (*cusco_db)->Query(transfers);
  ASSERT_TRUE(at_mdd.ok() && at_cusco.ok());
  EXPECT_EQ(*at_mdd, *at_cusco);
  Say(absl::StrCat(at_cusco->size(), " transfers on Cusco, ", at_mdd->size(),
                   " on Madre de Dios"));

  // Each stream applied once: 1..last, no gap, no event twice.
  absl::StatusOr<int64_t> mdd_last = (*mdd_db)->Int(
      "SELECT coalesce(max(sequence), 0) FROM outbox WHERE destination = "
      "'cusco'");
  absl::StatusOr<int64_t> cusco_last = (*cusco_db)->Int(
      "SELECT coalesce(max(sequence), 0) FROM outbox WHERE destination = "
      "'madre-de-dios'");
  ASSERT_TRUE(mdd_last.ok() && cusco_last.ok());
  EXPECT_GT(*mdd_last, lost_tail);
  absl::StatusOr<InboxCheck> at_cusco_inbox = CheckInbox(**cusco_db, kMdd);
  absl::StatusOr<InboxCheck> at_mdd_inbox = CheckInbox(**mdd_db, kCusco);
  ASSERT_TRUE(at_cusco_inbox.ok() && at_mdd_inbox.ok());
  for (const auto& [check, last] :
       {std::make_pair(*at_cusco_inbox, *mdd_last),
        std::make_pair(*at_mdd_inbox, *cusco_last)}) {
    EXPECT_EQ(check.position, last);
    EXPECT_EQ(check.rows, last);
    EXPECT_EQ(check.distinct_sequences, last);
    EXPECT_EQ(check.min_sequence, 1);
    EXPECT_EQ(check.max_sequence, last);
    EXPECT_EQ(check.duplicate_event_ids, 0);
  }
  // Madre de Dios's own outbox: 1..last once, no event id twice.
  absl::StatusOr<int64_t> outbox_rows = (*mdd_db)->Int(
      "SELECT count(DISTINCT sequence) FROM outbox WHERE destination = "
      "'cusco' AND sequence IS NOT NULL");
  ASSERT_TRUE(outbox_rows.ok());
  EXPECT_EQ(*outbox_rows, *mdd_last);
  Say(absl::StrFormat(
      "Madre de Dios -> Cusco: last %d (was %d when killed), Cusco applied "
      "through %d; Cusco -> Madre de Dios: last %d, applied through %d",
      *mdd_last, lost_tail, at_cusco_inbox->position, *cusco_last,
      at_mdd_inbox->position));

  // The restored record, once; the recovery completed; Cusco keeps the
  // superseded checkpoint as evidence.
  absl::StatusOr<int64_t> restored = (*mdd_db)->Int(absl::StrCat(
      "SELECT count(*) FROM audit_log WHERE method = 'Admin.Restore' AND "
      "subject = '",
      std::filesystem::path(*backup).filename().string(), "'"));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, 1);
  absl::StatusOr<std::vector<std::vector<std::string>>> pending =
      (*mdd_db)->Query(
          "SELECT value FROM node_settings WHERE name = 'restore.pending'");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0][0], "");
  absl::StatusOr<int64_t> superseded = (*cusco_db)->Int(
      "SELECT count(*) FROM node_settings WHERE name LIKE "
      "'audit.superseded_checkpoint.madre-de-dios.%'");
  ASSERT_TRUE(superseded.ok());
  EXPECT_EQ(*superseded, 1);
  EXPECT_TRUE(mdd.LogLines("the tail of the audit log was removed").empty());
  for (const std::string& line : mdd.LogLines("restore:")) Say(line);
  for (const std::string& line : cusco.LogLines("restored a backup")) {
    Say(line);
  }
  if (HasFailure()) {
    Say(absl::StrCat("Madre de Dios log tail:\n", mdd.LogTail(8000)));
  }
}

}  // namespace
}  // namespace ruta::fault
