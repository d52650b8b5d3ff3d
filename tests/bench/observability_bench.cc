// The cost observability adds to each call on the hot path: recording one
// finished RPC into the node's metrics (a known method and code; the first
// call of a method/code pair creates its series and is not measured here),
// the same from several threads, the debug per-RPC log line when the level
// filters it out (the default) and when it is written as JSON, and a
// scrape's text exposition.
#include <string>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "ruta/observability/logging.h"
#include "ruta/observability/metrics.h"
#include "spdlog/sinks/null_sink.h"

namespace ruta::observability {
namespace {

NodeMetrics& Metrics() {
  static NodeMetrics* metrics = [] {
    auto* m = new NodeMetrics;
    m->RecordRpc("CaseOffice.GetCase", absl::StatusCode::kOk,
                 absl::Milliseconds(1));
    return m;
  }();
  return *metrics;
}

void BM_RecordRpc(benchmark::State& state) {
  NodeMetrics& metrics = Metrics();
  for (auto _ : state) {
    metrics.RecordRpc("CaseOffice.GetCase", absl::StatusCode::kOk,
                      absl::Microseconds(850));
  }
}
BENCHMARK(BM_RecordRpc)->Threads(1)->Threads(2)->UseRealTime();

// What AuditedCall does besides recording: read the clock twice.
void BM_SteadyClockPair(benchmark::State& state) {
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(std::chrono::steady_clock::now() - start);
  }
}
BENCHMARK(BM_SteadyClockPair);

void UseNullLogger(spdlog::level::level_enum level) {
  static bool installed = [] {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "", std::make_shared<spdlog::sinks::null_sink_mt>()));
    LoggingOptions options;
    options.format = LogFormat::kJson;
    options.route_grpc_logs = false;
    ConfigureLogging(options);
    return true;
  }();
  (void)installed;
  spdlog::default_logger()->set_level(level);
}

void BM_RpcLogLineFilteredOut(benchmark::State& state) {
  UseNullLogger(spdlog::level::info);
  for (auto _ : state) {
    if (spdlog::should_log(spdlog::level::debug)) {
      LogWithFields(spdlog::level::debug, "rpc finished", {{"code", "OK"}});
    }
  }
}
BENCHMARK(BM_RpcLogLineFilteredOut);

void BM_RpcLogLineJson(benchmark::State& state) {
  UseNullLogger(spdlog::level::debug);
  for (auto _ : state) {
    LogWithFields(spdlog::level::debug, "rpc finished",
                  {{"request_id", "5d0c6f0e-9a1b-4c2d-8e3f-a4b5c6d7e8f9"},
                   {"method", "CaseOffice.GetCase"},
                   {"code", "OK"},
                   {"duration_ms", "0.850"},
                   {"peer", "spiffe://madre-de-dios.ruta.pe/office/a"}});
  }
}
BENCHMARK(BM_RpcLogLineJson);

void BM_ScrapeText(benchmark::State& state) {
  NodeMetrics metrics;
  for (const char* method :
       {"CaseOffice.OpenCase", "CaseOffice.GetCase", "CaseOffice.ListCases",
        "Dashboard.GetTable", "Federation.Exchange", "Admin.VerifyAudit"}) {
    for (auto code : {absl::StatusCode::kOk, absl::StatusCode::kNotFound,
                      absl::StatusCode::kPermissionDenied}) {
      metrics.RecordRpc(method, code, absl::Milliseconds(2));
    }
  }
  for (auto _ : state) benchmark::DoNotOptimize(metrics.Text());
}
BENCHMARK(BM_ScrapeText);

}  // namespace
}  // namespace ruta::observability

BENCHMARK_MAIN();
