// The dashboard's HTTP server (plain HTTP on 127.0.0.1, as in dev mode)
// against a fake table source: sessions, CSRF, lock-out message, headers,
// endpoints and error mapping, through a real HTTP client.
#include "ruta/dashboard/web_server.h"

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"

namespace ruta::dashboard {
namespace {

using web::AddAccount;
using web::DisableAccount;
using web::NewToken;

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "una clave bastante larga";

class FakeTables final : public TableSource {
 public:
  absl::Status error;  // returned by every call when not OK
  v1::GetTableRequest last_request;

  absl::StatusOr<v1::ListTablesResponse> ListTables() override {
    if (!error.ok()) return error;
    v1::ListTablesResponse r;
    v1::TableInfo* t = r.add_tables();
    t->set_name("cases_by_stage");
    t->set_title("Casos por etapa");
    return r;
  }
  absl::StatusOr<v1::GetTableResponse> GetTable(
      const v1::GetTableRequest& request) override {
    last_request = request;
    if (!error.ok()) return error;
    v1::GetTableResponse r;
    r.set_table(request.table());
    r.add_dimensions("stage");
    r.add_columns("cases");
    r.set_threshold(10);
    v1::Row* row = r.add_rows();
    row->add_labels("RESIDENTIAL_CARE");
    row->add_cells()->set_count(12);
    row = r.add_rows();
    row->add_labels("IMMEDIATE_PROTECTION");
    row->add_cells()->set_suppressed(true);
    return r;
  }
};

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::MakeTempDir("dashboard-web");
    accounts_file_ = dir + "/accounts";
    ASSERT_TRUE(AddAccount(accounts_file_, "ana", kPassword).ok());
    ASSERT_TRUE(AddAccount(accounts_file_, "bea", kPassword).ok());
    const std::string web = dir + "/web";
    std::filesystem::create_directories(web);
    for (const char* f : {"index.html", "app.js", "style.css"}) {
      std::filesystem::copy_file(std::string(RUTA_DASHBOARD_WEB_DIR) + "/" + f,
                                 web + "/" + f);
    }
    std::ofstream(web + "/chart.umd.js") << "/* chart */";
    auto accounts = AccountStore::Open(accounts_file_, {});
    ASSERT_TRUE(accounts.ok()) << accounts.status();
    accounts_ = *std::move(accounts);
    sessions_ = std::make_unique<SessionStore>(SessionStore::Options{});
    WebServer::Options options;
    options.web_root = web;
    options.accounts = accounts_.get();
    options.sessions = sessions_.get();
    options.tables = &tables_;
    options.current_year = [] { return 2026; };
    auto server = WebServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    for (int i = 0; i < 100 && !client_->Get("/style.css"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  // The value of cookie `name` set by `res` ("" if none).
  static std::string SetCookie(const httplib::Result& res,
                               const std::string& name) {
    for (size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
      std::string c = res->get_header_value("Set-Cookie", i);
      if (absl::StartsWith(c, name + "=")) {
        return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
      }
    }
    return "";
  }
  static std::string Between(const std::string& text, const std::string& a,
                             const std::string& b) {
    size_t start = text.find(a);
    if (start == std::string::npos) return "";
    start += a.size();
    return text.substr(start, text.find(b, start) - start);
  }

  // Logs in; returns the response of POST /login.
  httplib::Result Login(const std::string& user, const std::string& password,
                        bool with_csrf = true) {
    httplib::Result page = client_->Get("/login");
    EXPECT_TRUE(page);
    const std::string cookie = SetCookie(page, "ruta_login_csrf");
    const std::string field =
        Between(page->body, "name=\"csrf\" value=\"", "\"");
    EXPECT_EQ(cookie, field);
    httplib::Headers headers = {
        {"Cookie", "ruta_login_csrf=" + (with_csrf ? cookie : "forged")}};
    httplib::Params form = {
        {"csrf", field}, {"user", user}, {"password", password}};
    return client_->Post("/login", headers, form);
  }
  // Logs in and returns the session cookie header.
  httplib::Headers Session(const std::string& user = "ana") {
    httplib::Result res = Login(user, kPassword);
    EXPECT_EQ(res->status, 303);
    return {{"Cookie", "ruta_session=" + SetCookie(res, "ruta_session")}};
  }

  std::string accounts_file_;
  FakeTables tables_;
  std::unique_ptr<AccountStore> accounts_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<WebServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WebServerTest, WithoutASessionThePageRedirectsAndTheApiRefuses) {
  httplib::Result res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"), "/login");
  for (const char* path : {"/api/tables", "/api/table/cases_by_stage",
                           "/api/table/cases_by_stage.csv"}) {
    res = client_->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_THAT(res->body, Not(HasSubstr("12"))) << path;
  }
  httplib::Headers forged = {{"Cookie", "ruta_session=" + NewToken()}};
  EXPECT_EQ(client_->Get("/api/tables", forged)->status, 401);
}

TEST_F(WebServerTest, LoginPageIsSpanishWithSecurityHeaders) {
  httplib::Result res = client_->Get("/login");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("Contraseña"));
  EXPECT_THAT(res->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'self'"));
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  // Plain HTTP (dev mode): no Secure attribute, which HTTPS sets.
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));
}

TEST_F(WebServerTest, WrongPasswordAndUnknownUserGetTheSameRefusal) {
  httplib::Result wrong = Login("ana", "not the password");
  httplib::Result unknown = Login("nobody", kPassword);
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_THAT(wrong->body, HasSubstr("Usuario o contraseña incorrectos."));
  EXPECT_EQ(Between(wrong->body, "id=\"login-message\">", "<"),
            Between(unknown->body, "id=\"login-message\">", "<"));
  EXPECT_EQ(SetCookie(wrong, "ruta_session"), "");
}

TEST_F(WebServerTest, LoginWithoutTheCsrfTokenIsRefused) {
  httplib::Result res = Login("ana", kPassword, /*with_csrf=*/false);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(SetCookie(res, "ruta_session"), "");
}

TEST_F(WebServerTest, FiveFailuresLockOutEvenTheRightPassword) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Login("ana", "nope nope")->status, 401);
  EXPECT_EQ(Login("ana", kPassword)->status, 401);
  EXPECT_EQ(Login("bea", kPassword)->status, 303);
}

