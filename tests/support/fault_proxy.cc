#include "ruta/testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ruta::testing {
namespace {

// Every wait is at most this long, so that faults and Stop are noticed even
// without a wake-up.
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
// A direction stops reading its source while this many bytes wait to be
// written (back-pressure instead of unbounded memory).
constexpr size_t kMaxQueuedBytes = size_t{1} << 20;
constexpr size_t kReadSize = 64 * 1024;

struct HostPort {
  std::string host;
  std::string port;
};

// "host:port" or "[v6]:port", with a port in 1..65535.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  HostPort result;
  absl::string_view port;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("upstream \"", address, "\" is not [host]:port"));
    }
    result.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos ||
        address.substr(0, colon).find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("upstream \"", address, "\" is not host:port"));
    }
    result.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  int number = 0;
  if (result.host.empty() || !absl::SimpleAtoi(port, &number) || number < 1 ||
      number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream \"", address, "\" is not host:port"));
  }
  result.port = absl::StrCat(number);
  return result;
}

int TimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

// Closes `fd` with an RST instead of a FIN.
void ResetAndClose(int fd) {
  const linger no_linger{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
  close(fd);
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void Wake(int event_fd) { static_cast<void>(eventfd_write(event_fd, 1)); }

void DrainWakeUps(int event_fd) {
  eventfd_t value;
  static_cast<void>(eventfd_read(event_fd, &value));
}

}  // namespace

struct FaultProxy::Connection {
  Connection(int64_t id, int client_fd, int wake_fd)
      : id(id), client_fd(client_fd), wake_fd(wake_fd) {}
  ~Connection() {
    if (thread.joinable()) thread.join();
    close(wake_fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const int64_t id;
  const int client_fd;    // closed by the connection's thread
  const int wake_fd;      // eventfd waking the connection's thread
  bool finished = false;  // guarded by FaultProxy::mu_; the fds are closed
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(
    FaultProxyOptions options) {
  absl::StatusOr<HostPort> upstream = ParseHostPort(options.upstream);
  if (!upstream.ok()) return upstream.status();
  if (options.listen_port < 0 || options.listen_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen_port ", options.listen_port, " is out of range"));
  }

  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(options.listen_port));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(
        error, absl::StrCat("listening on 127.0.0.1:", options.listen_port,
                            " failed"));
  }
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, "getsockname");
  }
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, "eventfd");
  }

  std::unique_ptr<FaultProxy> proxy(
      new FaultProxy(std::move(options), fd, ntohs(addr.sin_port), wake_fd));
  {
    absl::MutexLock lock(&proxy->mu_);
    proxy->upstream_host_ = std::move(upstream->host);
    proxy->upstream_port_ = std::move(upstream->port);
  }
  proxy->accept_thread_ = std::thread(&FaultProxy::AcceptLoop, proxy.get());
  return proxy;
}

FaultProxy::FaultProxy(FaultProxyOptions options, int listen_fd, int port,
                       int wake_fd)
    : options_(std::move(options)),
      listen_fd_(listen_fd),
      port_(port),
      wake_fd_(wake_fd) {}

FaultProxy::~FaultProxy() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    WakeAllLocked();
  }
  accept_thread_.join();
  close(listen_fd_);
  std::map<int64_t, std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  connections.clear();  // joins each connection's thread
  close(wake_fd_);
}

std::string FaultProxy::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status FaultProxy::SetUpstream(std::string upstream) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(upstream);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&mu_);
  upstream_host_ = std::move(parsed->host);
  upstream_port_ = std::move(parsed->port);
  return absl::OkStatus();
}

std::string FaultProxy::upstream() const {
  absl::MutexLock lock(&mu_);
  if (upstream_host_.find(':') != std::string::npos) {
    return absl::StrCat("[", upstream_host_, "]:", upstream_port_);
  }
  return absl::StrCat(upstream_host_, ":", upstream_port_);
}

void FaultProxy::SetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = std::max(delay, absl::ZeroDuration());
  WakeAllLocked();
}

void FaultProxy::SetRefuseNew(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_new_ = refuse;
}

void FaultProxy::CutAll() {
  absl::MutexLock lock(&mu_);
  const int64_t up_to = next_id_ - 1;
  cut_up_to_ = std::max(cut_up_to_, up_to);
  WakeAllLocked();
  auto all_closed = [this, up_to]() {
    mu_.AssertHeld();
    for (const auto& [id, connection] : connections_) {
      if (id > up_to) break;
      if (!connection->finished) return false;
    }
    return true;
  };
  mu_.Await(absl::Condition(&all_closed));
}

