// `ruta admin audit verify|export`, `ruta admin relay status`, `ruta admin
// person merge`, `ruta admin case erase`, `ruta admin linkage-key rotate`,
// `ruta admin backup`.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "interrupt.h"
#include "ruta/cli/admin_requests.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/prompt.h"
#include "ruta/cli/watch.h"
#include "stream.h"

namespace ruta::cli {
namespace {

using AdminStub = Connection::AdminStub;

// A stub method of Admin taking Request and answering Response.
template <typename Request, typename Response>
using AdminMethod = grpc::Status (AdminStub::*)(grpc::ClientContext*,
                                                const Request&, Response*);

constexpr char kAdminCertificate[] =
    "an admin certificate of the node's region";

// Connect for a read of the Admin service: a refusal's hint names the admin
// certificate.
std::unique_ptr<Connection> ConnectAdmin(Context& context, int* exit_code) {
  std::unique_ptr<Connection> connection = Connect(context, exit_code);
  if (connection != nullptr) {
    RecordHints hints;
    hints.who_may = kAdminCertificate;
    connection->set_record_hints(std::move(hints));
  }
  return connection;
}

// "matches", "truncated", ...: the enum name without its prefix, lowercase.
std::string ResultName(ruta::v1::CheckpointResult result) {
  std::string name = ruta::v1::CheckpointResult_Name(result);
  constexpr absl::string_view kPrefix = "CHECKPOINT_RESULT_";
  if (absl::StartsWith(name, kPrefix)) name = name.substr(kPrefix.size());
  absl::AsciiStrToLower(&name);
  return name;
}

void WriteVerification(std::ostream& out,
                       const ruta::v1::VerifyAuditResponse& response) {
  std::vector<std::pair<std::string, std::string>> entries = {
      {"ok", response.ok() ? "yes" : "NO"},
      {"records_checked", absl::StrCat(response.records_checked())},
  };
  if (!response.ok()) {
    entries.emplace_back("first_bad_index",
                         absl::StrCat(response.first_bad_index()));
    entries.emplace_back("problem", response.problem());
  }
  WriteKeyValues(out, entries);
  if (response.checkpoints_size() == 0) {
    out << "\nno checkpoint to compare with (no peers configured)\n";
    return;
  }
  out << "\n";
  Table table({"CHECKPOINT_HOLDER", "LENGTH", "RESULT", "DETAIL"});
  for (const ruta::v1::CheckpointCheck& check : response.checkpoints()) {
    table.AddRow(
        {check.holder(),
         check.result() == ruta::v1::CHECKPOINT_RESULT_NONE ||
                 check.result() == ruta::v1::CHECKPOINT_RESULT_UNREACHABLE
             ? "-"
             : absl::StrCat(check.length()),
         ResultName(check.result()),
         check.detail().empty() ? "-" : check.detail()});
  }
  table.Write(out);
}

int RunVerify(Context& context) {
  Io& io = *context.io;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = ConnectAdmin(context, &exit_code);
  if (connection == nullptr) return exit_code;

  ruta::v1::VerifyAuditResponse response;
  exit_code = connection->RunAdmin(
      "verify the audit log",
      [&](Connection::AdminStub& stub, grpc::ClientContext& call) {
        return stub.VerifyAudit(&call, ruta::v1::VerifyAuditRequest(),
                                &response);
      });
  if (exit_code != 0) return exit_code;

  if (context.format == OutputFormat::kJson) {
    io.out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    WriteVerification(io.out, response);
  }
  io.out << std::flush;

  for (const ruta::v1::CheckpointCheck& check : response.checkpoints()) {
    if (check.result() == ruta::v1::CHECKPOINT_RESULT_UNREACHABLE) {
      io.err << "ruta: warning: peer " << check.holder()
             << " could not be asked for its checkpoint (" << check.detail()
             << "); a removed tail of the log is detected only against the "
                "checkpoints that could be read.\n";
    } else if (check.result() == ruta::v1::CHECKPOINT_RESULT_BAD_SIGNATURE) {
      io.err << "ruta: warning: the checkpoint held by " << check.holder()
             << " is not signed by this region (" << check.detail()
             << "); it was ignored.\n";
    }
  }
  if (!response.ok()) {
    io.err << "ruta: the audit log FAILED verification at record "
           << response.first_bad_index() << ": " << response.problem()
           << "\nhint: the log was altered (a record edited, deleted, "
              "reordered, or its tail removed); keep the database file as "
              "evidence and report it.\n"
           << std::flush;
    return kExitConflict;
  }
  return kExitOk;
}

// One row per peer: the backlog (events written for it and not yet
// acknowledged) and the lag (age of the oldest of them).
int RunRelayStatus(Context& context) {
  Io& io = *context.io;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = ConnectAdmin(context, &exit_code);
  if (connection == nullptr) return exit_code;
  ruta::v1::GetRelayStatusResponse response;
  exit_code = connection->RunAdmin(
      "read the relay status",
      [&](Connection::AdminStub& stub, grpc::ClientContext& call) {
        return stub.GetRelayStatus(&call, ruta::v1::GetRelayStatusRequest(),
                                   &response);
      });
  if (exit_code != 0) return exit_code;
  if (context.format == OutputFormat::kJson) {
    io.out << ToJson(response, /*one_line=*/false) << "\n" << std::flush;
    return kExitOk;
  }
  if (response.peers_size() == 0) {
    io.out << "no peers configured\n" << std::flush;
    return kExitOk;
  }
  const absl::Time now = absl::Now();
  Table table(
      {"PEER", "CONNECTED", "LAST_SEQUENCE", "ACKNOWLEDGED", "BACKLOG", "LAG"});
  for (const ruta::v1::RelayStatus& peer : response.peers()) {
    const int64_t backlog = peer.last_sequence() - peer.acknowledged_sequence();
    std::string lag = "-";
    if (backlog > 0 && peer.has_oldest_unacknowledged_at()) {
      const absl::Time oldest =
          absl::FromUnixSeconds(peer.oldest_unacknowledged_at().seconds());
      lag = absl::FormatDuration(absl::Seconds(
          absl::ToInt64Seconds(std::max(absl::ZeroDuration(), now - oldest))));
    }
    table.AddRow({peer.peer_region(), peer.connected() ? "yes" : "no",
                  absl::StrCat(peer.last_sequence()),
                  absl::StrCat(peer.acknowledged_sequence()),
                  absl::StrCat(backlog), lag});
  }
  table.Write(io.out);
  io.out << std::flush;
  return kExitOk;
}

// ---- changes: person merge, case erase, linkage-key rotate ----------------

CLI::Option* AddRequestIdOption(CLI::App& cmd, std::string& request_id) {
  return cmd
      .add_option("--request-id", request_id,
                  "Reuse the request_id of a failed attempt (UUID), so that "
                  "the node applies the change once")
      ->type_name("UUID");
}

// Reports a flag or argument refused before anything is sent; `command` is
// e.g. "case erase".
int LocalError(Context& context, const std::string& command,
               const absl::Status& status) {
  return ReportLocalError(context.io->err, "admin " + command, status,
                          "see `ruta admin " + command + " --help`.");
}

// ---- audit export -----------------------------------------------------------

// "340 records read, 12 printed" (printed only when a filter is set).
std::string ReadCounts(int64_t read, int64_t printed, bool filtered) {
  std::string text =
      absl::StrCat(read, read == 1 ? " record read" : " records read");
  if (filtered) absl::StrAppend(&text, ", ", printed, " printed");
  return text;
}

// Streams the log from --cursor: each stream (ReadStream) must connect
// within --timeout and lasts at most --timeout; one that was still sending
// then is continued at once after the last record read, one that sent
// nothing is a failed attempt (FollowWithResume, finite). The last line on
// stderr names the --cursor to continue from.
int RunExport(Context& context, const AuditExportFlags& flags) {
  Io& io = *context.io;
  absl::StatusOr<AuditExport> plan = BuildAuditExport(flags);
  if (!plan.ok()) return LocalError(context, "audit export", plan.status());
  const AuditFilter& filter = plan->filter;
  const bool filtered = !filter.clerk.empty() || !filter.principal.empty() ||
                        !filter.method.empty();
  // SIGINT and SIGTERM stop the export (connecting included), which then
  // names the cursor to continue from.
  Interrupt interrupt;
  int exit_code = 0;
  std::unique_ptr<Connection> connection = ConnectAdmin(context, &exit_code);
  if (connection == nullptr) return exit_code;

  const bool json = context.format == OutputFormat::kJson;
  StreamTable table(AuditTableHeader(), AuditTableWidths());
  if (!json) {
    table.WriteHeader(io.out);
    io.out << std::flush;
  }
  WatchPolicy policy;
  policy.retry = connection->policy();
  policy.finite = true;
  int64_t printed = 0;
  bool limit_reached = false;
  WatchHooks hooks;
  hooks.stopped = [&] { return limit_reached || interrupt.requested(); };
  hooks.sleep = [&interrupt](absl::Duration delay) {
    return interrupt.SleepFor(delay);
  };
  hooks.before_reopen = [&connection] { connection->Reconnect(); };
  const absl::Duration lifetime = connection->settings().timeout;
  const WatchOutcome outcome = FollowWithResume(
      policy, plan->request.cursor(),
      [&](const std::string& after,
          const std::function<void(const std::string&)>& delivered) {
        ruta::v1::ExportAuditRequest request = plan->request;
        request.set_cursor(after);
        return ReadStream<ruta::v1::ExportAuditResponse>(
            *connection, interrupt, lifetime,
            [&](grpc::ClientContext* call) {
              return connection->admin_stub().ExportAudit(call, request);
            },
            [&](const ruta::v1::ExportAuditResponse& record) {
              if (filter.Matches(record)) {
                if (json) {
                  io.out << ToJson(record, /*one_line=*/true) << "\n";
                } else {
                  table.WriteRow(io.out, AuditTableRow(record));
                }
                io.out << std::flush;
                ++printed;
              }
              delivered(record.cursor());
              limit_reached = filter.limit > 0 && printed >= filter.limit;
              return !limit_reached;
            });
      },
      "export the audit log", io.err, hooks);

  const std::string counts = ReadCounts(outcome.updates, printed, filtered);
  const std::string& cursor = outcome.cursor;
  if (limit_reached) {
    io.err << "ruta: stopped at --limit " << filter.limit << " (" << counts
           << ").\nruta: to continue after the last record printed, rerun "
              "with --cursor "
           << cursor << "\n"
           << std::flush;
    return kExitOk;
  }
  if (outcome.completed) {
    if (filtered && printed == 0) io.err << "ruta: no record matched.\n";
    if (cursor.empty()) {
      io.err << "ruta: the audit log has no records yet.\n" << std::flush;
      return kExitOk;
    }
    io.err << "ruta: end of the audit log (" << counts
           << ").\nruta: to read the records written after these later, "
              "rerun with --cursor "
           << cursor << "\n"
           << std::flush;
    return kExitOk;
  }
  if (outcome.stopped) {
    io.err << "ruta: export stopped by " << interrupt.signal_name()
           << " before the end of the log (" << counts << ").\n";
    exit_code = kExitFailure;
  } else {
    exit_code =
        ReportRpcError(io.err, "export the audit log", outcome.status,
                       connection->MakeCallContext(outcome.attempts, ""));
    if (outcome.updates > 0) io.err << "ruta: " << counts << ".\n";
  }
  if (!cursor.empty()) {
    io.err << "ruta: to resume where this export stopped, rerun it with "
              "--cursor "
           << cursor << "\n";
  }
  io.err << std::flush;
  return exit_code;
}

void AddAuditExport(CLI::App& audit, Context& context, Action* action) {
  auto flags = std::make_shared<AuditExportFlags>();
  CLI::App* cmd = audit.add_subcommand(
      "export",
      "Print the audit log's records (who called what, on behalf of which "
      "clerk, with what outcome)");
  cmd->add_option("--cursor", flags->cursor,
                  "Start after this record (the --cursor the last export "
                  "printed on stderr, or a record's cursor in --output "
                  "json); without it, from the first record")
      ->type_name("CURSOR");
  cmd->add_option("--clerk", flags->clerk,
                  "Only the calls made on behalf of this clerk (the account "
                  "name an office application such as the console sends; "
                  "ON_BEHALF_OF)")
      ->type_name("NAME");
  cmd->add_option("--principal", flags->principal,
                  "Only the calls whose caller's SPIFFE id contains TEXT "
                  "(e.g. office/wanchaq)")
      ->type_name("TEXT");
  cmd->add_option("--method", flags->method,
                  "Only the calls of this method (e.g. CaseOffice.GetCase)")
      ->type_name("Service.Method");
  CLI::Option* limit =
      cmd->add_option("--limit", flags->limit,
                      "Stop after printing N records (1 to 1000000)")
          ->type_name("N");
  cmd->footer(
      "Each record is one call to the node, allowed or denied: INDEX (its "
      "place in the\nchain), TIME (UTC, RFC 3339), PRINCIPAL (the caller's "
      "SPIFFE id), ON_BEHALF_OF\n(the clerk an office application named, "
      "\"-\" for none), METHOD, CASE (the case or\ntransfer id the call "
      "named, \"-\" for none) and OUTCOME (the gRPC status code).\nWith "
      "--output json, one ExportAuditResponse JSON object per line (with "
      "its\ncursor and chain_hash).\n\n"
      "The node streams the WHOLE log from --cursor (or from the first "
      "record); the\nfilters are applied by ruta, so a filtered export of a "
      "long log takes as long as\na full one. Records match when they match "
      "every filter given. Clerk names are\nunique per office only: to "
      "answer \"what did clerk Y of office X do?\", give both\n--clerk Y "
      "and --principal office/X.\n\n"
      "--timeout bounds connecting and each stream: one still sending at "
      "its deadline\nis continued at once after the last record read; one "
      "that breaks or sent\nnothing is retried after a backoff, also from "
      "the last record read (--retries\ntimes in a row, then exit 7). The "
      "last line on stderr names the --cursor to\ncontinue from (after the "
      "last record read; with --limit, the last printed),\nalso after a "
      "failure or SIGINT/SIGTERM.\n\n"
      "Exit status: 0 the log was read to its end (or --limit records were "
      "printed); 1\nstopped by SIGINT or SIGTERM; 2 a malformed flag; "
      "otherwise as for every command\n(5: a cursor the node did not issue, "
      "6: not an admin certificate of the node's\nregion, 7: node "
      "unreachable).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin audit export --clerk rosa.quispe \\\n"
      "    --principal office/wanchaq\n"
      "  ruta admin audit export --method Admin.EraseCase\n"
      "  ruta admin audit export --output json > audit.jsonl   # then later:\n"
      "  ruta admin audit export --output json --cursor CURSOR >> "
      "audit.jsonl\n\n" +
      GlobalOptionsNote());
  cmd->callback([flags, limit, &context, action] {
    flags->has_limit = limit->count() > 0;
    *action = [flags, &context] { return RunExport(context, *flags); };
  });
}

// Sends an Admin change as SendChange sends a CaseOffice one: stamps its
// request_id (--request-id or a new one), connects, and runs `send` with
// retries under that same request_id. `*response` holds the answer when it
// returns 0.
template <typename Request, typename Response>
int SendAdminChange(Context& context, Request& request,
                    const std::string& request_id_flag, const std::string& what,
                    AdminMethod<Request, Response> send, RecordHints hints,
                    Response* response) {
  int exit_code = 0;
  request.set_request_id(RequestIdFor(context, request_id_flag, &exit_code));
  if (exit_code != 0) return exit_code;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  if (hints.who_may.empty()) hints.who_may = kAdminCertificate;
  connection->set_record_hints(std::move(hints));
  return connection->RunAdmin(what, request.request_id(),
                              [&](AdminStub& stub, grpc::ClientContext& call) {
                                return (stub.*send)(&call, request, response);
                              });
}

// With --output json the response, else `entries` as a key/value block.
void PrintResult(
    const Context& context, const google::protobuf::Message& response,
    const std::vector<std::pair<std::string, std::string>>& entries) {
  std::ostream& out = context.io->out;
  if (context.format == OutputFormat::kJson) {
    out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    WriteKeyValues(out, entries);
  }
  out << std::flush;
}

struct MergeOptions {
  std::string ref;
  std::string other_ref;
  std::string request_id;
};

int RunMerge(Context& context, const MergeOptions& options) {
  absl::StatusOr<ruta::v1::MergePersonsRequest> request =
      BuildMergePersonsRequest(options.ref, options.other_ref);
  if (!request.ok())
    return LocalError(context, "person merge", request.status());
  RecordHints hints;
  hints.not_found =
      "find the refs with `ruta person find` or `ruta case get`; each must "
      "be carried by a case of your region.";
  ruta::v1::MergePersonsResponse response;
  const int exit_code =
      SendAdminChange(context, *request, options.request_id,
                      "merge " + options.ref + " and " + options.other_ref,
                      &AdminStub::MergePersons, std::move(hints), &response);
  if (exit_code != 0) return exit_code;
  PrintResult(context, response,
              {{"person_ref", response.person_ref()},
               {"cases_changed", absl::StrCat(response.cases_changed())}});
  return kExitOk;
}

void AddPersonMerge(CLI::App& admin, Context& context, Action* action) {
  CLI::App* person = admin.add_subcommand(
      "person", "The person_refs that link a child's cases");
  person->require_subcommand(1);
  auto options = std::make_shared<MergeOptions>();
  CLI::App* cmd = person->add_subcommand(
      "merge",
      "Join two person_refs found to be one child, here and on the regions "
      "their cases are shared with");
  cmd->add_option("REF", options->ref, "One person_ref (pr<version>_...)")
      ->required();
  cmd->add_option("OTHER_REF", options->other_ref,
                  "The other person_ref (the order does not matter)")
      ->required();
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer(
      "For a child whose cases carry two refs: opened without identifiers "
      "(an unlinked\npr0_ ref), or with identifiers that differed. Both refs "
      "must be carried by a case\nof your region. The node keeps one of them "
      "by a fixed rule (the ref of the higher\nkey version, then the first "
      "in alphabetical order), so that merges made in both\nregions agree; "
      "it prints that person_ref and the number of cases of this node\n"
      "whose ref changed (cases_changed). The regions the cases are shared "
      "with apply\nthe merge when the change reaches them.\n\n"
      "Exit status: 0 merged (cases_changed 0 when they already were one); "
      "2 a malformed ref\nor the same ref twice; 3 a ref carried by no "
      "case of your region; otherwise as\nfor every command (6: not an "
      "admin certificate of the node's region).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin person merge "
      "pr0_abcdefghijklmnopabcdefghijklmnop \\\n"
      "    pr1_ponmlkjihgfedcbaponmlkjihgfedcba\n"
      "  ruta admin person merge REF OTHER_REF --output json\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunMerge(context, *options); };
  });
}

struct EraseOptions {
  std::string case_id;
  bool yes = false;
  std::string request_id;
};

int RunErase(Context& context, const EraseOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::EraseCaseRequest> request =
      BuildEraseCaseRequest(options.case_id);
  if (!request.ok()) return LocalError(context, "case erase", request.status());
  // Checked before the question, so that a typo in it does not waste a
  // confirmation.
  int exit_code = 0;
  const std::string request_id =
      RequestIdFor(context, options.request_id, &exit_code);
  if (exit_code != 0) return exit_code;
  // Asked before connecting: nothing reaches the node unless confirmed.
  if (!options.yes) {
    if (!io.stdin_is_terminal) {
      return ReportLocalError(
          io.err, "admin case erase",
          absl::InvalidArgumentError(
              "erasing a case cannot be undone, and stdin is not a terminal "
              "to confirm it on: add --yes"),
          "`ruta admin case erase " + options.case_id +
              " --yes` erases without asking (for scripts); on a terminal "
              "ruta asks you to type the case id.");
    }
    const bool confirmed = ConfirmByTyping(
        io.in, io.err,
        "Erasing case " + options.case_id +
            " deletes its attributes, stages, services and transfers on this "
            "node\nand on every region it was shared with. It cannot be "
            "undone.\nType the case id to confirm: ",
        options.case_id);
    if (!confirmed) {
      return ReportLocalError(
          io.err, "admin case erase",
          absl::CancelledError("not confirmed; nothing was erased"));
    }
  }
  RecordHints hints;
  hints.failed_precondition =
      "an open transfer of the case (requested, accepted or in transit) "
      "must end first:\nhint:   an office cancels, rejects or receives it "
      "(`ruta transfer list --case " +
      options.case_id +
      "`);\nhint:   and only the region that owns a case erases it.";
  ruta::v1::EraseCaseResponse response;
  exit_code = SendAdminChange(
      context, *request, request_id, "erase case " + options.case_id,
      &AdminStub::EraseCase, std::move(hints), &response);
  if (exit_code != 0) return exit_code;
  PrintResult(context, response,
              {{"case_id", options.case_id},
               {"erased", response.erased() ? "yes" : "no"}});
  io.err << "ruta: note: the regions the case was shared with erase it when "
            "the change reaches them\n(`ruta admin relay status` shows what "
            "is still to be sent).\n"
         << std::flush;
  return kExitOk;
}

void AddCaseErase(CLI::App& admin, Context& context, Action* action) {
  CLI::App* cases = admin.add_subcommand("case", "Erase a case");
  cases->require_subcommand(1);
  auto options = std::make_shared<EraseOptions>();
  CLI::App* cmd = cases->add_subcommand(
      "erase",
      "Erase a case of your region here and on every region it was shared "
      "with (irreversible)");
  cmd->add_option("CASE_ID", options->case_id,
                  "The case (cs_...), owned by your region")
      ->required();
  cmd->add_flag("--yes", options->yes,
                "Do not ask for confirmation (required when stdin is not a "
                "terminal)");
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer(
      "Deletes the case's attributes, stages, services and transfers. What "
      "remains is the\npseudonymous ids in the audit log, the event hashes "
      "and the aggregate counts.\nWithout --yes, ruta asks you to type the "
      "case id on the terminal; when stdin is\nnot a terminal it refuses "
      "(exit 2). Refused by the node (exit 4, with its reason)\nwhile a "
      "transfer of the case is open (requested, accepted or in transit) or "
      "when\nanother region owns the case.\n\n"
      "Exit status: 0 erased; 2 not confirmed, or no --yes without a "
      "terminal; 3 no such\ncase (or already erased); 4 refused by the node "
      "(open transfer, owned by another\nregion); otherwise as for every "
      "command (6: not an admin certificate of the\nnode's region).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin case erase cs_qwertyuiopasdfghjklz\n"
      "  ruta admin case erase cs_qwertyuiopasdfghjklz --yes   # scripts: no "
      "question\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunErase(context, *options); };
  });
}

