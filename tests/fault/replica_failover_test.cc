// Two replicas of Madre de Dios' node on one PostgreSQL database, Cusco's
// node (SQLite) as their peer (README "Several replicas"). Offices write to
// both replicas continuously (cases and transfer requests to Cusco, Cusco
// accepting some); the replica holding the relay lease is killed with
// SIGKILL mid-stream; the other must take the lease over within seconds and
// relay on, while the writes continue on it. At the end Cusco must have
// applied every Madre de Dios outbox event exactly once (its inbox position
// is the last sequence, the batches cover 1..N contiguously, each event kept
// once) and both regions must show every transfer once, in the same state.
//
// Needs RUTA_TEST_POSTGRES (scripts/test.sh sets it; skipped without it,
// except under CI=true): a scratch database is created there and dropped at
// the end. Short by default; longer runs:
//   RUTA_FAILOVER_ROUNDS     kills of the holder, the killed replica being
//                            restarted as a standby after each (default 1)
//   RUTA_FAILOVER_TRANSFERS  transfers written per phase (default 40; a run
//                            has rounds + 1 phases)
//   RUTA_FAILOVER_POLL_MS    federation.relay_takeover_poll_ms (default 200)
//   RUTA_FAULT_KEEP          keep the node logs
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "fault_support.h"
#include "gtest/gtest.h"
#include "ruta/testing/fault_proxy.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/store_backend.h"

