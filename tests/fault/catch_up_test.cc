// A week offline (DESIGN.md section 7): Madre de Dios works alone while
// Cusco's node is down, opening cases and requesting their transfer to
// Cusco; its outbox fills with two events per transfer (the case, then the
// request). Then Cusco starts, and the test measures how long Madre de Dios'
// relay takes until Cusco acknowledged everything, and checks on Cusco's
// database that every transfer arrived exactly once and the stream was
// applied in order, without a gap.
//
// RUTA_CATCHUP_TRANSFERS (default 10000, i.e. 20000 events) sizes the backlog;
// RUTA_CATCHUP_CONCURRENCY (default 16) the writers that fill it through the
// API. See tests/fault/README.md.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "fault_support.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"

namespace ruta::fault {
namespace {

using testing::OfficeClient;
using testing::RequestIdFor;

void Say(const std::string& line) {
  std::printf("[catch-up] %s\n", line.c_str());
  std::fflush(stdout);
}

TEST(CatchUpTest, WeekOfflineBacklogIsAppliedOnceAndInOrder) {
  const int transfers = IntFromEnv("RUTA_CATCHUP_TRANSFERS", 10000);
  const int concurrency = IntFromEnv("RUTA_CATCHUP_CONCURRENCY", 16);
  const int64_t events = int64_t{2} * transfers;
  const int cusco_port = testing::PickFreePort();
  const int mdd_port = testing::PickFreePort();
  ASSERT_GT(cusco_port, 0);
  ASSERT_GT(mdd_port, 0);
  ASSERT_NE(cusco_port, mdd_port);
  RelayTimings timings;  // reconnects at most 1 s apart
  timings.max_batch_events =
      static_cast<uint32_t>(IntFromEnv("RUTA_CATCHUP_BATCH_EVENTS", 0));
  NodeProcess mdd(kMdd, mdd_port, kCusco,
                  absl::StrCat("127.0.0.1:", cusco_port), timings);
  NodeProcess cusco(kCusco, cusco_port, kMdd,
                    absl::StrCat("127.0.0.1:", mdd_port), timings);
  absl::Status started = mdd.Start();
  ASSERT_TRUE(started.ok()) << started;

  // Madre de Dios alone: the cases and their transfer requests.
  OfficeClient office(mdd.address(), kMdd);
  office.set_attempts(20);
  office.set_wait_for_ready(true);
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  std::vector<std::string> ids(static_cast<size_t>(transfers));
  std::vector<std::string> errors(static_cast<size_t>(transfers));
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  const absl::Time fill_start = absl::Now();
  std::vector<std::thread> writers;
  for (int w = 0; w < concurrency; ++w) {
    writers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < transfers; i = next.fetch_add(1)) {
        const auto n = static_cast<uint64_t>(i);
        absl::StatusOr<v1::Case> c = office.OpenCaseInCare(salt, n);
        absl::StatusOr<v1::Transfer> t =
            c.ok() ? office.Request(RequestIdFor(salt, n * 4 + 3), c->case_id(),
                                    kCusco, kCuscoProvince)
                   : absl::StatusOr<v1::Transfer>(c.status());
        if (t.ok()) {
          ids[n] = t->transfer_id();
        } else {
          errors[n] = t.status().ToString();
        }
        done.fetch_add(1);
      }
    });
  }
  absl::Time last_report = absl::Now();
  while (done.load() < transfers) {
    absl::SleepFor(absl::Milliseconds(50));
    if (absl::Now() - last_report > absl::Seconds(10)) {
      last_report = absl::Now();
      Say(absl::StrFormat("filling: %d of %d transfers requested", done.load(),
                          transfers));
    }
  }
  for (std::thread& writer : writers) writer.join();
  const absl::Duration fill_time = absl::Now() - fill_start;
  int failed = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].empty() && ++failed <= 10) {
      ADD_FAILURE() << "transfer #" << i << ": " << errors[i];
    }
  }
  ASSERT_EQ(failed, 0);
  Say(absl::StrFormat(
      "Madre de Dios alone: %d transfers (%d events queued for Cusco) written "
      "through the API in %.1f s (%.0f transfers/s, %d writers)",
      transfers, events, absl::ToDoubleSeconds(fill_time),
      transfers / absl::ToDoubleSeconds(fill_time), concurrency));

  absl::StatusOr<v1::RelayStatus> backlog = mdd.RelayStatus();
  ASSERT_TRUE(backlog.ok()) << backlog.status();
  EXPECT_EQ(backlog->last_sequence(), events);
  EXPECT_EQ(backlog->acknowledged_sequence(), 0);
  EXPECT_FALSE(backlog->connected());
  EXPECT_TRUE(backlog->has_oldest_unacknowledged_at());

  // Cusco comes back.
  const absl::Time launched = absl::Now();
  started = cusco.Start();
  ASSERT_TRUE(started.ok()) << started;
  const absl::Time serving = absl::Now();
  absl::Time connected_at = absl::InfinitePast();
  absl::StatusOr<v1::RelayStatus> status;
  const absl::Time deadline =
      serving + absl::Seconds(60) + absl::Milliseconds(events);
  while (true) {
    status = mdd.RelayStatus();
    if (status.ok() && status->connected() &&
        connected_at == absl::InfinitePast()) {
      connected_at = absl::Now();
    }
    if (status.ok() && status->acknowledged_sequence() == events) break;
    if (absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Time caught_up = absl::Now();
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->acknowledged_sequence(), events)
      << "Madre de Dios' relay did not catch up in "
      << absl::FormatDuration(caught_up - serving) << "\n"
      << mdd.LogTail() << cusco.LogTail();
  const absl::Duration catch_up = caught_up - serving;
  const absl::Duration applying =
      caught_up -
      (connected_at == absl::InfinitePast() ? serving : connected_at);
  const double rate = static_cast<double>(events) /
                      std::max(absl::ToDoubleSeconds(catch_up), 1e-3);
  Say(absl::StrFormat(
      "Cusco serving %.2f s after its launch; %d events acknowledged %.2f s "
      "after Cusco served (stream open after %.2f s, applying took %.2f s): "
      "%.0f events/s (%.0f events/s while streaming); a linear projection "
      "to 1,000,000 events gives %.0f s (the rate falls as the databases "
      "grow)",
      absl::ToDoubleSeconds(serving - launched), events,
      absl::ToDoubleSeconds(catch_up),
      absl::ToDoubleSeconds(catch_up - applying),
      absl::ToDoubleSeconds(applying), rate,
      static_cast<double>(events) /
          std::max(absl::ToDoubleSeconds(applying), 1e-3),
      1e6 / rate));

  EXPECT_EQ(cusco.Terminate(), 0) << cusco.LogTail();
  EXPECT_EQ(mdd.Terminate(), 0) << mdd.LogTail();

  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open(cusco.database());
  ASSERT_TRUE(db.ok()) << db.status();
  // Every transfer exactly once (transfer_id is the key: a duplicate would
  // be a second id), all of them from Madre de Dios and still REQUESTED.
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      (*db)->Query("SELECT transfer_id, from_region, state FROM transfers");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::set<std::string> expected(ids.begin(), ids.end());
  ASSERT_EQ(expected.size(), static_cast<size_t>(transfers));
  std::set<std::string> arrived;
  int unexpected = 0;
  int wrong = 0;
  for (const std::vector<std::string>& row : *rows) {
    arrived.insert(row[0]);
    if (expected.count(row[0]) == 0) ++unexpected;
    if (row[1] != kMdd ||
        row[2] != absl::StrCat(v1::TRANSFER_STATE_REQUESTED)) {
      ++wrong;
    }
  }
  int missing = 0;
  for (const std::string& id : expected) missing += arrived.count(id) == 0;
  Say(absl::StrFormat(
      "on Cusco: %d transfers (%d expected, %d missing, %d unexpected, %d not "
      "REQUESTED from madre-de-dios)",
      rows->size(), transfers, missing, unexpected, wrong));
  EXPECT_EQ(rows->size(), static_cast<size_t>(transfers));
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(unexpected, 0);
  EXPECT_EQ(wrong, 0);
  absl::StatusOr<int64_t> cases = (*db)->Int(absl::StrCat(
      "SELECT count(*) FROM cases WHERE owner_region = 'madre-de-dios' AND "
      "stage = ",
      v1::STAGE_TRANSFER_REQUESTED));
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_EQ(*cases, transfers);

  // The stream: position == last sequence, and the batches applied cover
  // 1..last one after the other, each event kept once.
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
    int64_t first = 0;
    int64_t last = 0;
    ASSERT_TRUE(absl::SimpleAtoi(batch[0], &first) &&
                absl::SimpleAtoi(batch[1], &last));
    if (first != covered + 1 || last < first) {
      if (++gaps <= 10) {
        ADD_FAILURE() << "batch " << first << ".." << last
                      << " does not continue " << covered;
      }
    }
    covered = std::max(covered, last);
  }
  EXPECT_EQ(gaps, 0);
  EXPECT_EQ(covered, events);
  absl::StatusOr<std::vector<std::vector<std::string>>> kept = (*db)->Query(
      "SELECT count(*), coalesce(min(sequence), 0), coalesce(max(sequence), "
      "0) FROM inbox_events WHERE origin = 'madre-de-dios'");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->front(), (std::vector<std::string>{absl::StrCat(events), "1",
                                                     absl::StrCat(events)}));
  Say(absl::StrFormat(
      "inbox: position %d, %d batches covering 1..%d contiguously (%.1f "
      "events per batch)",
      *position, batches->size(), covered,
      batches->empty() ? 0.0
                       : static_cast<double>(covered) /
                             static_cast<double>(batches->size())));

  if (!::testing::Test::HasFailure() &&
      std::getenv("RUTA_FAULT_KEEP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(cusco.data_dir(), ignored);
    std::filesystem::remove_all(mdd.data_dir(), ignored);
  } else {
    Say(absl::StrCat("data and logs kept in ", cusco.data_dir(), " and ",
                     mdd.data_dir()));
  }
}

}  // namespace
}  // namespace ruta::fault