struct RotateOptions {
  std::string version;
  std::string request_id;
};

int RunRotate(Context& context, const RotateOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::RotateLinkageKeyRequest> request =
      BuildRotateLinkageKeyRequest(options.version);
  if (!request.ok()) {
    return LocalError(context, "linkage-key rotate", request.status());
  }
  RecordHints hints;
  // Either the version is not installed or it is older than the current
  // one; the node's message says which.
  hints.failed_precondition =
      "a rotation goes only forward, to a key version already in the "
      "linkage key file\nhint:   of every node of the federation: add its "
      "line \"<version> <64 hex>\" there first\nhint:   (mode 0600; "
      "`certs/pki.sh linkage-key --version N` adds one).";
  ruta::v1::RotateLinkageKeyResponse response;
  const int exit_code = SendAdminChange(
      context, *request, options.request_id,
      absl::StrCat("rotate the linkage key to version ",
                   request->new_version()),
      &AdminStub::RotateLinkageKey, std::move(hints), &response);
  if (exit_code != 0) return exit_code;
  PrintResult(context, response,
              {{"current_version", absl::StrCat(response.current_version())},
               {"cases_on_older_versions",
                absl::StrCat(response.cases_on_older_versions())}});
  if (response.cases_on_older_versions() > 0) {
    const int64_t older = response.cases_on_older_versions();
    io.err << "ruta: note: " << older
           << (older == 1 ? " case still carries" : " cases still carry")
           << " a person_ref of an older key version.\nKeep the older key "
              "versions in the linkage key file until "
           << (older == 1 ? "it is" : "they are")
           << " re-linked (when the\nchild is seen again); without them, "
           << (older == 1 ? "it" : "they") << " can no longer be linked.\n"
           << std::flush;
  }
  return kExitOk;
}

