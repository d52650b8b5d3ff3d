#include "ruta/dashboard/web_server.h"

#include <httplib.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ruta/dashboard/table_view.h"
#include "ruta/web/http.h"
#include "ruta/web/login.h"
#include "spdlog/spdlog.h"

namespace ruta::dashboard {
namespace {

using web::Cookie;
using web::HtmlEscape;
using web::JsonString;
using web::NoStore;
using web::ParseForm;

constexpr char kSessionCookie[] = "ruta_session";
constexpr char kLoginCsrfCookie[] = "ruta_login_csrf";
void SendJsonError(httplib::Response& res, int status,
                   const std::string& message) {
  res.status = status;
  NoStore(res);
  res.set_content(absl::StrCat("{\"error\":", JsonString(message), "}"),
                  "application/json; charset=utf-8");
}

std::string LoginPage(const std::string& csrf, const std::string& message,
                      bool error) {
  std::string notice;
  if (!message.empty()) {
    notice = absl::StrCat("<p class=\"", error ? "error" : "notice",
                          "\" role=\"alert\" id=\"login-message\">",
                          HtmlEscape(message), "</p>");
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>Ingreso — Tablero de la red de "
      "alcaldes</title><link rel=\"stylesheet\" href=\"/style.css\"></head>"
      "<body class=\"login\"><main><h1>Tablero de la red de alcaldes</h1>"
      "<p>Cifras agregadas de casos de niñas, niños y adolescentes víctimas "
      "de trata (Cusco y Madre de Dios).</p>",
      notice,
      "<form method=\"post\" action=\"/login\" id=\"login-form\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"",
      HtmlEscape(csrf),
      "\"><label for=\"user\">Usuario</label>"
      "<input id=\"user\" name=\"user\" autocomplete=\"username\" required>"
      "<label for=\"password\">Contraseña</label>"
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required>"
      "<button type=\"submit\">Ingresar</button></form>"
      "<p class=\"hint\">Después de 5 intentos fallidos la cuenta se bloquea "
      "durante 15 minutos.</p></main></body></html>\n");
}

}  // namespace

std::string NodeErrorMessage(const absl::Status& status) {
  const std::string detail(status.message());
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return "No se puede contactar al nodo regional: puede estar apagado o "
             "sin conexión. Intente de nuevo en unos minutos.";
    case absl::StatusCode::kDeadlineExceeded:
      return "El nodo regional no respondió a tiempo. Intente de nuevo en "
             "unos minutos.";
    case absl::StatusCode::kUnimplemented:
      return "El nodo regional todavía no ofrece las tablas del tablero "
             "(función no implementada en el nodo).";
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return "El nodo regional rechazó el certificado del tablero: el "
             "operador debe revisar los certificados de ruta-dashboard.";
    case absl::StatusCode::kNotFound:
      return "El nodo regional no tiene esa tabla.";
    case absl::StatusCode::kInvalidArgument:
      return absl::StrCat(
          "El nodo regional rechazó los filtros de la "
          "consulta (",
          detail, ").");
    case absl::StatusCode::kFailedPrecondition:
      return absl::StrCat(
          "El nodo regional no puede publicar esta tabla "
          "ahora (",
          detail, ").");
    default:
      return absl::StrCat("Error del nodo regional (",
                          absl::StatusCodeToString(status.code()),
                          "). Si persiste, avise al operador.");
  }
}

WebServer::WebServer(Options options) : options_(std::move(options)) {}

WebServer::~WebServer() { Stop(); }

