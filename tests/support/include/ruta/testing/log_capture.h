// Lets a test read what the code under test logged through spdlog (the
// node's log), in-process.
#ifndef RUTA_TESTING_LOG_CAPTURE_H_
#define RUTA_TESTING_LOG_CAPTURE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ruta::testing {

class LogCapture final {
 public:
  // The process-wide capture. The first call replaces spdlog's default
  // logger by one that writes where it wrote (stdout) and also keeps every
  // line in memory; call it before starting the nodes whose log a test reads
  // (replacing the logger while other threads log is not safe).
  static LogCapture& Get();

  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Lines logged so far (formatted messages, without time and level).
  std::vector<std::string> Lines() const;
  // Whether a line logged so far contains every one of `parts`.
  bool Contains(const std::vector<std::string>& parts) const;
  // Polls Contains until it holds or `timeout` passes.
  bool WaitFor(const std::vector<std::string>& parts,
               absl::Duration timeout = absl::Seconds(5)) const;

 private:
  LogCapture() = default;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_LOG_CAPTURE_H_
