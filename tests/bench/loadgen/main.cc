// ruta-bench: measures ruta-node against a bare mTLS echo server on the
// same machine, in the same invocation (issue 9). Every figure of ruta is
// divided by the baseline figure of the same run, because these machines
// vary 1.5-2x between runs.
//
//   ruta-bench run [--duration S] [--warmup S] [--runs N] [--json FILE]
//                  [--in-flight N] [--channels N] [--starts N] [--smoke]
//                  [--keep]
//   ruta-bench serve-echo --pki DIR --dir DIR    (started by `run`)
//   ruta-bench check-json FILE [--require-measured]
//
// Both servers run as separate processes so that their CPU time is read
// from /proc apart from the load generator's.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "echo.grpc.pb.h"
#include "echo_server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "load.h"
#include "procfs.h"
#include "report.h"
#include "ruta/common/process_setup.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta::bench {
namespace {

// The node under test serves Madre de Dios (where cases are opened), and
// the load comes from its default office.
constexpr char kRegion[] = "madre-de-dios";
// Cases opened before the read workload; reads cycle over them.
constexpr int kReadCases = 128;
// Every client call of the harness has this deadline.
constexpr absl::Duration kCallDeadline = absl::Seconds(10);

struct RunOptions {
  absl::Duration duration = absl::Seconds(10);
  absl::Duration warmup = absl::Seconds(2);
  // Pause after a server starts before its idle RSS is read.
  absl::Duration settle = absl::Seconds(1);
  int runs = 3;
  int in_flight = 64;
  int channels = 4;
  int starts = 5;  // start-up samples per run (each server)
  std::string json;
  bool smoke = false;
  bool keep = false;  // keep the temporary directory (logs, databases)
};

int Usage() {
  std::fprintf(
      stderr,
      "usage: ruta-bench run [--duration S] [--warmup S] [--runs N] "
      "[--json FILE]\n"
      "                      [--in-flight N] [--channels N] [--starts N] "
      "[--smoke] [--keep]\n"
      "       ruta-bench serve-echo --pki DIR --dir DIR\n"
      "       ruta-bench check-json FILE [--require-measured]\n");
  return 2;
}

std::string SelfPath() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

// --- Servers -------------------------------------------------------------

// A server process (ruta-node or serve-echo) listening on 127.0.0.1.
struct Server {
  std::unique_ptr<testing::BackgroundProcess> process;
  std::string address;
  std::string dir;
  pid_t pid() const { return process->pid(); }
};

// Polls `dir`/port every millisecond (the start-up figure depends on it)
// until it holds a port; fails when the process exits first.
absl::StatusOr<int> WaitPort(const std::string& dir,
                             testing::BackgroundProcess& process,
                             absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int port = 0;
    const std::string text = testing::ReadFile(dir + "/port");
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) && port > 0) {
      return port;
    }
    if (!process.Running()) {
      return absl::UnavailableError(
          absl::StrCat("server exited before serving: ", process.Stderr()));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError("server did not write its port file");
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return testing::MakeChannel(address, testing::DevPki::Get().Office(kRegion),
                              kRegion);
}

absl::Status CheckServing(const std::string& address) {
  std::shared_ptr<grpc::Channel> channel = Channel(address);
  if (channel == nullptr) return absl::InternalError("no client credentials");
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = health->Check(
      testing::ContextWithDeadline(kCallDeadline).get(), {}, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("health check: ", status.error_message()));
  }
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError("health is not SERVING");
  }
  return absl::OkStatus();
}

