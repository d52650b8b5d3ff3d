// ruta-console's HTTP server (plain HTTP on 127.0.0.1, as in development)
// against a fake OfficeBackend, through a real HTTP client, with an injected
// clock: login and lock-out, sessions and their expiry, CSRF, each form
// turned into the right CaseOffice call on behalf of the clerk, node errors
// as Spanish sentences and HTTP statuses, and the intake form (FindPerson
// before OpenCase, duplicates, nothing typed echoed or logged).
#include "ruta/console/server.h"

#include <httplib.h>

#include <atomic>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_office_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/log_capture.h"
#include "ruta/testing/pki.h"
#include "spdlog/spdlog.h"

namespace ruta::console {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kPassword[] = "una clave bastante larga";
constexpr char kHere[] = "madre-de-dios";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";
constexpr char kNewCase[] = "cs_nuevonuevonuevonuevo";
constexpr char kEarlierHere[] = "cs_anteriorantesaquiaaa";
constexpr char kEarlierThere[] = "cs_anteriorcuscocuscoaa";
constexpr char kTransfer[] = "tr_abcdefghijklmnopqrst";
constexpr char kService[] = "sv_abcdefghijklmnopqrst";
constexpr char kRid[] = "0a0d17a0-0000-4000-8000-000000000001";
constexpr char kUnreachable[] = "No se puede contactar al nodo regional";

// Canary identifiers typed in the intake form: none may come back in an
// answer, a URL or a log line.
constexpr char kDni[] = "40417333";
constexpr char kCnv[] = "7310429981";
constexpr char kGiven[] = "Yesenia Canario";
constexpr char kSurnames[] = "Quispe Centinela";
constexpr char kBirth[] = "2011-07-23";
const std::vector<std::string> kCanaries = {
    kDni,         kCnv,        kGiven,      kSurnames, kBirth,
    "Yesenia",    "Canario",   "Centinela", "2011-07", "Yesenia+Canario",
    "Canario%20", "23/07/2011"};

v1::Case MakeCase(const std::string& id, const std::string& owner,
                  v1::Stage stage) {
  v1::Case c;
  c.set_case_id(id);
  c.set_owner_region(owner);
  c.set_stage(stage);
  c.set_kind(v1::CASE_KIND_VICTIM);
  c.set_version(3);
  c.mutable_profile()->set_age_band(v1::AGE_BAND_12_14);
  c.mutable_profile()->set_origin_province("1701");
  return c;
}

v1::Transfer MakeTransfer() {
  v1::Transfer t;
  t.set_transfer_id(kTransfer);
  t.set_case_id(kCase);
  t.set_from_region("cusco");
  t.set_to_region(kHere);
  t.set_state(v1::TRANSFER_STATE_REQUESTED);
  return t;
}

httplib::Params IntakeFields() {
  return {{"dni", kDni},
          {"cnv", kCnv},
          {"nombres", kGiven},
          {"apellidos", kSurnames},
          {"nacimiento", kBirth},
          {"tipo", "CASE_KIND_VICTIM"},
          {"etapa", "STAGE_IDENTIFIED"},
          {"edad", "AGE_BAND_12_14"},
          {"sexo", "SEX_FEMALE"},
          {"provincia", "1701"},
          {"forma", "EXPLOITATION_FORM_LABOUR"},
          {"lugar", "SETTING_MINING_CAMP"},
          {"captacion", "RECRUITMENT_MEANS_FALSE_JOB_OFFER"},
          {"mes", "2026-11"},
          {"base", "LEGAL_BASIS_UPE_PROTECTIVE_MEASURE"},
          {"request_id", kRid}};
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Every line the server logs, at every level, is kept.
    testing::LogCapture::Get();
    spdlog::set_level(spdlog::level::trace);
  }

