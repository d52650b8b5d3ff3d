// The PostgreSQL relay lease (relay_lease.h): a session advisory lock on a
// connection of its own, watched by the lease's thread.
//
// libpq directly rather than libpqxx (the store's client): the thread must
// wait on the connection's socket and a wake-up pipe at once, and send a
// round trip it can abandon at a deadline (PQsendQuery/PQconsumeInput),
// which libpqxx 6.4's blocking calls do not offer.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libpq-fe.h"
#include "ruta/store/relay_lease.h"
#include "spdlog/spdlog.h"

namespace ruta::store {
namespace {

class PostgresRelayLease final : public RelayLease {
 public:
  explicit PostgresRelayLease(PostgresRelayLeaseOptions options, int wake[2])
      : options_(std::move(options)),
        key_(RelayLeaseKey(options_.lease.region)),
        wake_read_(wake[0]),
        wake_write_(wake[1]),
        thread_([this] { Run(); }) {}

  ~PostgresRelayLease() override {
    stopping_.store(true);
    const char byte = 1;
    (void)!write(wake_write_, &byte, 1);
    thread_.join();
    close(wake_read_);
    close(wake_write_);
  }

  bool held() const override { return held_.load(); }

 private:
  // Waits until `fd` (-1: none) is readable, the lease is stopping, or
  // `timeout` passes. Returns whether `fd` is readable.
  bool Wait(int fd, absl::Duration timeout) {
    pollfd fds[2] = {{wake_read_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = fd >= 0 ? 2 : 1;
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    if (poll(fds, n, ms < 0 ? 0 : ms) <= 0) return false;
    return n == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
  }

  void Connect() {
    std::vector<const char*> keys = {"dbname",          "application_name",
                                     "connect_timeout", "keepalives",
                                     "keepalives_idle", "keepalives_interval",
                                     "keepalives_count"};
    std::vector<const char*> values = {options_.conninfo.c_str(),
                                       "ruta-node relay lease",
                                       "5",
                                       "1",
                                       "5",
                                       "2",
                                       "3"};
    if (!options_.password.empty()) {
      keys.push_back("password");
      values.push_back(options_.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
      // The server, too, notices a vanished holder within seconds (a no-op
      // over a Unix socket).
      PGresult* r = PQexec(conn_,
                           "SET tcp_keepalives_idle = 5; "
                           "SET tcp_keepalives_interval = 2; "
                           "SET tcp_keepalives_count = 3");
      PQclear(r);
      if (PQstatus(conn_) == CONNECTION_OK) {
        if (!connected_logged_) {
          spdlog::info("relay lease: connected; trying to take the lease");
        }
        connected_logged_ = true;
        return;
      }
    }
    if (connected_logged_ || !failure_logged_) {
      // libpq's message names host and database, never the password.
      spdlog::warn(
          "relay lease: cannot connect to the database ({}); "
          "retrying every {} ms",
          conn_ != nullptr ? std::string(PQerrorMessage(conn_))
                           : std::string("out of memory"),
          absl::ToInt64Milliseconds(options_.lease.poll_interval));
    }
    failure_logged_ = true;
    connected_logged_ = false;
    Disconnect();
  }

  void Disconnect() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  // pg_try_advisory_lock on the lease connection: true when taken.
  bool TryTake() {
    const std::string sql = absl::StrCat("SELECT pg_try_advisory_lock(",
                                         kRelayLeaseClass, ", ", key_, ")");
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool taken = PQresultStatus(r) == PGRES_TUPLES_OK &&
                       PQntuples(r) == 1 &&
                       std::string(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
    if (PQstatus(conn_) != CONNECTION_OK) Disconnect();
    return taken;
  }

  // A round trip on the holder's connection within check_timeout.
  bool StillConnected() {
    if (PQsendQuery(conn_, "SELECT 1") == 0) return false;
    const absl::Time deadline = absl::Now() + options_.lease.check_timeout;
    while (true) {
      if (PQconsumeInput(conn_) == 0) return false;
      if (!PQisBusy(conn_)) break;
      if (absl::Now() >= deadline || stopping_.load()) return false;
      Wait(PQsocket(conn_), deadline - absl::Now());
    }
    bool ok = true;
    while (PGresult* r = PQgetResult(conn_)) {
      if (PQresultStatus(r) != PGRES_TUPLES_OK) ok = false;
      PQclear(r);
    }
    return ok && PQstatus(conn_) == CONNECTION_OK;
  }

  void Lose(const char* why) {
    held_.store(false);
    spdlog::warn("relay lease: lost ({}); this replica stops relaying", why);
    // Relaying stops before the lock can be released to another replica.
    if (options_.lease.on_lost) options_.lease.on_lost();
    Disconnect();
  }

  void Run() {
    const absl::Duration poll = options_.lease.poll_interval;
    while (!stopping_.load()) {
      if (!held_.load()) {
        if (conn_ == nullptr) Connect();
        if (conn_ != nullptr && TryTake()) {
          spdlog::info("relay lease: taken; this replica relays the outbox");
          held_.store(true);
          if (options_.lease.on_gained) options_.lease.on_gained();
          continue;
        }
        Wait(-1, poll);
        continue;
      }
      // Held: wake when the connection has something to say (an error or
      // its end) or every poll interval for a round trip.
      const absl::Time next_check = absl::Now() + poll;
      bool readable = false;
      while (!stopping_.load() && absl::Now() < next_check && !readable) {
        readable = Wait(PQsocket(conn_), next_check - absl::Now());
      }
      if (stopping_.load()) break;
      if (readable &&
          (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK)) {
        Lose("its database connection broke");
        continue;
      }
      // Discard anything unsolicited (notices are handled by libpq).
      if (!StillConnected()) {
        // A stop interrupts the round trip: that is not a loss.
        if (stopping_.load()) break;
        Lose("its database connection does not answer");
      }
    }
    held_.store(false);
    Disconnect();  // releases the lock if held
  }

  const PostgresRelayLeaseOptions options_;
  const int32_t key_;
  const int wake_read_;
  const int wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> held_{false};
  // Only the thread touches these.
  PGconn* conn_ = nullptr;
  bool connected_logged_ = false;
  bool failure_logged_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

absl::StatusOr<std::unique_ptr<RelayLease>> OpenPostgresRelayLease(
    PostgresRelayLeaseOptions options) {
  if (options.lease.region.empty()) {
    return absl::InvalidArgumentError("relay lease: region is required");
  }
  if (options.lease.poll_interval <= absl::ZeroDuration() ||
      options.lease.check_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "relay lease: poll_interval and check_timeout must be positive");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &error);
  if (parsed == nullptr) {
    // libpq's reason quotes the string, which may hold a password.
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "relay lease: not a valid PostgreSQL connection string");
  }
  PQconninfoFree(parsed);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError("relay lease: cannot create a pipe");
  }
  return std::unique_ptr<RelayLease>(
      new PostgresRelayLease(std::move(options), wake));
}

}  // namespace ruta::store
