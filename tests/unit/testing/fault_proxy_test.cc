#include "ruta/testing/fault_proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"

namespace ruta::testing {
namespace {

// How long a test waits for bytes that must arrive.
constexpr absl::Duration kArrives = absl::Seconds(3);
// How long a test waits for bytes that must not arrive.
constexpr absl::Duration kSilence = absl::Milliseconds(300);

// A TCP echo server on 127.0.0.1:0: each connection gets back what it sends,
// and a FIN once it sends one. Counts connections and bytes received.
class EchoServer final {
 public:
  EchoServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 ||
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 64) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      ADD_FAILURE() << "echo server: " << strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoServer() {
    stop_ = true;
    accept_thread_.join();
    absl::MutexLock lock(&mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    for (std::thread& thread : threads_) thread.join();
    for (int fd : fds_) close(fd);
    close(listen_fd_);
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int64_t accepted() const { return accepted_; }
  int64_t bytes_received() const { return bytes_received_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20) <= 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      absl::MutexLock lock(&mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Echo(fd); });
    }
  }
  void Echo(int fd) {
    char buffer[16 * 1024];
    for (;;) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) shutdown(fd, SHUT_WR);
      if (n <= 0) return;
      bytes_received_ += n;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t m = send(fd, buffer + sent, n - sent, MSG_NOSIGNAL);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0) return;
        sent += m;
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> bytes_received_{0};
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

// A client socket, closed on destruction.
class Client final {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (fd_ < 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect to " << port << ": " << strerror(errno);
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }

  bool Send(absl::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Read {
    std::string data;
    bool eof = false;  // FIN
    int error = 0;     // e.g. ECONNRESET
    bool timed_out = false;
  };
  // Reads until `size` bytes arrived, EOF, an error or `timeout`.
  Read ReadUpTo(size_t size, absl::Duration timeout) {
    Read read;
    const absl::Time deadline = absl::Now() + timeout;
    char buffer[64 * 1024];
    while (read.data.size() < size) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        read.timed_out = true;
        break;
      }
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = poll(&pfd, 1,
                             static_cast<int>(absl::ToInt64Milliseconds(
                                 absl::Ceil(left, absl::Milliseconds(1)))));
      if (ready <= 0) continue;
      const ssize_t n =
          recv(fd_, buffer, std::min(sizeof(buffer), size - read.data.size()),
               MSG_DONTWAIT);
      if (n > 0) {
        read.data.append(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        read.eof = true;
        break;
      } else if (errno != EINTR && errno != EAGAIN) {
        read.error = errno;
        break;
      }
    }
    return read;
  }

  // Sends `message` and expects it back within `timeout`.
  bool RoundTrip(absl::string_view message, absl::Duration timeout = kArrives) {
    if (!Send(message)) return false;
    const Read read = ReadUpTo(message.size(), timeout);
    return read.data == message;
  }

  // Whether the connection was closed (FIN or reset) within `timeout`,
  // discarding anything still to read.
  bool SeesClose(absl::Duration timeout = kArrives) {
    const Read read = ReadUpTo(size_t{1} << 30, timeout);
    return read.eof || read.error != 0;
  }

 private:
  int fd_ = -1;
};

std::unique_ptr<FaultProxy> StartProxy(const std::string& upstream) {
  FaultProxyOptions options;
  options.upstream = upstream;
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
      FaultProxy::Start(std::move(options));
  EXPECT_TRUE(proxy.ok()) << proxy.status();
  return proxy.ok() ? std::move(*proxy) : nullptr;
}

// Polls until `condition` holds or `timeout` passes.
template <typename F>
bool Eventually(F condition, absl::Duration timeout = kArrives) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

