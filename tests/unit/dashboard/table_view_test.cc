#include "ruta/dashboard/table_view.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/web/http.h"
#include "ruta/web/labels.h"

namespace ruta::dashboard {
namespace {

using web::HeaderLabel;
using web::JsonString;
using web::RegionName;
using web::ValueLabel;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::Cell Count(int64_t n) {
  v1::Cell c;
  c.set_count(n);
  return c;
}
v1::Cell Suppressed() {
  v1::Cell c;
  c.set_suppressed(true);
  return c;
}
v1::Cell Statistic(double x) {
  v1::Cell c;
  c.set_statistic(x);
  return c;
}

void AddRow(v1::GetTableResponse& r, std::vector<std::string> labels,
            std::vector<v1::Cell> cells) {
  v1::Row* row = r.add_rows();
  for (auto& l : labels) row->add_labels(l);
  for (auto& c : cells) *row->add_cells() = c;
}

v1::GetTableResponse ByStage(int threshold) {
  v1::GetTableResponse r;
  r.set_table("cases_by_stage");
  r.add_dimensions("region");
  r.add_dimensions("stage");
  r.add_columns("cases");
  r.set_threshold(threshold);
  r.add_regions("cusco");
  r.add_regions("madre-de-dios");
  AddRow(r, {"cusco", "RESIDENTIAL_CARE"}, {Count(12)});
  AddRow(r, {"cusco", "IMMEDIATE_PROTECTION"}, {Suppressed()});
  AddRow(r, {"madre-de-dios", "STAGE_IMMEDIATE_PROTECTION"}, {Suppressed()});
  return r;
}

TEST(CellTextTest, CountsSuppressedAndStatistics) {
  EXPECT_EQ(CellText(Count(12), 10), "12");
  EXPECT_EQ(CellText(Count(0), 10), "0");
  EXPECT_EQ(CellText(Suppressed(), 10), "<10");
  EXPECT_EQ(CellText(Suppressed(), 5), "<5");
  EXPECT_EQ(CellText(Statistic(12.25), 10), "12.2");
  EXPECT_EQ(CellText(Statistic(3), 10), "3.0");
  EXPECT_EQ(CellText(v1::Cell(), 10), "");
}

TEST(LabelsTest, EnumsRegionsProvincesAndQuartersInSpanish) {
  EXPECT_EQ(ValueLabel("IMMEDIATE_PROTECTION"), "Protección inmediata");
  EXPECT_EQ(ValueLabel("STAGE_IMMEDIATE_PROTECTION"), "Protección inmediata");
  EXPECT_EQ(ValueLabel("RESIDENTIAL_CARE"), "Acogimiento residencial");
  EXPECT_EQ(ValueLabel("12_14"), "12 a 14 años");
  EXPECT_EQ(ValueLabel("AGE_BAND_18_PLUS"), "18 años o más");
  EXPECT_EQ(ValueLabel("FEMALE"), "Femenino");
  EXPECT_EQ(ValueLabel("SEX_MALE"), "Masculino");
  EXPECT_EQ(ValueLabel("cusco"), "Cusco");
  EXPECT_EQ(ValueLabel("madre-de-dios"), "Madre de Dios");
  EXPECT_EQ(ValueLabel("0812"), "Quispicanchi");
  EXPECT_EQ(ValueLabel("0809"), "La Convención");
  EXPECT_EQ(ValueLabel("1701"), "Tambopata");
  EXPECT_EQ(ValueLabel("9999"), "9999");
  EXPECT_EQ(ValueLabel("2026Q3"), "2026 T3");
  EXPECT_EQ(ValueLabel("TOTAL"), "Total");
  EXPECT_EQ(ValueLabel("SOMETHING_NEW"), "SOMETHING_NEW");
  EXPECT_EQ(HeaderLabel("stage"), "Etapa");
  EXPECT_EQ(HeaderLabel("cases"), "Casos");
  EXPECT_EQ(HeaderLabel("new_column"), "new_column");
  // Columns of a crossed table are values of its column dimension.
  EXPECT_EQ(HeaderLabel("FEMALE"), "Femenino");
  EXPECT_EQ(HeaderLabel("TOTAL"), "Total");
  EXPECT_EQ(ValueLabel("EDUCATION_SUPPORT"), "Apoyo educativo");
  EXPECT_EQ(ValueLabel("SERVICE_STATUS_ONGOING"), "En curso");
}

TEST(TableViewTest, LabelsCellsComputedTotalsAndChart) {
  const TableView view = MakeTableView(ByStage(10));
  EXPECT_THAT(view.header, ElementsAre("Región", "Etapa", "Casos"));
  EXPECT_EQ(view.label_columns, 2u);
  ASSERT_EQ(view.rows.size(), 3u);
  EXPECT_THAT(view.rows[0].cells,
              ElementsAre("Cusco", "Acogimiento residencial", "12"));
  EXPECT_THAT(view.rows[1].cells,
              ElementsAre("Cusco", "Protección inmediata", "<10"));
  // The release has no totals: none is made up.
  for (const auto& row : view.rows) EXPECT_FALSE(row.total);
  EXPECT_THAT(view.regions, ElementsAre("Cusco", "Madre de Dios"));
  EXPECT_THAT(view.chart_labels,
              ElementsAre("Cusco · Acogimiento residencial",
                          "Cusco · Protección inmediata",
                          "Madre de Dios · Protección inmediata"));
  ASSERT_EQ(view.chart_series.size(), 1u);
  EXPECT_EQ(view.chart_series[0].label, "Casos");
  EXPECT_THAT(
      view.chart_series[0].values,
      ElementsAre(std::optional<int64_t>(12), std::nullopt, std::nullopt));
}

TEST(TableViewTest, StatisticsAreFormattedAndNotCharted) {
  v1::GetTableResponse r;
  r.add_dimensions("stage");
  r.add_columns("cases");
  r.add_columns("median_days");
  r.set_threshold(10);
  AddRow(r, {"RESIDENTIAL_CARE"}, {Count(12), Statistic(40.5)});
  AddRow(r, {"FAMILY_CARE"}, {Count(15), Statistic(10)});
  const TableView view = MakeTableView(r);
  ASSERT_EQ(view.rows.size(), 2u);
  EXPECT_THAT(view.rows[0].cells,
              ElementsAre("Acogimiento residencial", "12", "40.5"));
  EXPECT_THAT(view.header, ElementsAre("Etapa", "Casos", "Mediana de días"));
  ASSERT_EQ(view.chart_series.size(), 1u);  // statistics are not charted
  EXPECT_EQ(view.chart_series[0].label, "Casos");
}

TEST(TableViewTest, ReleasedTotalsAreKeptAndNotRecomputed) {
  v1::GetTableResponse r;
  r.add_dimensions("stage");
  r.add_columns("cases");
  r.add_columns("total");
  r.set_threshold(10);
  AddRow(r, {"RESIDENTIAL_CARE"}, {Count(12), Count(12)});
  AddRow(r, {"TOTAL"}, {Count(30), Count(30)});
  const TableView view = MakeTableView(r);
  ASSERT_EQ(view.rows.size(), 2u);
  EXPECT_TRUE(view.rows[1].total);
  EXPECT_THAT(view.header, ElementsAre("Etapa", "Casos", "Total"));
  EXPECT_EQ(view.column_dimension, "");
  // Neither the totals row nor the totals column is charted.
  EXPECT_THAT(view.chart_labels, ElementsAre("Acogimiento residencial"));
  ASSERT_EQ(view.chart_series.size(), 1u);
}

TEST(TableViewTest, CrossedTableNamesItsColumnDimension) {
  v1::GetTableResponse r;
  r.add_dimensions("age_band");
  r.set_column_dimension("sex");
  for (const char* c : {"FEMALE", "MALE", "OTHER", "TOTAL"}) r.add_columns(c);
  r.set_threshold(10);
  AddRow(r, {"15_17"}, {Count(12), Suppressed(), Count(0), Count(15)});
  const TableView view = MakeTableView(r);
  EXPECT_EQ(view.column_dimension, "Sexo");
  EXPECT_THAT(view.header, ElementsAre("Grupo de edad", "Femenino", "Masculino",
                                       "Otro", "Total"));
  EXPECT_THAT(view.rows[0].cells,
              ElementsAre("15 a 17 años", "12", "<10", "0", "15"));
  // One series per sex; the row total is not charted.
  ASSERT_EQ(view.chart_series.size(), 3u);
  EXPECT_THAT(RenderJson(view), HasSubstr("\"columnDimension\":\"Sexo\""));
}

TEST(TableViewTest, StaleAndMissingPeersAreWarnedInSpanish) {
  v1::GetTableResponse r = ByStage(10);
  v1::PeerFreshness* stale = r.add_peers();
  stale->set_region("madre-de-dios");
  stale->set_stale(true);
  stale->mutable_fetched_at()->set_seconds(1795000000);
  v1::PeerFreshness* missing = r.add_peers();
  missing->set_region("cusco");
  missing->set_missing(true);
  const TableView view = MakeTableView(r);
  ASSERT_EQ(view.warnings.size(), 2u);
  EXPECT_THAT(view.warnings[0], HasSubstr("Madre de Dios"));
  EXPECT_THAT(view.warnings[0], HasSubstr("desactualizados"));
  EXPECT_THAT(view.warnings[0], HasSubstr("UTC"));
  EXPECT_THAT(view.warnings[1], HasSubstr("No se pudieron obtener"));
}

TEST(CsvTest, QuotingFollowsRfc4180) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("<10"), "<10");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("Protección"), "Protección");
}

