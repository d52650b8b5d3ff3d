// The `account add|disable|list` subcommands of the web clients
// (ruta-dashboard, ruta-console): one implementation so that both manage
// their accounts file the same way.
#ifndef RUTA_WEB_ACCOUNT_CLI_H_
#define RUTA_WEB_ACCOUNT_CLI_H_

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace ruta::web {

// What the subcommands parsed; filled by CLI11 during parsing.
struct AccountCli final {
  std::string accounts_file;
  std::string user;
  bool password_stdin = false;
  CLI::App* add = nullptr;
  CLI::App* disable = nullptr;
  CLI::App* list = nullptr;
};

// Adds `account` with `add <user> [--password-stdin]`, `disable <user>` and
// `list`, each taking `--accounts FILE`, to `app`. `who` names the account
// holders in the help text ("staff", "clerk"). `cli` must outlive parsing.
void AddAccountCommands(CLI::App& app, const std::string& who, AccountCli* cli);

// After parsing: runs the account subcommand that was given and returns the
// process exit code (0, or 2 with a message on stderr prefixed by
// `program`); nullopt when no account subcommand was given. `add` reads the
// password twice from the terminal without echo, or once from standard input
// with --password-stdin.
std::optional<int> RunAccountCommand(const AccountCli& cli,
                                     const std::string& program);

}  // namespace ruta::web

#endif  // RUTA_WEB_ACCOUNT_CLI_H_
