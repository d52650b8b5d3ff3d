// Registration of the subcommands on the CLI11 application (internal).
#ifndef RUTA_CLI_SRC_COMMANDS_H_
#define RUTA_CLI_SRC_COMMANDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "ruta/cli/config.h"
#include "ruta/cli/connection.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/identifiers.h"
#include "ruta/cli/io.h"
#include "ruta/cli/output.h"

namespace ruta::cli {

// What the global options resolved to; filled in after parsing, before the
// selected command's action runs.
struct Context {
  Io* io = nullptr;
  ConnectionFlags connection;
  OutputFormat format = OutputFormat::kTable;
  int retries = 3;
};

// The command to run once the arguments are parsed; returns the exit code.
using Action = std::function<int()>;

// `ruta case ...` and `ruta person ...`. Each leaf subcommand sets `*action`
// when it is selected.
void AddCaseCommands(CLI::App& app, Context& context, Action* action);
void AddPersonCommands(CLI::App& app, Context& context, Action* action);
// `ruta transfer ...` and `ruta service ...`.
void AddTransferCommands(CLI::App& app, Context& context, Action* action);
void AddServiceCommands(CLI::App& app, Context& context, Action* action);
// `ruta activity record awareness|training`, `ruta activity list`.
void AddActivityCommands(CLI::App& app, Context& context, Action* action);
// `ruta partner cases|status|watch|service` (partner certificate).
void AddPartnerCommands(CLI::App& app, Context& context, Action* action);
// `ruta admin audit verify`, `ruta admin relay status`, `ruta admin person
// merge`, `ruta admin case erase`, `ruta admin linkage-key rotate`.
void AddAdminCommands(CLI::App& app, Context& context, Action* action);
// `ruta stats` (dashboard certificate).
void AddStatsCommand(CLI::App& app, Context& context, Action* action);

// Resolves the connection settings and loads the credentials; on error prints
// it and returns nullptr with `*exit_code` set.
std::unique_ptr<Connection> Connect(Context& context, int* exit_code);

// The request_id of a mutating command: --request-id normalized, or a new
// one. On error prints it and returns "" with `*exit_code` set.
std::string RequestIdFor(Context& context, const std::string& flag,
                         int* exit_code);

// The identifiers of the child: from `file` (path or "-"), else prompted when
// stdin is a terminal, else none (empty). On error prints it and sets
// `*exit_code`.
ruta::v1::PersonIdentifiers GatherIdentifiers(Context& context,
                                              const std::string& file,
                                              int* exit_code);

// Text shown under "Global options" in each command's help footer.
std::string GlobalOptionsNote();

// Prints a response that carries one record: with --output json the
// response, else the record as a key/value block.
void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Case& record);
void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Transfer& record);
void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::ServiceRecord& record);
void PrintRecord(const Context& context,
                 const google::protobuf::Message& response,
                 const ruta::v1::Activity& record);

// A stub method of CaseOffice taking Request and answering Response.
template <typename Request, typename Response>
using UnaryMethod = grpc::Status (Connection::Stub::*)(grpc::ClientContext*,
                                                       const Request&,
                                                       Response*);

// Sends a built change of a record (every mutating command but `case open`):
// stamps its request_id (--request-id or a new one), connects, runs `send`
// with retries under that same request_id, and prints the record the
// response carries (`record`, e.g. &UpdateStageResponse::case_). `hints`
// tells the error hints how to show the record and who may change it.
template <typename Request, typename Response, typename Record>
int SendChange(Context& context, Request& request,
               const std::string& request_id_flag, const std::string& what,
               UnaryMethod<Request, Response> send,
               const Record& (Response::*record)() const,
               RecordHints hints = {}) {
  int exit_code = 0;
  request.set_request_id(RequestIdFor(context, request_id_flag, &exit_code));
  if (exit_code != 0) return exit_code;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  connection->set_record_hints(std::move(hints));
  Response response;
  exit_code =
      connection->Run(what, request.request_id(),
                      [&](Connection::Stub& stub, grpc::ClientContext& call) {
                        return (stub.*send)(&call, request, &response);
                      });
  if (exit_code != 0) return exit_code;
  PrintRecord(context, response, (response.*record)());
  return kExitOk;
}

// Reads one record (`case get`, `transfer get`) and prints it.
template <typename Request, typename Response, typename Record>
int FetchRecord(Context& context, const Request& request,
                const std::string& what, UnaryMethod<Request, Response> send,
                const Record& (Response::*record)() const) {
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  Response response;
  exit_code = connection->Run(
      what, "", [&](Connection::Stub& stub, grpc::ClientContext& call) {
        return (stub.*send)(&call, request, &response);
      });
  if (exit_code != 0) return exit_code;
  PrintRecord(context, response, (response.*record)());
  return kExitOk;
}

// How a paged listing is named and printed.
struct ListingText {
  // "list cases": what failed, in errors and retry notes.
  std::string what;
  // "cases": in "ruta: no cases" and "ruta: more cases: ...".
  std::string noun;
  std::vector<std::string> header;
};

// Runs a paged listing (`case list`, `transfer list`, `service list`):
// connects, sends `request`, and with `all` follows next_page_token to the
// end. Table: the items of every page as one table (the header even when
// empty, then "ruta: no <noun>" on stderr), and the --page-token of the next
// page on stderr when there is one; JSON: each response, pretty-printed, or
// one per line with `all`.
template <typename Request, typename Response, typename Item>
int ListPages(
    Context& context, Request& request, bool all, const ListingText& text,
    UnaryMethod<Request, Response> send,
    const google::protobuf::RepeatedPtrField<Item>& (Response::*items)() const,
    std::vector<std::string> (*row)(const Item&)) {
  Io& io = *context.io;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;

  const bool json = context.format == OutputFormat::kJson;
  Table table(text.header);
  std::string next_page_token;
  for (int page = 1;; ++page) {
    Response response;
    exit_code = connection->Run(
        page == 1 ? text.what
                  : text.what + " (page " + std::to_string(page) + ")",
        "", [&](Connection::Stub& stub, grpc::ClientContext& call) {
          return (stub.*send)(&call, request, &response);
        });
    if (exit_code != 0) break;
    if (json) {
      io.out << ToJson(response, /*one_line=*/all) << "\n" << std::flush;
    } else {
      for (const Item& item : (response.*items)()) table.AddRow(row(item));
    }
    next_page_token = response.next_page_token();
    if (!all || next_page_token.empty() ||
        next_page_token == request.page_token()) {
      break;
    }
    request.set_page_token(next_page_token);
  }
  if (!json && (exit_code == 0 || table.rows() > 0)) {
    table.Write(io.out);
    io.out << std::flush;
    if (exit_code == 0 && table.rows() == 0) {
      io.err << "ruta: no " << text.noun << "\n";
    }
    if (exit_code == 0 && !all && !next_page_token.empty()) {
      io.err << "ruta: more " << text.noun << ": add --page-token "
             << next_page_token << " (or --all)\n";
    }
  }
  return exit_code;
}

}  // namespace ruta::cli

#endif  // RUTA_CLI_SRC_COMMANDS_H_
