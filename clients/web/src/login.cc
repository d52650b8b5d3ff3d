#include "ruta/web/login.h"

#include <httplib.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "ruta/web/http.h"
#include "spdlog/spdlog.h"

namespace ruta::web {

void Login::SendPage(httplib::Response& res, int status,
                     const std::string& message, bool error) const {
  // Double-submit token of the login form (no session exists yet).
  const std::string csrf = NewToken();
  res.status = status;
  NoStore(res);
  res.set_header("Set-Cookie", absl::StrCat(options_.login_csrf_cookie, "=",
                                            csrf, "; Path=/login; Max-Age=3600",
                                            CookieAttributes(options_.secure)));
  res.set_content(options_.page(csrf, message, error),
                  "text/html; charset=utf-8");
}

std::optional<SessionStore::Session> Login::SessionOf(
    const httplib::Request& req) {
  std::optional<SessionStore::Session> session =
      options_.sessions->Find(Cookie(req, options_.session_cookie));
  if (session && !options_.accounts->IsActive(session->user)) {
    options_.sessions->EndAllOf(session->user);
    return std::nullopt;
  }
  return session;
}

bool Login::HasSessionCookie(const httplib::Request& req) const {
  return !Cookie(req, options_.session_cookie).empty();
}

void Login::AddRoutes(httplib::Server& server) {
  server.Get("/login",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::string message;
               if (req.has_param("salida")) message = "Sesión cerrada.";
               if (req.has_param("expirada")) {
                 message = "Su sesión expiró o se cerró. Ingrese de nuevo.";
               }
               SendPage(res, 200, message, false);
             });

  server.Post("/login", [this](const httplib::Request& req,
                               httplib::Response& res) {
    std::map<std::string, std::string> form = ParseForm(req.body);
    if (!TokensEqual(Cookie(req, options_.login_csrf_cookie), form["csrf"])) {
      SendPage(res, 403,
               "El formulario expiró o no es válido. Vuelva a intentarlo.",
               true);
      return;
    }
    const std::string user = form["user"];
    if (options_.accounts->Login(user, form["password"]) !=
        AccountStore::LoginResult::kOk) {
      // Only a well-formed name reaches the log (no line injected by what
      // was typed).
      if (IsValidUserName(user) && options_.accounts->IsLocked(user)) {
        spdlog::warn("{} login refused; account {} is locked",
                     options_.log_name, user);
      } else {
        spdlog::info("{} login refused", options_.log_name);
      }
      SendPage(res, 401, "Usuario o contraseña incorrectos.", true);
      return;
    }
    SessionStore::Created created = options_.sessions->Create(user);
    spdlog::info("{} login of {}", options_.log_name, user);
    NoStore(res);
    res.set_header("Set-Cookie",
                   absl::StrCat(options_.session_cookie, "=", created.token,
                                "; Path=/", CookieAttributes(options_.secure)));
    res.set_header(
        "Set-Cookie",
        absl::StrCat(options_.login_csrf_cookie, "=; Path=/login; Max-Age=0",
                     CookieAttributes(options_.secure)));
    res.set_redirect("/", 303);
  });

  server.Post("/logout", [this](const httplib::Request& req,
                                httplib::Response& res) {
    const std::string token = Cookie(req, options_.session_cookie);
    std::optional<SessionStore::Session> session =
        options_.sessions->Find(token);
    std::map<std::string, std::string> form = ParseForm(req.body);
    NoStore(res);
    if (!session || !TokensEqual(session->csrf_token, form["csrf"])) {
      res.status = 403;
      res.set_content("Solicitud rechazada (token CSRF inválido).",
                      "text/plain; charset=utf-8");
      return;
    }
    options_.sessions->End(token);
    res.set_header("Set-Cookie",
                   absl::StrCat(options_.session_cookie, "=; Path=/; Max-Age=0",
                                CookieAttributes(options_.secure)));
    res.set_redirect("/login?salida=1", 303);
  });
}

}  // namespace ruta::web
