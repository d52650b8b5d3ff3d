// `ruta case open|get|list|stage|close`.
#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/match.h"
#include "commands.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/partner_requests.h"

namespace ruta::cli {
namespace {

using Stub = Connection::Stub;

constexpr char kUnlinkedNote[] =
    "ruta: note: the case is opened with an unlinked person_ref (it cannot "
    "be matched to the child's\nother cases until an operator merges it, "
    "`ruta admin person merge`); give --identifiers-file FILE to link it.\n";

// ---- open -----------------------------------------------------------------

struct OpenOptions {
  OpenCaseFlags flags;
  std::string identifiers_file;
  std::string request_id;
};

int RunOpen(Context& context, const OpenOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::OpenCaseRequest> request =
      BuildOpenCaseRequest(options.flags);
  if (!request.ok()) {
    return ReportLocalError(io.err, "case open", request.status(),
                            "see `ruta case open --help`.");
  }
  int exit_code = 0;
  request->set_request_id(
      RequestIdFor(context, options.request_id, &exit_code));
  if (exit_code != 0) return exit_code;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;

  *request->mutable_identifiers() =
      GatherIdentifiers(context, options.identifiers_file, &exit_code);
  if (exit_code != 0) return exit_code;
  if (!HasIdentifiers(request->identifiers())) {
    if (options.identifiers_file.empty() && !io.stdin_is_terminal) {
      io.err << "ruta: note: no identifiers: no --identifiers-file was "
                "given and stdin is not a terminal.\n";
    } else {
      io.err << "ruta: note: no identifiers were given.\n";
    }
    io.err << kUnlinkedNote << std::flush;
  }

  ruta::v1::OpenCaseResponse response;
  exit_code =
      connection->Run("open case", request->request_id(),
                      [&](Stub& stub, grpc::ClientContext& call) {
                        return stub.OpenCase(&call, *request, &response);
                      });
  WipeIdentifiers(request->mutable_identifiers());
  if (exit_code != 0) return exit_code;
  PrintRecord(context, response, response.case_());
  return kExitOk;
}

void AddOpen(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<OpenOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "open",
      "Open a case (the child's identifiers are read from a file or "
      "prompted for, never given as flags)");
  OpenCaseFlags& f = options->flags;
  cmd->add_option("--kind", f.kind, "Kind of case")
      ->required()
      ->type_name("victim|prevention");
  cmd->add_option("--stage", f.stage,
                  "First stage (prevention cases start identified)")
      ->required()
      ->type_name("detected|identified");
  cmd->add_option("--age-band", f.age_band, "Age at identification")
      ->required()
      ->type_name("0-5|6-11|12-14|15-17|18+");
  cmd->add_option("--sex", f.sex, "Sex of the child")
      ->required()
      ->type_name("female|male|other");
  cmd->add_option("--origin-province", f.origin_province,
                  "UBIGEO province of origin (4 digits, never the district)")
      ->required()
      ->type_name("CODE");
  cmd->add_option("--exploitation", f.exploitation,
                  "Forms of exploitation, comma-separated: sexual, labour, "
                  "domestic-servitude, forced-begging, other (victims)")
      ->type_name("FORM[,FORM...]")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--setting", f.setting, "Where it took place (victims)")
      ->type_name("mining-camp|bar|lodging|domestic|online|other");
  cmd->add_option("--recruitment", f.recruitment,
                  "How the child was recruited (victims)")
      ->type_name("false-job-offer|family|partner|internet|other");
  cmd->add_option("--identified-month", f.identified_month,
                  "Month the child was identified")
      ->required()
      ->type_name("YYYY-MM");
  cmd->add_option("--legal-basis", f.legal_basis,
                  "Legal basis of the processing")
      ->required()
      ->type_name("upe-protective-measure|prosecutor-order|written-consent");
  cmd->add_flag("--consent-partner-sharing", f.consent_partner_sharing,
                "The guardian consented to sharing with partner NGOs");
  cmd->add_option("--identifiers-file", options->identifiers_file,
                  "JSON file with the child's identifiers, or - for stdin "
                  "(without it, they are prompted for on a terminal)")
      ->type_name("FILE|-");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID) so that "
                  "the node never opens a second case")
      ->type_name("UUID");
  cmd->footer(
      "The identifiers file is a JSON object; every key is optional:\n"
      "  {\"dni\": \"01234567\", \"cnv\": \"...\", \"given_names\": \"...\", "
      "\"surnames\": \"...\",\n"
      "   \"birth_date\": \"YYYY-MM-DD\", \"birth_district\": \"080101\"}\n"
      "They are used by the node to link the case to the child's earlier "
      "cases, then\ndropped; ruta never prints or stores them. Without "
      "identifiers (and no terminal\nto prompt on) the case opens with an "
      "unlinked person_ref.\n\n"
      "Examples:\n"
      "  ruta case open --kind victim --stage identified --age-band 15-17 "
      "--sex female \\\n"
      "    --origin-province 0812 --exploitation sexual,labour --setting "
      "bar \\\n"
      "    --recruitment false-job-offer --identified-month 2026-10 \\\n"
      "    --legal-basis upe-protective-measure --identifiers-file "
      "child.json\n"
      "  ruta case open --kind prevention --stage identified --age-band 12-14 "
      "--sex male \\\n"
      "    --origin-province 0801 --identified-month 2026-11 --legal-basis "
      "written-consent\n"
      "  # After a timeout, retry the same request (no second case):\n"
      "  ruta case open ... --request-id "
      "3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunOpen(context, *options); };
  });
}

