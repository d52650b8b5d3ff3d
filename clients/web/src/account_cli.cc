#include "ruta/web/account_cli.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "ruta/web/accounts.h"

namespace ruta::web {
namespace {

int Fail(const std::string& program, const std::string& message) {
  std::cerr << program << ": " << message << "\n";
  return 2;
}

// Reads a line from the terminal without echo.
bool ReadHidden(const std::string& prompt, std::string* out) {
  std::cerr << prompt << std::flush;
  termios old_mode;
  if (tcgetattr(STDIN_FILENO, &old_mode) != 0) return false;
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  const bool ok = static_cast<bool>(std::getline(std::cin, *out));
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  return ok;
}

int Add(const AccountCli& cli, const std::string& program) {
  std::string password;
  if (cli.password_stdin) {
    if (!std::getline(std::cin, password)) {
      return Fail(program, "--password-stdin: no password on standard input");
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else {
    if (isatty(STDIN_FILENO) == 0) {
      return Fail(program,
                  "the password is read from a terminal without echo; "
                  "without a terminal, pass it on standard input with "
                  "--password-stdin");
    }
    std::string again;
    if (!ReadHidden("Contraseña (mínimo 12 caracteres): ", &password) ||
        !ReadHidden("Repita la contraseña: ", &again)) {
      return Fail(program, "no password read");
    }
    if (password != again) return Fail(program, "the two passwords differ");
  }
  absl::Status s = AddAccount(cli.accounts_file, cli.user, password);
  if (!s.ok()) return Fail(program, std::string(s.message()));
  std::cout << "account " << cli.user << " added to " << cli.accounts_file
            << "\n";
  return 0;
}

}  // namespace

void AddAccountCommands(CLI::App& app, const std::string& who,
                        AccountCli* cli) {
  CLI::App* account =
      app.add_subcommand("account", "manage " + who + " accounts");
  account->require_subcommand(1);
  account->add_option("--accounts", cli->accounts_file, "the accounts file")
      ->required();
  cli->add = account->add_subcommand(
      "add", "add an account (password from the terminal, no echo)");
  cli->add->add_option("user", cli->user, "user name")->required();
  cli->add->add_flag("--password-stdin", cli->password_stdin,
                     "read the password from standard input");
  cli->disable = account->add_subcommand(
      "disable", "disable an account (its sessions end at once)");
  cli->disable->add_option("user", cli->user, "user name")->required();
  cli->list = account->add_subcommand("list", "list the accounts");
  // `account add --accounts FILE user` as well as `account --accounts FILE
  // add user`.
  for (CLI::App* leaf : {cli->add, cli->disable, cli->list}) {
    leaf->fallthrough();
  }
}

std::optional<int> RunAccountCommand(const AccountCli& cli,
                                     const std::string& program) {
  if (cli.add != nullptr && cli.add->parsed()) return Add(cli, program);
  if (cli.disable != nullptr && cli.disable->parsed()) {
    absl::Status s = DisableAccount(cli.accounts_file, cli.user);
    if (!s.ok()) return Fail(program, std::string(s.message()));
    std::cout << "account " << cli.user
              << " disabled (its sessions end on its next request)\n";
    return 0;
  }
  if (cli.list != nullptr && cli.list->parsed()) {
    auto accounts = ReadAccountsFile(cli.accounts_file);
    if (!accounts.ok()) {
      return Fail(program, std::string(accounts.status().message()));
    }
    for (const Account& a : *accounts) {
      std::cout << a.user << "\t" << (a.disabled ? "disabled" : "enabled")
                << "\n";
    }
    return 0;
  }
  return std::nullopt;
}

}  // namespace ruta::web
