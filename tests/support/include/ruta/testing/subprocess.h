// Run real processes (ruta-node, ruta, buf) from tests.
#ifndef RUTA_TESTING_SUBPROCESS_H_
#define RUTA_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ruta::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `env` added to the environment, stdin from
// /dev/null (or `input` when given), and waits up to `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(60),
                         const std::map<std::string, std::string>& env = {},
                         const std::string* input = nullptr);

// A background process whose stdout/stderr go to files; killed (SIGKILL) on
// destruction if still running.
class BackgroundProcess final {
 public:
  BackgroundProcess(const std::vector<std::string>& argv,
                    const std::string& log_prefix);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal`; then waits up to `timeout` for exit. Returns the exit
  // code, or -1 (killed by a signal / still running).
  int Stop(int signal, absl::Duration timeout);
  // Waits up to `timeout` for the process to exit by itself.
  int Wait(absl::Duration timeout);
  bool Running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool exited_ = false;
  std::string out_file_;
  std::string err_file_;
};

// Reads a whole file ("" when missing).
std::string ReadFile(const std::string& path);

// Polls until `path` holds a port number; 0 on timeout.
int WaitForPortFile(const std::string& path, absl::Duration timeout);

}  // namespace ruta::testing

#endif  // RUTA_TESTING_SUBPROCESS_H_
