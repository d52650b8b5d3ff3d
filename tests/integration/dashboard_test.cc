// The mayors' network dashboard over two in-process nodes, Cusco and Madre
// de Dios, peers of each other over real mutual TLS: each node serves its
// own region's raw counts to the other (Federation.GetAggregateCounts) and
// releases merged tables under disclosure control (Dashboard.GetTable).
// 12 cases are opened in Cusco and 15 in Madre de Dios, one of which is
// transferred to Cusco through RECEIVED: whichever node is asked, the merged
// table counts it once, in Cusco; cells below k = 10 are suppressed.
#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::OfficeClient;
using testing::RequestIdFor;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";

// The cases are identified in 2026-10 (VictimOpenCaseRequest).
v1::GetTableRequest TableRequest(const std::string& table,
                                 std::vector<std::string> regions = {}) {
  v1::GetTableRequest request;
  request.set_table(table);
  for (const std::string& r : regions) request.add_regions(r);
  request.mutable_from_quarter()->set_year(2026);
  request.mutable_from_quarter()->set_quarter(1);
  request.mutable_to_quarter()->set_year(2026);
  request.mutable_to_quarter()->set_quarter(4);
  return request;
}

// The cell of row `label` in column `column`; fails the test if absent.
const v1::Cell* CellOf(const v1::GetTableResponse& table,
                       const std::string& label, const std::string& column) {
  int c = -1;
  for (int i = 0; i < table.columns_size(); ++i) {
    if (table.columns(i) == column) c = i;
  }
  EXPECT_GE(c, 0) << "no column " << column;
  for (const v1::Row& row : table.rows()) {
    if (row.labels_size() > 0 && row.labels(0) == label && c >= 0 &&
        c < row.cells_size()) {
      return &row.cells(c);
    }
  }
  ADD_FAILURE() << "no row " << label << " in " << table.ShortDebugString();
  return nullptr;
}

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* region : {kCusco, kMdd}) {
      ports_[region] = testing::PickFreePort();
      dirs_[region] = testing::MakeTempDir(absl::StrCat("dashboard-", region));
    }
    for (const char* region : {kCusco, kMdd}) StartNode(region);
    Populate();
  }
  static void TearDownTestSuite() {
    for (auto& [region, node] : nodes_) node.reset();
  }
  static void StartNode(const std::string& region) {
    const std::string other = region == kCusco ? kMdd : kCusco;
    testing::NodeSetup setup;
    setup.region = region;
    setup.data_dir = dirs_[region];
    setup.listen_address = Address(region);
    setup.peers = {{other, Address(other)}};
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 500;
    setup.relay_ack_timeout_ms = 3000;
    // Cusco refetches its peer's counts when they are older than 2 s.
    if (region == kCusco) setup.dashboard_peer_counts_max_age_seconds = 2;
    nodes_[region] = InProcessNode::Start(setup);
    ASSERT_NE(nodes_[region], nullptr);
  }
  static std::string Address(const std::string& region) {
    return absl::StrCat("127.0.0.1:", ports_[region]);
  }

  // 12 cases in Cusco, 15 in Madre de Dios, one of them moved to Cusco.
  static void Populate() {
    OfficeClient cusco(Address(kCusco), kCusco);
    OfficeClient mdd(Address(kMdd), kMdd);
    const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    uint64_t n = 0;
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE(cusco.OpenCaseInCare(salt, n++).ok());
    }
    std::string moved;
    for (int i = 0; i < 15; ++i) {
      absl::StatusOr<v1::Case> c = mdd.OpenCaseInCare(salt, n++);
      ASSERT_TRUE(c.ok()) << c.status();
      moved = c->case_id();
    }
    auto rid = [&] { return RequestIdFor(salt, 10000 + n++); };
    absl::StatusOr<v1::Transfer> t = mdd.Request(rid(), moved, kCusco, "0801");
    ASSERT_TRUE(t.ok()) << t.status();
    const std::string id = t->transfer_id();
    auto in = [](v1::TransferState s) {
      return [s](const v1::Transfer& x) { return x.state() == s; };
    };
    ASSERT_TRUE(cusco.WaitFor(id, in(v1::TRANSFER_STATE_REQUESTED)).ok());
    ASSERT_TRUE(cusco.Accept(rid(), id).ok());
    ASSERT_EQ(mdd.WaitFor(id, in(v1::TRANSFER_STATE_ACCEPTED))->state(),
              v1::TRANSFER_STATE_ACCEPTED);
    ASSERT_TRUE(mdd.Depart(rid(), id).ok());
    ASSERT_EQ(cusco.WaitFor(id, in(v1::TRANSFER_STATE_IN_TRANSIT))->state(),
              v1::TRANSFER_STATE_IN_TRANSIT);
    ASSERT_TRUE(cusco.Receive(rid(), id).ok());
    ASSERT_EQ(mdd.WaitFor(id, in(v1::TRANSFER_STATE_RECEIVED))->state(),
              v1::TRANSFER_STATE_RECEIVED);
    absl::StatusOr<v1::Case> at_mdd = mdd.GetCase(moved);
    ASSERT_TRUE(at_mdd.ok()) << at_mdd.status();
    ASSERT_EQ(at_mdd->owner_region(), kCusco);
  }

  // Dashboard.GetTable on `region`'s node with its dashboard certificate.
  static grpc::Status GetTable(const std::string& region,
                               const v1::GetTableRequest& request,
                               v1::GetTableResponse* response,
                               const testing::KeyPair* identity = nullptr) {
    const testing::KeyPair mayors =
        DevPki::Get().Leaf(region, "dashboard", "mayors");
    auto stub = v1::Dashboard::NewStub(testing::MakeChannel(
        Address(region), identity != nullptr ? *identity : mayors, region));
    auto context = ContextWithDeadline(absl::Seconds(15));
    return stub->GetTable(context.get(), request, response);
  }

  static std::map<std::string, int> ports_;
  static std::map<std::string, std::string> dirs_;
  static std::map<std::string, std::unique_ptr<InProcessNode>> nodes_;
};