// Starts a server process (`node`: ruta-node with a fresh store; else the
// echo server) and waits until its health is SERVING. Returns it with the
// time from exec to SERVING in `startup` when not null.
absl::StatusOr<Server> StartServer(bool node, absl::Duration* startup) {
  const testing::DevPki& pki = testing::DevPki::Get();
  Server server;
  server.dir = testing::MakeTempDir(node ? "node" : "echo");
  std::vector<std::string> argv;
  if (node) {
    testing::NodeSetup setup;
    setup.region = kRegion;
    setup.data_dir = server.dir;
    argv = {testing::NodeBinary(), "--config",
            testing::WriteNodeConfig(pki, setup)};
  } else {
    argv = {SelfPath(), "serve-echo", "--pki", pki.dir(), "--dir", server.dir};
  }
  const absl::Time start = absl::Now();
  server.process =
      std::make_unique<testing::BackgroundProcess>(argv, server.dir + "/log");
  absl::StatusOr<int> port =
      WaitPort(server.dir, *server.process, absl::Seconds(30));
  if (!port.ok()) return port.status();
  server.address = absl::StrCat("127.0.0.1:", *port);
  const absl::Status serving = CheckServing(server.address);
  if (!serving.ok()) return serving;
  if (startup != nullptr) *startup = absl::Now() - start;
  return server;
}

void StopServer(Server& server) {
  if (server.process != nullptr &&
      server.process->Stop(SIGTERM, absl::Seconds(15)) != 0) {
    std::fprintf(stderr, "ruta-bench: %s did not exit cleanly:\n%s\n",
                 server.dir.c_str(), server.process->Stderr().c_str());
  }
}

std::vector<std::shared_ptr<grpc::Channel>> Channels(const std::string& address,
                                                     int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) channels.push_back(Channel(address));
  return channels;
}

// --- Requests ------------------------------------------------------------

std::atomic<int64_t> next_case{1};

ruta::v1::OpenCaseRequest NewOpenCase() {
  const int64_t n = next_case.fetch_add(1);
  return testing::VictimOpenCaseRequest(
      absl::StrFormat("00000000-0000-4000-8000-%012d", n),
      absl::StrFormat("%08d", n % 100000000));
}

// An Echo.Unary request of `request_bytes` serialized bytes asking for a
// response of `response_bytes` serialized bytes (padding computed by
// serializing, so that varint length prefixes are accounted for).
bench::v1::UnaryRequest MirrorRequest(size_t request_bytes,
                                      size_t response_bytes) {
  bench::v1::UnaryResponse response;
  uint32_t payload = 0;
  for (;; ++payload) {
    response.set_payload(std::string(payload, 'r'));
    if (response.ByteSizeLong() >= response_bytes) break;
  }
  bench::v1::UnaryRequest request;
  request.set_response_size(payload);
  for (size_t pad = 0; request.ByteSizeLong() < request_bytes; ++pad) {
    request.set_payload(std::string(pad, 'q'));
  }
  return request;
}

// --- Workloads -----------------------------------------------------------

LoadOptions Load(const RunOptions& options, pid_t pid) {
  LoadOptions load;
  load.in_flight = options.in_flight;
  load.warmup = options.warmup;
  load.duration = options.duration;
  load.server_pid = pid;
  return load;
}

LoadResult RunGetCase(const Server& node, const RunOptions& options,
                      const std::vector<std::string>& case_ids) {
  std::vector<std::unique_ptr<ruta::v1::CaseOffice::Stub>> stubs;
  for (auto& channel : Channels(node.address, options.channels)) {
    stubs.push_back(ruta::v1::CaseOffice::NewStub(channel));
  }
  std::atomic<size_t> next{0};
  Unary<ruta::v1::GetCaseRequest, ruta::v1::GetCaseResponse> caller(
      options.in_flight, kCallDeadline,
      [&stubs](int slot, grpc::ClientContext* context,
               const ruta::v1::GetCaseRequest* request,
               ruta::v1::GetCaseResponse* response,
               std::function<void(grpc::Status)> done) {
        stubs[slot % stubs.size()]->async()->GetCase(context, request, response,
                                                     std::move(done));
      },
      [&](int, ruta::v1::GetCaseRequest* request) {
        request->set_case_id(case_ids[next.fetch_add(1) % case_ids.size()]);
      });
  return RunUnaryLoad(caller, Load(options, node.pid()));
}

