// Helpers shared by the commands (commands.h).
#include <ostream>

#include "commands.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/request_id.h"

namespace ruta::cli {

std::unique_ptr<Connection> Connect(Context& context, int* exit_code) {
  std::ostream& err = context.io->err;
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings(context.connection, context.io->env);
  if (!settings.ok()) {
    *exit_code = ReportLocalError(
        err, "configuration", settings.status(),
        "see `ruta --help` for the settings and where they are read from.");
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(*settings, context.retries, err);
  if (!connection.ok()) {
    *exit_code = ReportLocalError(
        err, "cannot load the TLS credentials", connection.status(),
        "check --cert, --key and --ca (or RUTA_CERT, RUTA_KEY, RUTA_CA, or "
        "the config file): they must name readable PEM files.");
    return nullptr;
  }
  return *std::move(connection);
}

std::string RequestIdFor(Context& context, const std::string& flag,
                         int* exit_code) {
  if (flag.empty()) return NewRequestId();
  absl::StatusOr<std::string> id = NormalizeRequestId(flag);
  if (!id.ok()) {
    *exit_code =
        ReportLocalError(context.io->err, "bad --request-id", id.status());
    return "";
  }
  return *id;
}

ruta::v1::PersonIdentifiers GatherIdentifiers(Context& context,
                                              const std::string& file,
                                              int* exit_code) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::PersonIdentifiers> identifiers;
  if (!file.empty()) {
    identifiers = ReadIdentifiersFile(file, io.in);
  } else if (io.stdin_is_terminal) {
    identifiers = PromptIdentifiers(io.in, io.err);
  } else {
    return ruta::v1::PersonIdentifiers();
  }
  if (!identifiers.ok()) {
    *exit_code = ReportLocalError(
        io.err, "cannot use the identifiers", identifiers.status(),
        "the identifiers file is a JSON object with the keys dni, cnv, "
        "given_names, surnames, birth_date (YYYY-MM-DD), birth_district.");
    return ruta::v1::PersonIdentifiers();
  }
  return *std::move(identifiers);
}

namespace {

template <typename Record>
void PrintOne(const Context& context, const google::protobuf::Message& response,
              const Record& record,
              void (*write)(std::ostream&, const Record&)) {
  std::ostream& out = context.io->out;
  if (context.format == OutputFormat::kJson) {
    out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    write(out, record);
  }
  out << std::flush;
}

}  // namespace

void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Case& record) {
  PrintOne(context, response, record, &WriteCaseRecord);
}

void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Transfer& record) {
  PrintOne(context, response, record, &WriteTransferRecord);
}

void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::ServiceRecord& record) {
  PrintOne(context, response, record, &WriteServiceRecord);
}

void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Activity& record) {
  PrintOne(context, response, record, &WriteActivityRecord);
}

std::string GlobalOptionsNote() {
  return "Global options (--node, --cert, --key, --ca, --server-region, "
         "--timeout, --retries,\n--config, --output table|json) may come "
         "before or after the command; see `ruta --help`.";
}

}  // namespace ruta::cli
