#include "load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "procfs.h"

namespace ruta::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum Phase : int { kWarmup = 0, kMeasuring = 1, kStopping = 2 };

// Extra time given to calls in flight at the end of a window to finish
// before the run is declared stuck.
constexpr absl::Duration kDrainTimeout = absl::Seconds(30);

double Percentile(std::vector<int64_t>& values, double q) {
  if (values.empty()) return 0;
  const size_t k =
      std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return static_cast<double>(values[k]) / 1e6;
}

// Sleeps until `until`, sampling the server's VmRSS every 100 ms (the
// highest value is kept in `max_rss_kib`).
void SleepSamplingRss(absl::Time until, pid_t pid, int64_t* max_rss_kib) {
  for (;;) {
    if (pid > 0) {
      *max_rss_kib = std::max(*max_rss_kib, ProcessStatusKib(pid, "VmRSS"));
    }
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return;
    absl::SleepFor(std::min(left, absl::Milliseconds(100)));
  }
}

class ClosedLoop {
 public:
  ClosedLoop(UnaryCaller& caller, int in_flight)
      : caller_(caller), slots_(in_flight), active_(in_flight) {}

  void Issue(int slot) {
    const Clock::time_point start = Clock::now();
    caller_.Start(slot, [this, slot, start](grpc::Status status) {
      OnDone(slot, start, status);
    });
  }

  void SetPhase(Phase phase) { phase_.store(phase, std::memory_order_release); }

  bool AwaitAllRetired(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](int* active) { return *active == 0; }, &active_),
        timeout);
  }

  // Only after AwaitAllRetired: no callback runs any more.
  void Collect(LoadResult* result) {
    std::vector<int64_t> all;
    for (Slot& slot : slots_) {
      all.insert(all.end(), slot.latencies_ns.begin(), slot.latencies_ns.end());
    }
    result->calls = static_cast<int64_t>(all.size());
    result->p50_ms = Percentile(all, 0.50);
    result->p99_ms = Percentile(all, 0.99);
    absl::MutexLock lock(&mu_);
    result->errors = errors_;
    result->first_error = first_error_;
  }

 private:
  struct Slot {
    // Written only by the slot's own callbacks, which gRPC runs one after
    // the other (each call starts in its predecessor's callback).
    std::vector<int64_t> latencies_ns;
  };

  void OnDone(int slot, Clock::time_point start, const grpc::Status& status) {
    const Clock::time_point end = Clock::now();
    const int phase = phase_.load(std::memory_order_acquire);
    if (!status.ok()) {
      // A failing slot stops rather than spinning on a broken server; the
      // errors void the workload's figures.
      absl::MutexLock lock(&mu_);
      if (errors_++ == 0) {
        first_error_ =
            absl::StrCat(status.error_code(), ": ", status.error_message());
      }
      --active_;
      return;
    }
    if (phase == kMeasuring) {
      slots_[slot].latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start)
              .count());
    }
    if (phase == kStopping) {
      absl::MutexLock lock(&mu_);
      --active_;
      return;
    }
    Issue(slot);
  }

  UnaryCaller& caller_;
  std::vector<Slot> slots_;
  std::atomic<int> phase_{kWarmup};
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_);
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

class StreamReader final : public grpc::ClientReadReactor<v1::StreamResponse> {
 public:
  StreamReader(v1::Echo::Stub& stub, uint32_t message_size,
               absl::Duration deadline) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    request_.set_message_size(message_size);
    stub.async()->Stream(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    received_.fetch_add(1, std::memory_order_relaxed);
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  int64_t received() const { return received_.load(); }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  void Cancel() { context_.TryCancel(); }
  // The stream's final status; DEADLINE_EXCEEDED if it did not end within
  // `timeout` (the reactor must then outlive the call: the caller leaks it).
  grpc::Status Await(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&done_), timeout)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "stream did not end");
    }
    return status_;
  }

 private:
  grpc::ClientContext context_;
  v1::StreamRequest request_;
  v1::StreamResponse response_;
  std::atomic<int64_t> received_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

LoadResult RunUnaryLoad(UnaryCaller& caller, const LoadOptions& options) {
  LoadResult result;
  ClosedLoop loop(caller, options.in_flight);
  for (int slot = 0; slot < options.in_flight; ++slot) loop.Issue(slot);
  absl::SleepFor(options.warmup);

  const double cpu_before = ProcessCpuSeconds(options.server_pid);
  const ProcessIo io_before = ProcessIoCounters(options.server_pid);
  const absl::Time start = absl::Now();
  loop.SetPhase(kMeasuring);
  SleepSamplingRss(start + options.duration, options.server_pid,
                   &result.server_max_rss_kib);
  loop.SetPhase(kStopping);
  const absl::Time end = absl::Now();
  const double cpu_after = ProcessCpuSeconds(options.server_pid);
  const ProcessIo io_after = ProcessIoCounters(options.server_pid);

  if (!loop.AwaitAllRetired(kDrainTimeout)) {
    // Calls still reference `loop` and `caller`: exiting is the only safe
    // way out.
    std::fprintf(stderr, "ruta-bench: calls did not complete in %s\n",
                 absl::FormatDuration(kDrainTimeout).c_str());
    std::_Exit(1);
  }
  loop.Collect(&result);
  result.seconds = absl::ToDoubleSeconds(end - start);
  result.rate = static_cast<double>(result.calls) / result.seconds;
  if (result.calls > 0 && cpu_before >= 0 && cpu_after >= 0) {
    result.server_cpu_us =
        (cpu_after - cpu_before) * 1e6 / static_cast<double>(result.calls);
  }
  if (result.calls > 0 && io_before.read_bytes >= 0 &&
      io_after.read_bytes >= 0) {
    const double kib_per_call = 1024 * static_cast<double>(result.calls);
    result.server_read_kib =
        static_cast<double>(io_after.read_bytes - io_before.read_bytes) /
        kib_per_call;
    result.server_written_kib =
        static_cast<double>(io_after.written_bytes - io_before.written_bytes) /
        kib_per_call;
  }
  return result;
}

LoadResult RunStreamLoad(v1::Echo::Stub& stub, uint32_t message_size,
                         const LoadOptions& options) {
  LoadResult result;
  auto* reader = new StreamReader(
      stub, message_size, options.warmup + options.duration + kDrainTimeout);
  absl::SleepFor(options.warmup);

  const double cpu_before = ProcessCpuSeconds(options.server_pid);
  const int64_t received_before = reader->received();
  const absl::Time start = absl::Now();
  SleepSamplingRss(start + options.duration, options.server_pid,
                   &result.server_max_rss_kib);
  const int64_t received_after = reader->received();
  const absl::Time end = absl::Now();
  const double cpu_after = ProcessCpuSeconds(options.server_pid);
  // Ended before it was cancelled: the server failed it.
  const bool ended_early = reader->done();
  reader->Cancel();
  const grpc::Status status = reader->Await(kDrainTimeout);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "ruta-bench: the stream did not end\n");
    std::_Exit(1);
  }
  delete reader;

  if (ended_early) {
    result.errors = 1;
    result.first_error =
        absl::StrCat(status.error_code(), ": ", status.error_message());
  }
  result.calls = received_after - received_before;
  result.seconds = absl::ToDoubleSeconds(end - start);
  result.rate = static_cast<double>(result.calls) / result.seconds;
  if (result.calls > 0 && cpu_before >= 0 && cpu_after >= 0) {
    result.server_cpu_us =
        (cpu_after - cpu_before) * 1e6 / static_cast<double>(result.calls);
  }
  return result;
}

}  // namespace ruta::bench