LoadResult RunOpenCase(const Server& node, const RunOptions& options) {
  std::vector<std::unique_ptr<ruta::v1::CaseOffice::Stub>> stubs;
  for (auto& channel : Channels(node.address, options.channels)) {
    stubs.push_back(ruta::v1::CaseOffice::NewStub(channel));
  }
  Unary<ruta::v1::OpenCaseRequest, ruta::v1::OpenCaseResponse> caller(
      options.in_flight, kCallDeadline,
      [&stubs](int slot, grpc::ClientContext* context,
               const ruta::v1::OpenCaseRequest* request,
               ruta::v1::OpenCaseResponse* response,
               std::function<void(grpc::Status)> done) {
        stubs[slot % stubs.size()]->async()->OpenCase(
            context, request, response, std::move(done));
      },
      [](int, ruta::v1::OpenCaseRequest* request) {
        *request = NewOpenCase();
      });
  return RunUnaryLoad(caller, Load(options, node.pid()));
}

LoadResult RunEcho(const Server& echo, const RunOptions& options,
                   const bench::v1::UnaryRequest& request_template) {
  std::vector<std::unique_ptr<bench::v1::Echo::Stub>> stubs;
  for (auto& channel : Channels(echo.address, options.channels)) {
    stubs.push_back(bench::v1::Echo::NewStub(channel));
  }
  Unary<bench::v1::UnaryRequest, bench::v1::UnaryResponse> caller(
      options.in_flight, kCallDeadline,
      [&stubs](int slot, grpc::ClientContext* context,
               const bench::v1::UnaryRequest* request,
               bench::v1::UnaryResponse* response,
               std::function<void(grpc::Status)> done) {
        stubs[slot % stubs.size()]->async()->Unary(context, request, response,
                                                   std::move(done));
      },
      [&request_template](int, bench::v1::UnaryRequest* request) {
        *request = request_template;
      });
  return RunUnaryLoad(caller, Load(options, echo.pid()));
}

LoadResult RunStream(const Server& echo, const RunOptions& options,
                     uint32_t message_size) {
  auto stub = bench::v1::Echo::NewStub(Channel(echo.address));
  return RunStreamLoad(*stub, message_size, Load(options, echo.pid()));
}

// --- Collection ----------------------------------------------------------

// Per-run values of one figure, or the first error that voided it.
struct Series {
  std::vector<double> values;
  std::string error;
};

class Results {
 public:
  Series& operator[](const std::string& key) { return series_[key]; }
  // Adds the figures of a load run under `prefix`.rate/.p50/.p99/.cpu/.rss.
  void AddLoad(const std::string& prefix, const LoadResult& r) {
    if (r.errors > 0) {
      Series& s = series_[prefix + ".rate"];
      if (s.error.empty()) {
        s.error =
            absl::StrCat(r.errors, " calls failed, first: ", r.first_error);
      }
    }
    series_[prefix + ".rate"].values.push_back(r.rate);
    series_[prefix + ".p50"].values.push_back(r.p50_ms);
    series_[prefix + ".p99"].values.push_back(r.p99_ms);
    series_[prefix + ".cpu"].values.push_back(r.server_cpu_us);
    series_[prefix + ".read_kib"].values.push_back(r.server_read_kib);
    series_[prefix + ".written_kib"].values.push_back(r.server_written_kib);
    series_[prefix + ".rss"].values.push_back(
        static_cast<double>(r.server_max_rss_kib) / 1024);
  }

 private:
  std::map<std::string, Series> series_;
};

void Progress(const std::string& what, const LoadResult& r) {
  std::fprintf(
      stderr,
      "  %-30s %8.0f/s  p50 %6.2f ms  p99 %6.2f ms  server CPU "
      "%6.1f µs/op  file r/w %5.1f/%5.1f KiB/op%s\n",
      what.c_str(), r.rate, r.p50_ms, r.p99_ms, r.server_cpu_us,
      r.server_read_kib, r.server_written_kib,
      r.errors > 0
          ? absl::StrCat("  ERRORS ", r.errors, ": ", r.first_error).c_str()
          : "");
}

double Mib(int64_t kib) { return static_cast<double>(kib) / 1024; }