namespace ruta::fault {
namespace {

using testing::OfficeClient;
using testing::RequestIdFor;

void Say(const std::string& line) {
  std::printf("[failover] %s\n", line.c_str());
  std::fflush(stdout);
}

int Count(const std::vector<std::string>& lines) {
  return static_cast<int>(lines.size());
}

TEST(ReplicaFailoverTest, HolderKilledMidStreamNothingLostNothingDuplicated) {
  const int rounds = IntFromEnv("RUTA_FAILOVER_ROUNDS", 1);
  const int per_phase = IntFromEnv("RUTA_FAILOVER_TRANSFERS", 40);
  if (!testing::PostgresTestConninfo().has_value()) {
    if (testing::PostgresRequired())
      FAIL() << testing::MissingPostgresMessage();
    GTEST_SKIP() << testing::MissingPostgresMessage();
  }
  absl::StatusOr<std::unique_ptr<testing::ScratchPostgresDatabase>> pg =
      testing::ScratchPostgresDatabase::Create();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string database = absl::StrCat("postgres:", (*pg)->conninfo());

  const int cusco_port = testing::PickFreePort();
  const int a_port = testing::PickFreePort();
  const int b_port = testing::PickFreePort();
  ASSERT_TRUE(cusco_port > 0 && a_port > 0 && b_port > 0);
  ASSERT_TRUE(cusco_port != a_port && a_port != b_port && cusco_port != b_port);
  // Cusco reaches "Madre de Dios" through a proxy standing for the region's
  // load balancer: it forwards to a live replica.
  absl::StatusOr<std::unique_ptr<testing::FaultProxy>> balancer =
      testing::FaultProxy::Start({absl::StrCat("127.0.0.1:", a_port)});
  ASSERT_TRUE(balancer.ok()) << balancer.status();

  RelayTimings timings;
  timings.takeover_poll_ms =
      static_cast<uint32_t>(IntFromEnv("RUTA_FAILOVER_POLL_MS", 200));
  const std::string cusco_address = absl::StrCat("127.0.0.1:", cusco_port);
  std::vector<std::unique_ptr<NodeProcess>> mdd;
  mdd.push_back(std::make_unique<NodeProcess>(
      kMdd, a_port, kCusco, cusco_address, timings, database));
  mdd.push_back(std::make_unique<NodeProcess>(
      kMdd, b_port, kCusco, cusco_address, timings, database));
  NodeProcess cusco(kCusco, cusco_port, kMdd, (*balancer)->address(), timings);

  auto taken = [&](int i) {
    return Count(mdd[static_cast<size_t>(i)]->LogLines("relay lease: taken"));
  };
  auto logs = [&] {
    std::string out;
    for (auto& node : mdd) out += node->LogTail();
    return out + cusco.LogTail();
  };
  // Replica A starts first and takes the lease; then B and Cusco.
  absl::Status started = mdd[0]->Start();
  ASSERT_TRUE(started.ok()) << started;
  for (absl::Time d = absl::Now() + absl::Seconds(10);
       taken(0) == 0 && absl::Now() < d;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(taken(0), 1) << "replica A did not take the relay lease\n"
                         << logs();
  started = mdd[1]->Start();
  ASSERT_TRUE(started.ok()) << started;
  started = cusco.Start();
  ASSERT_TRUE(started.ok()) << started;

  // Writers: each transfer goes to replica n % 2 first; when a call fails
  // (its replica is down, or slow on this loaded machine), the same request
  // ids go to the other replica, and so on alternately (same effect, once).
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  std::vector<std::unique_ptr<OfficeClient>> offices;
  for (auto& node : mdd) {
    offices.push_back(std::make_unique<OfficeClient>(node->address(), kMdd));
    offices.back()->set_deadline(absl::Seconds(5));
  }
  std::atomic<int> retries{0};
  absl::Mutex mu;
  std::vector<std::string> ids;
  std::vector<std::string> errors;
  std::vector<absl::Time> successes;
  std::atomic<int> next{0};
  std::atomic<int> limit{per_phase};
  std::atomic<bool> stop{false};
  auto one_transfer = [&](OfficeClient& office, uint64_t n) {
    absl::StatusOr<v1::Case> c = office.OpenCaseInCare(salt, n);
    if (!c.ok()) return absl::StatusOr<v1::Transfer>(c.status());
    return office.Request(RequestIdFor(salt, n * 4 + 3), c->case_id(), kCusco,
                          kCuscoProvince);
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      while (!stop.load()) {
        const int i = next.fetch_add(1);
        if (i >= limit.load()) {
          next.fetch_sub(1);
          absl::SleepFor(absl::Milliseconds(5));
          continue;
        }
        const auto n = static_cast<uint64_t>(i);
        const size_t first = n % 2;
        absl::StatusOr<v1::Transfer> t = one_transfer(*offices[first], n);
        for (int attempt = 1;
             attempt <= 10 && !t.ok() &&
             t.status().code() != absl::StatusCode::kInvalidArgument &&
             t.status().code() != absl::StatusCode::kFailedPrecondition;
             ++attempt) {
          retries.fetch_add(1);
          absl::SleepFor(absl::Milliseconds(100));
          t = one_transfer(*offices[(first + attempt) % 2], n);
        }
        absl::MutexLock lock(&mu);
        if (t.ok()) {
          ids.push_back(t->transfer_id());
          successes.push_back(absl::Now());
        } else {
          errors.push_back(absl::StrCat("#", i, ": ", t.status().ToString()));
        }
      }
    });
  }
  // Cusco's office accepts every other request as it arrives.
  OfficeClient cusco_office(cusco.address(), kCusco);
  cusco_office.set_attempts(5);
  std::set<std::string> accepted;
  std::thread acceptor([&] {
    uint64_t accepts = 0;
    while (!stop.load()) {
      absl::SleepFor(absl::Milliseconds(200));
      absl::StatusOr<std::vector<v1::Transfer>> all = cusco_office.ListAll();
      if (!all.ok()) continue;
      for (const v1::Transfer& t : *all) {
        if (t.state() != v1::TRANSFER_STATE_REQUESTED ||
            accepted.count(t.transfer_id()) > 0 ||
            (std::hash<std::string>()(t.transfer_id()) & 1) != 0) {
          continue;
        }
        absl::StatusOr<v1::Transfer> done = cusco_office.Accept(
            RequestIdFor(salt ^ 0xacce, accepts++), t.transfer_id());
        if (done.ok()) accepted.insert(t.transfer_id());
      }
    }
  });
  auto written = [&] {
    absl::MutexLock lock(&mu);
    return static_cast<int>(ids.size() + errors.size());
  };
  auto wait_written = [&](int target) {
    for (absl::Time d = absl::Now() + absl::Seconds(120);
         written() < target && absl::Now() < d;) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  };

