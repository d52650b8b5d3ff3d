#include "interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ruta::cli {
namespace {

// The self-pipe: the handler writes the signal number, the monitor thread
// reads it. A 0 byte tells the monitor to end.
int g_pipe[2] = {-1, -1};
struct sigaction g_previous_int;
struct sigaction g_previous_term;

extern "C" void OnStopSignal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  if (write(g_pipe[1], &byte, 1) < 0) {
    // Nothing to do in a signal handler; the pipe is full of signals anyway.
  }
  errno = saved_errno;
}

}  // namespace

Interrupt::Interrupt() {
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
    return;  // without it, signals keep their default action
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
  installed_ = true;
  monitor_ = std::thread([this] { Monitor(); });
}

Interrupt::~Interrupt() {
  if (!installed_) return;
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
  const unsigned char stop = 0;
  while (write(g_pipe[1], &stop, 1) < 0 && errno == EINTR) {
  }
  monitor_.join();
  close(g_pipe[0]);
  close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

void Interrupt::Monitor() {
  for (;;) {
    struct pollfd readable = {g_pipe[0], POLLIN, 0};
    if (poll(&readable, 1, -1) < 0) continue;  // EINTR
    unsigned char byte = 0;
    if (read(g_pipe[0], &byte, 1) != 1) continue;
    if (byte == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!requested_.load()) signal_.store(byte);
    requested_.store(true);
    if (call_ != nullptr) call_->TryCancel();
    woken_.notify_all();
  }
}

const char* Interrupt::signal_name() const {
  switch (signal_.load()) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "";
  }
}

bool Interrupt::SleepFor(absl::Duration duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  woken_.wait_for(lock, absl::ToChronoNanoseconds(duration),
                  [this] { return requested_.load(); });
  return !requested_.load();
}

void Interrupt::Watch(grpc::ClientContext* call) {
  std::lock_guard<std::mutex> lock(mutex_);
  call_ = call;
  if (call_ != nullptr && requested_.load()) call_->TryCancel();
}

}  // namespace ruta::cli
