// Stopping a long-running command (`ruta transfer watch`) cleanly on SIGINT
// or SIGTERM (internal).
#ifndef RUTA_CLI_SRC_INTERRUPT_H_
#define RUTA_CLI_SRC_INTERRUPT_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace ruta::cli {

// While it lives, SIGINT and SIGTERM do not end the process: they set
// requested(), cancel the call being watched and wake SleepFor. The signal
// handler only writes to a pipe; a thread of its own does the rest. One
// instance at a time.
class Interrupt {
 public:
  Interrupt();
  ~Interrupt();
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  bool requested() const { return requested_.load(); }
  // The signal received ("SIGINT", "SIGTERM"), or "" before one.
  const char* signal_name() const;
  // Waits `duration`; false when a signal came first (or had come).
  bool SleepFor(absl::Duration duration);
  // A signal cancels `call` (grpc::ClientContext::TryCancel) while it is
  // set; nullptr clears it, before the call's context is destroyed.
  void Watch(grpc::ClientContext* call);

 private:
  void Monitor();

  std::atomic<bool> requested_{false};
  std::atomic<int> signal_{0};
  std::mutex mutex_;
  std::condition_variable woken_;
  grpc::ClientContext* call_ = nullptr;
  std::thread monitor_;
  bool installed_ = false;
};

}  // namespace ruta::cli

#endif  // RUTA_CLI_SRC_INTERRUPT_H_
