// `ruta transfer request|get|list|watch|accept|reject|depart|receive|cancel`.
#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "interrupt.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/transfer_requests.h"
#include "ruta/cli/watch.h"
#include "stream.h"

namespace ruta::cli {
namespace {

using Stub = Connection::Stub;

constexpr char kSendingSide[] =
    "an office certificate of the sending region (the region that owns the "
    "case: it requests, departs and cancels a transfer)";
constexpr char kReceivingSide[] =
    "an office certificate of the receiving region (it accepts, rejects and "
    "receives a transfer)";

std::string ServiceTypeNames() {
  return absl::StrJoin(EnumFlagNames<ruta::v1::ServiceType>(), ", ");
}

RecordHints TransferHints(const std::string& transfer_id, const char* who) {
  return {"ruta transfer get " + transfer_id, who};
}

CLI::Option* AddRequestIdOption(CLI::App& cmd, std::string& request_id) {
  return cmd
      .add_option("--request-id", request_id,
                  "Reuse the request_id of a failed attempt (UUID), so that "
                  "the node applies the change once")
      ->type_name("UUID");
}

// Reports a flag or argument refused before anything is sent.
int LocalError(Context& context, const std::string& command,
               const absl::Status& status) {
  return ReportLocalError(context.io->err, "transfer " + command, status,
                          "see `ruta transfer " + command + " --help`.");
}

// ---- request --------------------------------------------------------------

struct RequestOptions {
  RequestTransferFlags flags;
  std::string request_id;
};

int RunRequest(Context& context, const RequestOptions& options) {
  absl::StatusOr<ruta::v1::RequestTransferRequest> request =
      BuildRequestTransferRequest(options.flags);
  if (!request.ok()) return LocalError(context, "request", request.status());
  return SendChange(
      context, *request, options.request_id,
      "request the transfer of case " + options.flags.case_id,
      &Stub::RequestTransfer, &ruta::v1::RequestTransferResponse::transfer,
      {"ruta transfer list --case " + options.flags.case_id, kSendingSide});
}

void AddRequest(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<RequestOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "request", "Request the transfer of a case to another region");
  RequestTransferFlags& f = options->flags;
  cmd->add_option("CASE_ID", f.case_id,
                  "The case (cs_...), owned by your region, in a care stage")
      ->required();
  cmd->add_option("--to", f.to_region, "The receiving region")
      ->required()
      ->type_name("REGION");
  cmd->add_option("--province", f.province,
                  "UBIGEO province (4 digits) the child returns to, in the "
                  "receiving region")
      ->required()
      ->type_name("CODE");
  cmd->add_option("--service", f.services,
                  "A service asked of the receiving region; repeat it or "
                  "separate with commas")
      ->type_name("TYPE[,TYPE...]")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer("Services: " + ServiceTypeNames() +
              ".\n\n"
              "The case moves to the stage transfer-requested. Only the "
              "office of the region\nthat owns the case may request it.\n\n"
              "Examples:\n"
              "  ruta transfer request cs_qwertyuiopasdfghjklz --to cusco "
              "--province 0801 \\\n"
              "    --service education-support --service psychosocial\n"
              "  ruta transfer request cs_qwertyuiopasdfghjklz --to "
              "madre-de-dios --province 1701\n\n" +
              GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunRequest(context, *options); };
  });
}

// ---- get ------------------------------------------------------------------

int RunGet(Context& context, const std::string& transfer_id) {
  absl::StatusOr<ruta::v1::GetTransferRequest> request =
      BuildGetTransferRequest(transfer_id);
  if (!request.ok()) return LocalError(context, "get", request.status());
  return FetchRecord(context, *request, "get transfer " + transfer_id,
                     &Stub::GetTransfer,
                     &ruta::v1::GetTransferResponse::transfer);
}

