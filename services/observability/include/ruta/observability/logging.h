// The node's log lines: text (spdlog's default pattern) or JSON (one object
// per line), structured fields, and gRPC core's own log routed into spdlog.
//
// JSON line shape (JsonLogFormatter):
//   {"time":"2026-11-29T06:30:00.123456Z","level":"info","logger":"ruta",
//    "message":"...", <fields...>}
// time is RFC 3339 in UTC with microseconds; level one of trace, debug,
// info, warn, error, critical; logger the spdlog logger's name ("ruta" for
// the default logger, "grpc" for gRPC core); fields are string members added
// by LogWithFields (e.g. request_id, method, code, peer). Every string is
// escaped so that each line is valid JSON whatever the message holds:
// quotes, backslashes, control characters, and invalid UTF-8 (each bad
// byte becomes U+FFFD).
//
// Privacy: no identifier is ever logged. Fields carry ids of calls (a
// client's request_id or a generated call id), method names, status codes
// and principals; never a case id, person ref, partner case ref or clerk.
#ifndef RUTA_OBSERVABILITY_LOGGING_H_
#define RUTA_OBSERVABILITY_LOGGING_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "spdlog/formatter.h"
#include "spdlog/spdlog.h"

struct gpr_log_func_args;

namespace ruta::observability {

enum class LogFormat { kText, kJson };

struct LoggingOptions {
  LogFormat format = LogFormat::kText;
  // Least level logged. Default info; "debug" adds one line per RPC.
  spdlog::level::level_enum level = spdlog::level::info;
  // Route gRPC core's log (gpr_log) into spdlog as logger "grpc", with its
  // severity (DEBUG -> debug, INFO -> info, ERROR -> error). What gRPC core
  // emits at all is still chosen by GRPC_VERBOSITY (default ERROR).
  bool route_grpc_logs = true;
};

// Parses "text"/"json" ("" is text) and "trace".."critical" ("" is info).
// INVALID_ARGUMENT naming the accepted values otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(absl::string_view text);

// The level's name in log lines and settings: trace, debug, info, warn,
// error, critical ("off" for spdlog's off).
absl::string_view LevelName(spdlog::level::level_enum level);

// Applies `options` to spdlog's default logger (its sinks' formatter and its
// level) and, when asked, routes gRPC core's log. Call once, early, before
// other threads log (spdlog formatters are not swapped atomically).
void ConfigureLogging(const LoggingOptions& options);

// Whether ConfigureLogging selected JSON.
bool JsonLogging();

// A structured log line on the default logger: in JSON, `fields` become
// members of the line's object; in text, they follow the message as
// " key=value". Keys must be lowercase letters, digits and '_' (others are
// dropped) and not one of time, level, logger, message.
using LogField = std::pair<absl::string_view, absl::string_view>;
void LogWithFields(spdlog::level::level_enum level, absl::string_view message,
                   std::initializer_list<LogField> fields);

// The payload LogWithFields hands spdlog in JSON mode: the message, then the
// fields after a marker (a random token of the process between two group
// separators, 0x1d, so that no other text can pass for fields), pairs
// separated by 0x1e, key and value by 0x1f; these four bytes are replaced by
// spaces in the message and values. Exposed for tests.
std::string EncodeFields(absl::string_view message,
                         std::initializer_list<LogField> fields);

// Appends `text` to `out` as a JSON string literal (with its quotes).
void AppendJsonString(std::string* out, absl::string_view text);

// spdlog formatter writing one JSON object per line (shape above). A payload
// that is not a well-formed EncodeFields result is the message, whole.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Routes gRPC core's log into spdlog (logger "grpc", sharing the default
// logger's sinks as they are when called): installs ForwardGrpcLog as gRPC's
// log function. Idempotent. A process whose ServerTls installs its own log
// function (security/tls.h) passes ForwardGrpcLog to SetGrpcLogForward.
void RouteGrpcLogs();

// One line of gRPC core's log into the "grpc" logger, with its severity
// (nothing before RouteGrpcLogs).
void ForwardGrpcLog(gpr_log_func_args* args);

}  // namespace ruta::observability

#endif  // RUTA_OBSERVABILITY_LOGGING_H_