  void SetUp() override {
    now_nanos_ = absl::ToUnixNanos(absl::FromCivil(
        absl::CivilSecond(2026, 11, 29, 17, 0, 0), absl::UTCTimeZone()));
    const std::string dir = testing::MakeTempDir("console-server");
    accounts_file_ = dir + "/accounts";
    ASSERT_TRUE(web::AddAccount(accounts_file_, "ana", kPassword).ok());
    ASSERT_TRUE(web::AddAccount(accounts_file_, "bea", kPassword).ok());
    auto clock = [this] { return Now(); };
    web::AccountStore::Options account_options;
    account_options.clock = clock;
    auto accounts = web::AccountStore::Open(accounts_file_, account_options);
    ASSERT_TRUE(accounts.ok()) << accounts.status();
    accounts_ = *std::move(accounts);
    web::SessionStore::Options session_options;
    session_options.idle_timeout = absl::Minutes(30);
    session_options.clock = clock;
    sessions_ = std::make_unique<web::SessionStore>(session_options);

    // The node's answers: ids that lead back to kCase.
    backend_.on_GetCase =
        [](const v1::GetCaseRequest& r) -> absl::StatusOr<v1::GetCaseResponse> {
      v1::GetCaseResponse out;
      *out.mutable_case_() =
          MakeCase(r.case_id(), r.case_id() == kEarlierThere ? "cusco" : kHere,
                   r.case_id() == kEarlierHere ? v1::STAGE_CLOSED
                                               : v1::STAGE_RESIDENTIAL_CARE);
      return out;
    };
    backend_.on_OpenCase =
        [](const v1::OpenCaseRequest&) -> absl::StatusOr<v1::OpenCaseResponse> {
      v1::OpenCaseResponse out;
      *out.mutable_case_() = MakeCase(kNewCase, kHere, v1::STAGE_IDENTIFIED);
      return out;
    };
#define RUTA_TRANSFER_ANSWER(Method)                                           \
  backend_.on_##Method =                                                       \
      [](const v1::Method##Request&) -> absl::StatusOr<v1::Method##Response> { \
    v1::Method##Response out;                                                  \
    *out.mutable_transfer() = MakeTransfer();                                  \
    return out;                                                                \
  };
    RUTA_TRANSFER_ANSWER(AcceptTransfer)
    RUTA_TRANSFER_ANSWER(RejectTransfer)
    RUTA_TRANSFER_ANSWER(CancelTransfer)
    RUTA_TRANSFER_ANSWER(DepartTransfer)
    RUTA_TRANSFER_ANSWER(ReceiveTransfer)
    RUTA_TRANSFER_ANSWER(RequestTransfer)
#undef RUTA_TRANSFER_ANSWER
    backend_.on_UpdateService = [](const v1::UpdateServiceRequest& r)
        -> absl::StatusOr<v1::UpdateServiceResponse> {
      v1::UpdateServiceResponse out;
      out.mutable_service()->set_service_id(r.service_id());
      out.mutable_service()->set_case_id(kCase);
      return out;
    };

    ConsoleServer::Options options;
    options.web_root = RUTA_CONSOLE_WEB_DIR;
    options.region = kHere;
    options.department = "17";
    options.peer_departments = {{"cusco", "08"}};
    options.accounts = accounts_.get();
    options.sessions = sessions_.get();
    options.backend = &backend_;
    options.clock = clock;
    auto server = ConsoleServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    for (int i = 0; i < 100 && !client_->Get("/style.css"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  absl::Time Now() const { return absl::FromUnixNanos(now_nanos_.load()); }
  void Advance(absl::Duration d) { now_nanos_ += absl::ToInt64Nanoseconds(d); }

  // The Set-Cookie header of `res` for cookie `name` ("" if none).
  static std::string SetCookieHeader(const httplib::Result& res,
                                     const std::string& name) {
    for (size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
      std::string c = res->get_header_value("Set-Cookie", i);
      if (absl::StartsWith(c, name + "=")) return c;
    }
    return "";
  }
  static std::string CookieValue(const httplib::Result& res,
                                 const std::string& name) {
    const std::string c = SetCookieHeader(res, name);
    if (c.empty()) return "";
    return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  }
  static std::string Between(const std::string& text, const std::string& a,
                             const std::string& b) {
    size_t start = text.find(a);
    if (start == std::string::npos) return "";
    start += a.size();
    return text.substr(start, text.find(b, start) - start);
  }

  httplib::Result Login(const std::string& user, const std::string& password) {
    httplib::Result page = client_->Get("/login");
    EXPECT_TRUE(page);
    const std::string cookie =
        CookieValue(page, "ruta_console_madre-de-dios_login");
    const std::string field =
        Between(page->body, "name=\"csrf\" value=\"", "\"");
    EXPECT_EQ(cookie, field);
    httplib::Headers headers = {
        {"Cookie", "ruta_console_madre-de-dios_login=" + cookie}};
    return client_->Post(
        "/login", headers,
        httplib::Params{
            {"csrf", field}, {"user", user}, {"password", password}});
  }

  struct Session {
    httplib::Headers headers;  // the session cookie
    std::string csrf;
  };
  Session LogIn(const std::string& user = "ana") {
    httplib::Result res = Login(user, kPassword);
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 303);
    Session s;
    s.headers = {
        {"Cookie", "ruta_console_madre-de-dios=" +
                       CookieValue(res, "ruta_console_madre-de-dios")}};
    httplib::Result page = client_->Get("/ingreso", s.headers);
    EXPECT_EQ(page->status, 200);
    s.csrf = Between(page->body, "name=\"csrf\" value=\"", "\"");
    EXPECT_EQ(s.csrf.size(), 43u);
    return s;
  }

  // Posts `fields` (plus the session's CSRF token unless `with_csrf` is
  // false) as console.js does (JSON answer) or as a plain form.
  httplib::Result Post(const Session& s, const std::string& path,
                       httplib::Params fields, bool json = true,
                       bool with_csrf = true) {
    httplib::Headers headers = s.headers;
    if (json) headers.emplace("Accept", "application/json");
    if (with_csrf) fields.emplace("csrf", s.csrf);
    httplib::Result res = client_->Post(path, headers, fields);
    EXPECT_TRUE(res) << path;
    return res;
  }

  static std::string GoOf(const httplib::Result& res) {
    std::smatch m;
    static const std::regex go("\"go\":\"([^\"]*)\"");
    return std::regex_search(res->body, m, go) ? m[1].str() : "";
  }

  std::atomic<int64_t> now_nanos_{0};
  std::string accounts_file_;
  FakeOfficeBackend backend_;
  std::unique_ptr<web::AccountStore> accounts_;
  std::unique_ptr<web::SessionStore> sessions_;
  std::unique_ptr<ConsoleServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, LoginSetsAStrictHttpOnlySessionCookie) {
  httplib::Result page = client_->Get("/login");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("Contraseña"));
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-store");
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'self'"));
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  const std::string login_csrf =
      SetCookieHeader(page, "ruta_console_madre-de-dios_login");
  EXPECT_THAT(login_csrf, HasSubstr("; Path=/login"));
  EXPECT_THAT(login_csrf, HasSubstr("; HttpOnly"));

  httplib::Result res = Login("ana", kPassword);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"), "/");
  const std::string cookie = SetCookieHeader(res, "ruta_console_madre-de-dios");
  EXPECT_EQ(CookieValue(res, "ruta_console_madre-de-dios").size(), 43u);
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  // Plain HTTP (development): no Secure attribute; HTTPS sets it.
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));
  // The login form's token is cleared.
  EXPECT_THAT(SetCookieHeader(res, "ruta_console_madre-de-dios_login"),
              HasSubstr("Max-Age=0"));

  httplib::Headers session = {
      {"Cookie", "ruta_console_madre-de-dios=" +
                     CookieValue(res, "ruta_console_madre-de-dios")}};
  httplib::Result home = client_->Get("/", session);
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_THAT(home->body, HasSubstr("Pendientes de la oficina"));
  EXPECT_THAT(home->body, HasSubstr("id=\"usuario\">ana</span>"));
}