void AddLinkageKeyRotate(CLI::App& admin, Context& context, Action* action) {
  CLI::App* key = admin.add_subcommand(
      "linkage-key",
      "The federation linkage key from which person_refs are derived");
  key->require_subcommand(1);
  auto options = std::make_shared<RotateOptions>();
  CLI::App* cmd = key->add_subcommand(
      "rotate",
      "Make a linkage key version current (installed in the key file "
      "first)");
  cmd->add_option("VERSION", options->version,
                  "The key version, 1 to 999, already in the node's linkage "
                  "key file")
      ->required();
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer(
      "First add the new key to the linkage key file of every node of the "
      "federation\n(a line \"<version> <64 hex>\"; `certs/pki.sh linkage-key "
      "--version N` adds one);\nthe node reads the file again. New refs are "
      "then derived under VERSION; refs of\nolder versions stay findable and "
      "are re-linked when their child is seen again.\nruta prints "
      "current_version and cases_on_older_versions: while that is above 0,\n"
      "the older keys must stay in the file.\n\n"
      "Exit status: 0 rotated (also to the version already current); 4 the "
      "version is not\nin the key file or is older than the current one; "
      "otherwise as for every command\n(6: not an admin certificate of the "
      "node's region).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin linkage-key rotate 2\n"
      "  ruta admin linkage-key rotate 2 --output json\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunRotate(context, *options); };
  });
}