void AddGet(CLI::App& parent, Context& context, Action* action) {
  auto transfer_id = std::make_shared<std::string>();
  CLI::App* cmd = parent.add_subcommand("get", "Show one transfer");
  cmd->add_option("TRANSFER_ID", *transfer_id, "The transfer (tr_...)")
      ->required();
  cmd->footer(
      "Examples:\n"
      "  ruta transfer get tr_qwertyuiopasdfghjklz\n"
      "  ruta transfer get tr_qwertyuiopasdfghjklz --output json\n\n" +
      GlobalOptionsNote());
  cmd->callback([transfer_id, &context, action] {
    *action = [transfer_id, &context] { return RunGet(context, *transfer_id); };
  });
}

// ---- list -----------------------------------------------------------------

struct ListOptions {
  ListTransfersFlags flags;
  bool all = false;
};

int RunList(Context& context, const ListOptions& options) {
  absl::StatusOr<ruta::v1::ListTransfersRequest> request =
      BuildListTransfersRequest(options.flags);
  if (!request.ok()) return LocalError(context, "list", request.status());
  return ListPages(context, *request, options.all,
                   {"list transfers", "transfers", TransferTableHeader()},
                   &Stub::ListTransfers,
                   &ruta::v1::ListTransfersResponse::transfers,
                   &TransferTableRow);
}

void AddList(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "list", "List the transfers involving your region, a page at a time");
  ListTransfersFlags& f = options->flags;
  cmd->add_option("--state", f.state, "Only transfers in this state")
      ->type_name(absl::StrJoin(EnumFlagNames<ruta::v1::TransferState>(), "|"));
  CLI::Option* incoming = cmd->add_flag(
      "--incoming", f.incoming, "Only transfers to your region (received)");
  CLI::Option* outgoing = cmd->add_flag(
      "--outgoing", f.outgoing, "Only transfers from your region (sent)");
  incoming->excludes(outgoing);
  outgoing->excludes(incoming);
  cmd->add_option("--case", f.case_id, "Only the transfers of this case")
      ->type_name("CASE_ID");
  cmd->add_option("--page-size", f.page_size,
                  "Transfers per page, 1 to 100 (default: the node's, 50)")
      ->type_name("N");
  cmd->add_option("--page-token", f.page_token,
                  "Page to return, from a previous listing")
      ->type_name("TOKEN");
  cmd->add_flag("--all", options->all,
                "Follow the pages to the end (JSON: one response per line)");
  cmd->footer(
      "Without --incoming or --outgoing, both directions are listed.\n\n"
      "Examples:\n"
      "  ruta transfer list --incoming --state requested\n"
      "  ruta transfer list --case cs_qwertyuiopasdfghjklz\n"
      "  ruta transfer list --all --output json | jq -r "
      "'.transfers[].transfer_id'\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunList(context, *options); };
  });
}

// ---- watch ----------------------------------------------------------------

// One WatchTransfers stream over `connection` (ReadStream): connecting must
// succeed within --timeout; the stream then lasts at most
// kWatchStreamLifetime.
StreamEnd OpenStream(Connection& connection, Interrupt& interrupt,
                     const ruta::v1::WatchTransfersRequest& request,
                     const WatchUpdateSink& sink) {
  return ReadStream<ruta::v1::WatchTransfersResponse>(
      connection, interrupt, kWatchStreamLifetime,
      [&](grpc::ClientContext* call) {
        return connection.stub().WatchTransfers(call, request);
      },
      [&](const ruta::v1::WatchTransfersResponse& update) {
        sink(update);
        return true;
      });
}