TEST_F(ServerTest, WrongPasswordUnknownUserAndForgedFormAreRefused) {
  httplib::Result wrong = Login("ana", "no es la clave");
  httplib::Result unknown = Login("nadie", kPassword);
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_THAT(wrong->body, HasSubstr("Usuario o contraseña incorrectos."));
  EXPECT_EQ(Between(wrong->body, "id=\"login-message\">", "<"),
            Between(unknown->body, "id=\"login-message\">", "<"));
  EXPECT_EQ(CookieValue(wrong, "ruta_console_madre-de-dios"), "");

  // Without the login form's cookie.
  httplib::Result forged = client_->Post(
      "/login", httplib::Headers{},
      httplib::Params{
          {"csrf", web::NewToken()}, {"user", "ana"}, {"password", kPassword}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_EQ(CookieValue(forged, "ruta_console_madre-de-dios"), "");
}

TEST_F(ServerTest, ADisabledAccountCannotLogInAndItsSessionsEnd) {
  Session bea = LogIn("bea");
  EXPECT_EQ(client_->Get("/", bea.headers)->status, 200);
  ASSERT_TRUE(web::DisableAccount(accounts_file_, "bea").ok());
  httplib::Result home = client_->Get("/", bea.headers);
  EXPECT_EQ(home->status, 303);
  EXPECT_EQ(home->get_header_value("Location"), "/login?expirada=1");
  httplib::Result res = Login("bea", kPassword);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(CookieValue(res, "ruta_console_madre-de-dios"), "");
  // A form posted with the old session does not reach the node.
  backend_.ClearCalls();
  res = Post(bea, "/actividades/capacitacion", {{"request_id", kRid}});
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(backend_.Calls(), IsEmpty());
}

TEST_F(ServerTest, FiveFailuresLockTheAccountUntilTheLockOutEnds) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("ana", "no es la clave")->status, 401) << i;
  }
  EXPECT_TRUE(accounts_->IsLocked("ana"));
  // Even the right password is refused, with the same message.
  httplib::Result locked = Login("ana", kPassword);
  EXPECT_EQ(locked->status, 401);
  EXPECT_THAT(locked->body, HasSubstr("Usuario o contraseña incorrectos."));
  EXPECT_EQ(CookieValue(locked, "ruta_console_madre-de-dios"), "");
  // Another clerk is not affected.
  EXPECT_EQ(Login("bea", kPassword)->status, 303);
  // The lock-out lasts 15 minutes.
  Advance(absl::Minutes(14));
  EXPECT_EQ(Login("ana", kPassword)->status, 401);
  Advance(absl::Minutes(2));
  EXPECT_FALSE(accounts_->IsLocked("ana"));
  EXPECT_EQ(Login("ana", kPassword)->status, 303);
}

TEST_F(ServerTest, WithoutASessionPagesRedirectAndFormsAskToLogIn) {
  httplib::Result res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"), "/login");
  Session none;
  none.headers = {{"Cookie", "ruta_console_madre-de-dios=" + web::NewToken()}};
  // A session cookie the console no longer knows: the session expired.
  res = client_->Get("/", none.headers);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Location"), "/login?expirada=1");
  none.csrf = web::NewToken();
  res = Post(none, "/caso/" + std::string(kCase) + "/etapa",
             {{"etapa", "STAGE_FAMILY_CARE"}, {"request_id", kRid}});
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("\"login\":\"/login?expirada=1\""));
  EXPECT_THAT(backend_.Calls(), IsEmpty());
}