// One run: both servers started fresh, every workload, ruta and its
// baseline back to back (which goes first alternates between runs, so that
// drift within a run does not always favour the same side).
absl::Status OneRun(int run, const RunOptions& options, Results& results,
                    std::string* payload_note) {
  std::fprintf(stderr, "run %d/%d\n", run + 1, options.runs);
  absl::StatusOr<Server> echo = StartServer(false, nullptr);
  if (!echo.ok()) return echo.status();
  absl::StatusOr<Server> node = StartServer(true, nullptr);
  if (!node.ok()) return node.status();

  absl::SleepFor(options.settle);
  results["node.idle_rss"].values.push_back(
      Mib(ProcessStatusKib(node->pid(), "VmRSS")));
  results["echo.idle_rss"].values.push_back(
      Mib(ProcessStatusKib(echo->pid(), "VmRSS")));

  // The cases the reads cycle over, and the sizes the echo mirrors.
  auto stub = ruta::v1::CaseOffice::NewStub(Channel(node->address));
  std::vector<std::string> case_ids;
  const ruta::v1::OpenCaseRequest open_request = NewOpenCase();
  ruta::v1::OpenCaseResponse opened;
  for (int i = 0; i < kReadCases; ++i) {
    const grpc::Status status =
        stub->OpenCase(testing::ContextWithDeadline(kCallDeadline).get(),
                       i == 0 ? open_request : NewOpenCase(), &opened);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("OpenCase: ", status.error_message()));
    }
    case_ids.push_back(opened.case_().case_id());
  }
  ruta::v1::GetCaseRequest get_request;
  get_request.set_case_id(case_ids.front());
  ruta::v1::GetCaseResponse got;
  const grpc::Status status = stub->GetCase(
      testing::ContextWithDeadline(kCallDeadline).get(), get_request, &got);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("GetCase: ", status.error_message()));
  }
  const bench::v1::UnaryRequest echo_get =
      MirrorRequest(get_request.ByteSizeLong(), got.ByteSizeLong());
  const bench::v1::UnaryRequest echo_open =
      MirrorRequest(open_request.ByteSizeLong(), opened.ByteSizeLong());
  // A federation event carries one case change: stream messages the size
  // of one Case record.
  const uint32_t event_size =
      static_cast<uint32_t>(opened.case_().ByteSizeLong());
  *payload_note = absl::StrFormat(
      "payloads (serialized bytes, request/response): GetCase %d/%d, "
      "OpenCase %d/%d, mirrored by the echo; server-stream messages of %d "
      "bytes (one Case record)",
      get_request.ByteSizeLong(), got.ByteSizeLong(),
      open_request.ByteSizeLong(), opened.ByteSizeLong(), event_size);

  const bool baseline_first = run % 2 == 0;
  auto pair = [&](const std::string& name, const std::string& ruta_key,
                  const std::string& echo_key, auto ruta_fn,
                  const bench::v1::UnaryRequest& mirror) {
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == baseline_first) {
        const LoadResult r = RunEcho(*echo, options, mirror);
        Progress(absl::StrCat("echo (", name, " sizes)"), r);
        results.AddLoad(echo_key, r);
      } else {
        const LoadResult r = ruta_fn();
        Progress(name, r);
        results.AddLoad(ruta_key, r);
      }
    }
  };
  pair(
      "GetCase", "get", "echo_get",
      [&] { return RunGetCase(*node, options, case_ids); }, echo_get);
  pair(
      "OpenCase", "open", "echo_open",
      [&] { return RunOpenCase(*node, options); }, echo_open);

  const LoadResult stream = RunStream(*echo, options, event_size);
  Progress("echo server-stream (1 stream)", stream);
  results.AddLoad("echo_stream", stream);

  results["node.hwm"].values.push_back(
      Mib(ProcessStatusKib(node->pid(), "VmHWM")));
  results["echo.hwm"].values.push_back(
      Mib(ProcessStatusKib(echo->pid(), "VmHWM")));
  StopServer(*node);
  StopServer(*echo);

  // Start-up: exec to health SERVING with an empty store, alternating the
  // two servers; the run's figure is the median of its samples.
  std::vector<double> node_ms;
  std::vector<double> echo_ms;
  for (int i = 0; i < options.starts; ++i) {
    for (bool is_node : {true, false}) {
      absl::Duration startup;
      absl::StatusOr<Server> server = StartServer(is_node, &startup);
      if (!server.ok()) return server.status();
      StopServer(*server);
      (is_node ? node_ms : echo_ms)
          .push_back(absl::ToDoubleMilliseconds(startup));
    }
  }
  results["node.startup"].values.push_back(SpreadOf(node_ms).median);
  results["echo.startup"].values.push_back(SpreadOf(echo_ms).median);
  std::fprintf(stderr, "  start-up to SERVING: node %.0f ms, echo %.0f ms\n",
               SpreadOf(node_ms).median, SpreadOf(echo_ms).median);
  return absl::OkStatus();
}

