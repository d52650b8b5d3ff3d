// Interactive entry of the child's identifiers (identifiers.h) and
// confirmations (prompt.h).
#include "ruta/cli/prompt.h"

#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/strip.h"
#include "ruta/cli/identifiers.h"

namespace ruta::cli {
namespace {

constexpr int kMaxTries = 3;

// Terminal settings to restore if the user interrupts a hidden entry.
struct termios g_saved_termios;
volatile sig_atomic_t g_echo_off = 0;

extern "C" void RestoreEchoAndReraise(int signal_number) {
  if (g_echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// Turns terminal echo off for its lifetime (when `active`).
class EchoOff {
 public:
  explicit EchoOff(bool active) {
    if (!active || tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    previous_int_ = std::signal(SIGINT, RestoreEchoAndReraise);
    previous_term_ = std::signal(SIGTERM, RestoreEchoAndReraise);
    g_echo_off = 1;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet) != 0) Restore();
  }
  ~EchoOff() { Restore(); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  void Restore() {
    if (!g_echo_off) return;
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    g_echo_off = 0;
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

// Reads one answer; nullopt-like empty string at end of input.
std::string Ask(std::istream& in, std::ostream& err, const char* question,
                bool hidden) {
  err << question << std::flush;
  std::string line;
  {
    EchoOff echo_off(hidden && &in == &std::cin && isatty(STDIN_FILENO));
    if (!std::getline(in, line)) line.clear();
  }
  if (hidden) err << "\n";
  const std::string answer(absl::StripAsciiWhitespace(line));
  WipeString(&line);
  return answer;
}

// Asks until `check` accepts the answer or it is empty.
absl::StatusOr<std::string> AskValid(
    std::istream& in, std::ostream& err, const char* question, bool hidden,
    const std::function<absl::Status(const std::string&)>& check) {
  for (int tries = 0; tries < kMaxTries; ++tries) {
    std::string answer = Ask(in, err, question, hidden);
    if (answer.empty()) return answer;
    absl::Status valid = check(answer);
    if (valid.ok()) return answer;
    WipeString(&answer);
    err << valid.message() << "\n";
    if (!in) break;
  }
  return absl::InvalidArgumentError(
      "identifiers: no valid answer; give them with --identifiers-file "
      "instead");
}

}  // namespace

bool ConfirmByTyping(std::istream& in, std::ostream& err,
                     absl::string_view question, absl::string_view expected) {
  err << question << std::flush;
  std::string line;
  if (!std::getline(in, line)) {
    // End of input (Ctrl-D): end the prompt's line before the error.
    err << "\n";
    return false;
  }
  return absl::StripAsciiWhitespace(line) == expected;
}

absl::StatusOr<ruta::v1::PersonIdentifiers> PromptIdentifiers(
    std::istream& in, std::ostream& err) {
  ruta::v1::PersonIdentifiers identifiers;
  err << "Identifiers of the child: they only link the case to the child's "
         "earlier cases\nand are never stored. Press Enter to skip a "
         "question.\n";
  const auto fail = [&](absl::Status status) {
    WipeIdentifiers(&identifiers);
    return status;
  };

  absl::StatusOr<std::string> dni =
      AskValid(in, err, "DNI (8 digits, not shown): ", true,
               [](const std::string& a) { return ValidateDni(a); });
  if (!dni.ok()) return fail(dni.status());
  if (!dni->empty()) {
    identifiers.set_dni(std::move(*dni));
    return identifiers;
  }
  absl::StatusOr<std::string> cnv = AskValid(
      in, err,
      "CNV, birth certificate number (8 to 12 digits, not shown): ", true,
      [](const std::string& a) { return ValidateCnv(a); });
  if (!cnv.ok()) return fail(cnv.status());
  if (!cnv->empty()) {
    identifiers.set_cnv(std::move(*cnv));
    return identifiers;
  }
  identifiers.set_given_names(Ask(in, err, "Given names: ", false));
  identifiers.set_surnames(Ask(in, err, "Surnames: ", false));
  absl::StatusOr<std::string> birth_date =
      AskValid(in, err, "Date of birth (YYYY-MM-DD): ", false,
               [](const std::string& a) { return ParseBirthDate(a).status(); });
  if (!birth_date.ok()) return fail(birth_date.status());
  if (!birth_date->empty()) {
    *identifiers.mutable_birth_date() = *ParseBirthDate(*birth_date);
    WipeString(&*birth_date);
  }
  absl::StatusOr<std::string> district =
      AskValid(in, err, "District of birth (UBIGEO, 6 digits): ", false,
               [](const std::string& a) { return ValidateDistrict(a); });
  if (!district.ok()) return fail(district.status());
  identifiers.set_birth_district(std::move(*district));
  return identifiers;
}

}  // namespace ruta::cli