TEST_F(ServerTest, AnExpiredSessionAsksToLogInAgain) {
  Session s = LogIn();
  const std::string path = absl::StrCat("/caso/", kCase, "/etapa");
  const httplib::Params fields = {{"etapa", "STAGE_FAMILY_CARE"},
                                  {"request_id", kRid}};
  Advance(absl::Minutes(29));
  EXPECT_EQ(client_->Get("/", s.headers)->status, 200);  // marks it used
  Advance(absl::Minutes(29));
  EXPECT_EQ(Post(s, path, fields)->status, 200);
  backend_.ClearCalls();

  Advance(absl::Minutes(31));
  // console.js: 401 with where to log in; the form stays on the page.
  httplib::Result json = Post(s, path, fields);
  EXPECT_EQ(json->status, 401);
  EXPECT_THAT(json->get_header_value("Content-Type"),
              HasSubstr("application/json"));
  EXPECT_THAT(json->body, HasSubstr("\"login\":\"/login?expirada=1\""));
  EXPECT_THAT(json->body, HasSubstr("Su sesión expiró"));
  // Without the script: to the login page.
  httplib::Result plain = Post(s, path, fields, /*json=*/false);
  EXPECT_EQ(plain->status, 303);
  EXPECT_EQ(plain->get_header_value("Location"), "/login?expirada=1");
  httplib::Result get = client_->Get("/", s.headers);
  EXPECT_EQ(get->status, 303);
  EXPECT_EQ(get->get_header_value("Location"), "/login?expirada=1");
  EXPECT_THAT(backend_.Calls(), IsEmpty());

  httplib::Result login = client_->Get("/login?expirada=1");
  EXPECT_THAT(login->body, HasSubstr("Su sesión expiró o se cerró."));
}

TEST_F(ServerTest, APostWithoutTheSessionsCsrfTokenNeverReachesTheNode) {
  Session ana = LogIn("ana");
  Session bea = LogIn("bea");
  backend_.ClearCalls();
  const std::string path = absl::StrCat("/caso/", kCase, "/etapa");
  httplib::Result res =
      Post(ana, path, {{"etapa", "STAGE_FAMILY_CARE"}, {"request_id", kRid}},
           /*json=*/true, /*with_csrf=*/false);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(res->body, HasSubstr("token de seguridad"));
  // Another session's token, an empty one.
  res = Post(ana, path,
             {{"etapa", "STAGE_FAMILY_CARE"},
              {"request_id", kRid},
              {"csrf", bea.csrf}},
             /*json=*/true, /*with_csrf=*/false);
  EXPECT_EQ(res->status, 403);
  res = Post(ana, "/ingreso", {{"csrf", ""}}, /*json=*/false,
             /*with_csrf=*/false);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(res->body, HasSubstr("token de seguridad"));
  EXPECT_THAT(backend_.Calls(), IsEmpty());
  // Logout needs it too.
  EXPECT_EQ(client_->Post("/logout", ana.headers, httplib::Params{})->status,
            403);
  EXPECT_EQ(client_->Get("/", ana.headers)->status, 200);
}

TEST_F(ServerTest, EachFormCallsItsMethodForTheClerk) {
  Session s = LogIn("bea");
  const std::string c = absl::StrCat("/caso/", kCase, "/");
  const std::string t = absl::StrCat("/traslado/", kTransfer, "/");
  struct Route {
    std::string path;
    httplib::Params fields;
    std::string method;
    std::string go;
    // What the request must contain (ShortDebugString parts).
    std::vector<std::string> parts;
  };
  const std::string rid = absl::StrCat("request_id: \"", kRid, "\"");
  const std::string case_id = absl::StrCat("case_id: \"", kCase, "\"");
  const std::string transfer_id =
      absl::StrCat("transfer_id: \"", kTransfer, "\"");
  const std::string back = absl::StrCat("/caso/", kCase);
  const std::vector<Route> routes = {
      {c + "etapa",
       {{"etapa", "STAGE_FAMILY_CARE"}, {"version", "3"}},
       "UpdateStage",
       back,
       {rid, case_id, "stage: STAGE_FAMILY_CARE", "expected_version: 3"}},
      {c + "cierre",
       {{"motivo", "CLOSED_REASON_REACHED_MAJORITY"}},
       "CloseCase",
       back,
       {rid, case_id, "reason: CLOSED_REASON_REACHED_MAJORITY"}},
      {c + "derivacion",
       {{"socio", "madre-de-dios/tdh"}},
       "ReferCase",
       back,
       {rid, case_id, "partner_id: \"madre-de-dios/tdh\""}},
      {c + "traslado",
       {{"region", "cusco"},
        {"provincia", "0813"},
        {"servicio", "SERVICE_TYPE_HEALTH"}},
       "RequestTransfer",
       back,
       {rid, case_id, "to_region: \"cusco\"", "destination_province: \"0813\"",
        "requested_services: SERVICE_TYPE_HEALTH"}},
      {c + "servicio",
       {{"tipo", "SERVICE_TYPE_LEGAL"},
        {"estado", "SERVICE_STATUS_PLANNED"},
        {"inicio", "2026-11"}},
       "AddService",
       back,
       {rid, case_id, "type: SERVICE_TYPE_LEGAL",
        "status: SERVICE_STATUS_PLANNED",
        "start_month { year: 2026 month: 11 }"}},
      {absl::StrCat("/servicio/", kService, "/estado"),
       {{"estado", "SERVICE_STATUS_COMPLETED"}, {"fin", "2026-11"}},
       "UpdateService",
       back,
       {rid, absl::StrCat("service_id: \"", kService, "\""),
        "status: SERVICE_STATUS_COMPLETED",
        "end_month { year: 2026 month: 11 }"}},
      {t + "aceptar", {}, "AcceptTransfer", back, {rid, transfer_id}},
      {t + "rechazar",
       {{"motivo", "REJECT_REASON_NO_CAPACITY"}, {"nota", "Sin vacantes"}},
       "RejectTransfer",
       back,
       {rid, transfer_id, "reason: REJECT_REASON_NO_CAPACITY",
        "note: \"Sin vacantes\""}},
      {t + "cancelar", {}, "CancelTransfer", back, {rid, transfer_id}},
      {t + "salida",
       {{"fecha", "2026-11-28"}},
       "DepartTransfer",
       back,
       {rid, transfer_id, "departed_on { year: 2026 month: 11 day: 28 }"}},
      {t + "llegada",
       {{"fecha", "2026-11-29"}},
       "ReceiveTransfer",
       back,
       {rid, transfer_id, "received_on { year: 2026 month: 11 day: 29 }"}},
      {"/actividades/campana",
       {{"campana", "No te dejes engañar"},
        {"provincia", "1701"},
        {"mes", "2026-11"},
        {"personas", "40"}},
       "RecordActivity",
       "/actividades",
       {rid, "campaign: \"No te dejes enga", "people_reached: 40"}},
      {"/actividades/capacitacion",
       {{"nivel", "TRAINING_LEVEL_REGIONAL"},
        {"provincia", "1702"},
        {"mes", "2026-10"},
        {"miembros", "12"}},
       "RecordActivity",
       "/actividades",
       {rid, "level: TRAINING_LEVEL_REGIONAL", "members_trained: 12"}},
  };
  for (const Route& r : routes) {
    SCOPED_TRACE(r.path);
    for (bool json : {true, false}) {
      backend_.ClearCalls();
      httplib::Params fields = r.fields;
      fields.emplace("request_id", kRid);
      httplib::Result res = Post(s, r.path, fields, json);
      if (json) {
        EXPECT_EQ(res->status, 200) << res->body;
        EXPECT_EQ(GoOf(res), r.go) << res->body;
      } else {
        EXPECT_EQ(res->status, 303);
        EXPECT_EQ(res->get_header_value("Location"), r.go);
      }
      const std::vector<FakeOfficeBackend::Call> calls = backend_.Calls();
      ASSERT_EQ(calls.size(), 1u);
      EXPECT_EQ(calls[0].method, r.method);
      EXPECT_EQ(calls[0].clerk, "bea");
      const std::string request = calls[0].request->ShortDebugString();
      for (const std::string& part : r.parts) {
        EXPECT_THAT(request, HasSubstr(part));
      }
    }
  }
}