  size_t holder = 0;
  std::vector<double> takeovers_ms, relaying_ms;
  for (int round = 0; round < rounds; ++round) {
    wait_written(limit.load() - per_phase / 2);  // mid-phase: writes in flight
    const size_t standby = 1 - holder;
    const int standby_taken = taken(static_cast<int>(standby));
    Say(
        absl::StrFormat("round %d: %d transfers written; killing replica %c "
                        "(the relay lease holder)",
                        round + 1, written(), holder == 0 ? 'A' : 'B'));
    mdd[holder]->Kill();
    const absl::Time killed = absl::Now();
    ASSERT_TRUE((*balancer)->SetUpstream(mdd[standby]->address()).ok());
    (*balancer)->CutAll();
    absl::Time took = absl::InfinitePast();
    absl::Time relaying = absl::InfinitePast();
    while (absl::Now() - killed < absl::Seconds(30)) {
      if (took == absl::InfinitePast() &&
          taken(static_cast<int>(standby)) > standby_taken) {
        took = absl::Now();
      }
      if (took != absl::InfinitePast()) {
        absl::StatusOr<v1::RelayStatus> s = mdd[standby]->RelayStatus();
        if (s.ok() && s->connected()) {
          relaying = absl::Now();
          break;
        }
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_NE(took, absl::InfinitePast())
        << "the standby did not take the relay lease\n"
        << logs();
    ASSERT_NE(relaying, absl::InfinitePast())
        << "the standby took the lease but its relay did not connect\n"
        << logs();
    takeovers_ms.push_back(absl::ToDoubleMilliseconds(took - killed));
    relaying_ms.push_back(absl::ToDoubleMilliseconds(relaying - killed));
    Say(absl::StrFormat(
        "round %d: lease taken over %.0f ms after the kill, relaying to "
        "Cusco after %.0f ms",
        round + 1, takeovers_ms.back(), relaying_ms.back()));
    EXPECT_LT(took - killed, absl::Seconds(5));
    limit.fetch_add(per_phase);
    if (round + 1 < rounds) {
      // The killed replica comes back as the standby.
      started = mdd[holder]->Start();
      ASSERT_TRUE(started.ok()) << started;
    }
    holder = standby;
  }
  wait_written(limit.load());
  stop.store(true);
  for (std::thread& writer : writers) writer.join();
  acceptor.join();

  std::vector<std::string> written_ids;
  std::vector<absl::Time> times;
  {
    absl::MutexLock lock(&mu);
    for (size_t i = 0; i < errors.size() && i < 10; ++i) {
      ADD_FAILURE() << "write failed: " << errors[i];
    }
    EXPECT_EQ(errors.size(), 0u);
    written_ids = ids;
    times = successes;
  }
  std::sort(times.begin(), times.end());
  absl::Duration longest_pause = absl::ZeroDuration();
  for (size_t i = 1; i < times.size(); ++i) {
    longest_pause = std::max(longest_pause, times[i] - times[i - 1]);
  }
  Say(absl::StrFormat(
      "%d transfers written through both replicas (%d accepted by Cusco, "
      "%d retried on the other replica); longest pause between two "
      "completed writes: %.0f ms",
      written_ids.size(), accepted.size(), retries.load(),
      absl::ToDoubleMilliseconds(longest_pause)));

  // Both directions drain.
  absl::StatusOr<v1::RelayStatus> mdd_relay =
      WaitDrained(*mdd[holder], absl::Seconds(60));
  ASSERT_TRUE(mdd_relay.ok()) << mdd_relay.status();
  ASSERT_TRUE(mdd_relay->connected() &&
              mdd_relay->acknowledged_sequence() == mdd_relay->last_sequence())
      << mdd_relay->DebugString() << logs();
  absl::StatusOr<v1::RelayStatus> cusco_relay =
      WaitDrained(cusco, absl::Seconds(60));
  ASSERT_TRUE(cusco_relay.ok()) << cusco_relay.status();
  ASSERT_EQ(cusco_relay->acknowledged_sequence(), cusco_relay->last_sequence())
      << cusco_relay->DebugString() << logs();
  const int64_t events = mdd_relay->last_sequence();

  // Every transfer once on each side, in the same state.
  OfficeClient mdd_office(mdd[holder]->address(), kMdd);
  mdd_office.set_attempts(5);
  absl::StatusOr<std::vector<v1::Transfer>> on_mdd = mdd_office.ListAll();
  absl::StatusOr<std::vector<v1::Transfer>> on_cusco = cusco_office.ListAll();
  ASSERT_TRUE(on_mdd.ok()) << on_mdd.status();
  ASSERT_TRUE(on_cusco.ok()) << on_cusco.status();
  std::map<std::string, int> mdd_state, cusco_state;
  int duplicated = 0;
  for (const v1::Transfer& t : *on_mdd) {
    duplicated += !mdd_state.emplace(t.transfer_id(), t.state()).second;
  }
  for (const v1::Transfer& t : *on_cusco) {
    duplicated += !cusco_state.emplace(t.transfer_id(), t.state()).second;
  }
  int lost = 0, divergent = 0;
  for (const std::string& id : written_ids) {
    if (mdd_state.count(id) == 0 || cusco_state.count(id) == 0) ++lost;
  }
  for (const auto& [id, state] : mdd_state) {
    auto it = cusco_state.find(id);
    if (it == cusco_state.end()) {
      ++lost;
    } else if (it->second != state) {
      ++divergent;
    }
  }
  Say(absl::StrFormat(
      "%d transfers on Madre de Dios, %d on Cusco; lost=%d duplicated=%d "
      "divergent=%d; Madre de Dios' stream to Cusco: %d events",
      mdd_state.size(), cusco_state.size(), lost, duplicated, divergent,
      events));
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(divergent, 0);
  EXPECT_EQ(mdd_state.size(), cusco_state.size());
  EXPECT_EQ(mdd_state.size(), written_ids.size());
  // Two events per transfer (the case shared, then the request): a
  // sequence stamped twice or an event lost would show here.
  EXPECT_EQ(events, 2 * static_cast<int64_t>(mdd_state.size()));

  // Cusco's inbox: position N, batches 1..N without gap, each event once.
  EXPECT_EQ(cusco.Terminate(), 0) << cusco.LogTail();
  for (auto& node : mdd) {
    if (node->Running()) {
      EXPECT_EQ(node->Terminate(), 0) << node->LogTail();
    }
  }
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open(cusco.database());
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<int64_t> position = (*db)->Int(
      "SELECT applied_through FROM inbox_positions WHERE origin = "
      "'madre-de-dios'");
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(*position, events);
  absl::StatusOr<std::vector<std::vector<std::string>>> batches = (*db)->Query(
      "SELECT first_sequence, last_sequence FROM inbox_batches WHERE origin = "
      "'madre-de-dios' ORDER BY first_sequence");
  ASSERT_TRUE(batches.ok()) << batches.status();
  int64_t covered = 0;
  int gaps = 0;
  for (const std::vector<std::string>& batch : *batches) {
    int64_t first = 0, last = 0;
    ASSERT_TRUE(absl::SimpleAtoi(batch[0], &first) &&
                absl::SimpleAtoi(batch[1], &last));
    if (first != covered + 1 || last < first) ++gaps;
    covered = std::max(covered, last);
  }
  EXPECT_EQ(gaps, 0);
  EXPECT_EQ(covered, events);
  absl::StatusOr<std::vector<std::vector<std::string>>> kept = (*db)->Query(
      "SELECT count(*), count(DISTINCT sequence), coalesce(min(sequence), 0), "
      "coalesce(max(sequence), 0) FROM inbox_events WHERE origin = "
      "'madre-de-dios'");
  ASSERT_TRUE(kept.ok()) << kept.status();
  const std::string n = absl::StrCat(events);
  EXPECT_EQ(kept->front(), (std::vector<std::string>{n, n, "1", n}));

  double worst = 0;
  for (double ms : relaying_ms) worst = std::max(worst, ms);
  Say(absl::StrFormat(
      "inbox position %d, %d batches covering 1..%d; %d takeover(s), "
      "slowest %.0f ms from the kill to relaying",
      *position, batches->size(), covered, relaying_ms.size(), worst));

  if (!::testing::Test::HasFailure() &&
      std::getenv("RUTA_FAULT_KEEP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(cusco.data_dir(), ignored);
    for (auto& node : mdd)
      std::filesystem::remove_all(node->data_dir(), ignored);
  } else {
    Say(absl::StrCat("logs kept in ", cusco.data_dir(), ", ",
                     mdd[0]->data_dir(), " and ", mdd[1]->data_dir()));
  }
}

}  // namespace
}  // namespace ruta::fault
