// `ruta stats`: the mayors' network dashboard tables (Dashboard.ListTables,
// Dashboard.GetTable) in the terminal; dashboard certificate.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/stats.h"

namespace ruta::cli {
namespace {

struct StatsFlags {
  std::string table;
  std::string regions;
  std::string from;
  std::string to;
  bool json = false;
};

int LocalStatsError(Context& context, const absl::Status& status) {
  return ReportLocalError(context.io->err, "stats", status,
                          "see `ruta stats --help`.");
}

int RunStats(Context& context, const StatsFlags& flags) {
  Io& io = *context.io;
  ruta::v1::GetTableRequest base;
  absl::StatusOr<std::vector<std::string>> regions =
      ParseRegionList("--regions", flags.regions);
  if (!regions.ok()) return LocalStatsError(context, regions.status());
  for (const std::string& r : *regions) base.add_regions(r);
  const ruta::v1::Quarter now = CurrentQuarter(absl::Now());
  ruta::v1::Quarter first_of_year;
  first_of_year.set_year(now.year());
  first_of_year.set_quarter(1);
  if (flags.from.empty()) {
    *base.mutable_from_quarter() = first_of_year;
  } else {
    absl::StatusOr<ruta::v1::Quarter> q = ParseQuarter("--from", flags.from);
    if (!q.ok()) return LocalStatsError(context, q.status());
    *base.mutable_from_quarter() = *q;
  }
  if (flags.to.empty()) {
    *base.mutable_to_quarter() = now;
  } else {
    absl::StatusOr<ruta::v1::Quarter> q = ParseQuarter("--to", flags.to);
    if (!q.ok()) return LocalStatsError(context, q.status());
    *base.mutable_to_quarter() = *q;
  }
  const bool json = flags.json || context.format == OutputFormat::kJson;

  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;
  ruta::v1::ListTablesResponse list;
  exit_code = connection->RunDashboard(
      "list the dashboard tables",
      [&](Connection::DashboardStub& stub, grpc::ClientContext& call) {
        return stub.ListTables(&call, ruta::v1::ListTablesRequest(), &list);
      });
  if (exit_code != 0) return exit_code;
  std::vector<const ruta::v1::TableInfo*> wanted;
  std::vector<std::string> names;
  for (const ruta::v1::TableInfo& info : list.tables()) {
    names.push_back(info.name());
    if (flags.table.empty() || info.name() == flags.table) {
      wanted.push_back(&info);
    }
  }
  if (wanted.empty()) {
    return LocalStatsError(
        context,
        absl::InvalidArgumentError(absl::StrCat(
            "--table: unknown table \"", flags.table,
            "\"; the node's tables are: ", absl::StrJoin(names, ", "))));
  }
  for (const ruta::v1::TableInfo* info : wanted) {
    ruta::v1::GetTableRequest request = base;
    request.set_table(info->name());
    ruta::v1::GetTableResponse response;
    exit_code = connection->RunDashboard(
        absl::StrCat("read table ", info->name()),
        [&](Connection::DashboardStub& stub, grpc::ClientContext& call) {
          return stub.GetTable(&call, request, &response);
        });
    if (exit_code != 0) return exit_code;
    if (json) {
      io.out << ToJson(response, /*one_line=*/true) << "\n";
    } else {
      WriteStatsTable(io.out, info->title(), request, response, absl::Now());
    }
  }
  io.out << std::flush;
  return kExitOk;
}

}  // namespace

void AddStatsCommand(CLI::App& app, Context& context, Action* action) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "stats",
      "Print the mayors' network dashboard tables (aggregates under "
      "disclosure control; a dashboard certificate)");
  cmd->add_option("--table", flags->table,
                  "Only this table (default: every table the node lists)")
      ->type_name("NAME");
  cmd->add_option("--regions", flags->regions,
                  "Comma-separated regions (default: every configured one)")
      ->type_name("cusco,madre-de-dios");
  cmd->add_option("--from", flags->from,
                  "First quarter (default: the first of this year)")
      ->type_name("YYYYQn");
  cmd->add_option("--to", flags->to, "Last quarter (default: the current one)")
      ->type_name("YYYYQn");
  cmd->add_flag("--json", flags->json,
                "One GetTableResponse JSON object per line (as --output json)");
  cmd->footer(absl::StrCat(
      "Examples:\n"
      "  ruta --config mayors.json stats\n"
      "  ruta --config mayors.json stats --table cases_by_stage "
      "--regions cusco,madre-de-dios --from 2026Q1 --to 2026Q4\n"
      "  ruta --config mayors.json stats --json\n\n"
      "A cell below the threshold k is shown as <k; a peer region whose "
      "counts could not be fetched is reported MISSING and left out, one "
      "whose last counts are old STALE.\n\n",
      GlobalOptionsNote()));
  cmd->callback([&context, action, flags] {
    *action = [&context, flags] { return RunStats(context, *flags); };
  });
}

}  // namespace ruta::cli