TEST_F(WebServerTest, SessionServesThePageTablesAndCsv) {
  httplib::Result login = Login("ana", kPassword);
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 303);
  EXPECT_EQ(login->get_header_value("Location"), "/");
  const std::string token = SetCookie(login, "ruta_session");
  EXPECT_EQ(token.size(), 43u);
  httplib::Headers session = {{"Cookie", "ruta_session=" + token}};

  httplib::Result page = client_->Get("/", session);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("Tablero de la red de alcaldes"));
  EXPECT_THAT(page->body, Not(HasSubstr("{{CSRF}}")));

  httplib::Result list = client_->Get("/api/tables", session);
  EXPECT_EQ(list->status, 200);
  EXPECT_THAT(list->body, HasSubstr("Casos por etapa"));
  EXPECT_EQ(list->get_header_value("Cache-Control"), "no-store");

  httplib::Result table = client_->Get(
      "/api/table/cases_by_stage?regions=cusco&from=2026Q2&to=2026Q3", session);
  EXPECT_EQ(table->status, 200);
  EXPECT_THAT(table->body, HasSubstr("\"Acogimiento residencial\",\"12\""));
  EXPECT_THAT(table->body, HasSubstr("\\u003c10"));
  EXPECT_EQ(tables_.last_request.regions_size(), 1);
  EXPECT_EQ(tables_.last_request.from_quarter().quarter(), 2);
  EXPECT_EQ(tables_.last_request.to_quarter().quarter(), 3);

  httplib::Result csv =
      client_->Get("/api/table/cases_by_stage.csv?regions=cusco", session);
  EXPECT_EQ(csv->status, 200);
  EXPECT_THAT(csv->get_header_value("Content-Type"), HasSubstr("text/csv"));
  EXPECT_THAT(csv->get_header_value("Content-Disposition"),
              HasSubstr("cases_by_stage.csv"));
  EXPECT_EQ(csv->body,
            "Etapa,Casos\r\nAcogimiento residencial,12\r\n"
            "Protección inmediata,<10\r\n");

  EXPECT_EQ(
      client_->Get("/api/table/cases_by_stage?from=2026Q9", session)->status,
      400);
}

TEST_F(WebServerTest, LogoutNeedsTheSessionsCsrfTokenAndEndsIt) {
  httplib::Headers session = Session();
  httplib::Result page = client_->Get("/", session);
  const std::string csrf = Between(page->body, "name=\"csrf\" value=\"", "\"");
  ASSERT_EQ(csrf.size(), 43u);
  EXPECT_EQ(
      client_->Post("/logout", session, httplib::Params{{"csrf", "x"}})->status,
      403);
  EXPECT_EQ(client_->Get("/api/tables", session)->status, 200);
  httplib::Result out =
      client_->Post("/logout", session, httplib::Params{{"csrf", csrf}});
  EXPECT_EQ(out->status, 303);
  EXPECT_EQ(client_->Get("/api/tables", session)->status, 401);
}

TEST_F(WebServerTest, DisablingAnAccountEndsItsSessions) {
  httplib::Headers session = Session("bea");
  EXPECT_EQ(client_->Get("/api/tables", session)->status, 200);
  ASSERT_TRUE(DisableAccount(accounts_file_, "bea").ok());
  EXPECT_EQ(client_->Get("/api/tables", session)->status, 401);
  EXPECT_EQ(Login("bea", kPassword)->status, 401);
}

TEST_F(WebServerTest, NodeErrorsBecomeSpanishMessages) {
  httplib::Headers session = Session();
  tables_.error = absl::UnavailableError("connection refused");
  httplib::Result res = client_->Get("/api/tables", session);
  EXPECT_EQ(res->status, 502);
  EXPECT_THAT(res->body, HasSubstr("No se puede contactar al nodo regional"));
  tables_.error = absl::UnimplementedError("not yet");
  res = client_->Get("/api/table/cases_by_stage", session);
  EXPECT_EQ(res->status, 502);
  EXPECT_THAT(res->body, HasSubstr("no implementada"));
  EXPECT_THAT(NodeErrorMessage(absl::DeadlineExceededError("")),
              HasSubstr("no respondió a tiempo"));
  EXPECT_THAT(NodeErrorMessage(absl::PermissionDeniedError("")),
              HasSubstr("certificado"));
}

}  // namespace
}  // namespace ruta::dashboard
