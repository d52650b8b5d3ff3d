// Dashboard tables in the core: merging counters of regions over a quarter
// range, the layout of released tables, medians and percentiles of merged
// day histograms, quarter ranges.
#include "ruta/core/dashboard.h"

#include "gtest/gtest.h"
#include "ruta/core/aggregates.h"

namespace ruta::core {
namespace {

const DashboardTableSpec& Spec(const std::string& name) {
  const DashboardTableSpec* spec = FindDashboardTable(name);
  EXPECT_NE(spec, nullptr) << name;
  return *spec;
}

std::string Cell(const DashboardCell& c) {
  switch (c.kind) {
    case DashboardCell::Kind::kCount:
      return std::to_string(c.count);
    case DashboardCell::Kind::kSuppressed:
      return "<k";
    case DashboardCell::Kind::kStatistic:
      return std::to_string(c.statistic);
  }
  return "?";
}

TEST(DashboardTest, MergesRegionsWithinTheQuarterRange) {
  RegionCounters cusco{{"cases_by_stage",
                        {{"cusco|2026Q1|IDENTIFIED", 7},
                         {"cusco|2026Q2|IDENTIFIED", 5},
                         {"cusco|2027Q1|IDENTIFIED", 100},
                         {"cusco|2025Q4|CLOSED", 100}}}};
  RegionCounters mdd{{"cases_by_stage",
                      {{"madre-de-dios|2026Q4|IDENTIFIED", 1},
                       {"madre-de-dios|2026Q3|CLOSED", 12}}}};
  const QuarterRange year{2026, 1, 2026, 4};
  std::map<std::string, int64_t> merged =
      MergeCounters({&cusco, &mdd}, "cases_by_stage", year);
  EXPECT_EQ(merged, (std::map<std::string, int64_t>{{"IDENTIFIED", 13},
                                                    {"CLOSED", 12}}));
  absl::StatusOr<DashboardTable> table =
      BuildDashboardTable(Spec("cases_by_stage"), {&cusco, &mdd}, year, 10);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->columns, std::vector<std::string>{"cases"});
  ASSERT_EQ(table->rows.size(), 13u);  // 12 stages and TOTAL
  EXPECT_EQ(table->rows[0].labels[0], "DETECTED");
  EXPECT_EQ(table->rows[1].labels[0], "IDENTIFIED");
  EXPECT_EQ(Cell(table->rows[1].cells[0]), "13");
  EXPECT_EQ(table->rows[10].labels[0], "CLOSED");
  EXPECT_EQ(Cell(table->rows[10].cells[0]), "12");
  EXPECT_EQ(Cell(table->rows[0].cells[0]), "<k");  // 0 is below k too
  EXPECT_EQ(table->rows[12].labels[0], "TOTAL");
  EXPECT_EQ(Cell(table->rows[12].cells[0]), "25");
  // One region only.
  table = BuildDashboardTable(Spec("cases_by_stage"), {&mdd}, year, 10);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(Cell(table->rows[10].cells[0]), "12");
  EXPECT_EQ(Cell(table->rows[1].cells[0]), "<k");
}

TEST(DashboardTest, CrossedTablesHaveTotalsAndFormsHaveNone) {
  RegionCounters r{
      {"cases_by_age_sex",
       {{"cusco|2026Q1|12_14|FEMALE", 30},
        {"cusco|2026Q1|12_14|MALE", 20},
        {"cusco|2026Q1|15_17|FEMALE", 40},
        {"cusco|2026Q1|15_17|MALE", 3}}},
      {"cases_by_exploitation_form",
       {{"cusco|2026Q1|SEXUAL", 40}, {"cusco|2026Q1|LABOUR", 20}}}};
  const QuarterRange q{2026, 1, 2026, 1};
  absl::StatusOr<DashboardTable> t =
      BuildDashboardTable(Spec("cases_by_age_sex"), {&r}, q, 10);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column_dimension, "sex");
  EXPECT_EQ(t->columns,
            (std::vector<std::string>{"FEMALE", "MALE", "OTHER", "TOTAL"}));
  ASSERT_EQ(t->rows.size(), 6u);  // 5 age bands and TOTAL
  EXPECT_EQ(t->rows[2].labels[0], "12_14");
  EXPECT_EQ(Cell(t->rows[2].cells[0]), "30");
  EXPECT_EQ(Cell(t->rows[3].cells[1]), "<k");  // 3
  EXPECT_EQ(t->rows[5].labels[0], "TOTAL");
  for (const DashboardRow& row : t->rows) {
    EXPECT_EQ(row.cells.size(), t->columns.size());
  }
  t = BuildDashboardTable(Spec("cases_by_exploitation_form"), {&r}, q, 10);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 5u);  // no TOTAL: a case counts under each form
  EXPECT_EQ(Cell(t->rows[0].cells[0]), "40");
  EXPECT_EQ(Cell(t->rows[1].cells[0]), "20");
}