void FaultProxy::SetBlackHole(bool on) {
  absl::MutexLock lock(&mu_);
  black_hole_ = on;
  WakeAllLocked();
}

void FaultProxy::SetHalfOpen(bool on) {
  absl::MutexLock lock(&mu_);
  half_open_ = on;
  WakeAllLocked();
}

void FaultProxy::Heal() {
  absl::MutexLock lock(&mu_);
  delay_ = absl::ZeroDuration();
  refuse_new_ = false;
  black_hole_ = false;
  half_open_ = false;
  WakeAllLocked();
}

int FaultProxy::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

void FaultProxy::WakeAllLocked() {
  Wake(wake_fd_);
  for (const auto& [id, connection] : connections_) {
    if (!connection->finished) Wake(connection->wake_fd);
  }
}

FaultProxy::Faults FaultProxy::FaultsFor(int64_t id) const {
  absl::MutexLock lock(&mu_);
  Faults faults;
  faults.delay = delay_;
  faults.black_hole = black_hole_;
  faults.half_open = half_open_;
  faults.close = stopping_ || id <= cut_up_to_;
  return faults;
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    Reap();
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, TimeoutMs(kPollInterval)) < 0) continue;  // EINTR
    if (fds[1].revents != 0) DrainWakeUps(wake_fd_);
    if (fds[0].revents != 0) Accept();
  }
}

void FaultProxy::Accept() {
  for (;;) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: backlog empty; anything else: retried next turn
    }
    connections_accepted_.fetch_add(1, std::memory_order_relaxed);
    SetNoDelay(fd);
    absl::MutexLock lock(&mu_);
    if (refuse_new_ || stopping_) {
      ResetAndClose(fd);
      continue;
    }
    const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
      ResetAndClose(fd);
      continue;
    }
    auto connection = std::make_unique<Connection>(next_id_++, fd, wake_fd);
    Connection* raw = connection.get();
    connections_.emplace(raw->id, std::move(connection));
    ++open_;
    raw->thread = std::thread(&FaultProxy::Serve, this, raw);
  }
}

void FaultProxy::Reap() {
  std::vector<std::unique_ptr<Connection>> finished;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->second->finished) {
        finished.push_back(std::move(it->second));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  finished.clear();  // joins their threads, which are done
}

void FaultProxy::Serve(Connection* connection) {
  const int upstream_fd = ConnectUpstream(connection);
  if (upstream_fd < 0) {
    ResetAndClose(connection->client_fd);
  } else {
    Pump(connection, connection->client_fd, upstream_fd);
  }
  absl::MutexLock lock(&mu_);
  connection->finished = true;
  --open_;
}

int FaultProxy::ConnectUpstream(Connection* connection) {
  std::string host;
  std::string port;
  {
    absl::MutexLock lock(&mu_);
    host = upstream_host_;
    port = upstream_port_;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses) != 0) {
    return -1;
  }
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  int result = -1;
  for (addrinfo* ai = addresses; ai != nullptr && result < 0;
       ai = ai->ai_next) {
    const int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    if (fd < 0) continue;
    bool connected = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!connected && (errno == EINPROGRESS || errno == EINTR)) {
      for (;;) {
        const absl::Duration left = deadline - absl::Now();
        if (left <= absl::ZeroDuration() || FaultsFor(connection->id).close) {
          break;
        }
        pollfd fds[2] = {{fd, POLLOUT, 0}, {connection->wake_fd, POLLIN, 0}};
        const int ready =
            poll(fds, 2, TimeoutMs(std::min(left, kPollInterval)));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        if (fds[1].revents != 0) DrainWakeUps(connection->wake_fd);
        if (fds[0].revents != 0) {
          int error = 0;
          socklen_t len = sizeof(error);
          connected = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
                      error == 0;
          break;
        }
      }
    }
    if (connected) {
      SetNoDelay(fd);
      result = fd;
    } else {
      close(fd);
    }
  }
  freeaddrinfo(addresses);
  return result;
}