// ---- get ------------------------------------------------------------------

int RunGet(Context& context, const std::string& case_id) {
  if (absl::Status valid = ValidateCaseId("CASE_ID", case_id); !valid.ok()) {
    return ReportLocalError(context.io->err, "case get", valid);
  }
  ruta::v1::GetCaseRequest request;
  request.set_case_id(case_id);
  return FetchRecord(context, request, "get case " + case_id, &Stub::GetCase,
                     &ruta::v1::GetCaseResponse::case_);
}

void AddGet(CLI::App& parent, Context& context, Action* action) {
  auto case_id = std::make_shared<std::string>();
  CLI::App* cmd = parent.add_subcommand("get", "Show one case");
  cmd->add_option("CASE_ID", *case_id, "The case (cs_...)")->required();
  cmd->footer(
      "Examples:\n"
      "  ruta case get cs_qwertyuiopasdfghjklz\n"
      "  ruta case get cs_qwertyuiopasdfghjklz --output json\n\n" +
      GlobalOptionsNote());
  cmd->callback([case_id, &context, action] {
    *action = [case_id, &context] { return RunGet(context, *case_id); };
  });
}

// ---- list -----------------------------------------------------------------

struct ListOptions {
  ListCasesFlags flags;
  bool all = false;
};

int RunList(Context& context, const ListOptions& options) {
  absl::StatusOr<ruta::v1::ListCasesRequest> request =
      BuildListCasesRequest(options.flags);
  if (!request.ok()) {
    return ReportLocalError(context.io->err, "case list", request.status(),
                            "see `ruta case list --help`.");
  }
  return ListPages(context, *request, options.all,
                   {"list cases", "cases", CaseTableHeader()}, &Stub::ListCases,
                   &ruta::v1::ListCasesResponse::cases, &CaseTableRow);
}

void AddList(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "list", "List the region's cases, ordered by case id, a page at a time");
  ListCasesFlags& f = options->flags;
  cmd->add_option("--stage", f.stage, "Only cases in this stage")
      ->type_name("STAGE");
  cmd->add_option("--kind", f.kind, "Only cases of this kind")
      ->type_name("victim|prevention");
  cmd->add_option("--person-ref", f.person_ref,
                  "Only cases of this child (see `ruta person find`)")
      ->type_name("REF");
  cmd->add_flag("--open-only", f.open_only, "Leave out closed cases");
  cmd->add_option("--page-size", f.page_size,
                  "Cases per page, 1 to 100 (default: the node's, 50)")
      ->type_name("N");
  cmd->add_option("--page-token", f.page_token,
                  "Page to return, from a previous listing")
      ->type_name("TOKEN");
  cmd->add_flag("--all", options->all,
                "Follow the pages to the end (JSON: one response per line)");
  cmd->footer(
      "Stages: detected, identified, immediate-protection, residential-care, "
      "family-care,\ntransfer-requested, in-transit, received, "
      "reintegration-plan, follow-up, closed,\nprevention-support.\n\n"
      "Examples:\n"
      "  ruta case list --open-only\n"
      "  ruta case list --stage residential-care --kind victim --all\n"
      "  ruta case list --all --output json | jq -r '.cases[].case_id'\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunList(context, *options); };
  });
}

// ---- stage ----------------------------------------------------------------

struct StageOptions {
  std::string case_id;
  std::string stage;
  long long expected_version = 0;
  std::string request_id;
};

int RunStage(Context& context, const StageOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::UpdateStageRequest> request =
      BuildUpdateStageRequest(options.case_id, options.stage,
                              options.expected_version);
  if (!request.ok()) {
    return ReportLocalError(io.err, "case stage", request.status(),
                            "see `ruta case stage --help`.");
  }
  return SendChange(context, *request, options.request_id,
                    "change the stage of case " + options.case_id,
                    &Stub::UpdateStage, &ruta::v1::UpdateStageResponse::case_);
}