absl::StatusOr<std::unique_ptr<WebServer>> WebServer::Create(Options options) {
  if (options.accounts == nullptr || options.sessions == nullptr ||
      options.tables == nullptr) {
    return absl::InvalidArgumentError(
        "WebServer needs accounts, sessions and tables");
  }
  std::unique_ptr<WebServer> web(new WebServer(std::move(options)));
  Options& o = web->options_;
  web->secure_ = !o.tls_cert_file.empty();
  web::Login::Options login;
  login.accounts = o.accounts;
  login.sessions = o.sessions;
  login.session_cookie = kSessionCookie;
  login.login_csrf_cookie = kLoginCsrfCookie;
  login.secure = web->secure_;
  login.page = &LoginPage;
  login.log_name = "dashboard";
  web->login_ = std::make_unique<web::Login>(std::move(login));
  web::WebServerOptions server;
  server.tls_cert_file = o.tls_cert_file;
  server.tls_key_file = o.tls_key_file;
  server.web_root = o.web_root;
  server.static_files = {"app.js", "style.css", "chart.umd.js"};
  server.io_timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<httplib::Server>> made =
      web::MakeWebServer(server);
  if (!made.ok()) return made.status();
  web->server_ = *std::move(made);
  absl::StatusOr<std::string> index =
      web::ReadWebFile(o.web_root + "/index.html");
  if (!index.ok()) return index.status();
  web->index_html_ = *std::move(index);
  if (!o.current_year) {
    o.current_year = [] {
      return static_cast<int>(
          absl::ToCivilYear(absl::Now(), absl::UTCTimeZone()).year());
    };
  }
  web->Routes();
  return web;
}

void WebServer::Routes() {
  httplib::Server& s = *server_;

  login_->AddRoutes(s);

  s.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<SessionStore::Session> session = SessionOf(req);
    NoStore(res);
    if (!session) {
      res.set_redirect("/login", 303);
      return;
    }
    res.set_content(
        absl::StrReplaceAll(index_html_,
                            {{"{{CSRF}}", HtmlEscape(session->csrf_token)},
                             {"{{USER}}", HtmlEscape(session->user)}}),
        "text/html; charset=utf-8");
  });

  s.Get("/api/tables", [this](const httplib::Request& req,
                              httplib::Response& res) {
    if (!SessionOf(req)) {
      SendJsonError(res, 401, "Sesión no válida o expirada.");
      return;
    }
    absl::StatusOr<v1::ListTablesResponse> list = options_.tables->ListTables();
    if (!list.ok()) {
      SendJsonError(res, 502, NodeErrorMessage(list.status()));
      return;
    }
    std::string out = "{\"tables\":[";
    for (int i = 0; i < list->tables_size(); ++i) {
      const v1::TableInfo& t = list->tables(i);
      absl::StrAppend(&out, i > 0 ? "," : "",
                      "{\"name\":", JsonString(t.name()),
                      ",\"title\":", JsonString(t.title()), "}");
    }
    out += "]}";
    NoStore(res);
    res.set_content(out, "application/json; charset=utf-8");
  });

  s.Get(R"(/api/table/([a-z0-9_]{1,64})(\.csv)?)",
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!SessionOf(req)) {
            SendJsonError(res, 401, "Sesión no válida o expirada.");
            return;
          }
          const std::string name = req.matches[1];
          const bool csv = req.matches[2].matched;
          absl::StatusOr<v1::GetTableRequest> request = MakeTableRequest(
              name, req.get_param_value("regions"), req.get_param_value("from"),
              req.get_param_value("to"), options_.current_year());
          if (!request.ok()) {
            SendJsonError(res, 400, std::string(request.status().message()));
            return;
          }
          absl::StatusOr<v1::GetTableResponse> table =
              options_.tables->GetTable(*request);
          if (!table.ok()) {
            SendJsonError(res, 502, NodeErrorMessage(table.status()));
            return;
          }
          const TableView view = MakeTableView(*table);
          NoStore(res);
          if (csv) {
            res.set_header(
                "Content-Disposition",
                absl::StrCat("attachment; filename=\"", name, ".csv\""));
            res.set_content(RenderCsv(view), "text/csv; charset=utf-8");
          } else {
            res.set_content(RenderJson(view),
                            "application/json; charset=utf-8");
          }
        });
}

std::optional<SessionStore::Session> WebServer::SessionOf(
    const httplib::Request& req) {
  return login_->SessionOf(req);
}

absl::StatusOr<int> WebServer::Bind(const std::string& host, int port) {
  return web::BindServer(*server_, host, port);
}

void WebServer::Run() { server_->listen_after_bind(); }

void WebServer::Stop() {
  if (server_) server_->stop();
}

}  // namespace ruta::dashboard
