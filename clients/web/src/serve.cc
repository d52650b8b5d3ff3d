#include "ruta/web/serve.h"

#include <pthread.h>

#include <iostream>
#include <thread>

#include "ruta/web/http.h"
#include "spdlog/spdlog.h"

namespace ruta::web {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

int ServeUntilStopped(const sigset_t& signals, const std::string& program,
                      const std::string& listen_address,
                      const std::string& port_file, const std::string& what,
                      const Servable& server) {
  auto fail = [&program](const absl::Status& status) {
    std::cerr << program << ": " << status.message() << "\n";
    return 2;
  };
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(listen_address, &host, &port); !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<int> bound = server.bind(host, port);
  if (!bound.ok()) return fail(bound.status());
  if (!port_file.empty()) {
    if (absl::Status s = WritePortFile(port_file, *bound); !s.ok()) {
      return fail(s);
    }
  }
  spdlog::info("{} serving {} on {}:{}", program, what, host, *bound);
  std::thread waiter([&signals, &server, &program] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("{}: signal {}, stopping", program, received);
    server.stop();
  });
  server.run();
  // run returned (stopped or failed): wake the waiter if it still waits.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  spdlog::info("{} stopped", program);
  return 0;
}

}  // namespace ruta::web