void AddStage(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<StageOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "stage", "Move a case to another stage along the ruta de atencion");
  cmd->add_option("CASE_ID", options->case_id, "The case (cs_...)")->required();
  cmd->add_option("STAGE", options->stage, "The new stage")->required();
  cmd->add_option("--expected-version", options->expected_version,
                  "Apply only if the case is still at this version")
      ->type_name("N");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID)")
      ->type_name("UUID");
  cmd->footer(
      "Stages: detected, identified, immediate-protection, residential-care,\n"
      "family-care, reintegration-plan, follow-up, prevention-support. The "
      "node checks\nthe transition; the transfer stages follow the transfer, "
      "and a case is closed\nwith `ruta case close`.\n\n"
      "Examples:\n"
      "  ruta case stage cs_qwertyuiopasdfghjklz immediate-protection\n"
      "  ruta case stage cs_qwertyuiopasdfghjklz residential-care "
      "--expected-version 3\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunStage(context, *options); };
  });
}

// ---- close ----------------------------------------------------------------

struct CloseOptions {
  std::string case_id;
  std::string reason;
  long long expected_version = 0;
  std::string request_id;
};

int RunClose(Context& context, const CloseOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::CloseCaseRequest> request = BuildCloseCaseRequest(
      options.case_id, options.reason, options.expected_version);
  if (!request.ok()) {
    return ReportLocalError(io.err, "case close", request.status(),
                            "see `ruta case close --help`.");
  }
  return SendChange(context, *request, options.request_id,
                    "close case " + options.case_id, &Stub::CloseCase,
                    &ruta::v1::CloseCaseResponse::case_);
}

void AddClose(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<CloseOptions>();
  CLI::App* cmd = parent.add_subcommand("close", "Close a case with a reason");
  cmd->add_option("CASE_ID", options->case_id, "The case (cs_...)")->required();
  cmd->add_option("--reason", options->reason, "Why the case is closed")
      ->required()
      ->type_name(
          "reintegrated|reached-majority|referred|lost-contact|revictimized|"
          "deceased");
  cmd->add_option("--expected-version", options->expected_version,
                  "Apply only if the case is still at this version")
      ->type_name("N");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID)")
      ->type_name("UUID");
  cmd->footer(
      "Examples:\n"
      "  ruta case close cs_qwertyuiopasdfghjklz --reason reintegrated\n"
      "  ruta case close cs_qwertyuiopasdfghjklz --reason reached-majority "
      "--expected-version 7\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunClose(context, *options); };
  });
}

// ---- refer ----------------------------------------------------------------

struct ReferOptions {
  std::string case_id;
  std::string partner_id;
  bool withdraw = false;
  std::string request_id;
};

int RunRefer(Context& context, const ReferOptions& options) {
  Io& io = *context.io;
  absl::StatusOr<ruta::v1::ReferCaseRequest> request = BuildReferCaseRequest(
      options.case_id, options.partner_id, options.withdraw);
  if (!request.ok()) {
    return ReportLocalError(io.err, "case refer", request.status(),
                            "see `ruta case refer --help`.");
  }
  return SendChange(
      context, *request, options.request_id,
      (options.withdraw ? "withdraw the referral of case " : "refer case ") +
          options.case_id + " to " + options.partner_id,
      &Stub::ReferCase, &ruta::v1::ReferCaseResponse::case_);
}

void AddRefer(CLI::App& parent, Context& context, Action* action) {
  auto options = std::make_shared<ReferOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "refer", "Refer a case to an NGO partner, or withdraw the referral");
  cmd->add_option("CASE_ID", options->case_id, "The case (cs_...)")->required();
  cmd->add_option("PARTNER_ID", options->partner_id,
                  "A partner registered on the node (its certificate "
                  "identity)")
      ->required()
      ->type_name("REGION/NAME");
  cmd->add_flag("--withdraw", options->withdraw,
                "Withdraw the referral: the partner loses access at once");
  cmd->add_option("--request-id", options->request_id,
                  "Reuse the request_id of a failed attempt (UUID)")
      ->type_name("UUID");
  cmd->footer(
      "Only the office of the region that owns the case refers it, to a "
      "partner the\nnode operator registered, and only when the guardian "
      "consented to partner\nsharing or the legal basis allows it (UPE "
      "protective measure, prosecutor's\norder). The partner then sees the "
      "case's stage, timeline by month and the\nservices it delivers, under "
      "its own reference. Referring again changes nothing.\n\n"
      "Examples:\n"
      "  ruta case refer cs_qwertyuiopasdfghjklz cusco/tdh\n"
      "  ruta case refer cs_qwertyuiopasdfghjklz cusco/tdh --withdraw\n\n" +
      GlobalOptionsNote());
  cmd->callback([options, &context, action] {
    *action = [options, &context] { return RunRefer(context, *options); };
  });
}

}  // namespace

void AddCaseCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* cases = app.add_subcommand(
      "case", "Open, show, list, move and close cases (office certificate)");
  cases->require_subcommand(1);
  AddOpen(*cases, context, action);
  AddGet(*cases, context, action);
  AddList(*cases, context, action);
  AddStage(*cases, context, action);
  AddClose(*cases, context, action);
  AddRefer(*cases, context, action);
}

}  // namespace ruta::cli
