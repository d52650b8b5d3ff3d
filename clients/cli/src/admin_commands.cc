// `ruta admin audit verify`, `ruta admin relay status`.
#include <algorithm>
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
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"

namespace ruta::cli {
namespace {

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
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
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
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
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
}

}  // namespace ruta::cli
