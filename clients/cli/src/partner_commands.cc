// `ruta partner cases|status|watch|service` (partner certificate).
#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "interrupt.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/partner_requests.h"
#include "ruta/cli/request_id.h"
#include "ruta/cli/watch.h"
#include "stream.h"

namespace ruta::cli {
namespace {

int LocalError(Context& context, const std::string& command,
               const absl::Status& status) {
  return ReportLocalError(context.io->err, "partner " + command, status,
                          "see `ruta partner " + command + " --help`.");
}

// ---- cases ----------------------------------------------------------------

struct CasesOptions {
  PartnerCasesFlags flags;
  bool all = false;
};

int RunCases(Context& context, const CasesOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::ListReferredCasesRequest> request =
      BuildListReferredCasesRequest(options.flags);
  if (!request.ok()) return LocalError(context, "cases", request.status());
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  const bool json = context.format == OutputFormat::kJson;
  Table table(ReferredCaseTableHeader());
  std::string next;
  for (int page = 1;; ++page) {
    ruta::v1::ListReferredCasesResponse response;
    exit_code = connection->RunPartner(
        page == 1 ? "list referred cases"
                  : "list referred cases (page " + std::to_string(page) + ")",
        "", [&](Connection::PartnerStub& stub, grpc::ClientContext& call) {
          return stub.ListReferredCases(&call, *request, &response);
        });
    if (exit_code != 0) break;
    if (json) {
      io.out << ToJson(response, /*one_line=*/options.all) << "\n"
             << std::flush;
    } else {
      for (const auto& c : response.cases()) {
        table.AddRow(ReferredCaseTableRow(c));
      }
    }
    next = response.next_page_token();
    if (!options.all || next.empty() || next == request->page_token()) break;
    request->set_page_token(next);
  }
  if (!json && (exit_code == 0 || table.rows() > 0)) {
    table.Write(io.out);
    io.out << std::flush;
    if (exit_code == 0 && table.rows() == 0) {
      io.err << "ruta: no referred cases\n";
    }
    if (exit_code == 0 && !options.all && !next.empty()) {
      io.err << "ruta: more referred cases: add --page-token " << next
             << " (or --all)\n";
    }
  }
  return exit_code;
}

void AddCases(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<CasesOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "cases", "List the cases referred to you, under your references");
  cmd->add_option("--stage", options->flags.stage, "Only cases in this stage")
      ->type_name(absl::StrJoin(EnumFlagNames<ruta::v1::Stage>(), "|"));
  cmd->add_option("--page-size", options->flags.page_size,
                  "Cases per page, 1 to 100 (default 50)")
      ->type_name("N");
  cmd->add_option("--page-token", options->flags.page_token,
                  "The page to show, as printed after the previous one")
      ->type_name("TOKEN");
  cmd->add_flag("--all", options->all, "Follow every page to the end");
  cmd->footer(
      "You see only the cases referred to you, owned by the region of the "
      "node you call,\neach under your own PARTNER_CASE_REF: stage, month of "
      "the referral and the\nservices you deliver (SERVICES: type:status).\n\n"
      "Examples:\n"
      "  ruta partner cases\n"
      "  ruta partner cases --stage residential-care --page-size 20\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunCases(context, *options); };
  });
}

// ---- status ---------------------------------------------------------------

int RunStatus(Context& context, const std::string& ref) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::GetCaseStatusRequest> request =
      BuildGetCaseStatusRequest(ref);
  if (!request.ok()) return LocalError(context, "status", request.status());
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  ruta::v1::GetCaseStatusResponse response;
  exit_code = connection->RunPartner(
      "show referred case " + ref, "",
      [&](Connection::PartnerStub& stub, grpc::ClientContext& call) {
        return stub.GetCaseStatus(&call, *request, &response);
      });
  if (exit_code != 0) return exit_code;
  if (context.format == OutputFormat::kJson) {
    io.out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    WriteReferredCase(io.out, response.case_());
  }
  io.out << std::flush;
  return kExitOk;
}

void AddStatus(CLI::App& parent, Context& context, Action* action) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = parent.add_subcommand(
      "status", "Show one case referred to you: stage, timeline, services");
  cmd->add_option("PARTNER_CASE_REF", *ref,
                  "Your reference of the case (pc_...)")
      ->required();
  cmd->footer(
      "The timeline lists each stage the case entered, by month. A case "
      "that is not\n(or no longer) referred to you is not found (exit code "
      "of NOT_FOUND).\n\n"
      "Example:\n"
      "  ruta partner status pc_abcdefghijklmnopabcdefghijklmnop\n\n" +
      GlobalOptionsNote());
  cmd->callback([ref, &context, action] {
    *action = [ref, &context] { return RunStatus(context, *ref); };
  });
}

// ---- service --------------------------------------------------------------

struct ServiceOptions {
  PartnerServiceFlags flags;
  std::string request_id;
};

int RunService(Context& context, const ServiceOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::UpdateServiceStatusRequest> request =
      BuildUpdateServiceStatusRequest(options.flags);
  if (!request.ok()) return LocalError(context, "service", request.status());
  int exit_code = 0;
  request->set_request_id(
      RequestIdFor(context, options.request_id, &exit_code));
  if (exit_code != 0) return exit_code;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  ruta::v1::UpdateServiceStatusResponse response;
  exit_code = connection->RunPartner(
      "record the status of service " + options.flags.service_id,
      request->request_id(),
      [&](Connection::PartnerStub& stub, grpc::ClientContext& call) {
        return stub.UpdateServiceStatus(&call, *request, &response);
      });
  if (exit_code != 0) return exit_code;
  if (context.format == OutputFormat::kJson) {
    io.out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    WritePartnerService(io.out, response.service());
  }
  io.out << std::flush;
  return kExitOk;
}