struct BackupOptions {
  double deadline_seconds = 1800;
  std::string request_id;
};

int RunBackup(Context& context, const BackupOptions& options) {
  if (!(options.deadline_seconds > 0 &&
        options.deadline_seconds <= kMaxTimeoutSeconds)) {
    return LocalError(context, "backup",
                      absl::InvalidArgumentError(
                          absl::StrCat("--deadline must be between 1 and ",
                                       kMaxTimeoutSeconds, " seconds")));
  }
  // A backup of a large store takes minutes: this call's deadline is
  // --deadline, not the global --timeout.
  context.connection.timeout_seconds = options.deadline_seconds;
  ruta::v1::BackupRequest request;
  RecordHints hints;
  hints.failed_precondition =
      "the node makes backups only when its configuration sets "
      "backup.directory and\nhint:   backup.key_file (see docs/backup.md), "
      "and both are usable (the node's message says\nhint:   what is wrong).";
  ruta::v1::BackupResponse response;
  const int exit_code =
      SendAdminChange(context, request, options.request_id, "back up the node",
                      &AdminStub::Backup, std::move(hints), &response);
  if (exit_code != 0) return exit_code;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sha256;
  for (unsigned char c : response.sha256()) {
    sha256.push_back(kHex[c >> 4]);
    sha256.push_back(kHex[c & 15]);
  }
  PrintResult(
      context, response,
      {{"file_name", response.file_name()},
       {"size_bytes", absl::StrCat(response.size_bytes())},
       {"sha256", sha256},
       {"created_at",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                         absl::FromUnixSeconds(response.created_at().seconds()),
                         absl::UTCTimeZone())}});
  return kExitOk;
}

