// Output of `ruta`: `--output table` (aligned columns for lists, a key/value
// block for one record, enums in their command-line spelling, dates as
// YYYY-MM) or `--output json` (the protobuf JSON of the response, with the
// proto field names and every field, one document; JSON lines, one response
// per line, for --all).
#ifndef RUTA_CLI_OUTPUT_H_
#define RUTA_CLI_OUTPUT_H_

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/common.pb.h"
#include "ruta/v1/records.pb.h"

namespace ruta::cli {

enum class OutputFormat { kTable, kJson };

// "table" or "json"; INVALID_ARGUMENT otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// Protobuf JSON of `message`: proto field names, every field printed, enums
// by name; pretty-printed, or on one line when `one_line`.
std::string ToJson(const google::protobuf::Message& message, bool one_line);

// "2026-10", or "-" when unset.
std::string FormatYearMonth(const ruta::v1::YearMonth& month);
// "2026-10-31", or "-" when unset.
std::string FormatDate(const ruta::v1::Date& date);
// The month of a timestamp in UTC, "2026-10", or "-" when unset.
std::string FormatTimestampMonth(const google::protobuf::Timestamp& time);
// A timestamp in UTC to the second, RFC 3339: "2026-10-31T14:05:09Z", or "-"
// when unset.
std::string FormatTimestampUtc(const google::protobuf::Timestamp& time);

// Rows of aligned columns (two spaces apart); the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  size_t rows() const { return rows_.size() - 1; }
  void Write(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Rows written as they come (a stream): each column is padded to the widest
// value seen so far in it (the header's and `min_widths` included); the last
// column is not padded.
class StreamTable {
 public:
  explicit StreamTable(std::vector<std::string> header,
                       const std::vector<size_t>& min_widths = {});
  void WriteHeader(std::ostream& out);
  void WriteRow(std::ostream& out, const std::vector<std::string>& row);

 private:
  void WriteLine(std::ostream& out, const std::vector<std::string>& row);

  std::vector<std::string> header_;
  std::vector<size_t> widths_;
};

// "key  value" lines with the values aligned.
void WriteKeyValues(
    std::ostream& out,
    const std::vector<std::pair<std::string, std::string>>& entries);

// One case as a key/value block.
void WriteCaseRecord(std::ostream& out, const ruta::v1::Case& record);

// Header of the case list table, and a row of it.
std::vector<std::string> CaseTableHeader();
std::vector<std::string> CaseTableRow(const ruta::v1::Case& record);

// One transfer as a key/value block (transfer_id, case_id, from_region,
// to_region, destination_province, requested_services, state, reject_reason
// and note when set, requested_on, accepted_on, departed_on, received_on,
// version).
void WriteTransferRecord(std::ostream& out, const ruta::v1::Transfer& record);

// Header of the transfer table, and a row of it: TRANSFER_ID CASE_ID FROM TO
// PROVINCE STATE (a rejected one reads "rejected(reason)") REQUESTED ACCEPTED
// DEPARTED RECEIVED VERSION NOTE.
std::vector<std::string> TransferTableHeader();
std::vector<std::string> TransferTableRow(const ruta::v1::Transfer& record);

// The rows of `ruta transfer watch`: CURSOR then the transfer's columns, and
// the usual widths of those columns (so that the first rows align).
std::vector<std::string> WatchTableHeader();
std::vector<size_t> WatchTableWidths();
std::vector<std::string> WatchTableRow(
    const ruta::v1::WatchTransfersResponse& update);

// One service record as a key/value block.
void WriteServiceRecord(std::ostream& out,
                        const ruta::v1::ServiceRecord& record);

// Header of the service table (SERVICE_ID CASE_ID TYPE PROVIDER STATUS START
// END VERSION), and a row of it.
std::vector<std::string> ServiceTableHeader();
std::vector<std::string> ServiceTableRow(const ruta::v1::ServiceRecord& record);

// One activity as a key/value block: activity_id, region, kind, then the
// fields of its kind.
void WriteActivityRecord(std::ostream& out, const ruta::v1::Activity& record);

// Header of the activity table (ACTIVITY_ID KIND MONTH PROVINCE LEVEL COUNT
// CAMPAIGN; COUNT is the people reached or the members trained, LEVEL "-"
// for an awareness activity, CAMPAIGN "-" for a training), and a row of it.
std::vector<std::string> ActivityTableHeader();
std::vector<std::string> ActivityTableRow(const ruta::v1::Activity& record);

// The answer of FindPerson: person_ref, linked, then its cases as a table.
void WriteFindPerson(std::ostream& out,
                     const ruta::v1::FindPersonResponse& response);

}  // namespace ruta::cli

#endif  // RUTA_CLI_OUTPUT_H_