void FaultProxy::Pump(Connection* connection, int client_fd, int upstream_fd) {
  struct Chunk {
    absl::Time read_at;
    std::string bytes;
    size_t written = 0;
  };
  // One direction: bytes read from sockets[src] are written to sockets[dst].
  struct Direction {
    int src;  // index in `sockets` (and `fds`) below
    int dst;
    bool to_client;
    std::deque<Chunk> queue;
    size_t queued = 0;         // bytes in `queue` not written yet
    bool src_eof = false;      // the source sent its FIN
    bool dst_shut = false;     // the FIN was passed on
    bool dropping = false;     // a fault discards this direction's bytes
    bool dst_blocked = false;  // the last write would have blocked
  };
  const int sockets[2] = {client_fd, upstream_fd};
  Direction directions[2] = {{0, 1, false, {}}, {1, 0, true, {}}};
  // A socket reported POLLHUP while nothing was asked of it: leave it out of
  // poll until something is (else poll would return at once, again and
  // again).
  bool hung_up[2] = {false, false};
  std::vector<char> buffer(kReadSize);

  const auto reset_both = [&] {
    ResetAndClose(client_fd);
    ResetAndClose(upstream_fd);
  };

  for (;;) {
    const Faults faults = FaultsFor(connection->id);
    if (faults.close) return reset_both();

    // Write what is due, pass FINs on.
    const absl::Time now = absl::Now();
    absl::Duration wait = kPollInterval;
    for (Direction& d : directions) {
      d.dropping = faults.black_hole || (d.to_client && faults.half_open);
      d.dst_blocked = false;
      if (d.dropping) {
        d.queue.clear();
        d.queued = 0;
      }
      while (!d.queue.empty()) {
        Chunk& chunk = d.queue.front();
        const absl::Time due = chunk.read_at + faults.delay;
        if (due > now) {
          wait = std::min(wait, due - now);
          break;
        }
        const ssize_t n =
            send(sockets[d.dst], chunk.bytes.data() + chunk.written,
                 chunk.bytes.size() - chunk.written, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            d.dst_blocked = true;
            break;
          }
          return reset_both();
        }
        chunk.written += static_cast<size_t>(n);
        d.queued -= static_cast<size_t>(n);
        bytes_forwarded_.fetch_add(n, std::memory_order_relaxed);
        if (chunk.written == chunk.bytes.size()) d.queue.pop_front();
      }
      if (d.src_eof && d.queue.empty() && !d.dst_shut && !d.dropping) {
        shutdown(sockets[d.dst], SHUT_WR);
        d.dst_shut = true;
      }
    }
    if (directions[0].dst_shut && directions[1].dst_shut) {
      close(client_fd);
      close(upstream_fd);
      return;
    }

    // Wait for bytes to read, room to write, a wake-up or the next due chunk.
    pollfd fds[3] = {{client_fd, 0, 0},
                     {upstream_fd, 0, 0},
                     {connection->wake_fd, POLLIN, 0}};
    for (const Direction& d : directions) {
      if (!d.src_eof && (d.dropping || d.queued < kMaxQueuedBytes)) {
        fds[d.src].events |= POLLIN;
      }
      if (d.dst_blocked) fds[d.dst].events |= POLLOUT;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].events == 0 && hung_up[i]) fds[i].fd = -1;
    }
    if (poll(fds, 3, TimeoutMs(wait)) < 0) {
      if (errno == EINTR) continue;
      return reset_both();
    }
    if (fds[2].revents != 0) DrainWakeUps(connection->wake_fd);
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & POLLERR) != 0) return reset_both();
      if ((fds[i].revents & POLLHUP) != 0 && fds[i].events == 0) {
        hung_up[i] = true;
      }
    }

    // Read what arrived. Whether the bytes are dropped is decided after they
    // were read, so that bytes sent after a fault was set (or cleared) are
    // treated by that fault.
    for (Direction& d : directions) {
      if ((fds[d.src].events & POLLIN) == 0 || fds[d.src].revents == 0) {
        continue;
      }
      const ssize_t n = recv(sockets[d.src], buffer.data(), buffer.size(), 0);
      if (n > 0) {
        const Faults current = FaultsFor(connection->id);
        if (current.black_hole || (d.to_client && current.half_open)) continue;
        d.queue.push_back(
            Chunk{absl::Now(),
                  std::string(buffer.data(), static_cast<size_t>(n)), 0});
        d.queued += static_cast<size_t>(n);
      } else if (n == 0) {
        d.src_eof = true;
      } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        return reset_both();
      }
    }
  }
}

}  // namespace ruta::testing