std::map<std::string, int> DashboardTest::ports_;
std::map<std::string, std::string> DashboardTest::dirs_;
std::map<std::string, std::unique_ptr<InProcessNode>> DashboardTest::nodes_;

TEST_F(DashboardTest, EachNodeReleasesTheSameMergedTableCountingEachCaseOnce) {
  v1::GetTableResponse from_cusco, from_mdd;
  grpc::Status s =
      GetTable(kCusco, TableRequest("cases_by_stage"), &from_cusco);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = GetTable(kMdd, TableRequest("cases_by_stage"), &from_mdd);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const v1::GetTableResponse* t : {&from_cusco, &from_mdd}) {
    SCOPED_TRACE(t->ShortDebugString());
    EXPECT_EQ(t->table(), "cases_by_stage");
    EXPECT_THAT(t->dimensions(), ::testing::ElementsAre("stage"));
    EXPECT_THAT(t->columns(), ::testing::ElementsAre("cases"));
    EXPECT_EQ(t->threshold(), 10);
    EXPECT_THAT(t->regions(), ::testing::ElementsAre(kCusco, kMdd));
    ASSERT_EQ(t->peers_size(), 1);
    EXPECT_FALSE(t->peers(0).missing());
    EXPECT_FALSE(t->peers(0).stale());
    EXPECT_TRUE(t->peers(0).has_fetched_at());
    // 27 cases, the transferred one once.
    const v1::Cell* total = CellOf(*t, "TOTAL", "cases");
    ASSERT_NE(total, nullptr);
    EXPECT_EQ(total->count(), 27);
    // 26 still in residential care; the one RECEIVED is below k.
    const v1::Cell* received = CellOf(*t, "RECEIVED", "cases");
    ASSERT_NE(received, nullptr);
    EXPECT_TRUE(received->suppressed());
    const v1::Cell* care = CellOf(*t, "RESIDENTIAL_CARE", "cases");
    ASSERT_NE(care, nullptr);
    if (!care->suppressed()) {
      EXPECT_EQ(care->count(), 26);
    }
    // Every stage has its row, then TOTAL.
    EXPECT_EQ(t->rows_size(), 13);
  }
  // The same release from either node (only the peers part differs).
  EXPECT_EQ(from_cusco.rows_size(), from_mdd.rows_size());
  for (int i = 0; i < from_cusco.rows_size() && i < from_mdd.rows_size(); ++i) {
    EXPECT_EQ(from_cusco.rows(i).ShortDebugString(),
              from_mdd.rows(i).ShortDebugString());
  }
  EXPECT_EQ(from_cusco.peers(0).region(), kMdd);
  EXPECT_EQ(from_mdd.peers(0).region(), kCusco);
}