TEST(FaultProxyTest, StartRejectsAMalformedUpstream) {
  for (const std::string upstream :
       {"", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000",
        "::1:80", "[::1]", ":80"}) {
    FaultProxyOptions options;
    options.upstream = upstream;
    EXPECT_EQ(FaultProxy::Start(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << upstream;
  }
}

TEST(FaultProxyTest, ForwardsBytesUnchangedBothWaysAndPassesTheFinOn) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  EXPECT_NE(proxy->port(), 0);
  EXPECT_EQ(proxy->upstream(), echo.address());

  std::string payload(size_t{1} << 20, '\0');
  std::mt19937 random(42);
  for (char& c : payload) c = static_cast<char>(random());

  Client client(proxy->port());
  // Write and read at once: the echo cannot buffer a whole MiB.
  std::thread writer([&] {
    EXPECT_TRUE(client.Send(payload));
    shutdown(client.fd(), SHUT_WR);
  });
  const Client::Read read =
      client.ReadUpTo(payload.size() + 1, absl::Seconds(10));
  writer.join();
  EXPECT_TRUE(read.eof) << "error " << read.error << " timed out "
                        << read.timed_out;
  EXPECT_EQ(read.data.size(), payload.size());
  EXPECT_TRUE(read.data == payload);
  EXPECT_EQ(echo.bytes_received(), int64_t{1} << 20);
  EXPECT_EQ(proxy->bytes_forwarded(), int64_t{2} << 20);
  EXPECT_EQ(proxy->connections_accepted(), 1);
  // Both sides sent their FIN: the proxy closes the connection.
  EXPECT_TRUE(Eventually([&] { return proxy->open_connections() == 0; }));
}

TEST(FaultProxyTest, DelayAddsLatencyEachWayWithoutSerializingChunks) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client client(proxy->port());
  ASSERT_TRUE(client.RoundTrip("warm"));

  constexpr absl::Duration kDelay = absl::Milliseconds(100);
  proxy->SetDelay(kDelay);
  absl::Time start = absl::Now();
  ASSERT_TRUE(client.RoundTrip("ping"));
  EXPECT_GE(absl::Now() - start, 2 * kDelay);

  // Five chunks 20 ms apart: each is delayed, none waits for the one before
  // it to arrive (that would take 5 round trips, 1 s).
  start = absl::Now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.Send("x"));
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(client.ReadUpTo(5, kArrives).data, "xxxxx");
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, 2 * kDelay + absl::Milliseconds(80));
  EXPECT_LT(elapsed, absl::Milliseconds(700));

  proxy->Heal();
  start = absl::Now();
  ASSERT_TRUE(client.RoundTrip("pong"));
  EXPECT_LT(absl::Now() - start, 2 * kDelay);
}

TEST(FaultProxyTest, CutAllResetsOpenConnectionsAndNewOnesWork) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client first(proxy->port());
  Client second(proxy->port());
  ASSERT_TRUE(first.RoundTrip("one"));
  ASSERT_TRUE(second.RoundTrip("two"));
  EXPECT_EQ(proxy->open_connections(), 2);

  proxy->CutAll();
  EXPECT_EQ(proxy->open_connections(), 0);
  EXPECT_TRUE(first.SeesClose());
  EXPECT_TRUE(second.SeesClose());

  Client third(proxy->port());
  EXPECT_TRUE(third.RoundTrip("three"));
  EXPECT_EQ(proxy->open_connections(), 1);
}

TEST(FaultProxyTest, RefuseNewResetsNewConnectionsOnly) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client before(proxy->port());
  ASSERT_TRUE(before.RoundTrip("before"));

  proxy->SetRefuseNew(true);
  Client refused(proxy->port());
  const Client::Read read = refused.ReadUpTo(1, kArrives);
  EXPECT_EQ(read.error, ECONNRESET)
      << "eof " << read.eof << " timed out " << read.timed_out;
  EXPECT_TRUE(before.RoundTrip("still"));
  EXPECT_EQ(echo.accepted(), 1);

  proxy->SetRefuseNew(false);
  Client after(proxy->port());
  EXPECT_TRUE(after.RoundTrip("after"));
  EXPECT_EQ(echo.accepted(), 2);
  EXPECT_EQ(proxy->connections_accepted(), 3);
}

TEST(FaultProxyTest, BlackHoleSwallowsBothWaysUntilHealed) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client open(proxy->port());
  ASSERT_TRUE(open.RoundTrip("hello"));
  const int64_t received = echo.bytes_received();

  proxy->SetBlackHole(true);
  ASSERT_TRUE(open.Send("lost"));
  Client::Read read = open.ReadUpTo(4, kSilence);
  EXPECT_TRUE(read.timed_out);
  EXPECT_EQ(read.data, "");
  EXPECT_EQ(echo.bytes_received(), received);
  // New connections are swallowed too (they reach the upstream, nothing
  // passes).
  Client during(proxy->port());
  ASSERT_TRUE(during.Send("lost too"));
  EXPECT_TRUE(during.ReadUpTo(8, kSilence).timed_out);
  EXPECT_EQ(echo.bytes_received(), received);
  EXPECT_EQ(proxy->open_connections(), 2);

  proxy->Heal();
  Client after(proxy->port());
  EXPECT_TRUE(after.RoundTrip("back"));
  // The open connection works again; what was swallowed stays lost.
  EXPECT_TRUE(open.RoundTrip("again"));
}

TEST(FaultProxyTest, BlackHoleDropsBytesAlreadyDelayed) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client client(proxy->port());
  ASSERT_TRUE(client.RoundTrip("hello"));
  proxy->SetDelay(absl::Milliseconds(200));
  ASSERT_TRUE(client.Send("in flight"));
  absl::SleepFor(absl::Milliseconds(50));
  proxy->SetBlackHole(true);
  EXPECT_TRUE(client.ReadUpTo(9, kSilence).timed_out);
  EXPECT_EQ(echo.bytes_received(), 5);
  proxy->Heal();
  EXPECT_TRUE(client.RoundTrip("after"));
}