int RunWatch(Context& context, const std::string& cursor) {
  Io& io = *context.io;
  if (absl::Status valid = ValidateCursor("--cursor", cursor); !valid.ok()) {
    return LocalError(context, "watch", valid);
  }
  // SIGINT and SIGTERM stop the watch (connecting included) instead of the
  // process.
  Interrupt interrupt;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;

  const bool json = context.format == OutputFormat::kJson;
  StreamTable table(WatchTableHeader(), WatchTableWidths());
  if (!json) {
    table.WriteHeader(io.out);
    io.out << std::flush;
  }
  WatchPolicy policy;
  policy.retry = connection->policy();
  policy.healthy_after = connection->settings().timeout;
  WatchHooks hooks;
  hooks.stopped = [&interrupt] { return interrupt.requested(); };
  hooks.sleep = [&interrupt](absl::Duration delay) {
    return interrupt.SleepFor(delay);
  };
  hooks.before_reopen = [&connection] { connection->Reconnect(); };
  const WatchOutcome outcome = WatchWithResume(
      policy, cursor,
      [&](const ruta::v1::WatchTransfersRequest& request,
          const WatchUpdateSink& sink) {
        return OpenStream(*connection, interrupt, request, sink);
      },
      [&](const ruta::v1::WatchTransfersResponse& update) {
        if (json) {
          io.out << ToJson(update, /*one_line=*/true) << "\n";
        } else {
          table.WriteRow(io.out, WatchTableRow(update));
        }
        io.out << std::flush;
      },
      io.err, hooks);
  const std::string resume =
      outcome.cursor.empty() ? std::string()
                             : " (resume with --cursor " + outcome.cursor + ")";
  if (outcome.stopped) {
    io.err << "ruta: watch stopped by " << interrupt.signal_name() << resume
           << "\n"
           << std::flush;
    return kExitOk;
  }
  exit_code = ReportRpcError(io.err, "watch transfers", outcome.status,
                             connection->MakeCallContext(outcome.attempts, ""));
  if (!outcome.cursor.empty()) {
    io.err << "ruta: to resume where this watch stopped, rerun it with "
              "--cursor "
           << outcome.cursor << "\n"
           << std::flush;
  }
  return exit_code;
}

void AddWatch(CLI::App& parent, Context& context, Action* action) {
  auto cursor = std::make_shared<std::string>();
  CLI::App* cmd = parent.add_subcommand(
      "watch",
      "Print the changes to the transfers involving your region as they "
      "happen");
  cmd->add_option("--cursor", *cursor,
                  "Resume after this update (the CURSOR of a line printed "
                  "earlier); without it, start with the current state of "
                  "every open transfer")
      ->type_name("CURSOR");
  cmd->footer(
      "Each update is one line as it arrives: a table row starting with its "
      "CURSOR, or\none WatchTransfersResponse JSON object with --output json "
      "(JSON lines). When\nthe stream breaks (UNAVAILABLE, DEADLINE_EXCEEDED, "
      "the node restarting) ruta\nreconnects with backoff (0.5 s doubling to "
      "30 s) and resumes after the last\ncursor printed: nothing is lost or "
      "printed twice. Until a first stream is up,\nat most --retries "
      "reconnections are tried (exit 7 after them); from then on it\nretries "
      "until stopped. --timeout bounds each connection (TLS handshake "
      "included);\na stream is renewed every 30 minutes. SIGINT (Ctrl-C) or "
      "SIGTERM stop it\ncleanly (exit 0), naming the cursor to resume "
      "from.\n\n"
      "Examples:\n"
      "  ruta transfer watch\n"
      "  ruta transfer watch --output json | jq -c '.transfer | "
      "{transfer_id, state}'\n"
      "  ruta transfer watch --cursor CURSOR   # resume where a previous "
      "watch stopped\n\n" +
      GlobalOptionsNote());
  cmd->callback([cursor, &context, action] {
    *action = [cursor, &context] { return RunWatch(context, *cursor); };
  });
}

// ---- accept, reject, depart, receive, cancel ------------------------------

struct ChangeOptions {
  std::string transfer_id;
  std::string reason;
  std::string note;
  std::string on;
  std::string request_id;
};