TEST_F(ServerTest, AFieldToFixIs400AndTheNodeIsNotCalled) {
  Session s = LogIn();
  backend_.ClearCalls();
  httplib::Result res =
      Post(s, absl::StrCat("/caso/", kCase, "/traslado"),
           {{"region", "cusco"}, {"provincia", "1701"}, {"request_id", kRid}});
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("Elija una provincia de destino"));
  res = Post(s, absl::StrCat("/traslado/", kTransfer, "/rechazar"),
             {{"motivo", "REJECT_REASON_OTHER"},
              {"nota", "llamar al 987 654 321"},
              {"request_id", kRid}});
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("dato personal"));
  EXPECT_THAT(res->body, Not(HasSubstr("987")));
  // A form without its request_id.
  res = Post(s, absl::StrCat("/traslado/", kTransfer, "/aceptar"), {});
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("identificador de envío"));
  // Without the script: an error page with a way back.
  res = Post(s, "/actividades/campana", {{"request_id", kRid}}, false);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("Escriba el nombre de la campaña."));
  EXPECT_THAT(res->body, HasSubstr("href=\"/actividades\""));
  EXPECT_THAT(backend_.Calls(), IsEmpty());
}

TEST_F(ServerTest, NodeErrorsBecomeStatusesAndSpanishSentences) {
  Session s = LogIn();
  const std::string path = absl::StrCat("/caso/", kCase, "/etapa");
  const httplib::Params fields = {{"etapa", "STAGE_FAMILY_CARE"},
                                  {"request_id", kRid}};
  struct Case {
    absl::Status status;
    int http;
    std::string part;
  };
  const std::vector<Case> cases = {
      {absl::UnavailableError("connection refused"), 503, kUnreachable},
      {absl::DeadlineExceededError("deadline"), 503, "no respondió a tiempo"},
      // The action's own Spanish explanation, the node's reason after it.
      {absl::FailedPreconditionError("cannot move case from IN_TRANSIT"), 409,
       "Ese paso no está permitido desde la etapa actual del caso"},
      {absl::FailedPreconditionError("cannot move case from IN_TRANSIT"), 409,
       "Detalle técnico del nodo: cannot move case from IN_TRANSIT."},
      {absl::AbortedError("version 3 is stale"), 409,
       "Otra persona modificó este registro"},
      {absl::NotFoundError("no such case"), 404, "no encuentra ese registro"},
      {absl::InvalidArgumentError("stage: unknown"), 400,
       "rechazó un dato del formulario (stage: unknown)"},
      {absl::PermissionDeniedError("office"), 502, "certificado de la consola"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    backend_.Fail("UpdateStage", c.status);
    httplib::Result json = Post(s, path, fields);
    EXPECT_EQ(json->status, c.http);
    EXPECT_THAT(json->body, HasSubstr(c.part));
    EXPECT_EQ(GoOf(json), "");
    httplib::Result page = Post(s, path, fields, /*json=*/false);
    EXPECT_EQ(page->status, c.http);
    EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
    EXPECT_THAT(page->body, HasSubstr("No se registró"));
  }
  backend_.Fail("UpdateStage", absl::OkStatus());
  EXPECT_EQ(Post(s, path, fields)->status, 200);

  // A page that cannot be read from the node.
  backend_.FailAll(absl::UnavailableError("connection refused"));
  httplib::Result page = client_->Get(absl::StrCat("/caso/", kCase), s.headers);
  EXPECT_EQ(page->status, 503);
  EXPECT_THAT(page->body, HasSubstr(kUnreachable));
  EXPECT_EQ(client_->Get("/casos", s.headers)->status, 503);
  EXPECT_EQ(client_->Get("/actividades", s.headers)->status, 503);
  // The home page still opens, and says the node cannot be reached.
  page = client_->Get("/", s.headers);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr(kUnreachable));
  EXPECT_THAT(page->body, Not(HasSubstr("No hay traslados entrantes")));
}

