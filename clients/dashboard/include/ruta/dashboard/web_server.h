// The dashboard's HTTP(S) server: login and logout (sessions, CSRF,
// lock-out), the page's static files and its JSON and CSV endpoints, all
// behind a session. Tables come from a TableSource (the node's Dashboard
// service over mutual TLS in ruta-dashboard; a fake in tests).
#ifndef RUTA_DASHBOARD_WEB_SERVER_H_
#define RUTA_DASHBOARD_WEB_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/v1/dashboard.pb.h"
#include "ruta/web/accounts.h"
#include "ruta/web/login.h"
#include "ruta/web/sessions.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ruta::dashboard {

using web::AccountStore;
using web::SessionStore;

// Where tables come from. Implementations are called from the server's
// worker threads, concurrently; each call must end within a deadline.
class TableSource {
 public:
  virtual ~TableSource() = default;
  // The status carries the gRPC code (same numbering as absl::StatusCode).
  virtual absl::StatusOr<v1::ListTablesResponse> ListTables() = 0;
  virtual absl::StatusOr<v1::GetTableResponse> GetTable(
      const v1::GetTableRequest& request) = 0;
};

// A Spanish sentence for the page explaining a failed call to the node,
// e.g. UNAVAILABLE -> "No se puede contactar al nodo regional...".
std::string NodeErrorMessage(const absl::Status& status);

class WebServer final {
 public:
  struct Options {
    // HTTPS certificate chain and key; both empty = plain HTTP (the caller
    // checked that this is allowed: ValidateConfig).
    std::string tls_cert_file;
    std::string tls_key_file;
    // The folder of index.html, app.js, style.css, chart.umd.js.
    std::string web_root;
    // Not owned; outlive the server.
    AccountStore* accounts = nullptr;
    SessionStore* sessions = nullptr;
    TableSource* tables = nullptr;
    // The current year (default filters); default: from absl::Now.
    std::function<int()> current_year;
  };

  // FAILED_PRECONDITION when the TLS certificate or key cannot be loaded or
  // a web file is missing.
  static absl::StatusOr<std::unique_ptr<WebServer>> Create(Options options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Binds `host:port` (port 0: any); returns the port. UNAVAILABLE when the
  // address cannot be bound.
  absl::StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop(); call after Bind. Blocks.
  void Run();
  // Stops Run (thread-safe, idempotent).
  void Stop();

 private:
  explicit WebServer(Options options);
  void Routes();
  // The request's live session of an active account, if any.
  std::optional<SessionStore::Session> SessionOf(const httplib::Request& req);

  Options options_;
  bool secure_ = false;
  std::unique_ptr<web::Login> login_;  // login, logout, sessions
  std::unique_ptr<httplib::Server> server_;
  std::string index_html_;
};

}  // namespace ruta::dashboard

#endif  // RUTA_DASHBOARD_WEB_SERVER_H_
