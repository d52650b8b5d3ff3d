#include "ruta/dashboard/table_view.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ruta/web/http.h"
#include "ruta/web/labels.h"

namespace ruta::dashboard {
namespace {

using web::HeaderLabel;
using web::IsTotalLabel;
using web::JsonString;
using web::RegionName;
using web::ValueLabel;

bool IsTotalRow(const v1::Row& row) {
  for (const std::string& label : row.labels()) {
    if (IsTotalLabel(label)) return true;
  }
  return false;
}

bool IsSlug(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string CellText(const v1::Cell& cell, int threshold) {
  switch (cell.value_case()) {
    case v1::Cell::kCount:
      return absl::StrCat(cell.count());
    case v1::Cell::kSuppressed:
      return absl::StrCat("<", threshold);
    case v1::Cell::kStatistic:
      return absl::StrFormat("%.1f", cell.statistic());
    case v1::Cell::VALUE_NOT_SET:
      break;
  }
  return "";
}

TableView MakeTableView(const v1::GetTableResponse& response) {
  TableView view;
  view.name = response.table();
  view.threshold = response.threshold();
  for (const std::string& d : response.dimensions()) {
    view.header.push_back(HeaderLabel(d));
  }
  view.label_columns = static_cast<size_t>(response.dimensions_size());
  if (!response.column_dimension().empty()) {
    view.column_dimension = HeaderLabel(response.column_dimension());
  }
  for (const std::string& c : response.columns()) {
    view.header.push_back(HeaderLabel(c));
  }
  const int columns = response.columns_size();
  // Per value column: whether it holds counts only (no statistic).
  std::vector<bool> count_column(static_cast<size_t>(columns), true);
  for (const v1::Row& row : response.rows()) {
    TableView::Row out;
    out.total = IsTotalRow(row);
    for (int d = 0; d < response.dimensions_size(); ++d) {
      out.cells.push_back(d < row.labels_size() ? ValueLabel(row.labels(d))
                                                : std::string());
    }
    for (int c = 0; c < columns; ++c) {
      if (c < row.cells_size()) {
        out.cells.push_back(CellText(row.cells(c), view.threshold));
        if (row.cells(c).value_case() == v1::Cell::kStatistic) {
          count_column[static_cast<size_t>(c)] = false;
        }
      } else {
        out.cells.emplace_back();
      }
    }
    view.rows.push_back(std::move(out));
  }

  // The chart: counts of the non-total rows, per non-total count column.
  for (int c = 0; c < columns; ++c) {
    if (!count_column[static_cast<size_t>(c)] ||
        IsTotalLabel(response.columns(c))) {
      continue;
    }
    TableView::Series series;
    series.label = HeaderLabel(response.columns(c));
    for (const v1::Row& row : response.rows()) {
      if (IsTotalRow(row)) continue;
      if (c < row.cells_size() &&
          row.cells(c).value_case() == v1::Cell::kCount) {
        series.values.push_back(row.cells(c).count());
      } else {
        series.values.push_back(std::nullopt);
      }
    }
    view.chart_series.push_back(std::move(series));
  }
  for (const v1::Row& row : response.rows()) {
    if (IsTotalRow(row)) continue;
    std::vector<std::string> labels;
    for (const std::string& l : row.labels()) labels.push_back(ValueLabel(l));
    view.chart_labels.push_back(absl::StrJoin(labels, " · "));
  }

  for (const std::string& r : response.regions()) {
    view.regions.push_back(RegionName(r));
  }
  for (const v1::PeerFreshness& peer : response.peers()) {
    const std::string region = RegionName(peer.region());
    if (peer.missing()) {
      view.warnings.push_back(
          absl::StrCat("No se pudieron obtener los datos de ", region,
                       ": esta tabla no los incluye."));
    } else if (peer.stale()) {
      std::string when = "nunca";
      if (peer.has_fetched_at()) {
        when =
            absl::FormatTime("%Y-%m-%d %H:%M UTC",
                             absl::FromUnixSeconds(peer.fetched_at().seconds()),
                             absl::UTCTimeZone());
      }
      view.warnings.push_back(absl::StrCat(
          "Los datos de ", region,
          " están desactualizados (última actualización: ", when, ")."));
    }
  }
  return view;
}

std::string CsvField(absl::string_view field) {
  // A spreadsheet runs a cell that starts with one of these as a formula;
  // labels such as campaign names are an office's free text, so they are
  // neutralized with a leading apostrophe (OWASP "CSV injection").
  std::string text;
  if (!field.empty() &&
      absl::string_view("=+-@\t\r").find(field[0]) != absl::string_view::npos) {
    text = absl::StrCat("'", field);
    field = text;
  }
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(field);
  }
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string RenderCsv(const TableView& view) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += ',';
      out += CsvField(fields[i]);
    }
    out += "\r\n";
  };
  line(view.header);
  for (const TableView::Row& row : view.rows) {
    line(row.cells);
  }
  return out;
}

