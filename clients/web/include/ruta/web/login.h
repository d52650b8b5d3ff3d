// Login and logout of a web client (ruta-dashboard, ruta-console), shared
// so that both behave alike: a login form protected by a double-submit CSRF
// token, the same refusal for every failure (accounts.h), a session cookie
// `Secure` (over HTTPS), `HttpOnly`, `SameSite=Strict`, and logout as a POST
// carrying the session's CSRF token.
#ifndef RUTA_WEB_LOGIN_H_
#define RUTA_WEB_LOGIN_H_

#include <functional>
#include <optional>
#include <string>

#include "ruta/web/accounts.h"
#include "ruta/web/sessions.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ruta::web {

class Login final {
 public:
  struct Options {
    // Not owned; outlive the Login.
    AccountStore* accounts = nullptr;
    SessionStore* sessions = nullptr;
    // Cookie names: the session's and the login form's CSRF token's.
    std::string session_cookie;
    std::string login_csrf_cookie;
    // HTTPS: cookies get `Secure`.
    bool secure = false;
    // The login page with `csrf` in its form and `message` shown (as an
    // error when `error`).
    std::function<std::string(const std::string& csrf,
                              const std::string& message, bool error)>
        page;
    // Names the client in log lines ("dashboard", "console").
    std::string log_name;
  };

  explicit Login(Options options) : options_(std::move(options)) {}
  Login(const Login&) = delete;
  Login& operator=(const Login&) = delete;

  // GET /login (?salida: "logged out", ?expirada: "session expired"),
  // POST /login (303 to / with the session cookie; 401 refused; 403 without
  // the form's CSRF token) and POST /logout (303 to /login?salida=1; 403
  // without the session's CSRF token). `this` must outlive `server`.
  void AddRoutes(httplib::Server& server);

  // The request's live session of an active account; nullopt otherwise (a
  // disabled account's sessions all end here).
  std::optional<SessionStore::Session> SessionOf(const httplib::Request& req);
  // Whether the request carries a session cookie at all (expired or not).
  bool HasSessionCookie(const httplib::Request& req) const;
  // Answers with the login page and a fresh login CSRF token.
  void SendPage(httplib::Response& res, int status, const std::string& message,
                bool error) const;

 private:
  const Options options_;
};

}  // namespace ruta::web

#endif  // RUTA_WEB_LOGIN_H_