void AddService(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ServiceOptions>();
  PartnerServiceFlags& f = options->flags;
  CLI::App* cmd = parent.add_subcommand(
      "service", "Record the status of a service you deliver on a case");
  cmd->add_option("PARTNER_CASE_REF", f.partner_case_ref,
                  "Your reference of the case (pc_...)")
      ->required();
  cmd->add_option("SERVICE_ID", f.service_id, "The service (sv_...)")
      ->required();
  cmd->add_option("--status", f.status, "The new status")
      ->required()
      ->type_name(absl::StrJoin(EnumFlagNames<ruta::v1::ServiceStatus>(), "|"));
  cmd->add_option("--end-month", f.end_month,
                  "Month it ended (required with completed or dropped)")
      ->type_name("YYYY-MM");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID), so that "
                  "the node records it once")
      ->type_name("UUID");
  cmd->footer(
      "Only services whose provider is you, on cases referred to you.\n\n"
      "Examples:\n"
      "  ruta partner service pc_abcdefghijklmnopabcdefghijklmnop "
      "sv_qwertyuiopasdfghjklz \\\n"
      "    --status ongoing\n"
      "  ruta partner service pc_abcdefghijklmnopabcdefghijklmnop "
      "sv_qwertyuiopasdfghjklz \\\n"
      "    --status completed --end-month 2027-01\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunService(context, *options); };
  });
}

// ---- watch ----------------------------------------------------------------

// One WatchReferredCases stream (ReadStream, as `ruta transfer watch` opens
// its own): connecting must succeed within --timeout; the stream then lasts
// at most kWatchStreamLifetime.
StreamEnd OpenStream(
    Connection& connection, Interrupt& interrupt,
    const ruta::v1::WatchReferredCasesRequest& request,
    const std::function<void(const ruta::v1::WatchReferredCasesResponse&)>&
        sink) {
  return ReadStream<ruta::v1::WatchReferredCasesResponse>(
      connection, interrupt, kWatchStreamLifetime,
      [&](grpc::ClientContext* call) {
        return connection.partner_stub().WatchReferredCases(call, request);
      },
      [&](const ruta::v1::WatchReferredCasesResponse& update) {
        sink(update);
        return true;
      });
}

int RunWatch(Context& context, const std::string& cursor) {
  Io& io = *context.io;
  if (absl::Status valid = BuildWatchReferredCasesRequest(cursor).status();
      !valid.ok()) {
    return LocalError(context, "watch", valid);
  }
  Interrupt interrupt;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  const bool json = context.format == OutputFormat::kJson;
  StreamTable table(PartnerWatchTableHeader());
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
  const WatchOutcome outcome = FollowWithResume(
      policy, cursor,
      [&](const std::string& after,
          const std::function<void(const std::string&)>& delivered) {
        ruta::v1::WatchReferredCasesRequest request;
        request.set_cursor(after);
        return OpenStream(
            *connection, interrupt, request,
            [&](const ruta::v1::WatchReferredCasesResponse& update) {
              if (json) {
                io.out << ToJson(update, /*one_line=*/true) << "\n";
              } else {
                table.WriteRow(io.out, PartnerWatchTableRow(update));
              }
              io.out << std::flush;
              delivered(update.cursor());
            });
      },
      "watch referred cases", io.err, hooks);
  const std::string resume =
      outcome.cursor.empty() ? std::string()
                             : " (resume with --cursor " + outcome.cursor + ")";
  if (outcome.stopped) {
    io.err << "ruta: watch stopped by " << interrupt.signal_name() << resume
           << "\n"
           << std::flush;
    return kExitOk;
  }
  exit_code = ReportRpcError(io.err, "watch referred cases", outcome.status,
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
      "watch", "Print the changes to the cases referred to you as they happen");
  cmd->add_option("--cursor", *cursor,
                  "Resume after this update (the CURSOR of a line printed "
                  "earlier); without it, start with the current state of "
                  "every case referred to you")
      ->type_name("CURSOR");
  cmd->footer(
      "Each update is one line as it arrives: a table row starting with its "
      "CURSOR, or\none WatchReferredCasesResponse JSON object with --output "
      "json. UPDATE \"withdrawn\"\nmeans you lost access to the case (referral "
      "withdrawn, case erased, or custody\nmoved to another region). When the "
      "stream breaks ruta reconnects with backoff\n(0.5 s doubling to 30 s) "
      "and resumes after the last cursor printed: nothing is\nlost or printed "
      "twice. SIGINT (Ctrl-C) or SIGTERM stop it cleanly (exit 0),\nnaming "
      "the cursor to resume from.\n\n"
      "Examples:\n"
      "  ruta partner watch\n"
      "  ruta partner watch --cursor CURSOR   # resume where a previous watch "
      "stopped\n\n" +
      GlobalOptionsNote());
  cmd->callback([cursor, &context, action] {
    *action = [cursor, &context] { return RunWatch(context, *cursor); };
  });
}

}  // namespace

void AddPartnerCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* partner = app.add_subcommand(
      "partner",
      "Follow the cases referred to you and record your services (partner "
      "certificate)");
  partner->require_subcommand(1);
  AddCases(*partner, context, action);
  AddStatus(*partner, context, action);
  AddWatch(*partner, context, action);
  AddService(*partner, context, action);
}

}  // namespace ruta::cli
