// Confirmation of an irreversible command at a terminal.
#ifndef RUTA_CLI_PROMPT_H_
#define RUTA_CLI_PROMPT_H_

#include <iosfwd>

#include "absl/strings/string_view.h"

namespace ruta::cli {

// Writes `question` on `err` and reads one line of `in`: true only when the
// line is `expected` (surrounding spaces ignored). One try: a typo, an empty
// line or the end of input is a refusal.
bool ConfirmByTyping(std::istream& in, std::ostream& err,
                     absl::string_view question, absl::string_view expected);

}  // namespace ruta::cli

#endif  // RUTA_CLI_PROMPT_H_
