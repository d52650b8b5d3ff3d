// `ruta activity record awareness|training`, `ruta activity list`.
#include <memory>
#include <string>

#include "absl/strings/str_join.h"
#include "commands.h"
#include "ruta/cli/activity_requests.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/errors.h"

namespace ruta::cli {
namespace {

using Stub = Connection::Stub;

constexpr char kOfficeOfRegion[] =
    "an office certificate of the node's region (activities are recorded by "
    "the region where they took place)";

int LocalError(Context& context, const std::string& command,
               const absl::Status& status) {
  return ReportLocalError(context.io->err, "activity " + command, status,
                          "see `ruta activity " + command + " --help`.");
}

// ---- record ---------------------------------------------------------------

struct AwarenessOptions {
  AwarenessFlags flags;
  std::string request_id;
};

int RunAwareness(Context& context, const AwarenessOptions& options) {
  absl::StatusOr<ruta::v1::RecordActivityRequest> request =
      BuildAwarenessRequest(options.flags);
  if (!request.ok()) {
    return LocalError(context, "record awareness", request.status());
  }
  return SendChange(context, *request, options.request_id,
                    "record an awareness activity", &Stub::RecordActivity,
                    &ruta::v1::RecordActivityResponse::activity,
                    {"ruta activity list", kOfficeOfRegion});
}

struct TrainingOptions {
  TrainingFlags flags;
  std::string request_id;
};

int RunTraining(Context& context, const TrainingOptions& options) {
  absl::StatusOr<ruta::v1::RecordActivityRequest> request =
      BuildTrainingRequest(options.flags);
  if (!request.ok()) {
    return LocalError(context, "record training", request.status());
  }
  return SendChange(context, *request, options.request_id, "record a training",
                    &Stub::RecordActivity,
                    &ruta::v1::RecordActivityResponse::activity,
                    {"ruta activity list", kOfficeOfRegion});
}

void AddRequestId(CLI::App* cmd, std::string& request_id) {
  cmd->add_option("--request-id", request_id,
                  "Reuse the request_id of a failed attempt (UUID), so that "
                  "the node records the activity once")
      ->type_name("UUID");
}

void AddRecord(CLI::App& parent, Context& context, Action* action) {
  CLI::App* record = parent.add_subcommand(
      "record", "Record an awareness activity or a training");
  record->require_subcommand(1);

  auto awareness = std::make_shared<AwarenessOptions>();
  CLI::App* a = record->add_subcommand(
      "awareness", "Record an awareness activity (prevention campaign)");
  a->add_option("--campaign", awareness->flags.campaign,
                "Name of the campaign, at most 120 characters; no phone "
                "numbers, dates or other identifiers, no '|'")
      ->required()
      ->type_name("TEXT");
  a->add_option("--province", awareness->flags.province,
                "UBIGEO province where it took place (4 digits, in your "
                "region)")
      ->required()
      ->type_name("DDPP");
  a->add_option("--month", awareness->flags.month,
                "Month it took place (not in the future)")
      ->required()
      ->type_name("YYYY-MM");
  a->add_option("--people", awareness->flags.people,
                "Number of people reached, 1 to 1000000")
      ->required()
      ->type_name("N");
  AddRequestId(a, awareness->request_id);
  a->footer(
      "Examples:\n"
      "  ruta activity record awareness --campaign \"No te dejes engañar\" "
      "--province 0812 \\\n"
      "    --month 2026-09 --people 120\n\n" +
      GlobalOptionsNote());
  a->callback([awareness, &context, action] {
    *action = [awareness, &context] {
      return RunAwareness(context, *awareness);
    };
  });

  auto training = std::make_shared<TrainingOptions>();
  CLI::App* t = record->add_subcommand(
      "training", "Record a training of authority members");
  t->add_option("--level", training->flags.level,
                "Level of the members trained")
      ->required()
      ->type_name(absl::StrJoin(EnumFlagNames<ruta::v1::TrainingLevel>(), "|"));
  t->add_option("--province", training->flags.province,
                "UBIGEO province where it took place (4 digits, in your "
                "region)")
      ->required()
      ->type_name("DDPP");
  t->add_option("--month", training->flags.month,
                "Month it took place (not in the future)")
      ->required()
      ->type_name("YYYY-MM");
  t->add_option("--members", training->flags.members,
                "Number of members trained, 1 to 1000000")
      ->required()
      ->type_name("N");
  AddRequestId(t, training->request_id);
  t->footer(
      "Examples:\n"
      "  ruta activity record training --level local --province 1701 "
      "--month 2026-10 \\\n"
      "    --members 15\n\n" +
      GlobalOptionsNote());
  t->callback([training, &context, action] {
    *action = [training, &context] { return RunTraining(context, *training); };
  });
}

// ---- list -----------------------------------------------------------------

struct ListOptions {
  ListActivitiesFlags flags;
  bool all = false;
};

int RunList(Context& context, const ListOptions& options) {
  absl::StatusOr<ruta::v1::ListActivitiesRequest> request =
      BuildListActivitiesRequest(options.flags);
  if (!request.ok()) return LocalError(context, "list", request.status());
  return ListPages(context, *request, options.all,
                   {"list activities", "activities", ActivityTableHeader()},
                   &Stub::ListActivities,
                   &ruta::v1::ListActivitiesResponse::activities,
                   &ActivityTableRow);
}

void AddList(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd =
      parent.add_subcommand("list", "List the activities of your region");
  ListActivitiesFlags& f = options->flags;
  cmd->add_option("--from", f.from_month, "Only from this month on")
      ->type_name("YYYY-MM");
  cmd->add_option("--to", f.to_month, "Only up to this month")
      ->type_name("YYYY-MM");
  cmd->add_option("--page-size", f.page_size,
                  "Activities per page, 1 to 100 (default: the node's, 50)")
      ->type_name("N");
  cmd->add_option("--page-token", f.page_token,
                  "Page to return, from a previous listing")
      ->type_name("TOKEN");
  cmd->add_flag("--all", options->all,
                "Follow the pages to the end (JSON: one response per line)");
  cmd->footer(
      "Examples:\n"
      "  ruta activity list --from 2026-01 --to 2026-12 --all\n"
      "  ruta activity list --output json | jq -r "
      "'.activities[].activity_id'\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunList(context, *options); };
  });
}

}  // namespace

void AddActivityCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* activities = app.add_subcommand(
      "activity",
      "Record awareness activities and trainings (office certificate)");
  activities->require_subcommand(1);
  AddRecord(*activities, context, action);
  AddList(*activities, context, action);
}

}  // namespace ruta::cli