// --- Rows ----------------------------------------------------------------

std::vector<Row> BuildRows(Results& results, const RunOptions& options) {
  std::vector<Row> rows;
  const std::string at = absl::StrCat(options.in_flight, " in flight");
  auto measured = [&](const std::string& workload, const std::string& unit,
                      const std::string& ruta_key, const std::string& base_key,
                      const std::string& base_name) {
    Row row;
    row.workload = workload;
    row.unit = unit;
    row.ruta = results[ruta_key].values;
    row.error = results[ruta_key].error;
    if (!base_key.empty()) {
      row.baseline = results[base_key].values;
      row.baseline_name = base_name;
      if (row.error.empty()) row.error = results[base_key].error;
    }
    return row;
  };
  auto budget_ratio = [](Row row, double at_least) {
    row.budget_kind = BudgetKind::kRatioAtLeast;
    row.budget_value = at_least;
    row.budget = absl::StrFormat("≥ %.0f %% of baseline", at_least * 100);
    row.ratio_as_percent = true;
    return row;
  };
  auto budget_below = [](Row row, double below) {
    row.budget_kind = BudgetKind::kBelow;
    row.budget_value = below;
    row.budget = absl::StrCat("< ", below, " ", row.unit);
    return row;
  };
  auto pending = [](const std::string& workload, const std::string& unit,
                    const std::string& budget, const std::string& missing) {
    Row row;
    row.workload = workload;
    row.unit = unit;
    row.budget = budget;
    row.pending = absl::StrCat("pending: ", missing, " not built");
    return row;
  };
  const std::string unary = "unary echo";

  for (const auto& [name, key, echo_key, budget] :
       std::vector<std::tuple<std::string, std::string, std::string, double>>{
           {"GetCase (read)", "get", "echo_get", 0.60},
           {"OpenCase (durable write: case + audit + aggregates, one "
            "transaction, synchronous=FULL)",
            "open", "echo_open", 0.25}}) {
    rows.push_back(budget_ratio(
        measured(absl::StrCat(name, ", ", at, ": calls/s"), "calls/s",
                 key + ".rate", echo_key + ".rate", unary),
        budget));
    const std::string short_name = key == "get" ? "GetCase" : "OpenCase";
    rows.push_back(measured(absl::StrCat(short_name, " p50 latency, ms"), "ms",
                            key + ".p50", echo_key + ".p50", unary));
    rows.push_back(measured(absl::StrCat(short_name, " p99 latency, ms"), "ms",
                            key + ".p99", echo_key + ".p99", unary));
    rows.push_back(
        measured(absl::StrCat(short_name, " server CPU per call, µs"), "µs",
                 key + ".cpu", echo_key + ".cpu", unary));
    if (key == "open") {
      // Where a durable write's cost goes: the store's file I/O per call
      // (the echo does none, so there is no baseline).
      rows.push_back(measured("OpenCase server file writes per call, KiB",
                              "KiB", "open.written_kib", "", ""));
      rows.push_back(measured("OpenCase server file reads per call, KiB", "KiB",
                              "open.read_kib", "", ""));
    }
    if (key == "get") {
      rows.push_back(
          pending(absl::StrCat("PartnerStatus read, ", at, ": calls/s"),
                  "calls/s", "≥ 60 % of baseline", "PartnerStatus"));
    } else {
      rows.push_back(pending(
          absl::StrCat("RequestTransfer (durable write: record + audit + "
                       "outbox), ",
                       at, ": calls/s"),
          "calls/s", "≥ 25 % of baseline", "transfers and the outbox"));
    }
  }

  Row federation = pending(
      "Federation: events durably applied by the peer, one stream: events/s",
      "events/s", "≥ 50 % of baseline",
      "federation (outbox relay, Exchange, inbox apply)");
  federation.baseline = results["echo_stream.rate"].values;
  federation.baseline_name = "server-stream msgs/s";
  federation.error = results["echo_stream.rate"].error;
  rows.push_back(federation);
  Row federation_cpu =
      pending("Federation: server CPU per event, µs", "µs", "", "federation");
  federation_cpu.baseline = results["echo_stream.cpu"].values;
  federation_cpu.baseline_name = "server-stream, per msg";
  rows.push_back(federation_cpu);
  rows.push_back(pending("Week-offline catch-up: 1,000,000 queued events, s",
                         "s", "< 60 s", "federation"));
  rows.push_back(pending("Dashboard: every table over 1,000,000 cases, ms",
                         "ms", "< 100 ms per call", "Dashboard tables"));
  rows.push_back(pending(
      "End-to-end: transfer requested → visible in the other region, p99 ms",
      "ms", "< 50 ms", "transfers and federation"));

  rows.push_back(
      budget_below(measured("Node RSS idle (VmRSS after start), MiB", "MiB",
                            "node.idle_rss", "echo.idle_rss", "echo server"),
                   64));
  rows.push_back(budget_below(
      measured("Node RSS under the write load (max VmRSS sampled), MiB", "MiB",
               "open.rss", "echo_open.rss", "echo server"),
      256));
  rows.push_back(measured("Node peak RSS over the run (VmHWM), MiB", "MiB",
                          "node.hwm", "echo.hwm", "echo server"));
  rows.push_back(budget_below(
      measured("Start-up: exec → health SERVING over mTLS, empty store, ms",
               "ms", "node.startup", "echo.startup", "echo server"),
      300));
  return rows;
}

