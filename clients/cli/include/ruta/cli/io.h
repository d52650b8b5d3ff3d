// The process environment of a ruta command, injectable for tests.
#ifndef RUTA_CLI_IO_H_
#define RUTA_CLI_IO_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace ruta::cli {

// Looks up an environment variable; nullopt when it is unset.
using Environment =
    std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment (getenv).
Environment ProcessEnvironment();

// Streams and environment a command runs with.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // True when `in` is an interactive terminal (identifiers may be prompted).
  bool stdin_is_terminal = false;
  Environment env;
};

}  // namespace ruta::cli

#endif  // RUTA_CLI_IO_H_