int RunAccept(Context& context, const ChangeOptions& options) {
  absl::StatusOr<ruta::v1::AcceptTransferRequest> request =
      BuildAcceptTransferRequest(options.transfer_id);
  if (!request.ok()) return LocalError(context, "accept", request.status());
  return SendChange(context, *request, options.request_id,
                    "accept transfer " + options.transfer_id,
                    &Stub::AcceptTransfer,
                    &ruta::v1::AcceptTransferResponse::transfer,
                    TransferHints(options.transfer_id, kReceivingSide));
}

int RunReject(Context& context, const ChangeOptions& options) {
  absl::StatusOr<ruta::v1::RejectTransferRequest> request =
      BuildRejectTransferRequest(options.transfer_id, options.reason,
                                 options.note);
  if (!request.ok()) return LocalError(context, "reject", request.status());
  return SendChange(context, *request, options.request_id,
                    "reject transfer " + options.transfer_id,
                    &Stub::RejectTransfer,
                    &ruta::v1::RejectTransferResponse::transfer,
                    TransferHints(options.transfer_id, kReceivingSide));
}

int RunDepart(Context& context, const ChangeOptions& options) {
  absl::StatusOr<ruta::v1::DepartTransferRequest> request =
      BuildDepartTransferRequest(options.transfer_id, options.on);
  if (!request.ok()) return LocalError(context, "depart", request.status());
  return SendChange(context, *request, options.request_id,
                    "confirm the departure of transfer " + options.transfer_id,
                    &Stub::DepartTransfer,
                    &ruta::v1::DepartTransferResponse::transfer,
                    TransferHints(options.transfer_id, kSendingSide));
}

int RunReceive(Context& context, const ChangeOptions& options) {
  absl::StatusOr<ruta::v1::ReceiveTransferRequest> request =
      BuildReceiveTransferRequest(options.transfer_id, options.on);
  if (!request.ok()) return LocalError(context, "receive", request.status());
  return SendChange(context, *request, options.request_id,
                    "confirm the arrival of transfer " + options.transfer_id,
                    &Stub::ReceiveTransfer,
                    &ruta::v1::ReceiveTransferResponse::transfer,
                    TransferHints(options.transfer_id, kReceivingSide));
}

int RunCancel(Context& context, const ChangeOptions& options) {
  absl::StatusOr<ruta::v1::CancelTransferRequest> request =
      BuildCancelTransferRequest(options.transfer_id, options.note);
  if (!request.ok()) return LocalError(context, "cancel", request.status());
  return SendChange(context, *request, options.request_id,
                    "cancel transfer " + options.transfer_id,
                    &Stub::CancelTransfer,
                    &ruta::v1::CancelTransferResponse::transfer,
                    TransferHints(options.transfer_id, kSendingSide));
}

// A subcommand TRANSFER_ID [its own options] [--request-id UUID] running
// `run`; `add_options` adds its own options.
void AddChange(
    CLI::App& parent, Context& context, Action* action, const std::string& name,
    const std::string& description, const std::string& footer,
    int (*run)(Context&, const ChangeOptions&),
    const std::function<void(CLI::App&, ChangeOptions&)>& add_options = {}) {
  auto options = std::make_shared<ChangeOptions>();
  CLI::App* cmd = parent.add_subcommand(name, description);
  cmd->add_option("TRANSFER_ID", options->transfer_id, "The transfer (tr_...)")
      ->required();
  if (add_options) add_options(*cmd, *options);
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer(footer + "\n\n" + GlobalOptionsNote());
  cmd->callback([options, run, &context, action] {
    *action = [options, run, &context] { return run(context, *options); };
  });
}

void AddNoteOption(CLI::App& cmd, ChangeOptions& options) {
  cmd.add_option("--note", options.note,
                 "Short note, at most 280 characters on one line, no "
                 "identifiers")
      ->type_name("TEXT");
}