// --- Commands ------------------------------------------------------------

bool ParseSeconds(const char* text, absl::Duration* out) {
  double seconds = 0;
  if (!absl::SimpleAtod(text, &seconds) || seconds <= 0) return false;
  *out = absl::Seconds(seconds);
  return true;
}

bool ParseInt(const char* text, int* out) {
  return absl::SimpleAtoi(text, out) && *out > 0;
}

int Run(int argc, char** argv, const std::string& command) {
  RunOptions options;
  bool duration_set = false;
  bool warmup_set = false;
  bool runs_set = false;
  bool starts_set = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = true;
    if (arg == "--smoke") {
      options.smoke = true;
      continue;
    } else if (arg == "--keep") {
      options.keep = true;
      continue;
    } else if (value == nullptr) {
      ok = false;
    } else if (arg == "--duration") {
      ok = ParseSeconds(value, &options.duration);
      duration_set = true;
    } else if (arg == "--warmup") {
      ok = ParseSeconds(value, &options.warmup);
      warmup_set = true;
    } else if (arg == "--runs") {
      ok = ParseInt(value, &options.runs);
      runs_set = true;
    } else if (arg == "--in-flight") {
      ok = ParseInt(value, &options.in_flight);
    } else if (arg == "--channels") {
      ok = ParseInt(value, &options.channels);
    } else if (arg == "--starts") {
      ok = ParseInt(value, &options.starts);
      starts_set = true;
    } else if (arg == "--json") {
      options.json = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "ruta-bench run: bad or incomplete option %s\n",
                   arg.c_str());
      return Usage();
    }
    ++i;
  }
  if (options.smoke) {
    // Proves the harness works end to end in a few seconds; the figures
    // mean nothing.
    if (!duration_set) options.duration = absl::Milliseconds(300);
    if (!warmup_set) options.warmup = absl::Milliseconds(100);
    if (!runs_set) options.runs = 1;
    if (!starts_set) options.starts = 1;
    options.settle = absl::Milliseconds(100);
  }

  // Everything (PKI, databases, logs) goes under one directory, removed at
  // the end.
  std::string root = absl::StrCat(
      std::filesystem::temp_directory_path().string(), "/ruta-bench-XXXXXX");
  if (mkdtemp(root.data()) == nullptr) {
    std::perror("ruta-bench: mkdtemp");
    return 1;
  }
  setenv("TEST_TMPDIR", root.c_str(), 1);
  std::fprintf(stderr, "ruta-bench: working in %s\n", root.c_str());
  (void)testing::DevPki::Get();  // certs/pki.sh dev, once

  Report report;
  report.date =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  report.command = command;
  report.machine = MachineDescription();
  report.runs = options.runs;
  report.duration_seconds = absl::ToDoubleSeconds(options.duration);
  report.warmup_seconds = absl::ToDoubleSeconds(options.warmup);
  report.in_flight = options.in_flight;
  report.channels = options.channels;

  Results results;
  for (int run = 0; run < options.runs; ++run) {
    const absl::Status status =
        OneRun(run, options, results, &report.payload_note);
    if (!status.ok()) {
      std::fprintf(stderr, "ruta-bench: run %d failed: %s (files kept in %s)\n",
                   run + 1, status.ToString().c_str(), root.c_str());
      return 1;
    }
  }
  report.rows = BuildRows(results, options);

  std::printf("%s", FormatTable(report).c_str());
  std::fflush(stdout);
  int exit_code = 0;
  for (const Row& row : report.rows) {
    if (!row.error.empty()) exit_code = 1;
  }
  const std::string json = FormatJson(report);
  if (!options.json.empty()) {
    std::ofstream(options.json) << json;
    // Check what landed on disk, not the string: the smoke test relies on
    // the file.
    const absl::Status check =
        CheckJson(testing::ReadFile(options.json), /*require_measured=*/true);
    if (!check.ok()) {
      std::fprintf(stderr, "ruta-bench: %s: %s\n", options.json.c_str(),
                   check.ToString().c_str());
      exit_code = 1;
    }
  }
  if (options.keep) {
    std::fprintf(stderr, "ruta-bench: files kept in %s\n", root.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  return exit_code;
}

int ServeEchoCommand(int argc, char** argv) {
  EchoServerOptions options;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--pki") {
      options.pki_dir = argv[i + 1];
    } else if (arg == "--dir") {
      options.dir = argv[i + 1];
    } else {
      return Usage();
    }
  }
  if (options.pki_dir.empty() || options.dir.empty()) return Usage();
  return ServeEcho(options);
}

