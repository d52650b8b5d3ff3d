// `ruta service add|update|list`.
#include <memory>
#include <string>

#include "absl/strings/str_join.h"
#include "commands.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/service_requests.h"

namespace ruta::cli {
namespace {

using Stub = Connection::Stub;

constexpr char kOwningRegion[] =
    "an office certificate of the region that owns the case";

template <typename E>
std::string Alternatives() {
  return absl::StrJoin(EnumFlagNames<E>(), "|");
}

int LocalError(Context& context, const std::string& command,
               const absl::Status& status) {
  return ReportLocalError(context.io->err, "service " + command, status,
                          "see `ruta service " + command + " --help`.");
}

// ---- add ------------------------------------------------------------------

struct AddOptions {
  AddServiceFlags flags;
  std::string request_id;
};

int RunAdd(Context& context, const AddOptions& options) {
  absl::StatusOr<ruta::v1::AddServiceRequest> request =
      BuildAddServiceRequest(options.flags);
  if (!request.ok()) return LocalError(context, "add", request.status());
  return SendChange(
      context, *request, options.request_id,
      "add a service to case " + options.flags.case_id, &Stub::AddService,
      &ruta::v1::AddServiceResponse::service,
      {"ruta service list " + options.flags.case_id, kOwningRegion});
}

void AddAdd(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<AddOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "add", "Record a service for a case your region owns");
  AddServiceFlags& f = options->flags;
  cmd->add_option("CASE_ID", f.case_id, "The case (cs_...)")->required();
  cmd->add_option("--type", f.type, "Type of service")
      ->required()
      ->type_name(Alternatives<ruta::v1::ServiceType>());
  cmd->add_option("--provider", f.provider,
                  "Partner delivering it (its certificate identity); "
                  "without it, the authority itself")
      ->type_name("REGION/NAME");
  cmd->add_option("--status", f.status, "Initial status")
      ->required()
      ->type_name(Alternatives<ruta::v1::ServiceStatus>());
  cmd->add_option("--start", f.start_month, "Month it starts or started")
      ->required()
      ->type_name("YYYY-MM");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID), so that "
                  "the node records the service once")
      ->type_name("UUID");
  cmd->footer(
      "Examples:\n"
      "  ruta service add cs_qwertyuiopasdfghjklz --type education-support "
      "--status planned \\\n"
      "    --start 2026-11\n"
      "  ruta service add cs_qwertyuiopasdfghjklz --type psychosocial "
      "--provider cusco/tdh \\\n"
      "    --status ongoing --start 2026-10\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunAdd(context, *options); };
  });
}

// ---- update ---------------------------------------------------------------

struct UpdateOptions {
  UpdateServiceFlags flags;
  std::string request_id;
};

int RunUpdate(Context& context, const UpdateOptions& options) {
  absl::StatusOr<ruta::v1::UpdateServiceRequest> request =
      BuildUpdateServiceRequest(options.flags);
  if (!request.ok()) return LocalError(context, "update", request.status());
  return SendChange(context, *request, options.request_id,
                    "update service " + options.flags.service_id,
                    &Stub::UpdateService,
                    &ruta::v1::UpdateServiceResponse::service,
                    {"ruta service list CASE_ID", kOwningRegion});
}

void AddUpdate(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<UpdateOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "update", "Change the status (and end month) of a service");
  UpdateServiceFlags& f = options->flags;
  cmd->add_option("SERVICE_ID", f.service_id, "The service (sv_...)")
      ->required();
  cmd->add_option("--status", f.status, "The new status")
      ->required()
      ->type_name(Alternatives<ruta::v1::ServiceStatus>());
  cmd->add_option("--end", f.end_month,
                  "Month it ended (with --status completed or dropped)")
      ->type_name("YYYY-MM");
  cmd->add_option("--expected-version", f.expected_version,
                  "Apply only if the service is still at this version")
      ->type_name("N");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID)")
      ->type_name("UUID");
  cmd->footer(
      "Examples:\n"
      "  ruta service update sv_qwertyuiopasdfghjklz --status ongoing\n"
      "  ruta service update sv_qwertyuiopasdfghjklz --status completed "
      "--end 2027-03 \\\n"
      "    --expected-version 2\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunUpdate(context, *options); };
  });
}

// ---- list -----------------------------------------------------------------

struct ListOptions {
  ListServicesFlags flags;
  bool all = false;
};

int RunList(Context& context, const ListOptions& options) {
  absl::StatusOr<ruta::v1::ListServicesRequest> request =
      BuildListServicesRequest(options.flags);
  if (!request.ok()) return LocalError(context, "list", request.status());
  return ListPages(context, *request, options.all,
                   {"list the services of case " + options.flags.case_id,
                    "services", ServiceTableHeader()},
                   &Stub::ListServices,
                   &ruta::v1::ListServicesResponse::services, &ServiceTableRow);
}

void AddList(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = parent.add_subcommand("list", "List the services of a case");
  ListServicesFlags& f = options->flags;
  cmd->add_option("CASE_ID", f.case_id, "The case (cs_...)")->required();
  cmd->add_option("--page-size", f.page_size,
                  "Services per page, 1 to 100 (default: the node's, 50)")
      ->type_name("N");
  cmd->add_option("--page-token", f.page_token,
                  "Page to return, from a previous listing")
      ->type_name("TOKEN");
  cmd->add_flag("--all", options->all,
                "Follow the pages to the end (JSON: one response per line)");
  cmd->footer(
      "Examples:\n"
      "  ruta service list cs_qwertyuiopasdfghjklz --all\n"
      "  ruta service list cs_qwertyuiopasdfghjklz --output json | jq -r "
      "'.services[].service_id'\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunList(context, *options); };
  });
}

}  // namespace

void AddServiceCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* services = app.add_subcommand(
      "service",
      "Record the services of a case (office certificate of its region)");
  services->require_subcommand(1);
  AddAdd(*services, context, action);
  AddUpdate(*services, context, action);
  AddList(*services, context, action);
}

}  // namespace ruta::cli