TEST(CsvTest, FormulasAreNeutralized) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("+1"), "'+1");
  EXPECT_EQ(CsvField("-1"), "'-1");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("\tx"), "'\tx");
  EXPECT_EQ(CsvField("No te dejes engañar"), "No te dejes engañar");
}

TEST(CsvTest, CsvIsExactlyTheReleasedRows) {
  v1::GetTableResponse r = ByStage(10);
  AddRow(r, {"cusco", "OTHER, UNLISTED \"X\""}, {Count(10)});
  const std::string csv = RenderCsv(MakeTableView(r));
  EXPECT_EQ(csv,
            "Región,Etapa,Casos\r\n"
            "Cusco,Acogimiento residencial,12\r\n"
            "Cusco,Protección inmediata,<10\r\n"
            "Madre de Dios,Protección inmediata,<10\r\n"
            "Cusco,\"OTHER, UNLISTED \"\"X\"\"\",10\r\n");
}

TEST(JsonTest, EscapesAndShape) {
  EXPECT_EQ(JsonString("a\"b\\c\n</script>\x01"),
            "\"a\\\"b\\\\c\\n\\u003c/script>\\u0001\"");
  const std::string json = RenderJson(MakeTableView(ByStage(5)));
  EXPECT_THAT(json, HasSubstr("\"threshold\":5"));
  EXPECT_THAT(json, HasSubstr("\"\\u003c5\""));
  EXPECT_THAT(json, HasSubstr("\"labelColumns\":2"));
  EXPECT_THAT(json, HasSubstr("\"data\":[12,null,null]"));
  EXPECT_THAT(json, HasSubstr("\"total\":false"));
}

