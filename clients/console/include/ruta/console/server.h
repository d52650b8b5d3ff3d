// ruta-console's HTTP(S) server: clerks' login and logout (sessions, CSRF,
// lock-out), the pages (pages.h) and their forms, each form turned into one
// CaseOffice call made on behalf of the logged-in clerk.
//
// Every POST needs a live session and the session's CSRF token; every
// mutating form carries a request_id (forms.h) so that a double click or a
// resend acts once. A form posted by console.js (Accept: application/json)
// gets JSON back: {"go": URL} on success, {"error": sentence, ...} with an
// HTTP status otherwise (400 a field to fix, 401 session expired, 403 CSRF,
// 404 not found, 409 state does not allow it, 503 node unreachable); a form
// posted without the script gets a redirect or an error page.
//
// Nothing typed in the intake form is logged, stored or sent back: the
// identifiers go to the node (FindPerson, then OpenCase) and are wiped.
#ifndef RUTA_CONSOLE_SERVER_H_
#define RUTA_CONSOLE_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/console/config.h"
#include "ruta/console/forms.h"
#include "ruta/console/office_backend.h"
#include "ruta/console/pages.h"
#include "ruta/web/accounts.h"
#include "ruta/web/login.h"
#include "ruta/web/sessions.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ruta::console {

class ConsoleServer final {
 public:
  struct Options {
    // HTTPS certificate chain and key; both empty = plain HTTP (the caller
    // checked that this is allowed: CompleteAndValidateConfig).
    std::string tls_cert_file;
    std::string tls_key_file;
    // The folder of console.js and style.css.
    std::string web_root;
    // The office's region, its department and the transfer targets.
    std::string region;
    std::string department;
    std::map<std::string, std::string> peer_departments;
    // Work queue thresholds (ConsoleConfig).
    int waiting_days = 7;
    int follow_up_days = 90;
    // Not owned; outlive the server.
    web::AccountStore* accounts = nullptr;
    web::SessionStore* sessions = nullptr;
    OfficeBackend* backend = nullptr;
    // The clock (tests inject one); default absl::Now.
    std::function<absl::Time()> clock;
  };

  // INVALID_ARGUMENT without accounts, sessions or backend;
  // FAILED_PRECONDITION when the TLS certificate or key cannot be loaded or
  // a web file is missing.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Create(Options options);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // Binds `host:port` (port 0: any); returns the port. UNAVAILABLE when the
  // address cannot be bound.
  absl::StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop(); call after Bind. Blocks.
  void Run();
  // Stops Run (thread-safe, idempotent).
  void Stop();

  // What a form handler answers.
  struct Outcome {
    int http_status = 200;
    std::string go;     // where the browser goes on success
    std::string error;  // Spanish sentence otherwise
    // Intake only: the child already has an open case here; the clerk may
    // confirm a new one (earlier cases listed in `known`).
    bool confirm = false;
    std::vector<v1::Case> known;
  };

 private:
  explicit ConsoleServer(Options options);
  void Routes();
  struct Clerk {
    std::string user;
    std::string csrf_token;
  };
  using FormHandler = std::function<Outcome(const Clerk&, const Form&,
                                            const httplib::Request&)>;
  // Registers a POST route: session and CSRF checks, then `handler`, then
  // the JSON or redirect answer.
  void PostForm(const std::string& pattern, const std::string& back,
                FormHandler handler);
  // A GET page behind a session; `render` returns the HTML or an error
  // (a node failure shown as a page).
  void GetPage(const std::string& pattern,
               std::function<absl::StatusOr<std::string>(
                   const Clerk&, const httplib::Request&)>
                   render);
  std::optional<Clerk> ClerkOf(const httplib::Request& req);
  PageContext Context(const Clerk& clerk) const;
  absl::Time Now() const;
  absl::CivilDay Today() const;

  Outcome Intake(const Clerk& clerk, const Form& form);
  absl::StatusOr<std::string> RenderCase(const Clerk& clerk,
                                         const std::string& case_id,
                                         const httplib::Request& req);

  Options options_;
  bool secure_ = false;
  // Login, logout and sessions; cookies "ruta_console_<region>" and
  // "ruta_console_<region>_login".
  std::unique_ptr<web::Login> login_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_SERVER_H_
