#include "ruta/cli/output.h"

#include <algorithm>
#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "ruta/cli/enums.h"

namespace ruta::cli {
namespace {

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

std::string ExploitationList(const ruta::v1::Profile& profile) {
  std::vector<std::string> names;
  for (int form : profile.exploitation_forms()) {
    names.push_back(
        EnumFlagName(static_cast<ruta::v1::ExploitationForm>(form)));
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value \"", text, "\" for --output; valid values: table, json"));
}

std::string ToJson(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return "{}";
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

std::string FormatYearMonth(const ruta::v1::YearMonth& month) {
  if (month.year() == 0 && month.month() == 0) return "-";
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

std::string FormatTimestampMonth(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

Table::Table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void Table::Write(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - row[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

void WriteKeyValues(
    std::ostream& out,
    const std::vector<std::pair<std::string, std::string>>& entries) {
  size_t width = 0;
  for (const auto& [key, value] : entries) width = std::max(width, key.size());
  for (const auto& [key, value] : entries) {
    out << key << std::string(width - key.size() + 2, ' ') << value << "\n";
  }
}

void WriteCaseRecord(std::ostream& out, const ruta::v1::Case& record) {
  const ruta::v1::Profile& profile = record.profile();
  std::vector<std::pair<std::string, std::string>> entries = {
      {"case_id", record.case_id()},
      {"person_ref", OrDash(record.person_ref())},
      {"kind", EnumFlagName(record.kind())},
      {"owner_region", OrDash(record.owner_region())},
      {"stage", EnumFlagName(record.stage())},
  };
  if (record.stage() == ruta::v1::STAGE_CLOSED ||
      record.closed_reason() != ruta::v1::CLOSED_REASON_UNSPECIFIED) {
    entries.push_back({"closed_reason", EnumFlagName(record.closed_reason())});
  }
  entries.insert(
      entries.end(),
      {
          {"version", absl::StrCat(record.version())},
          {"age_band", EnumFlagName(profile.age_band())},
          {"sex", EnumFlagName(profile.sex())},
          {"origin_province", OrDash(profile.origin_province())},
          {"exploitation", ExploitationList(profile)},
          {"setting", EnumFlagName(profile.setting())},
          {"recruitment", EnumFlagName(profile.recruitment_means())},
          {"identified_month", FormatYearMonth(profile.identified_month())},
          {"legal_basis", EnumFlagName(record.legal_basis())},
          {"consent_partner_sharing", YesNo(record.consent_partner_sharing())},
          {"referrals", record.referrals().empty()
                            ? "-"
                            : absl::StrJoin(record.referrals(), ",")},
          {"opened", FormatTimestampMonth(record.opened_at())},
          {"updated", FormatTimestampMonth(record.updated_at())},
      });
  WriteKeyValues(out, entries);
}

std::vector<std::string> CaseTableHeader() {
  return {"CASE_ID", "KIND",     "STAGE",      "OWNER",   "AGE",
          "SEX",     "PROVINCE", "IDENTIFIED", "VERSION", "PERSON_REF"};
}

std::vector<std::string> CaseTableRow(const ruta::v1::Case& record) {
  std::string stage = EnumFlagName(record.stage());
  if (record.stage() == ruta::v1::STAGE_CLOSED &&
      record.closed_reason() != ruta::v1::CLOSED_REASON_UNSPECIFIED) {
    absl::StrAppend(&stage, "(", EnumFlagName(record.closed_reason()), ")");
  }
  return {record.case_id(),
          EnumFlagName(record.kind()),
          stage,
          OrDash(record.owner_region()),
          EnumFlagName(record.profile().age_band()),
          EnumFlagName(record.profile().sex()),
          OrDash(record.profile().origin_province()),
          FormatYearMonth(record.profile().identified_month()),
          absl::StrCat(record.version()),
          OrDash(record.person_ref())};
}

void WriteFindPerson(std::ostream& out,
                     const ruta::v1::FindPersonResponse& response) {
  WriteKeyValues(out, {{"person_ref", response.person_ref()},
                       {"linked", YesNo(response.linked())},
                       {"cases", absl::StrCat(response.cases_size())}});
  if (response.cases().empty()) return;
  out << "\n";
  Table table(CaseTableHeader());
  for (const ruta::v1::Case& record : response.cases()) {
    table.AddRow(CaseTableRow(record));
  }
  table.Write(out);
}

}  // namespace ruta::cli
