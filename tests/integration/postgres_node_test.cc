// A node on PostgreSQL ("postgres:<conninfo>"), in process: its data
// survives a restart, and two replicas of one region on one database serve
// the same data, a watcher on one seeing the other's commits.
//
// Needs RUTA_TEST_POSTGRES (scripts/test.sh sets it; skipped without it,
// except under CI=true): each test uses a scratch database.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/store_backend.h"

namespace ruta {
namespace {

using testing::InProcessNode;
using testing::NodeSetup;
using testing::OfficeClient;
using testing::RequestIdFor;

constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";

class PostgresNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::PostgresTestConninfo().has_value()) {
      if (testing::PostgresRequired()) {
        FAIL() << testing::MissingPostgresMessage();
      }
      GTEST_SKIP() << testing::MissingPostgresMessage();
    }
    absl::StatusOr<std::unique_ptr<testing::ScratchPostgresDatabase>> db =
        testing::ScratchPostgresDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }

  NodeSetup Setup() const {
    NodeSetup setup;
    setup.region = kMdd;
    setup.database = absl::StrCat("postgres:", db_->conninfo());
    setup.relay_takeover_poll_ms = 100;
    // A peer that is never up: transfers to Cusco can be requested, and
    // queue.
    setup.peers = {
        {kCusco, absl::StrCat("127.0.0.1:", testing::PickFreePort())}};
    return setup;
  }

  std::unique_ptr<testing::ScratchPostgresDatabase> db_;
};

TEST_F(PostgresNodeTest, CaseSurvivesARestart) {
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  NodeSetup setup = Setup();
  setup.data_dir = testing::MakeTempDir("pgnode");
  std::string case_id;
  int64_t version = 0;
  {
    std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
    ASSERT_NE(node, nullptr);
    OfficeClient office(node->address(), kMdd);
    absl::StatusOr<v1::Case> opened = office.OpenCaseInCare(salt, 1);
    ASSERT_TRUE(opened.ok()) << opened.status();
    case_id = opened->case_id();
    version = opened->version();
    absl::StatusOr<v1::Case> read = office.GetCase(case_id);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->version(), version);
    EXPECT_EQ(read->stage(), v1::STAGE_RESIDENTIAL_CARE);
  }
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  OfficeClient office(node->address(), kMdd);
  absl::StatusOr<v1::Case> read = office.GetCase(case_id);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), version);
  EXPECT_EQ(read->stage(), v1::STAGE_RESIDENTIAL_CARE);
  // The same request again has no second effect, on the restarted node.
  absl::StatusOr<v1::Case> again = office.OpenCaseInCare(salt, 1);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->case_id(), case_id);
}

TEST_F(PostgresNodeTest, ReplicasShareDataAndWatchersSeeTheOthersCommits) {
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  std::unique_ptr<InProcessNode> a = InProcessNode::Start(Setup());
  ASSERT_NE(a, nullptr);
  std::unique_ptr<InProcessNode> b = InProcessNode::Start(Setup());
  ASSERT_NE(b, nullptr);
  OfficeClient on_a(a->address(), kMdd);
  OfficeClient on_b(b->address(), kMdd);

  // A watcher on B, then a transfer requested on A.
  auto ctx = testing::ContextWithDeadline(absl::Seconds(20));
  v1::WatchTransfersRequest request;
  auto reader = on_b.stub().WatchTransfers(ctx.get(), request);
  absl::StatusOr<v1::Case> c = on_a.OpenCaseInCare(salt, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<v1::Transfer> t =
      on_a.Request(RequestIdFor(salt, 7), c->case_id(), kCusco, "0801");
  ASSERT_TRUE(t.ok()) << t.status();
  const absl::Time committed = absl::Now();
  v1::WatchTransfersResponse update;
  bool seen = false;
  while (reader->Read(&update)) {
    if (update.transfer().transfer_id() == t->transfer_id()) {
      seen = true;
      break;
    }
  }
  ASSERT_TRUE(seen) << reader->Finish().error_message();
  // Woken by the replica change poll (250 ms), not by the watch's deadline.
  EXPECT_LT(absl::Now() - committed, absl::Seconds(3));
  ctx->TryCancel();
  (void)reader->Finish();

  // B reads what A wrote, and A what B writes.
  absl::StatusOr<v1::Transfer> read = on_b.Get(t->transfer_id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->state(), v1::TRANSFER_STATE_REQUESTED);
  absl::StatusOr<v1::Case> d = on_b.OpenCaseInCare(salt, 2);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<v1::Case> d_on_a = on_a.GetCase(d->case_id());
  ASSERT_TRUE(d_on_a.ok()) << d_on_a.status();
  EXPECT_EQ(d_on_a->version(), d->version());
}

// Events committed on the replica that does not relay reach the peer too:
// the relaying replica finds them by its poll, not by an in-process wake-up.
TEST_F(PostgresNodeTest, EventsWrittenOnTheStandbyAreRelayed) {
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  const int cusco_port = testing::PickFreePort();
  NodeSetup mdd = Setup();
  mdd.peers = {{kCusco, absl::StrCat("127.0.0.1:", cusco_port)}};
  mdd.relay_initial_backoff_ms = 50;
  mdd.relay_max_backoff_ms = 500;
  std::unique_ptr<InProcessNode> relaying = InProcessNode::Start(mdd);
  ASSERT_NE(relaying, nullptr);
  absl::SleepFor(absl::Milliseconds(300));  // it takes the relay lease
  std::unique_ptr<InProcessNode> standby = InProcessNode::Start(mdd);
  ASSERT_NE(standby, nullptr);
  NodeSetup cusco_setup;
  cusco_setup.region = kCusco;
  cusco_setup.listen_address = absl::StrCat("127.0.0.1:", cusco_port);
  cusco_setup.peers = {{kMdd, relaying->address()}};
  std::unique_ptr<InProcessNode> cusco = InProcessNode::Start(cusco_setup);
  ASSERT_NE(cusco, nullptr);

  OfficeClient on_standby(standby->address(), kMdd);
  absl::StatusOr<v1::Case> c = on_standby.OpenCaseInCare(salt, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<v1::Transfer> t =
      on_standby.Request(RequestIdFor(salt, 7), c->case_id(), kCusco, "0801");
  ASSERT_TRUE(t.ok()) << t.status();
  OfficeClient on_cusco(cusco->address(), kCusco);
  absl::StatusOr<v1::Transfer> arrived = on_cusco.WaitFor(
      t->transfer_id(),
      [](const v1::Transfer& x) {
        return x.state() == v1::TRANSFER_STATE_REQUESTED;
      },
      absl::Seconds(10));
  ASSERT_TRUE(arrived.ok()) << arrived.status();
  EXPECT_EQ(arrived->transfer_id(), t->transfer_id());
}

}  // namespace
}  // namespace ruta
