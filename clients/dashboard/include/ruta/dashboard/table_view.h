// What the page and the CSV show of one released table: the node's
// GetTableResponse with Spanish labels and display text ("<k" for a
// suppressed cell), its totals, the chart's series and the peers' freshness
// warnings. Rendered as JSON (for app.js) and as CSV (the download).
#ifndef RUTA_DASHBOARD_TABLE_VIEW_H_
#define RUTA_DASHBOARD_TABLE_VIEW_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/dashboard.pb.h"

namespace ruta::dashboard {

// Display text of a cell: the count ("12"), "<k" when suppressed ("<10"),
// a statistic with one decimal ("12.5"), "" when unset.
std::string CellText(const v1::Cell& cell, int threshold);

struct TableView {
  struct Row {
    std::vector<std::string> cells;  // labels, then values
    bool total = false;              // the released totals row
  };
  std::string name;
  int threshold = 0;
  std::vector<std::string> header;  // dimensions, then columns
  // A crossed table's column dimension ("Sexo"); empty otherwise.
  std::string column_dimension;
  size_t label_columns = 0;
  std::vector<Row> rows;
  std::vector<std::string> regions;   // display names
  std::vector<std::string> warnings;  // Spanish, e.g. stale peer counts
  // The chart: one label per non-total row, one series per non-total count
  // column (null where suppressed).
  std::vector<std::string> chart_labels;
  struct Series {
    std::string label;
    std::vector<std::optional<int64_t>> values;
  };
  std::vector<Series> chart_series;
};

// Builds the view. Totals are shown only as released (a "TOTAL" row or
// column): none is computed here, since some tables count a case under
// several rows and others suppress cells.
TableView MakeTableView(const v1::GetTableResponse& response);

// RFC 4180 CSV (UTF-8, CRLF line ends, fields quoted when they hold a comma,
// a quote, CR or LF) of exactly the released rows: the header, then every
// released row.
std::string RenderCsv(const TableView& view);
// Quotes one CSV field when needed; a field a spreadsheet would run as a
// formula (starting with = + - @ tab or CR) gets a leading apostrophe.
std::string CsvField(absl::string_view field);

// JSON of the view for app.js.
std::string RenderJson(const TableView& view);

// Parses "2026Q3" (year 2000-2999, quarter 1-4). INVALID_ARGUMENT saying
// the expected form otherwise.
absl::StatusOr<v1::Quarter> ParseQuarter(absl::string_view text);

// Builds a GetTableRequest from the page's query parameters: `regions`
// (comma-separated slugs, may be empty = every region), `from` and `to`
// (quarters, default: the current year's Q1..Q4 given `current_year`).
// INVALID_ARGUMENT with a Spanish message when a parameter is malformed or
// from is after to.
absl::StatusOr<v1::GetTableRequest> MakeTableRequest(const std::string& table,
                                                     const std::string& regions,
                                                     const std::string& from,
                                                     const std::string& to,
                                                     int current_year);

}  // namespace ruta::dashboard

#endif  // RUTA_DASHBOARD_TABLE_VIEW_H_