TEST_F(ServerTest, PagesReadTheNodeForTheClerk) {
  Session s = LogIn("bea");
  backend_.ClearCalls();
  httplib::Result page = client_->Get(absl::StrCat("/caso/", kCase), s.headers);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr(absl::StrCat("Caso ", kCase)));
  EXPECT_THAT(backend_.Methods(),
              ElementsAre("GetCase", "ListTransfers", "ListServices"));
  for (const auto& call : backend_.Calls()) EXPECT_EQ(call.clerk, "bea");
  EXPECT_EQ(
      backend_.LastRequest<v1::ListTransfersRequest>("ListTransfers").case_id(),
      kCase);

  backend_.ClearCalls();
  page = client_->Get("/casos?etapa=STAGE_FOLLOW_UP&pagina=abc", s.headers);
  EXPECT_EQ(page->status, 200);
  const auto list = backend_.LastRequest<v1::ListCasesRequest>("ListCases");
  EXPECT_EQ(list.stage(), v1::STAGE_FOLLOW_UP);
  EXPECT_EQ(list.page_token(), "abc");
  EXPECT_TRUE(list.exclude_closed());
  EXPECT_EQ(client_->Get("/casos?etapa=NINGUNA", s.headers)->status, 400);

  backend_.ClearCalls();
  EXPECT_EQ(client_->Get("/", s.headers)->status, 200);
  EXPECT_EQ(backend_.CallsOf("ListTransfers").size(), 4u);
  EXPECT_EQ(backend_.CallsOf("ListCases").size(), 1u);
  for (const auto& call : backend_.Calls()) EXPECT_EQ(call.clerk, "bea");

  // Not a case id: no such page.
  EXPECT_EQ(client_->Get("/caso/cs_abc", s.headers)->status, 404);
  // The page's script and stylesheet need no session.
  httplib::Result js = client_->Get("/console.js");
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Cache-Control"), "no-cache");
  EXPECT_THAT(js->get_header_value("Content-Type"), HasSubstr("javascript"));
}

TEST_F(ServerTest, LogoutEndsTheSession) {
  Session s = LogIn();
  httplib::Result out =
      client_->Post("/logout", s.headers, httplib::Params{{"csrf", s.csrf}});
  EXPECT_EQ(out->status, 303);
  EXPECT_EQ(out->get_header_value("Location"), "/login?salida=1");
  EXPECT_THAT(SetCookieHeader(out, "ruta_console_madre-de-dios"),
              HasSubstr("Max-Age=0"));
  EXPECT_EQ(client_->Get("/", s.headers)->status, 303);
}

TEST_F(ServerTest, IntakeFindsThePersonBeforeOpeningTheCase) {
  Session s = LogIn("ana");
  backend_.ClearCalls();
  httplib::Result res = Post(s, "/ingreso", IntakeFields());
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(GoOf(res), absl::StrCat("/caso/", kNewCase, "?nuevo=1"));
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson", "OpenCase"));
  for (const auto& call : backend_.Calls()) EXPECT_EQ(call.clerk, "ana");
  const auto find = backend_.LastRequest<v1::FindPersonRequest>("FindPerson");
  EXPECT_EQ(find.identifiers().dni(), kDni);
  EXPECT_EQ(find.identifiers().given_names(), kGiven);
  const auto open = backend_.LastRequest<v1::OpenCaseRequest>("OpenCase");
  EXPECT_EQ(open.identifiers().dni(), kDni);
  EXPECT_EQ(open.request_id(), kRid);
  EXPECT_EQ(open.kind(), v1::CASE_KIND_VICTIM);
  EXPECT_EQ(open.profile().origin_province(), "1701");

  // The node cannot be reached: nothing is opened.
  backend_.ClearCalls();
  backend_.Fail("FindPerson", absl::UnavailableError("connection refused"));
  res = Post(s, "/ingreso", IntakeFields());
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr(kUnreachable));
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson"));
  // Opening fails: the same sentence.
  backend_.ClearCalls();
  backend_.Fail("FindPerson", absl::OkStatus());
  backend_.Fail("OpenCase", absl::UnavailableError("connection refused"));
  res = Post(s, "/ingreso", IntakeFields());
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson", "OpenCase"));
}

