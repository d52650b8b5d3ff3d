// The relay lease: one holder per region at a time, taken over when the
// holder goes away or loses its connection.
#include "ruta/store/relay_lease.h"

#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libpq-fe.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

TEST(RelayLeaseKeyTest, StableAndPerRegion) {
  // SHA-256("ruta.relay-lease.v1/<region>"), first 4 bytes big-endian
  // (computed independently): the key must never change between versions,
  // or two versions of one region could both relay during an upgrade.
  EXPECT_EQ(RelayLeaseKey("madre-de-dios"), -230752053);
  EXPECT_EQ(RelayLeaseKey("cusco"), 1746625815);
}

TEST(ExclusiveRelayLeaseTest, HeldAtOnceAndGainedOnce) {
  int gained = 0, lost = 0;
  RelayLeaseOptions options;
  options.region = "cusco";
  options.on_gained = [&] { ++gained; };
  options.on_lost = [&] { ++lost; };
  std::unique_ptr<RelayLease> lease = MakeExclusiveRelayLease(options);
  EXPECT_TRUE(lease->held());
  EXPECT_EQ(gained, 1);
  lease.reset();
  EXPECT_EQ(lost, 0);  // destruction is not a loss
}

// One replica's lease, counting its transitions.
struct Replica {
  std::atomic<int> gained{0};
  std::atomic<int> lost{0};
  std::unique_ptr<RelayLease> lease;
};

class PostgresRelayLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ruta::testing::PostgresTestConninfo().has_value()) {
      if (ruta::testing::PostgresRequired()) {
        FAIL() << ruta::testing::MissingPostgresMessage();
      }
      GTEST_SKIP() << ruta::testing::MissingPostgresMessage();
    }
    conninfo_ = *ruta::testing::PostgresTestConninfo();
    // A region of this test alone: tests running at once never share a key.
    absl::BitGen random;
    region_ = "lease-test-";
    for (int i = 0; i < 12; ++i) {
      region_ += static_cast<char>('a' + absl::Uniform(random, 0, 26));
    }
  }

  void Open(Replica* replica, const std::string& region) {
    PostgresRelayLeaseOptions options;
    options.conninfo = conninfo_;
    options.lease.region = region;
    options.lease.poll_interval = kPoll;
    options.lease.check_timeout = absl::Seconds(2);
    options.lease.on_gained = [replica] { ++replica->gained; };
    options.lease.on_lost = [replica] { ++replica->lost; };
    absl::StatusOr<std::unique_ptr<RelayLease>> lease =
        OpenPostgresRelayLease(options);
    ASSERT_TRUE(lease.ok()) << lease.status();
    replica->lease = *std::move(lease);
  }

  // Waits up to `timeout` for `condition`; returns whether it came true.
  template <typename F>
  static bool WaitFor(F condition, absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!condition()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  // Ends the server session holding this test's lease (as a crashed
  // connection or an operator would); returns how many were ended.
  int TerminateHolder() {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    const std::string sql = absl::StrCat(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
        "'advisory' AND granted AND objsubid = 2 AND classid = ",
        kRelayLeaseClass, " AND objid = (", RelayLeaseKey(region_),
        "::bigint & 4294967295)::oid");
    PGresult* r = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    const int ended = PQntuples(r);
    PQclear(r);
    PQfinish(conn);
    return ended;
  }

  static constexpr absl::Duration kPoll = absl::Milliseconds(100);
  std::string conninfo_;
  std::string region_;
};

TEST_F(PostgresRelayLeaseTest, OneHolderAndTakeoverWhenItGoesAway) {
  Replica a, b;
  Open(&a, region_);
  ASSERT_TRUE(WaitFor([&] { return a.lease->held(); }));
  Open(&b, region_);
  // b keeps trying and failing for a few polls.
  absl::SleepFor(kPoll * 4);
  EXPECT_FALSE(b.lease->held());
  EXPECT_EQ(b.gained, 0);
  EXPECT_EQ(a.gained, 1);

  const absl::Time released = absl::Now();
  a.lease.reset();  // a replica stopping (or killed: its session ends)
  ASSERT_TRUE(WaitFor([&] { return b.lease->held(); }));
  const absl::Duration takeover = absl::Now() - released;
  // One poll, plus scheduling slack on a loaded machine.
  EXPECT_LT(takeover, kPoll + absl::Seconds(1))
      << "takeover took " << absl::FormatDuration(takeover);
  EXPECT_EQ(b.gained, 1);
  EXPECT_EQ(a.lost, 0);  // destruction is not a loss
}

TEST_F(PostgresRelayLeaseTest, LostConnectionLosesTheLeaseAtOnce) {
  Replica a, b;
  Open(&a, region_);
  ASSERT_TRUE(WaitFor([&] { return a.lease->held(); }));
  Open(&b, region_);
  absl::SleepFor(kPoll * 2);
  ASSERT_FALSE(b.lease->held());

  const absl::Time cut = absl::Now();
  ASSERT_EQ(TerminateHolder(), 1);
  ASSERT_TRUE(WaitFor([&] { return a.lost.load() == 1; }));
  const absl::Duration noticed = absl::Now() - cut;
  // At once (its socket reports the end), plus scheduling slack.
  EXPECT_LT(noticed, kPoll + absl::Seconds(1))
      << "the holder noticed after " << absl::FormatDuration(noticed);
  // Somebody holds it again within a few polls: b, or a after reconnecting.
  ASSERT_TRUE(WaitFor([&] { return a.lease->held() || b.lease->held(); }));
  absl::SleepFor(kPoll * 3);
  EXPECT_NE(a.lease->held(), b.lease->held()) << "exactly one holder";
  EXPECT_EQ(a.gained + b.gained, 2);
}

TEST_F(PostgresRelayLeaseTest, RegionsHaveTheirOwnLease) {
  Replica a, b;
  Open(&a, region_);
  Open(&b, region_ + "-other");
  EXPECT_TRUE(WaitFor([&] { return a.lease->held() && b.lease->held(); }));
}

TEST_F(PostgresRelayLeaseTest, UnreachableServerIsRetriedNotFatal) {
  PostgresRelayLeaseOptions options;
  options.conninfo = "host=/nonexistent-socket-dir dbname=ruta";
  options.lease.region = region_;
  options.lease.poll_interval = kPoll;
  absl::StatusOr<std::unique_ptr<RelayLease>> lease =
      OpenPostgresRelayLease(options);
  ASSERT_TRUE(lease.ok()) << lease.status();
  absl::SleepFor(kPoll * 3);
  EXPECT_FALSE((*lease)->held());
}

TEST_F(PostgresRelayLeaseTest, BadOptions) {
  PostgresRelayLeaseOptions options;
  options.conninfo = "host=db Sekreto";
  options.lease.region = region_;
  absl::StatusOr<std::unique_ptr<RelayLease>> lease =
      OpenPostgresRelayLease(options);
  ASSERT_EQ(lease.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(lease.status().message()).find("Sekreto"),
            std::string::npos);
  options.conninfo = conninfo_;
  options.lease.region = "";
  EXPECT_EQ(OpenPostgresRelayLease(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::store