namespace {

std::string JsonStrings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(JsonString(s));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

}  // namespace

std::string RenderJson(const TableView& view) {
  std::vector<std::string> rows;
  for (const TableView::Row& row : view.rows) {
    rows.push_back(absl::StrCat("{\"cells\":", JsonStrings(row.cells),
                                ",\"total\":", row.total ? "true" : "false",
                                "}"));
  }
  std::vector<std::string> series;
  for (const TableView::Series& s : view.chart_series) {
    std::vector<std::string> values;
    for (const std::optional<int64_t>& v : s.values) {
      values.push_back(v ? absl::StrCat(*v) : "null");
    }
    series.push_back(absl::StrCat("{\"label\":", JsonString(s.label),
                                  ",\"data\":[", absl::StrJoin(values, ","),
                                  "]}"));
  }
  return absl::StrCat(
      "{\"name\":", JsonString(view.name), ",\"threshold\":", view.threshold,
      ",\"header\":", JsonStrings(view.header),
      ",\"labelColumns\":", view.label_columns,
      ",\"columnDimension\":", JsonString(view.column_dimension), ",\"rows\":[",
      absl::StrJoin(rows, ","), "],\"regions\":", JsonStrings(view.regions),
      ",\"warnings\":", JsonStrings(view.warnings),
      ",\"chart\":{\"labels\":", JsonStrings(view.chart_labels),
      ",\"series\":[", absl::StrJoin(series, ","), "]}}");
}

absl::StatusOr<v1::Quarter> ParseQuarter(absl::string_view text) {
  int year = 0;
  if (text.size() != 6 || text[4] != 'Q' || text[5] < '1' || text[5] > '4' ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || year < 2000 ||
      year > 2999) {
    return absl::InvalidArgumentError(
        "Trimestre no válido: use la forma AAAAQn, por ejemplo 2026Q1.");
  }
  v1::Quarter q;
  q.set_year(year);
  q.set_quarter(text[5] - '0');
  return q;
}

absl::StatusOr<v1::GetTableRequest> MakeTableRequest(const std::string& table,
                                                     const std::string& regions,
                                                     const std::string& from,
                                                     const std::string& to,
                                                     int current_year) {
  v1::GetTableRequest request;
  request.set_table(table);
  if (!regions.empty()) {
    for (absl::string_view r : absl::StrSplit(regions, ',')) {
      if (!IsSlug(r)) {
        return absl::InvalidArgumentError(
            "Región no válida: use identificadores como cusco o "
            "madre-de-dios separados por comas.");
      }
      request.add_regions(std::string(r));
    }
  }
  auto quarter = [&](const std::string& text,
                     int fallback) -> absl::StatusOr<v1::Quarter> {
    if (text.empty()) {
      v1::Quarter q;
      q.set_year(current_year);
      q.set_quarter(fallback);
      return q;
    }
    return ParseQuarter(text);
  };
  absl::StatusOr<v1::Quarter> f = quarter(from, 1);
  if (!f.ok()) return f.status();
  absl::StatusOr<v1::Quarter> t = quarter(to, 4);
  if (!t.ok()) return t.status();
  if (f->year() * 4 + f->quarter() > t->year() * 4 + t->quarter()) {
    return absl::InvalidArgumentError(
        "El trimestre inicial es posterior al final.");
  }
  *request.mutable_from_quarter() = *f;
  *request.mutable_to_quarter() = *t;
  return request;
}

}  // namespace ruta::dashboard