TEST(RequestTest, QuartersRegionsAndDefaults) {
  auto q = ParseQuarter("2026Q3");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->year(), 2026);
  EXPECT_EQ(q->quarter(), 3);
  for (const char* bad :
       {"2026Q5", "2026Q0", "26Q1", "2026-Q1", "abcdQ1", ""}) {
    EXPECT_FALSE(ParseQuarter(bad).ok()) << bad;
  }
  auto request = MakeTableRequest("cases_by_stage", "cusco,madre-de-dios",
                                  "2026Q1", "2026Q4", 2030);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->regions(), ElementsAre("cusco", "madre-de-dios"));
  EXPECT_EQ(request->from_quarter().quarter(), 1);
  EXPECT_EQ(request->to_quarter().year(), 2026);
  auto defaults = MakeTableRequest("t", "", "", "", 2027);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->regions_size(), 0);
  EXPECT_EQ(defaults->from_quarter().year(), 2027);
  EXPECT_EQ(defaults->from_quarter().quarter(), 1);
  EXPECT_EQ(defaults->to_quarter().quarter(), 4);
  EXPECT_FALSE(MakeTableRequest("t", "cusco", "2026Q4", "2026Q1", 2026).ok());
  EXPECT_FALSE(MakeTableRequest("t", "Cusco;drop", "", "", 2026).ok());
  EXPECT_FALSE(MakeTableRequest("t", "cusco,,x", "", "", 2026).ok());
}

}  // namespace
}  // namespace ruta::dashboard