TEST(FaultProxyTest, HalfOpenForwardsToUpstreamButNotBack) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client client(proxy->port());
  ASSERT_TRUE(client.RoundTrip("hello"));

  proxy->SetHalfOpen(true);
  ASSERT_TRUE(client.Send("unanswered"));
  EXPECT_TRUE(Eventually([&] { return echo.bytes_received() == 15; }));
  const Client::Read read = client.ReadUpTo(10, kSilence);
  EXPECT_TRUE(read.timed_out);
  EXPECT_EQ(read.data, "");
  // The upstream's FIN is held back too.
  shutdown(client.fd(), SHUT_WR);
  EXPECT_TRUE(client.ReadUpTo(1, kSilence).timed_out);

  proxy->Heal();
  EXPECT_TRUE(client.SeesClose());
}

TEST(FaultProxyTest, SetUpstreamMovesNewConnectionsOnly) {
  EchoServer first;
  EchoServer second;
  auto proxy = StartProxy(first.address());
  ASSERT_NE(proxy, nullptr);
  Client old_client(proxy->port());
  ASSERT_TRUE(old_client.RoundTrip("old"));

  EXPECT_EQ(proxy->SetUpstream("no port").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(proxy->upstream(), first.address());
  ASSERT_TRUE(proxy->SetUpstream(second.address()).ok());
  EXPECT_EQ(proxy->upstream(), second.address());
  Client new_client(proxy->port());
  ASSERT_TRUE(new_client.RoundTrip("new"));
  EXPECT_EQ(first.accepted(), 1);
  EXPECT_EQ(second.accepted(), 1);
  EXPECT_EQ(second.bytes_received(), 3);

  ASSERT_TRUE(old_client.RoundTrip("still old"));
  EXPECT_EQ(first.bytes_received(), 12);
}

TEST(FaultProxyTest, UnreachableUpstreamResetsTheClient) {
  const int free_port = PickFreePort();
  auto proxy = StartProxy(absl::StrCat("127.0.0.1:", free_port));
  ASSERT_NE(proxy, nullptr);
  Client client(proxy->port());
  EXPECT_TRUE(client.SeesClose());
  EXPECT_TRUE(Eventually([&] { return proxy->open_connections() == 0; }));
}

TEST(FaultProxyTest, DestructorClosesOpenConnectionsPromptly) {
  EchoServer echo;
  auto proxy = StartProxy(echo.address());
  ASSERT_NE(proxy, nullptr);
  Client idle(proxy->port());
  Client busy(proxy->port());
  ASSERT_TRUE(idle.RoundTrip("idle"));
  ASSERT_TRUE(busy.RoundTrip("busy"));
  // Bytes waiting in the proxy for a long delay do not hold it up.
  proxy->SetDelay(absl::Seconds(30));
  ASSERT_TRUE(busy.Send("waiting"));

  const absl::Time start = absl::Now();
  proxy.reset();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_TRUE(idle.SeesClose());
  EXPECT_TRUE(busy.SeesClose());
}

// gRPC over mutual TLS through the proxy: calls pass, a black hole makes them
// miss their deadline, and they pass again once healed.
TEST(FaultProxyGrpcTest, MutualTlsCallsPassUnlessTheLinkIsFaulty) {
  const DevPki& pki = DevPki::Get();
  auto node = InProcessNode::Start(NodeSetup{});
  ASSERT_NE(node, nullptr);
  auto proxy = StartProxy(node->address());
  ASSERT_NE(proxy, nullptr);
  auto health = grpc::health::v1::Health::NewStub(
      MakeChannel(proxy->address(), pki.Office("cusco"), "cusco"));
  const auto check = [&](absl::Duration timeout) {
    grpc::health::v1::HealthCheckResponse response;
    auto context = ContextWithDeadline(timeout);
    context->set_wait_for_ready(true);
    return health->Check(context.get(), grpc::health::v1::HealthCheckRequest(),
                         &response);
  };

  grpc::Status status = check(absl::Seconds(10));
  EXPECT_TRUE(status.ok()) << status.error_message();

  proxy->SetBlackHole(true);
  status = check(absl::Milliseconds(300));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // The TLS stream lost bytes: cut it. A call may still go out on the reset
  // connection before the channel notices (UNAVAILABLE); the next ones
  // reconnect.
  proxy->Heal();
  proxy->CutAll();
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = check(absl::Seconds(10));
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(proxy->connections_accepted(), 2);
}

}  // namespace
}  // namespace ruta::testing