TEST_F(ServerTest, AnOpenCaseHereNeedsConfirmation) {
  backend_.on_FindPerson = [](const v1::FindPersonRequest&)
      -> absl::StatusOr<v1::FindPersonResponse> {
    v1::FindPersonResponse out;
    out.set_linked(true);
    *out.add_cases() =
        MakeCase(kEarlierHere, kHere, v1::STAGE_RESIDENTIAL_CARE);
    *out.add_cases() = MakeCase(kEarlierThere, "cusco", v1::STAGE_CLOSED);
    return out;
  };
  Session s = LogIn();
  backend_.ClearCalls();
  httplib::Result res = Post(s, "/ingreso", IntakeFields());
  EXPECT_EQ(res->status, 409);
  EXPECT_THAT(res->body, HasSubstr("\"confirm\":true"));
  EXPECT_THAT(res->body, HasSubstr("ya tiene un caso abierto en la región"));
  EXPECT_THAT(res->body, HasSubstr(absl::StrCat(
                             "{\"id\":\"", kEarlierHere,
                             "\",\"region\":\"Madre de Dios\","
                             "\"stage\":\"Acogimiento residencial\"}")));
  EXPECT_THAT(res->body, HasSubstr(absl::StrCat("\"id\":\"", kEarlierThere,
                                                "\",\"region\":\"Cusco\"")));
  EXPECT_EQ(GoOf(res), "");
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson"));
  // Without the script: a page that says why, nothing opened.
  res = Post(s, "/ingreso", IntakeFields(), /*json=*/false);
  EXPECT_EQ(res->status, 409);
  EXPECT_THAT(res->body, HasSubstr("ya tiene un caso abierto"));
  EXPECT_THAT(backend_.CallsOf("OpenCase"), IsEmpty());

  // Confirmed: opened, and the earlier cases go along to the case page.
  backend_.ClearCalls();
  httplib::Params confirmed = IntakeFields();
  confirmed.emplace("confirmar", "1");
  res = Post(s, "/ingreso", confirmed);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson", "OpenCase"));
  const std::string go = GoOf(res);
  EXPECT_EQ(go, absl::StrCat("/caso/", kNewCase, "?nuevo=1&previos=",
                             kEarlierHere, ".", kEarlierThere));
  httplib::Result page = client_->Get(go, s.headers);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("id=\"caso-aviso\">Caso abierto."));
  EXPECT_THAT(page->body, HasSubstr("id=\"caso-previos\""));
  EXPECT_THAT(page->body, HasSubstr(absl::StrCat("<a href=\"/caso/",
                                                 kEarlierThere, "\">")));
  // Ids in `previos` that are not case ids are ignored.
  backend_.ClearCalls();
  page = client_->Get(absl::StrCat("/caso/", kNewCase, "?previos=cs_x.", kDni,
                                   ".", kEarlierHere),
                      s.headers);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(backend_.CallsOf("GetCase").size(), 2u);
}

TEST_F(ServerTest, ACaseClosedHereOrOpenElsewhereDoesNotBlockTheIntake) {
  backend_.on_FindPerson = [](const v1::FindPersonRequest&)
      -> absl::StatusOr<v1::FindPersonResponse> {
    v1::FindPersonResponse out;
    *out.add_cases() = MakeCase(kEarlierHere, kHere, v1::STAGE_CLOSED);
    *out.add_cases() =
        MakeCase(kEarlierThere, "cusco", v1::STAGE_RESIDENTIAL_CARE);
    return out;
  };
  Session s = LogIn();
  backend_.ClearCalls();
  httplib::Result res = Post(s, "/ingreso", IntakeFields(), /*json=*/false);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"),
            absl::StrCat("/caso/", kNewCase, "?nuevo=1&previos=", kEarlierHere,
                         ".", kEarlierThere));
  EXPECT_THAT(backend_.Methods(), ElementsAre("FindPerson", "OpenCase"));
}

