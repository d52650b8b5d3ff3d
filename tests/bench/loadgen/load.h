// The load generator of ruta-bench: a closed loop of N unary calls in flight
// (gRPC callback API, spread over a few channels), or one server stream,
// with a warm-up and a fixed measured window; the server's CPU time is read
// from /proc before and after the window.
#ifndef RUTA_BENCH_LOADGEN_LOAD_H_
#define RUTA_BENCH_LOADGEN_LOAD_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace ruta::bench {

// Starts one call for `slot` (0..in_flight-1; a slot has at most one call in
// flight) and calls `done` exactly once with its status. The implementation
// owns the call's context, request and response until `done` runs.
class UnaryCaller {
 public:
  virtual ~UnaryCaller() = default;
  virtual void Start(int slot, std::function<void(grpc::Status)> done) = 0;
};

// A UnaryCaller for one method of a callback-API stub. `invoke` starts the
// call as `stub->async()->Method(context, request, response, done)`;
// `make_request` fills the request of each call (e.g. a fresh request_id).
template <typename Request, typename Response>
class Unary final : public UnaryCaller {
 public:
  using Invoke =
      std::function<void(int slot, grpc::ClientContext*, const Request*,
                         Response*, std::function<void(grpc::Status)>)>;
  using MakeRequest = std::function<void(int slot, Request*)>;

  Unary(int in_flight, absl::Duration deadline, Invoke invoke,
        MakeRequest make_request)
      : slots_(in_flight),
        deadline_(deadline),
        invoke_(std::move(invoke)),
        make_request_(std::move(make_request)) {}

  void Start(int slot, std::function<void(grpc::Status)> done) override {
    Slot& s = slots_[slot];
    // A ClientContext serves one call; the previous one is complete (its
    // callback is what starts this call), so it may go now.
    s.context = std::make_unique<grpc::ClientContext>();
    s.context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    make_request_(slot, &s.request);
    s.response.Clear();
    invoke_(slot, s.context.get(), &s.request, &s.response, std::move(done));
  }

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
  };
  std::vector<Slot> slots_;
  const absl::Duration deadline_;
  const Invoke invoke_;
  const MakeRequest make_request_;
};

struct LoadOptions {
  int in_flight = 64;
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  // The server whose CPU time and memory are read.
  pid_t server_pid = -1;
};

struct LoadResult {
  int64_t calls = 0;   // completed OK within the window
  int64_t errors = 0;  // failed calls (any phase)
  std::string first_error;
  double seconds = 0;  // length of the measured window
  double rate = 0;     // calls (or messages) per second
  double p50_ms = 0;   // latency percentiles (unary only)
  double p99_ms = 0;
  double server_cpu_us = 0;         // server CPU time per call (or message)
  int64_t server_max_rss_kib = -1;  // highest VmRSS sampled in the window
  // Server bytes read / written per call through read/write-family system
  // calls in the window (procfs.h: mostly file I/O).
  double server_read_kib = 0;
  double server_written_kib = 0;
};

// Runs the closed loop: every slot starts a call, and starts the next one
// as soon as its previous one completes. Calls completing in the measured
// window count; a slot whose call fails stops.
LoadResult RunUnaryLoad(UnaryCaller& caller, const LoadOptions& options);

// Reads one Echo.Stream of `message_size`-byte messages for warm-up +
// duration and counts the messages received in the measured window.
LoadResult RunStreamLoad(v1::Echo::Stub& stub, uint32_t message_size,
                         const LoadOptions& options);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_LOAD_H_
