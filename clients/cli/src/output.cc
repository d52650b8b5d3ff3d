#include "ruta/cli/output.h"

#include <algorithm>
#include <ostream>
#include <utility>

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

// Free text from a record on one line: control characters become spaces.
std::string OneLine(const std::string& text) {
  std::string line = text;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return line;
}

std::string ServiceList(const ruta::v1::Transfer& record) {
  std::vector<std::string> names;
  for (int service : record.requested_services()) {
    names.push_back(EnumFlagName(static_cast<ruta::v1::ServiceType>(service)));
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

bool IsRejected(const ruta::v1::Transfer& record) {
  return record.state() == ruta::v1::TRANSFER_STATE_REJECTED ||
         record.reject_reason() != ruta::v1::REJECT_REASON_UNSPECIFIED;
}

// The day it was requested; the month for a caller that does not see days.
std::string RequestedText(const ruta::v1::Transfer& record) {
  if (!record.has_requested_on() && record.has_requested_month()) {
    return FormatYearMonth(record.requested_month());
  }
  return FormatDate(record.requested_on());
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

std::string FormatDate(const ruta::v1::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string FormatTimestampMonth(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatTimestampUtc(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(time.seconds()),
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

StreamTable::StreamTable(std::vector<std::string> header,
                         const std::vector<size_t>& min_widths)
    : header_(std::move(header)) {
  for (size_t i = 0; i < header_.size(); ++i) {
    widths_.push_back(i < min_widths.size()
                          ? std::max(header_[i].size(), min_widths[i])
                          : header_[i].size());
  }
}

void StreamTable::WriteHeader(std::ostream& out) { WriteLine(out, header_); }

void StreamTable::WriteRow(std::ostream& out,
                           const std::vector<std::string>& row) {
  if (widths_.size() < row.size()) widths_.resize(row.size(), 0);
  for (size_t i = 0; i < row.size(); ++i) {
    widths_[i] = std::max(widths_[i], row[i].size());
  }
  WriteLine(out, row);
}

void StreamTable::WriteLine(std::ostream& out,
                            const std::vector<std::string>& row) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    line += row[i];
    if (i + 1 < row.size()) {
      line.append(std::max(widths_[i], row[i].size()) - row[i].size() + 2, ' ');
    }
  }
  out << line << "\n";
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

void WriteTransferRecord(std::ostream& out, const ruta::v1::Transfer& record) {
  std::vector<std::pair<std::string, std::string>> entries = {
      {"transfer_id", record.transfer_id()},
      {"case_id", OrDash(record.case_id())},
      {"from_region", OrDash(record.from_region())},
      {"to_region", OrDash(record.to_region())},
      {"destination_province", OrDash(record.destination_province())},
      {"requested_services", ServiceList(record)},
      {"state", EnumFlagName(record.state())},
  };
  if (IsRejected(record)) {
    entries.push_back({"reject_reason", EnumFlagName(record.reject_reason())});
  }
  if (!record.note().empty())
    entries.push_back({"note", OneLine(record.note())});
  entries.insert(entries.end(),
                 {
                     {"requested_on", RequestedText(record)},
                     {"accepted_on", FormatDate(record.accepted_on())},
                     {"departed_on", FormatDate(record.departed_on())},
                     {"received_on", FormatDate(record.received_on())},
                     {"version", absl::StrCat(record.version())},
                 });
  WriteKeyValues(out, entries);
}

std::vector<std::string> TransferTableHeader() {
  return {"TRANSFER_ID", "CASE_ID",  "FROM",      "TO",
          "PROVINCE",    "STATE",    "REQUESTED", "ACCEPTED",
          "DEPARTED",    "RECEIVED", "VERSION",   "NOTE"};
}

std::vector<std::string> TransferTableRow(const ruta::v1::Transfer& record) {
  std::string state = EnumFlagName(record.state());
  if (IsRejected(record)) {
    absl::StrAppend(&state, "(", EnumFlagName(record.reject_reason()), ")");
  }
  return {record.transfer_id(),
          OrDash(record.case_id()),
          OrDash(record.from_region()),
          OrDash(record.to_region()),
          OrDash(record.destination_province()),
          state,
          RequestedText(record),
          FormatDate(record.accepted_on()),
          FormatDate(record.departed_on()),
          FormatDate(record.received_on()),
          absl::StrCat(record.version()),
          OrDash(OneLine(record.note()))};
}

std::vector<std::string> WatchTableHeader() {
  std::vector<std::string> header = TransferTableHeader();
  header.insert(header.begin(), "CURSOR");
  return header;
}

std::vector<size_t> WatchTableWidths() {
  const size_t id = 23;      // "tr_" + 20 letters
  const size_t region = 13;  // madre-de-dios
  const size_t day = 10;     // YYYY-MM-DD
  const size_t state = 10;   // in-transit
  return {8, id, id, region, region, 8, state, day, day, day, day, 7, 0};
}

std::vector<std::string> WatchTableRow(
    const ruta::v1::WatchTransfersResponse& update) {
  std::vector<std::string> row = TransferTableRow(update.transfer());
  row.insert(row.begin(), OrDash(update.cursor()));
  return row;
}

void WriteServiceRecord(std::ostream& out,
                        const ruta::v1::ServiceRecord& record) {
  WriteKeyValues(out, {{"service_id", record.service_id()},
                       {"case_id", OrDash(record.case_id())},
                       {"type", EnumFlagName(record.type())},
                       {"provider", OrDash(record.provider())},
                       {"status", EnumFlagName(record.status())},
                       {"start_month", FormatYearMonth(record.start_month())},
                       {"end_month", FormatYearMonth(record.end_month())},
                       {"version", absl::StrCat(record.version())}});
}

std::vector<std::string> ServiceTableHeader() {
  return {"SERVICE_ID", "CASE_ID", "TYPE", "PROVIDER",
          "STATUS",     "START",   "END",  "VERSION"};
}

std::vector<std::string> ServiceTableRow(
    const ruta::v1::ServiceRecord& record) {
  return {record.service_id(),
          OrDash(record.case_id()),
          EnumFlagName(record.type()),
          OrDash(record.provider()),
          EnumFlagName(record.status()),
          FormatYearMonth(record.start_month()),
          FormatYearMonth(record.end_month()),
          absl::StrCat(record.version())};
}

void WriteActivityRecord(std::ostream& out, const ruta::v1::Activity& record) {
  if (record.has_training()) {
    const ruta::v1::Training& t = record.training();
    WriteKeyValues(out,
                   {{"activity_id", record.activity_id()},
                    {"region", OrDash(record.region())},
                    {"kind", "training"},
                    {"level", EnumFlagName(t.level())},
                    {"province", OrDash(t.province())},
                    {"month", FormatYearMonth(t.month())},
                    {"members_trained", absl::StrCat(t.members_trained())}});
    return;
  }
  const ruta::v1::AwarenessActivity& a = record.awareness();
  WriteKeyValues(out, {{"activity_id", record.activity_id()},
                       {"region", OrDash(record.region())},
                       {"kind", "awareness"},
                       {"campaign", OrDash(a.campaign())},
                       {"province", OrDash(a.province())},
                       {"month", FormatYearMonth(a.month())},
                       {"people_reached", absl::StrCat(a.people_reached())}});
}

std::vector<std::string> ActivityTableHeader() {
  return {"ACTIVITY_ID", "KIND",  "MONTH",   "PROVINCE",
          "LEVEL",       "COUNT", "CAMPAIGN"};
}

std::vector<std::string> ActivityTableRow(const ruta::v1::Activity& record) {
  if (record.has_training()) {
    const ruta::v1::Training& t = record.training();
    return {record.activity_id(),
            "training",
            FormatYearMonth(t.month()),
            OrDash(t.province()),
            EnumFlagName(t.level()),
            absl::StrCat(t.members_trained()),
            "-"};
  }
  const ruta::v1::AwarenessActivity& a = record.awareness();
  return {record.activity_id(), "awareness", FormatYearMonth(a.month()),
          OrDash(a.province()), "-",         absl::StrCat(a.people_reached()),
          OrDash(a.campaign())};
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