TEST(DashboardTest, TransferTimesReleaseStatisticsOfMergedHistograms) {
  // 10 acceptances over two regions: days 1 x4, 2 x3, 5 x2, 30 x1.
  RegionCounters a{{"transfer_times",
                    {{"cusco|2026Q1|ACCEPTANCE|1", 4},
                     {"cusco|2026Q1|ACCEPTANCE|5", 2},
                     {"cusco|2026Q1|ARRIVAL|9", 3}}}};
  RegionCounters b{{"transfer_times",
                    {{"madre-de-dios|2026Q2|ACCEPTANCE|2", 3},
                     {"madre-de-dios|2026Q2|ACCEPTANCE|30", 1}}}};
  absl::StatusOr<DashboardTable> t = BuildDashboardTable(
      Spec("transfer_times"), {&a, &b}, {2026, 1, 2026, 2}, 10);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(Cell(t->rows[0].cells[0]), "10");
  EXPECT_EQ(t->rows[0].cells[1].kind, DashboardCell::Kind::kStatistic);
  EXPECT_DOUBLE_EQ(t->rows[0].cells[1].statistic, 2.0);  // ranks 5, 6
  EXPECT_DOUBLE_EQ(t->rows[0].cells[2].statistic, 5.0);  // rank 9
  // 3 arrivals: below k, nothing released.
  for (const DashboardCell& c : t->rows[1].cells) {
    EXPECT_EQ(c.kind, DashboardCell::Kind::kSuppressed);
  }
  DayStatistics odd = TransferDayStatistics({{3, 1}, {4, 1}, {10, 1}});
  EXPECT_EQ(odd.count, 3);
  EXPECT_DOUBLE_EQ(odd.median, 4.0);
  EXPECT_DOUBLE_EQ(odd.p90, 10.0);
}

TEST(DashboardTest, QuarterRangesAreChecked) {
  EXPECT_TRUE(ValidateQuarterRange({2026, 1, 2026, 4}, 40).ok());
  EXPECT_FALSE(ValidateQuarterRange({2026, 0, 2026, 4}, 40).ok());
  EXPECT_FALSE(ValidateQuarterRange({2026, 1, 2026, 5}, 40).ok());
  EXPECT_FALSE(ValidateQuarterRange({2027, 1, 2026, 4}, 40).ok());
  EXPECT_FALSE(ValidateQuarterRange({2000, 1, 2026, 4}, 40).ok());
  EXPECT_EQ(QuarterRange({2025, 3, 2026, 2}).quarters(), 4);
}

TEST(DashboardTest, EveryTableHasASpanishTitleAndKnownSources) {
  for (const DashboardTableSpec& spec : DashboardTables()) {
    EXPECT_FALSE(spec.title.empty()) << spec.name;
    EXPECT_FALSE(spec.dimensions.empty()) << spec.name;
    absl::StatusOr<DashboardTable> t =
        BuildDashboardTable(spec, {}, {2026, 1, 2026, 1}, 10);
    ASSERT_TRUE(t.ok()) << spec.name << ": " << t.status();
    for (const DashboardRow& row : t->rows) {
      EXPECT_EQ(row.cells.size(), t->columns.size()) << spec.name;
      EXPECT_EQ(row.labels.size(), t->dimensions.size()) << spec.name;
    }
  }
  EXPECT_NE(DashboardTableNames().find("cases_by_stage"), std::string::npos);
  EXPECT_EQ(BuildDashboardTable(*FindDashboardTable("cases_by_stage"), {},
                                {2026, 1, 2026, 1}, 4)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::core