TEST_F(DashboardTest, CountsAreByOwnerRegion) {
  // Asked of either node, Cusco's part holds its 12 cases and the one it
  // received, Madre de Dios's the 14 it kept.
  for (const char* node : {kCusco, kMdd}) {
    v1::GetTableResponse cusco, mdd;
    ASSERT_TRUE(
        GetTable(node, TableRequest("cases_by_age_sex", {kCusco}), &cusco)
            .ok());
    ASSERT_TRUE(
        GetTable(node, TableRequest("cases_by_age_sex", {kMdd}), &mdd).ok());
    EXPECT_EQ(cusco.column_dimension(), "sex");
    EXPECT_THAT(cusco.columns(),
                ::testing::ElementsAre("FEMALE", "MALE", "OTHER", "TOTAL"));
    EXPECT_THAT(cusco.regions(), ::testing::ElementsAre(kCusco));
    EXPECT_THAT(mdd.regions(), ::testing::ElementsAre(kMdd));
    EXPECT_EQ(CellOf(cusco, "15_17", "FEMALE")->count(), 13) << node;
    EXPECT_EQ(CellOf(mdd, "15_17", "FEMALE")->count(), 14) << node;
    EXPECT_EQ(CellOf(cusco, "TOTAL", "TOTAL")->count(), 13) << node;
  }
  // Transfers are counted by the sending region, once.
  v1::GetTableResponse transfers;
  ASSERT_TRUE(
      GetTable(kCusco, TableRequest("transfers_by_state"), &transfers).ok());
  EXPECT_TRUE(CellOf(transfers, "RECEIVED", "transfers")->suppressed());
  v1::GetTableResponse times;
  ASSERT_TRUE(GetTable(kCusco, TableRequest("transfer_times"), &times).ok());
  EXPECT_THAT(times.columns(),
              ::testing::ElementsAre("transfers", "median_days", "p90_days"));
  // One transfer: below k, so no statistic is released.
  EXPECT_TRUE(CellOf(times, "ARRIVAL", "median_days")->suppressed());
}

TEST_F(DashboardTest, EveryListedTableIsReleased) {
  const testing::KeyPair mayors =
      DevPki::Get().Leaf(kCusco, "dashboard", "mayors");
  auto stub = v1::Dashboard::NewStub(
      testing::MakeChannel(Address(kCusco), mayors, kCusco));
  v1::ListTablesResponse list;
  auto context = ContextWithDeadline();
  ASSERT_TRUE(stub->ListTables(context.get(), {}, &list).ok());
  EXPECT_GE(list.tables_size(), 13);
  for (const v1::TableInfo& info : list.tables()) {
    SCOPED_TRACE(info.name());
    EXPECT_FALSE(info.title().empty());
    EXPECT_FALSE(info.dimensions().empty());
    v1::GetTableResponse table;
    grpc::Status s = GetTable(kCusco, TableRequest(info.name()), &table);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(table.columns().empty());
    for (const v1::Row& row : table.rows()) {
      EXPECT_EQ(row.cells_size(), table.columns_size());
      EXPECT_EQ(row.labels_size(), table.dimensions_size());
    }
  }
}

