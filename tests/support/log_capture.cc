#include "ruta/testing/log_capture.h"

#include <memory>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace ruta::testing {
namespace {

class MemorySink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;  // guarded by base_sink's mutex_
};

// Leaked: loggers (and gRPC threads logging through them) may outlive
// static destruction.
const std::shared_ptr<MemorySink>& Sink() {
  static auto* sink =
      new std::shared_ptr<MemorySink>(std::make_shared<MemorySink>());
  return *sink;
}

}  // namespace

LogCapture& LogCapture::Get() {
  static LogCapture* capture = [] {
    auto logger = std::make_shared<spdlog::logger>(
        "ruta",
        spdlog::sinks_init_list{
            std::make_shared<spdlog::sinks::stdout_color_sink_mt>(), Sink()});
    spdlog::set_default_logger(std::move(logger));
    return new LogCapture;
  }();
  return *capture;
}

std::vector<std::string> LogCapture::Lines() const { return Sink()->Lines(); }

bool LogCapture::Contains(const std::vector<std::string>& parts) const {
  for (const std::string& line : Lines()) {
    bool all = true;
    for (const std::string& part : parts) {
      if (!absl::StrContains(line, part)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool LogCapture::WaitFor(const std::vector<std::string>& parts,
                         absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (Contains(parts)) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace ruta::testing
