// `ruta stats` helpers: quarter and region parsing, and how a released table
// is printed ("<k" for suppressed cells, statistics, the peers' freshness).
#include "ruta/cli/stats.h"

#include <sstream>

#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

TEST(StatsTest, ParsesQuarters) {
  auto q = ParseQuarter("--from", "2026Q1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->year(), 2026);
  EXPECT_EQ(q->quarter(), 1);
  q = ParseQuarter("--to", "2027-q4");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->year(), 2027);
  EXPECT_EQ(q->quarter(), 4);
  for (const char* bad :
       {"2026Q5", "2026Q0", "26Q1", "2026", "1999Q1", "Q12026", "2026Q1x"}) {
    auto r = ParseQuarter("--from", bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(std::string(r.status().message()).find("--from"),
              std::string::npos);
  }
}

TEST(StatsTest, ParsesRegionListsWithTheAlias) {
  auto r = ParseRegionList("--regions", "Cuzco, madre_de_dios,cusco");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<std::string>{"cusco", "madre-de-dios"}));
  r = ParseRegionList("--regions", "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(ParseRegionList("--regions", "cusco,l1ma").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StatsTest, CurrentQuarterIsPeruTime) {
  // 2026-04-01 03:00 UTC is still 2026-03-31 in Peru (UTC-5).
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 4, 1, 3, 0, 0),
                                       absl::UTCTimeZone());
  EXPECT_EQ(CurrentQuarter(t).quarter(), 1);
  EXPECT_EQ(CurrentQuarter(t + absl::Hours(3)).quarter(), 2);
}

TEST(StatsTest, PrintsSuppressedCellsStatisticsAndPeers) {
  ruta::v1::GetTableRequest request;
  request.mutable_from_quarter()->set_year(2026);
  request.mutable_from_quarter()->set_quarter(1);
  request.mutable_to_quarter()->set_year(2026);
  request.mutable_to_quarter()->set_quarter(4);
  ruta::v1::GetTableResponse table;
  table.set_table("cases_by_age_sex");
  table.add_dimensions("age_band");
  table.set_column_dimension("sex");
  for (const char* c : {"FEMALE", "MALE", "TOTAL"}) table.add_columns(c);
  table.set_threshold(10);
  table.add_regions("cusco");
  auto* row = table.add_rows();
  row->add_labels("15_17");
  row->add_cells()->set_count(27);
  row->add_cells()->set_suppressed(true);
  row->add_cells()->set_statistic(12.25);
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  auto* fresh = table.add_peers();
  fresh->set_region("madre-de-dios");
  fresh->mutable_fetched_at()->set_seconds(1800000000 - 90);
  fresh->set_stale(true);
  auto* missing = table.add_peers();
  missing->set_region("puno");
  missing->set_missing(true);

  std::ostringstream out;
  WriteStatsTable(out, "Casos por grupo de edad y sexo", request, table, now);
  const std::string text = out.str();
  EXPECT_NE(text.find("cases_by_age_sex — Casos por grupo de edad y sexo"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("quarters 2026Q1 to 2026Q4"), std::string::npos) << text;
  EXPECT_NE(text.find("AGE_BAND \\ SEX"), std::string::npos) << text;
  EXPECT_NE(text.find("15_17"), std::string::npos);
  EXPECT_NE(text.find("27"), std::string::npos);
  EXPECT_NE(text.find("<10"), std::string::npos) << text;
  EXPECT_NE(text.find("12.3"), std::string::npos) << text;
  EXPECT_NE(text.find("peer madre-de-dios: counts fetched 1m30s ago — STALE"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("peer puno: MISSING"), std::string::npos) << text;
}

}  // namespace
}  // namespace ruta::cli