void AddChanges(CLI::App& parent, Context& context, Action* action) {
  AddChange(parent, context, action, "accept",
            "Accept a transfer to your region (receiving region)",
            "The transfer must be requested. Only the office of the "
            "receiving region may\naccept it.\n\n"
            "Example:\n"
            "  ruta transfer accept tr_qwertyuiopasdfghjklz",
            &RunAccept);
  AddChange(
      parent, context, action, "reject",
      "Reject a transfer to your region with a reason (receiving region)",
      "Reasons: " +
          absl::StrJoin(EnumFlagNames<ruta::v1::RejectReason>(), ", ") +
          " (other needs a --note).\nThe note is at most 280 characters on "
          "one line and must not identify the child\n(no names, numbers, "
          "dates, phones or emails). Rejecting is final.\n\n"
          "Examples:\n"
          "  ruta transfer reject tr_qwertyuiopasdfghjklz --reason "
          "no-capacity\n"
          "  ruta transfer reject tr_qwertyuiopasdfghjklz --reason other "
          "--note \"sin plaza en el CAR\"",
      &RunReject, [](CLI::App& cmd, ChangeOptions& options) {
        cmd.add_option("--reason", options.reason, "Why it is rejected")
            ->required()
            ->type_name(
                absl::StrJoin(EnumFlagNames<ruta::v1::RejectReason>(), "|"));
        AddNoteOption(cmd, options);
      });
  AddChange(parent, context, action, "depart",
            "Confirm that the child departed (sending region)",
            "The transfer must be accepted; it moves to in-transit, and so "
            "does the case.\nWithout --on, the day is the node's today.\n\n"
            "Examples:\n"
            "  ruta transfer depart tr_qwertyuiopasdfghjklz\n"
            "  ruta transfer depart tr_qwertyuiopasdfghjklz --on 2026-11-02",
            &RunDepart, [](CLI::App& cmd, ChangeOptions& options) {
              cmd.add_option("--on", options.on, "Day of departure")
                  ->type_name("YYYY-MM-DD");
            });
  AddChange(parent, context, action, "receive",
            "Confirm that the child arrived (receiving region); custody moves",
            "The transfer must be in-transit; it becomes received (final) and "
            "the case passes\nto your region. Without --on, the day is the "
            "node's today.\n\n"
            "Examples:\n"
            "  ruta transfer receive tr_qwertyuiopasdfghjklz\n"
            "  ruta transfer receive tr_qwertyuiopasdfghjklz --on 2026-11-04",
            &RunReceive, [](CLI::App& cmd, ChangeOptions& options) {
              cmd.add_option("--on", options.on, "Day of arrival")
                  ->type_name("YYYY-MM-DD");
            });
  AddChange(parent, context, action, "cancel",
            "Cancel a transfer before the child departs (sending region)",
            "Only a requested or accepted transfer can be cancelled; "
            "cancelling is final.\nThe note is at most 280 characters on one "
            "line, with no identifiers.\n\n"
            "Examples:\n"
            "  ruta transfer cancel tr_qwertyuiopasdfghjklz\n"
            "  ruta transfer cancel tr_qwertyuiopasdfghjklz --note \"la "
            "familia cambio de provincia\"",
            &RunCancel, &AddNoteOption);
}

}  // namespace

void AddTransferCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* transfers = app.add_subcommand(
      "transfer",
      "Transfer cases between regions and follow the transfers (office "
      "certificate)");
  transfers->require_subcommand(1);
  transfers->footer(
      "Lifecycle: requested -> accepted -> in-transit -> received, or "
      "rejected or cancelled.\n"
      "The sending region's office requests, departs and cancels; the "
      "receiving\nregion's office accepts, rejects and receives.");
  AddRequest(*transfers, context, action);
  AddGet(*transfers, context, action);
  AddList(*transfers, context, action);
  AddWatch(*transfers, context, action);
  AddChanges(*transfers, context, action);
}

}  // namespace ruta::cli