TEST_F(DashboardTest, InvalidRequestsSayWhatToFix) {
  v1::GetTableResponse table;
  grpc::Status s = GetTable(kCusco, TableRequest("cases_by_moon"), &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("cases_by_stage"));
  s = GetTable(kCusco, TableRequest("cases_by_stage", {"puno"}), &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("cusco, madre-de-dios"));
  v1::GetTableRequest bad = TableRequest("cases_by_stage");
  bad.mutable_to_quarter()->set_quarter(5);
  s = GetTable(kCusco, bad, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("quarter 1 to 4"));
  bad = TableRequest("cases_by_stage");
  bad.mutable_from_quarter()->set_year(2027);
  s = GetTable(kCusco, bad, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("is after"));
  bad = TableRequest("cases_by_stage");
  bad.mutable_from_quarter()->set_year(2010);
  s = GetTable(kCusco, bad, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("at most 40"));
  bad.clear_from_quarter();
  s = GetTable(kCusco, bad, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("required"));
}

TEST_F(DashboardTest, OnlyDashboardsReadTablesAndOnlyPeersReadCounts) {
  v1::GetTableResponse table;
  const testing::KeyPair office = DevPki::Get().Office(kCusco);
  grpc::Status s =
      GetTable(kCusco, TableRequest("cases_by_stage"), &table, &office);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::GetAggregateCountsRequest request;
  request.mutable_from_quarter()->set_year(2026);
  request.mutable_from_quarter()->set_quarter(1);
  request.mutable_to_quarter()->set_year(2026);
  request.mutable_to_quarter()->set_quarter(4);
  v1::GetAggregateCountsResponse counts;
  {
    auto stub = v1::Federation::NewStub(
        testing::MakeChannel(Address(kCusco), office, kCusco));
    auto context = ContextWithDeadline();
    s = stub->GetAggregateCounts(context.get(), request, &counts);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // The peer gets the raw counts of Cusco's own keys only.
  auto stub = v1::Federation::NewStub(
      testing::MakeChannel(Address(kCusco), DevPki::Get().Node(kMdd), kCusco));
  auto context = ContextWithDeadline();
  s = stub->GetAggregateCounts(context.get(), request, &counts);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(counts.region(), kCusco);
  ASSERT_GT(counts.counts_size(), 0);
  int64_t cases = 0;
  for (const v1::AggregateCount& c : counts.counts()) {
    EXPECT_EQ(c.key().rfind("cusco|", 0), 0u) << c.key();
    if (c.table() == "cases_by_stage") cases += c.value();
  }
  EXPECT_EQ(cases, 13);
}

// `ruta stats` with the mayors' certificate prints the merged tables.
TEST_F(DashboardTest, RutaStatsPrintsTheTables) {
  const std::string config = absl::StrCat(dirs_[kCusco], "/mayors-cli.json");
  const testing::KeyPair mayors =
      DevPki::Get().Leaf(kCusco, "dashboard", "mayors");
  std::ofstream(config) << "{\"node\": \"" << Address(kCusco)
                        << "\", \"cert\": \"" << mayors.cert_file
                        << "\", \"key\": \"" << mayors.key_file
                        << "\", \"ca\": \"" << DevPki::Get().TrustBundle()
                        << "\", \"server_region\": \"cusco\"}\n";
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::CliBinary(), "--config", config,
                                     "--retries",          "0",        "stats"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, absl::Seconds(60));
  };
  testing::ProcessResult r =
      run({"--table", "cases_by_stage", "--regions", "cuzco,madre-de-dios",
           "--from", "2026Q1", "--to", "2026Q4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cases_by_stage"));
  EXPECT_THAT(r.out, HasSubstr("regions: cusco, madre-de-dios"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("RESIDENTIAL_CARE +26"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("RECEIVED +<10"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("TOTAL +27"));
  EXPECT_THAT(r.out, HasSubstr("peer madre-de-dios: counts fetched"));
  // Every table, as JSON lines.
  r = run({"--from", "2026Q1", "--to", "2026Q4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 13);
  EXPECT_THAT(r.out, HasSubstr("\"table\":\"transfer_times\""));
  // A bad quarter is refused before anything is sent.
  r = run({"--from", "2026Q7"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--from"));
  // An office certificate may not read the dashboard.
  const std::string office_config =
      absl::StrCat(dirs_[kCusco], "/office-cli.json");
  const testing::KeyPair office = DevPki::Get().Office(kCusco);
  std::ofstream(office_config)
      << "{\"node\": \"" << Address(kCusco) << "\", \"cert\": \""
      << office.cert_file << "\", \"key\": \"" << office.key_file
      << "\", \"ca\": \"" << DevPki::Get().TrustBundle() << "\"}\n";
  r = testing::RunProcess({testing::CliBinary(), "--config", office_config,
                           "--retries", "0", "stats"},
                          absl::Seconds(60));
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
}

// Last: stops Madre de Dios.
TEST_F(DashboardTest, ZzPeerDownIsFlaggedAndItsRegionLeftOut) {
  // Fetched once, then answered from the cache while younger than 2 s.
  v1::GetTableResponse table, again;
  ASSERT_TRUE(GetTable(kCusco, TableRequest("cases_by_stage"), &table).ok());
  ASSERT_TRUE(GetTable(kCusco, TableRequest("cases_by_stage"), &again).ok());
  ASSERT_EQ(table.peers_size(), 1);
  ASSERT_EQ(again.peers_size(), 1);
  EXPECT_FALSE(again.peers(0).stale());
  if (absl::Now() <
      absl::FromUnixSeconds(table.peers(0).fetched_at().seconds()) +
          absl::Seconds(2)) {  // the second call was within the 2 s
    EXPECT_EQ(again.peers(0).fetched_at().ShortDebugString(),
              table.peers(0).fetched_at().ShortDebugString());
  }
  nodes_[kMdd].reset();
  grpc::Status s;
  // Older than 2 s and the peer unreachable: the same counts, flagged stale.
  absl::SleepFor(absl::Milliseconds(2100));
  s = GetTable(kCusco, TableRequest("cases_by_stage"), &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(table.regions(), ::testing::ElementsAre(kCusco, kMdd));
  EXPECT_TRUE(table.peers(0).stale());
  EXPECT_FALSE(table.peers(0).missing());
  EXPECT_TRUE(table.peers(0).has_fetched_at());
  EXPECT_EQ(CellOf(table, "TOTAL", "cases")->count(), 27);
  // A range never fetched: Madre de Dios is missing, only Cusco included.
  v1::GetTableRequest request = TableRequest("cases_by_stage");
  request.mutable_from_quarter()->set_year(2025);
  request.mutable_to_quarter()->set_year(2025);
  s = GetTable(kCusco, request, &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(table.regions(), ::testing::ElementsAre(kCusco));
  ASSERT_EQ(table.peers_size(), 1);
  EXPECT_EQ(table.peers(0).region(), kMdd);
  EXPECT_TRUE(table.peers(0).missing());
  EXPECT_FALSE(table.peers(0).has_fetched_at());
  // Only Cusco asked for: no peer is involved.
  s = GetTable(kCusco, TableRequest("cases_by_stage", {kCusco}), &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(table.regions(), ::testing::ElementsAre(kCusco));
  EXPECT_EQ(table.peers_size(), 0);
}

}  // namespace
}  // namespace ruta
