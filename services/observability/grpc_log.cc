// gRPC core's log (gpr_log) into spdlog: the only file of this component
// that knows gRPC, and only its C core's log hook.
#include <atomic>
#include <memory>
#include <mutex>

#include "grpc/support/log.h"
#include "ruta/observability/logging.h"

namespace ruta::observability {
namespace {

// Replaced atomically (std::atomic_load/store on shared_ptr): gRPC threads
// may log while RouteGrpcLogs runs.
std::shared_ptr<spdlog::logger> g_grpc_logger;

}  // namespace

void ForwardGrpcLog(gpr_log_func_args* args) {
  std::shared_ptr<spdlog::logger> logger = std::atomic_load(&g_grpc_logger);
  if (logger == nullptr || args == nullptr || args->message == nullptr) return;
  spdlog::level::level_enum level = spdlog::level::info;
  switch (args->severity) {
    case GPR_LOG_SEVERITY_DEBUG:
      level = spdlog::level::debug;
      break;
    case GPR_LOG_SEVERITY_INFO:
      level = spdlog::level::info;
      break;
    case GPR_LOG_SEVERITY_ERROR:
      level = spdlog::level::err;
      break;
  }
  if (!logger->should_log(level)) return;
  const char* file = args->file != nullptr ? args->file : "";
  if (JsonLogging()) {
    const std::string line = std::to_string(args->line);
    logger->log(level, "{}",
                EncodeFields(args->message, {{"file", file}, {"line", line}}));
  } else {
    logger->log(level, "{} ({}:{})", args->message, file, args->line);
  }
}

void RouteGrpcLogs() {
  std::shared_ptr<spdlog::logger> base = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("grpc", base->sinks().begin(),
                                                 base->sinks().end());
  logger->set_level(base->level());
  std::atomic_store(&g_grpc_logger, logger);
  gpr_set_log_function(&ForwardGrpcLog);
}

}  // namespace ruta::observability