int CheckJsonCommand(int argc, char** argv) {
  if (argc < 3) return Usage();
  const bool require_measured =
      argc > 3 && std::string(argv[3]) == "--require-measured";
  std::ifstream in(argv[2]);
  if (!in) {
    std::fprintf(stderr, "ruta-bench check-json: cannot read %s\n", argv[2]);
    return 1;
  }
  const absl::Status status =
      CheckJson(testing::ReadFile(argv[2]), require_measured);
  if (!status.ok()) {
    std::fprintf(stderr, "ruta-bench check-json: %s: %s\n", argv[2],
                 status.ToString().c_str());
    return 1;
  }
  std::printf("%s: well-formed ruta-bench report\n", argv[2]);
  return 0;
}

}  // namespace
}  // namespace ruta::bench

int main(int argc, char** argv) {
  // The same for the client, the echo baseline and (in its own main) the
  // node, so that the comparison stays fair.
  ruta::common::DisableMutexDeadlockDetection();
  if (argc < 2) return ruta::bench::Usage();
  const std::string command = argv[1];
  std::vector<std::string> words(argv, argv + argc);
  words[0] = "ruta-bench";
  if (command == "run") {
    return ruta::bench::Run(argc, argv, absl::StrJoin(words, " "));
  }
  if (command == "serve-echo") return ruta::bench::ServeEchoCommand(argc, argv);
  if (command == "check-json") return ruta::bench::CheckJsonCommand(argc, argv);
  return ruta::bench::Usage();
}
