#include "ruta/cli/stats.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/output.h"

namespace ruta::cli {
namespace {

std::string QuarterText(const ruta::v1::Quarter& q) {
  return absl::StrCat(q.year(), "Q", q.quarter());
}

std::string CellText(const ruta::v1::Cell& cell, int32_t threshold) {
  switch (cell.value_case()) {
    case ruta::v1::Cell::kCount:
      return absl::StrCat(cell.count());
    case ruta::v1::Cell::kSuppressed:
      return absl::StrCat("<", threshold);
    case ruta::v1::Cell::kStatistic: {
      const double v = cell.statistic();
      const int64_t tenths = static_cast<int64_t>(v * 10 + 0.5);
      return absl::StrCat(tenths / 10, ".", tenths % 10);
    }
    default:
      return "-";
  }
}

}  // namespace

absl::StatusOr<ruta::v1::Quarter> ParseQuarter(absl::string_view option,
                                               absl::string_view text) {
  std::string t = absl::AsciiStrToUpper(text);
  t.erase(std::remove(t.begin(), t.end(), '-'), t.end());
  int year = 0;
  bool ok = t.size() == 6 && t[4] == 'Q' && t[5] >= '1' && t[5] <= '4';
  for (int i = 0; ok && i < 4; ++i) {
    ok = t[i] >= '0' && t[i] <= '9';
    year = year * 10 + (t[i] - '0');
  }
  if (!ok || year < 2000 || year > 2199) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, ": \"", text,
        "\" is not a quarter; write YYYYQn, e.g. 2026Q1 (quarter 1 to 4)"));
  }
  ruta::v1::Quarter q;
  q.set_year(year);
  q.set_quarter(t[5] - '0');
  return q;
}

absl::StatusOr<std::vector<std::string>> ParseRegionList(
    absl::string_view option, absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    absl::StatusOr<std::string> slug =
        NormalizeRegion(option, absl::StripAsciiWhitespace(part));
    if (!slug.ok()) return slug.status();
    if (std::find(out.begin(), out.end(), *slug) == out.end()) {
      out.push_back(*slug);
    }
  }
  return out;
}

ruta::v1::Quarter CurrentQuarter(absl::Time now) {
  const absl::CivilDay day =
      absl::ToCivilDay(now, absl::FixedTimeZone(-5 * 60 * 60));
  ruta::v1::Quarter q;
  q.set_year(static_cast<int>(day.year()));
  q.set_quarter((day.month() - 1) / 3 + 1);
  return q;
}

void WriteStatsTable(std::ostream& out, const std::string& title,
                     const ruta::v1::GetTableRequest& request,
                     const ruta::v1::GetTableResponse& table, absl::Time now) {
  out << table.table();
  if (!title.empty()) out << " — " << title;
  out << "\n";
  out << "regions: "
      << (table.regions().empty() ? std::string("none")
                                  : absl::StrJoin(table.regions(), ", "))
      << "; quarters " << QuarterText(request.from_quarter()) << " to "
      << QuarterText(request.to_quarter()) << "; cells below "
      << table.threshold() << " shown as <" << table.threshold() << "\n";
  std::vector<std::string> header(table.dimensions().begin(),
                                  table.dimensions().end());
  if (!table.column_dimension().empty() && !header.empty()) {
    header.back() =
        absl::StrCat(header.back(), " \\ ", table.column_dimension());
  }
  for (const std::string& column : table.columns()) header.push_back(column);
  for (std::string& h : header) absl::AsciiStrToUpper(&h);
  Table t(header);
  for (const ruta::v1::Row& row : table.rows()) {
    std::vector<std::string> line;
    for (int i = 0; i < table.dimensions_size(); ++i) {
      line.push_back(
          i < row.labels_size() && !row.labels(i).empty() ? row.labels(i) : "");
    }
    for (int i = 0; i < table.columns_size(); ++i) {
      line.push_back(i < row.cells_size()
                         ? CellText(row.cells(i), table.threshold())
                         : "-");
    }
    t.AddRow(std::move(line));
  }
  t.Write(out);
  for (const ruta::v1::PeerFreshness& peer : table.peers()) {
    if (peer.missing()) {
      out << "peer " << peer.region()
          << ": MISSING (its counts could not be fetched; the region is left "
             "out)\n";
      continue;
    }
    const absl::Time fetched =
        absl::FromUnixSeconds(peer.fetched_at().seconds());
    const std::string age = absl::FormatDuration(absl::Seconds(
        absl::ToInt64Seconds(std::max(absl::ZeroDuration(), now - fetched))));
    out << "peer " << peer.region() << ": counts fetched " << age << " ago"
        << (peer.stale() ? " — STALE (the peer could not be reached since)"
                         : "")
        << "\n";
  }
  out << "\n";
}

}  // namespace ruta::cli