void AddBackup(CLI::App& admin, Context& context, Action* action) {
  auto options = std::make_shared<BackupOptions>();
  CLI::App* cmd = admin.add_subcommand(
      "backup",
      "Make an online, consistent, encrypted backup of the node's store in "
      "its backup directory");
  cmd->add_option("--deadline", options->deadline_seconds,
                  "How long to wait for the backup, default 1800 (this "
                  "command does not use --timeout)")
      ->type_name("SECONDS");
  AddRequestIdOption(*cmd, options->request_id);
  cmd->footer(
      "The node copies a consistent snapshot of its store while it keeps "
      "serving, encrypts\nit with its backup key and writes it to its "
      "backup directory (backup.directory in\nthe node's configuration) as "
      "ruta-<region>-<UTC time>.rbk. ruta prints the file\nname, its size "
      "and its SHA-256 (compare with `sha256sum` after copying it away).\n"
      "One backup runs at a time. A retry with the same --request-id (ruta "
      "retries by\nitself on a timeout) returns the same file instead of "
      "making another. Restore:\n`ruta-node restore` with the node stopped "
      "(docs/backup.md).\n\n"
      "Exit status: 0 written; 4 backups not configured on the node, or "
      "its directory or\nkey unusable; 1 another backup is running (retry "
      "later); otherwise as for every\ncommand (6: not an admin "
      "certificate of the node's region).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin backup\n"
      "  ruta admin backup --deadline 3600 --output json\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunBackup(context, *options); };
  });
}

}  // namespace

void AddAdminCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* admin = app.add_subcommand(
      "admin", "Operator functions of the node (admin certificate)");
  admin->require_subcommand(1);
  CLI::App* audit =
      admin->add_subcommand("audit", "The node's tamper-evident audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Recompute the audit chain and compare it with the signed checkpoints "
      "the peers hold");
  verify->footer(
      "Every call to the node, allowed or denied, is one record of a SHA-256 "
      "hash chain.\nThe node recomputes it from the first record (an edited, "
      "deleted or reordered record\nbreaks it) and compares it with the "
      "checkpoints it signed and sent to its peers\n(a removed tail is "
      "shorter than such a checkpoint).\n\n"
      "Exit status: 0 when the log verifies; 4 when it does not (the first "
      "bad record and\nthe problem are printed); otherwise as for every "
      "command (6: not an admin\ncertificate of the node's region, 7: node "
      "unreachable).\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin audit verify\n"
      "  ruta admin audit verify --output json\n\n" +
      GlobalOptionsNote());
  verify->callback([&context, action] {
    *action = [&context] { return RunVerify(context); };
  });
  AddAuditExport(*audit, context, action);

  CLI::App* relay = admin->add_subcommand(
      "relay",
      "The federation relay that sends this node's changes to its "
      "peers");
  relay->require_subcommand(1);
  CLI::App* status = relay->add_subcommand(
      "status", "Per peer: connected, backlog and lag of the relay");
  status->footer(
      "BACKLOG is the number of events written for the peer and not yet "
      "acknowledged by it\n(durably applied there); LAG is the age of the "
      "oldest of them. A peer that is\nunreachable keeps CONNECTED no and "
      "its backlog grows until the link returns;\nnothing is lost.\n\n"
      "Examples:\n"
      "  ruta --config admin.json admin relay status\n"
      "  ruta admin relay status --output json\n\n" +
      GlobalOptionsNote());
  status->callback([&context, action] {
    *action = [&context] { return RunRelayStatus(context); };
  });

  AddPersonMerge(*admin, context, action);
  AddCaseErase(*admin, context, action);
  AddLinkageKeyRotate(*admin, context, action);
  AddBackup(*admin, context, action);
}

}  // namespace ruta::cli