TEST_F(ServerTest, NothingTypedAtIntakeComesBackOrIsLogged) {
  const size_t lines_before = testing::LogCapture::Get().Lines().size();
  Session s = LogIn();
  std::vector<httplib::Result> answers;
  // Opened (script and no script).
  answers.push_back(Post(s, "/ingreso", IntakeFields()));
  answers.push_back(Post(s, "/ingreso", IntakeFields(), /*json=*/false));
  // Refused fields: a future birth date, names with digits, a bad DNI.
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"nacimiento", "2027-07-23"},
           {"nombres", "Yesenia Canario 2"},
           {"dni", "404173331"}}) {
    httplib::Params bad = IntakeFields();
    bad.erase(field);
    bad.emplace(field, value);
    for (bool json : {true, false}) {
      httplib::Result res = Post(s, "/ingreso", bad, json);
      EXPECT_EQ(res->status, 400) << field;
      answers.push_back(std::move(res));
    }
  }
  // A duplicate here.
  backend_.on_FindPerson = [](const v1::FindPersonRequest&)
      -> absl::StatusOr<v1::FindPersonResponse> {
    v1::FindPersonResponse out;
    *out.add_cases() = MakeCase(kEarlierHere, kHere, v1::STAGE_IDENTIFIED);
    return out;
  };
  answers.push_back(Post(s, "/ingreso", IntakeFields()));
  EXPECT_EQ(answers.back()->status, 409);
  // Refused by the node, unreachable node, no CSRF token.
  backend_.Fail("FindPerson", absl::InvalidArgumentError(
                                  "identifiers.dni must have 8 digits"));
  answers.push_back(Post(s, "/ingreso", IntakeFields()));
  backend_.Fail("FindPerson", absl::UnavailableError("connection refused"));
  answers.push_back(Post(s, "/ingreso", IntakeFields()));
  answers.push_back(Post(s, "/ingreso", IntakeFields(), false));
  answers.push_back(
      Post(s, "/ingreso", IntakeFields(), /*json=*/true, /*with_csrf=*/false));
  EXPECT_EQ(answers.back()->status, 403);

  // The canaries did reach the node (the test can fail)...
  bool typed = false;
  for (const auto& call : backend_.CallsOf("FindPerson")) {
    typed = typed || absl::StrContains(call.request->ShortDebugString(), kDni);
  }
  EXPECT_TRUE(typed);
  // ...and nothing else: not an answer, a header, a redirect or a log line.
  for (const httplib::Result& res : answers) {
    ASSERT_TRUE(res);
    std::string everything = res->body;
    for (const auto& [name, value] : res->headers) {
      absl::StrAppend(&everything, "\n", name, ": ", value);
    }
    for (const std::string& canary : kCanaries) {
      EXPECT_THAT(everything, Not(HasSubstr(canary)))
          << "status " << res->status;
    }
  }
  const std::vector<std::string> lines = testing::LogCapture::Get().Lines();
  EXPECT_GT(lines.size(), lines_before);  // the server did log these calls
  for (size_t i = lines_before; i < lines.size(); ++i) {
    for (const std::string& canary : kCanaries) {
      EXPECT_THAT(lines[i], Not(HasSubstr(canary)));
    }
  }
}

TEST(ConsoleServerCreateTest, RefusesMissingPiecesAndServesHttps) {
  const std::string dir = testing::MakeTempDir("console-create");
  const std::string accounts_file = dir + "/accounts";
  ASSERT_TRUE(web::AddAccount(accounts_file, "ana", kPassword).ok());
  auto accounts = web::AccountStore::Open(accounts_file, {});
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  web::SessionStore sessions({});
  FakeOfficeBackend backend;
  ConsoleServer::Options options;
  options.web_root = RUTA_CONSOLE_WEB_DIR;
  options.region = kHere;
  options.department = "17";
  options.accounts = accounts->get();
  options.sessions = &sessions;

  auto refused = ConsoleServer::Create(options);  // no backend
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  options.backend = &backend;
  ConsoleServer::Options no_web = options;
  no_web.web_root = dir;
  refused = ConsoleServer::Create(no_web);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("console.js"));
  const testing::KeyPair https = testing::DevPki::Get().Node("cusco");
  ConsoleServer::Options bad_tls = options;
  bad_tls.tls_cert_file = https.cert_file;
  bad_tls.tls_key_file = dir + "/missing-key.pem";
  refused = ConsoleServer::Create(bad_tls);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  // HTTPS: cookies are Secure and the browser is told to stay on HTTPS.
  options.tls_cert_file = https.cert_file;
  options.tls_key_file = https.key_file;
  auto server = ConsoleServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto port = (*server)->Bind("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  std::thread thread([&] { (*server)->Run(); });
  httplib::SSLClient client("127.0.0.1", *port);
  client.enable_server_certificate_verification(false);
  for (int i = 0; i < 100 && !client.Get("/favicon.ico"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  httplib::Result page = client.Get("/login");
  ASSERT_TRUE(page);
  EXPECT_THAT(page->get_header_value("Strict-Transport-Security"),
              HasSubstr("max-age="));
  const std::string login_cookie = page->get_header_value("Set-Cookie");
  EXPECT_THAT(login_cookie, HasSubstr("; Secure"));
  const std::string csrf =
      login_cookie.substr(login_cookie.find('=') + 1,
                          login_cookie.find(';') - login_cookie.find('=') - 1);
  httplib::Result res = client.Post(
      "/login", {{"Cookie", "ruta_console_madre-de-dios_login=" + csrf}},
      httplib::Params{
          {"csrf", csrf}, {"user", "ana"}, {"password", kPassword}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  bool secure_session = false;
  for (size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
    const std::string c = res->get_header_value("Set-Cookie", i);
    if (absl::StartsWith(c, "ruta_console_madre-de-dios=")) {
      secure_session = absl::StrContains(c, "; Secure") &&
                       absl::StrContains(c, "; HttpOnly") &&
                       absl::StrContains(c, "; SameSite=Strict");
    }
  }
  EXPECT_TRUE(secure_session);
  (*server)->Stop();
  thread.join();
}

TEST_F(ServerTest, AFirstVisitIsNotToldItsSessionExpired) {
  httplib::Result home = client_->Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 303);
  EXPECT_EQ(home->get_header_value("Location"), "/login");
}

TEST_F(ServerTest, AnUnknownStageFilterIsTheConsolesOwnSpanishError) {
  Session ana = LogIn("ana");
  httplib::Result page = client_->Get("/casos?etapa=BOGUS", ana.headers);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 400);
  EXPECT_THAT(page->body, HasSubstr("La etapa del filtro no existe"));
  EXPECT_THAT(page->body, Not(HasSubstr("nodo")));
  EXPECT_TRUE(backend_.CallsOf("ListCases").empty());
}

}  // namespace
}  // namespace ruta::console
