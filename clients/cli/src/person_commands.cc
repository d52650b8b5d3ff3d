// `ruta person find`.
#include <memory>
#include <ostream>
#include <string>

#include "commands.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"

namespace ruta::cli {
namespace {

int RunFind(Context& context, const std::string& identifiers_file) {
  Io& io = *context.io;
  if (identifiers_file.empty() && !io.stdin_is_terminal) {
    return ReportLocalError(
        io.err, "person find",
        absl::InvalidArgumentError(
            "no identifiers: give --identifiers-file FILE (or - for stdin)"),
        "see `ruta person find --help`.");
  }
  int exit_code = 0;
  std::unique_ptr<Connection> connection = Connect(context, &exit_code);
  if (connection == nullptr) return exit_code;

  ruta::v1::FindPersonRequest request;
  *request.mutable_identifiers() =
      GatherIdentifiers(context, identifiers_file, &exit_code);
  if (exit_code != 0) return exit_code;
  if (!HasIdentifiers(request.identifiers())) {
    return ReportLocalError(
        io.err, "person find",
        absl::InvalidArgumentError("the identifiers are empty"),
        "give at least a DNI, a CNV, or the names, date and district of "
        "birth.");
  }
  ruta::v1::FindPersonResponse response;
  exit_code =
      connection->Run("find person", "",
                      [&](Connection::Stub& stub, grpc::ClientContext& call) {
                        return stub.FindPerson(&call, request, &response);
                      });
  WipeIdentifiers(request.mutable_identifiers());
  if (exit_code != 0) return exit_code;
  if (context.format == OutputFormat::kJson) {
    io.out << ToJson(response, /*one_line=*/false) << "\n";
  } else {
    WriteFindPerson(io.out, response);
  }
  io.out << std::flush;
  return kExitOk;
}

}  // namespace

void AddPersonCommands(CLI::App& app, Context& context, Action* action) {
  CLI::App* person = app.add_subcommand(
      "person", "Find a child's person_ref and earlier cases");
  person->require_subcommand(1);
  auto identifiers_file = std::make_shared<std::string>();
  CLI::App* find = person->add_subcommand(
      "find",
      "Tell whether a child already has cases this region knows (from the "
      "child's identifiers)");
  find->add_option("--identifiers-file", *identifiers_file,
                   "JSON file with the child's identifiers, or - for stdin "
                   "(without it, they are prompted for on a terminal)")
      ->type_name("FILE|-");
  find->footer(
      "The identifiers file is a JSON object; every key is optional:\n"
      "  {\"dni\": \"01234567\", \"cnv\": \"...\", \"given_names\": \"...\", "
      "\"surnames\": \"...\",\n"
      "   \"birth_date\": \"YYYY-MM-DD\", \"birth_district\": \"080101\"}\n"
      "The node derives the person_ref from them and drops them; ruta never "
      "prints or\nstores them. `linked: no` means they held nothing a "
      "person_ref can be derived from.\n\n"
      "Examples:\n"
      "  ruta person find --identifiers-file child.json\n"
      "  ruta person find --identifiers-file - < child.json\n"
      "  ruta person find            # prompts on a terminal; the DNI is not "
      "echoed\n\n" +
      GlobalOptionsNote());
  find->callback([identifiers_file, &context, action] {
    *action = [identifiers_file, &context] {
      return RunFind(context, *identifiers_file);
    };
  });
}

}  // namespace ruta::cli
