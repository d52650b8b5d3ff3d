// ruta-console end to end: two in-process nodes, Cusco and Madre de Dios,
// peers over real mutual TLS, and one console per region in the same
// process (plain HTTP on loopback) talking to its node with the office's
// certificate (NodeOfficeBackend). Clerks are driven through an HTTP client
// as console.js drives the pages: log in, read csrf and request_id from the
// page, post forms with Accept: application/json.
//  * The whole route: intake in Madre de Dios, stages, a transfer request
//    (the same form posted twice at once: one transfer), Cusco's home queue,
//    accept, departure, arrival, a service recorded in Cusco and seen from
//    Madre de Dios; every call audited on behalf of the clerk; nothing typed
//    at intake in any log line.
//  * A retried intake (same request_id) opens no second case.
//  * The node stopped: a form answers 503 with the Spanish sentence; after
//    the restart the same form (same request_id) is recorded once.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/console/config.h"
#include "ruta/console/office_backend.h"
#include "ruta/console/server.h"
#include "ruta/testing/log_capture.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/web/accounts.h"
#include "ruta/web/sessions.h"
#include "spdlog/spdlog.h"

namespace ruta {
namespace {

using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using ::testing::Not;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kPassword[] = "una clave bastante larga";
constexpr char kUnreachable[] = "No se puede contactar al nodo regional";
// The clerk of each region's console.
const std::map<std::string, std::string> kClerks = {{kMdd, "rosa"},
                                                    {kCusco, "juan"}};
// The office whose certificate each console holds (DevPki::Office).
const std::map<std::string, std::string> kOffices = {
    {kMdd, "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado"},
    {kCusco, "spiffe://cusco.ruta.pe/office/main-office"}};

// Canary identifiers typed at intake.
constexpr char kDni[] = "40417333";
constexpr char kGiven[] = "Yesenia Canario";
constexpr char kSurnames[] = "Quispe Centinela";
constexpr char kBirth[] = "2011-07-23";

absl::CivilDay PeruToday() {
  return absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(-5 * 60 * 60));
}
std::string ThisMonth() {
  const absl::CivilDay d = PeruToday();
  return absl::StrFormat("%04d-%02d", d.year(), d.month());
}

// A clerk's browser: one HTTP client and the session cookie.
class Browser {
 public:
  struct Answer {
    int status = 0;
    std::string body;
    std::string go;  // of a JSON {"go": ...}
  };
  struct FormIds {
    std::string csrf;
    std::string request_id;
    std::string html;  // the form, up to </form>
  };

  Browser(int port, std::string cookie = "")
      : port_(port), client_("127.0.0.1", port), cookie_(std::move(cookie)) {
    client_.set_read_timeout(30, 0);
  }
  // A second browser tab: same session, its own connection.
  std::unique_ptr<Browser> Tab() const {
    return std::make_unique<Browser>(port_, cookie_);
  }

  // The console's cookies are named after its region.
  bool LogIn(const std::string& region, const std::string& user) {
    httplib::Result page = client_.Get("/login");
    if (!page) return false;
    const std::string csrf =
        Between(page->body, "name=\"csrf\" value=\"", "\"");
    httplib::Headers headers = {
        {"Cookie", absl::StrCat("ruta_console_", region, "_login=", csrf)}};
    httplib::Result res = client_.Post(
        "/login", headers,
        httplib::Params{
            {"csrf", csrf}, {"user", user}, {"password", kPassword}});
    if (!res || res->status != 303) return false;
    for (size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
      const std::string c = res->get_header_value("Set-Cookie", i);
      if (absl::StartsWith(c, absl::StrCat("ruta_console_", region, "="))) {
        cookie_ = c.substr(0, c.find(';'));
      }
    }
    return !cookie_.empty();
  }

  std::string Get(const std::string& path, int* status = nullptr) {
    httplib::Result res = client_.Get(path, {{"Cookie", cookie_}});
    if (status != nullptr) *status = res ? res->status : 0;
    EXPECT_TRUE(res) << path;
    return res ? res->body : "";
  }

  // Polls `path` until `done(body)` holds (or `timeout`); returns the last
  // body.
  std::string WaitFor(const std::string& path,
                      const std::function<bool(const std::string&)>& done,
                      absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string body;
    do {
      body = Get(path);
      if (done(body)) return body;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    return body;
  }

  Answer Post(const std::string& path, const FormIds& ids,
              httplib::Params fields) {
    fields.emplace("csrf", ids.csrf);
    fields.emplace("request_id", ids.request_id);
    httplib::Headers headers = {{"Cookie", cookie_},
                                {"Accept", "application/json"}};
    httplib::Result res = client_.Post(path, headers, fields);
    Answer out;
    EXPECT_TRUE(res) << path;
    if (!res) return out;
    out.status = res->status;
    out.body = res->body;
    std::smatch m;
    static const std::regex go("\"go\":\"([^\"]*)\"");
    if (std::regex_search(out.body, m, go)) out.go = m[1];
    return out;
  }

  // The csrf and request_id of the data-ajax form posting to `action` on
  // `html`; empty ids when the page has no such form.
  static FormIds FormOf(const std::string& html, const std::string& action) {
    const std::regex form(
        absl::StrCat("<form method=\"post\" action=\"", action,
                     "\" data-ajax [^>]*><input type=\"hidden\" name=\"csrf\" "
                     "value=\"([^\"]*)\"><input type=\"hidden\" "
                     "name=\"request_id\" value=\"([^\"]*)\">"));
    std::smatch m;
    FormIds out;
    if (std::regex_search(html, m, form)) {
      out.csrf = m[1];
      out.request_id = m[2];
      const size_t at = static_cast<size_t>(m.position(0));
      out.html = html.substr(at, html.find("</form>", at) - at);
    }
    return out;
  }
  static bool HasForm(const std::string& html, const std::string& action) {
    return !FormOf(html, action).csrf.empty();
  }

  static std::string Between(const std::string& text, const std::string& a,
                             const std::string& b) {
    size_t start = text.find(a);
    if (start == std::string::npos) return "";
    start += a.size();
    return text.substr(start, text.find(b, start) - start);
  }

 private:
  int port_;
  httplib::Client client_;
  std::string cookie_;
};

class ConsoleTest : public ::testing::Test {
 protected:
  struct Console {
    std::unique_ptr<console::NodeOfficeBackend> backend;
    std::unique_ptr<web::AccountStore> accounts;
    std::unique_ptr<web::SessionStore> sessions;
    std::unique_ptr<console::ConsoleServer> server;
    std::thread thread;
    int port = 0;
  };

  static void SetUpTestSuite() {
    // Every line logged in this process (nodes and consoles) is kept.
    testing::LogCapture::Get();
    spdlog::set_level(spdlog::level::debug);
    for (const char* region : {kCusco, kMdd}) {
      ports_[region] = testing::PickFreePort();
      dirs_[region] = testing::MakeTempDir(absl::StrCat("console-", region));
    }
    for (const char* region : {kCusco, kMdd}) StartNode(region);
    for (const char* region : {kCusco, kMdd}) StartConsole(region);
  }
  static void TearDownTestSuite() {
    for (auto& [region, c] : consoles_) {
      if (c.server) c.server->Stop();
      if (c.thread.joinable()) c.thread.join();
    }
    consoles_.clear();
    for (auto& [region, node] : nodes_) node.reset();
  }

  static std::string Address(const std::string& region) {
    return absl::StrCat("127.0.0.1:", ports_[region]);
  }
  static std::string Other(const std::string& region) {
    return region == kCusco ? kMdd : kCusco;
  }
  static void StartNode(const std::string& region) {
    testing::NodeSetup setup;
    setup.region = region;
    setup.data_dir = dirs_[region];
    setup.listen_address = Address(region);
    setup.peers = {{Other(region), Address(Other(region))}};
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 500;
    setup.relay_ack_timeout_ms = 3000;
    nodes_[region] = InProcessNode::Start(setup);
    ASSERT_NE(nodes_[region], nullptr) << region;
  }
  static void StartConsole(const std::string& region) {
    Console& c = consoles_[region];
    const DevPki& pki = DevPki::Get();
    console::NodeOfficeBackend::Options backend;
    backend.address = Address(region);
    backend.node_region = region;
    backend.ca_file = pki.TrustBundle();
    backend.cert_file = pki.Office(region).cert_file;
    backend.key_file = pki.Office(region).key_file;
    backend.deadline = absl::Seconds(5);
    auto created = console::NodeOfficeBackend::Create(backend);
    ASSERT_TRUE(created.ok()) << created.status();
    c.backend = *std::move(created);

    const std::string accounts_file =
        testing::MakeTempDir(absl::StrCat("console-accounts-", region)) +
        "/accounts";
    ASSERT_TRUE(
        web::AddAccount(accounts_file, kClerks.at(region), kPassword).ok());
    auto accounts = web::AccountStore::Open(accounts_file, {});
    ASSERT_TRUE(accounts.ok()) << accounts.status();
    c.accounts = *std::move(accounts);
    c.sessions =
        std::make_unique<web::SessionStore>(web::SessionStore::Options{});

    console::ConsoleServer::Options options;
    options.web_root = RUTA_CONSOLE_WEB_DIR;
    options.region = region;
    options.department = console::PilotDepartment(region);
    options.peer_departments = {
        {Other(region), console::PilotDepartment(Other(region))}};
    options.accounts = c.accounts.get();
    options.sessions = c.sessions.get();
    options.backend = c.backend.get();
    auto server = console::ConsoleServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    c.server = *std::move(server);
    auto port = c.server->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    c.port = *port;
    console::ConsoleServer* s = c.server.get();
    c.thread = std::thread([s] { s->Run(); });
  }

  // A logged-in browser of `region`'s clerk.
  static std::unique_ptr<Browser> ClerkOf(const std::string& region) {
    auto browser = std::make_unique<Browser>(consoles_[region].port);
    bool ok = false;
    for (int i = 0;
         i < 50 && !(ok = browser->LogIn(region, kClerks.at(region))); ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_TRUE(ok) << "login of " << kClerks.at(region);
    return browser;
  }

  // The node's CaseOffice with another office's certificate of the region
  // (so that the console's office has only the console's calls).
  static std::unique_ptr<v1::CaseOffice::Stub> Office(
      const std::string& region) {
    return v1::CaseOffice::NewStub(testing::MakeChannel(
        Address(region), DevPki::Get().Leaf(region, "office", "second-office"),
        region));
  }

  static std::vector<v1::Transfer> TransfersOf(const std::string& region,
                                               const std::string& case_id) {
    v1::ListTransfersRequest request;
    request.set_case_id(case_id);
    request.set_page_size(100);
    v1::ListTransfersResponse response;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s =
        Office(region)->ListTransfers(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.transfers().begin(), response.transfers().end()};
  }

  static std::vector<v1::Case> FindPerson(const std::string& region,
                                          const std::string& dni) {
    v1::FindPersonRequest request;
    request.mutable_identifiers()->set_dni(dni);
    v1::FindPersonResponse response;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s =
        Office(region)->FindPerson(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.cases().begin(), response.cases().end()};
  }

  static std::vector<v1::ExportAuditResponse> Audit(const std::string& region) {
    auto admin = v1::Admin::NewStub(testing::MakeChannel(
        Address(region), DevPki::Get().Leaf(region, "admin", "operator"),
        region));
    auto context = testing::ContextWithDeadline();
    auto reader = admin->ExportAudit(context.get(), v1::ExportAuditRequest());
    std::vector<v1::ExportAuditResponse> records;
    v1::ExportAuditResponse record;
    while (reader->Read(&record)) records.push_back(record);
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return records;
  }

  // The intake form of a victim identified this month, with the canaries.
  static httplib::Params IntakeFields(const std::string& dni) {
    return {{"dni", dni},
            {"nombres", kGiven},
            {"apellidos", kSurnames},
            {"nacimiento", kBirth},
            {"tipo", "CASE_KIND_VICTIM"},
            {"etapa", "STAGE_IDENTIFIED"},
            {"edad", "AGE_BAND_15_17"},
            {"sexo", "SEX_FEMALE"},
            {"provincia", "1701"},
            {"forma", "EXPLOITATION_FORM_LABOUR"},
            {"lugar", "SETTING_MINING_CAMP"},
            {"captacion", "RECRUITMENT_MEANS_FALSE_JOB_OFFER"},
            {"mes", ThisMonth()},
            {"base", "LEGAL_BASIS_UPE_PROTECTIVE_MEASURE"}};
  }

  // Opens a case at `browser`'s intake; returns its id ("" on failure).
  static std::string Intake(Browser& browser, const std::string& dni) {
    const Browser::FormIds ids =
        Browser::FormOf(browser.Get("/ingreso"), "/ingreso");
    EXPECT_FALSE(ids.request_id.empty());
    const Browser::Answer a = browser.Post("/ingreso", ids, IntakeFields(dni));
    EXPECT_EQ(a.status, 200) << a.body;
    std::smatch m;
    static const std::regex go("^/caso/(cs_[a-z]{20})\\?nuevo=1$");
    EXPECT_TRUE(std::regex_match(a.go, m, go)) << a.go;
    return m.empty() ? "" : m[1].str();
  }

  // Moves the case with the stage buttons of its page.
  static void MoveTo(Browser& browser, const std::string& case_id,
                     v1::Stage stage) {
    const std::string path = absl::StrCat("/caso/", case_id);
    const Browser::FormIds ids =
        Browser::FormOf(browser.Get(path), path + "/etapa");
    ASSERT_THAT(ids.html, HasSubstr(absl::StrCat("name=\"etapa\" value=\"",
                                                 v1::Stage_Name(stage), "\"")));
    const std::string version =
        Browser::Between(ids.html, "name=\"version\" value=\"", "\"");
    ASSERT_FALSE(version.empty());
    const Browser::Answer a =
        browser.Post(path + "/etapa", ids,
                     {{"etapa", v1::Stage_Name(stage)}, {"version", version}});
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.go, path);
  }

  static std::map<std::string, int> ports_;
  static std::map<std::string, std::string> dirs_;
  static std::map<std::string, std::unique_ptr<InProcessNode>> nodes_;
  static std::map<std::string, Console> consoles_;
};
std::map<std::string, int> ConsoleTest::ports_;
std::map<std::string, std::string> ConsoleTest::dirs_;
std::map<std::string, std::unique_ptr<InProcessNode>> ConsoleTest::nodes_;
std::map<std::string, ConsoleTest::Console> ConsoleTest::consoles_;

TEST_F(ConsoleTest, TheWholeRouteOfATransferThroughBothConsoles) {
  const size_t log_lines_before = testing::LogCapture::Get().Lines().size();
  std::unique_ptr<Browser> rosa = ClerkOf(kMdd);
  std::unique_ptr<Browser> juan = ClerkOf(kCusco);

  // Intake in Madre de Dios, then the stages up to residential care.
  const std::string case_id = Intake(*rosa, kDni);
  ASSERT_FALSE(case_id.empty());
  const std::string path = absl::StrCat("/caso/", case_id);
  EXPECT_THAT(rosa->Get(path + "?nuevo=1"), HasSubstr("Caso abierto."));
  MoveTo(*rosa, case_id, v1::STAGE_IMMEDIATE_PROTECTION);
  MoveTo(*rosa, case_id, v1::STAGE_RESIDENTIAL_CARE);
  std::string page = rosa->Get(path);
  EXPECT_THAT(page, HasSubstr("id=\"caso-etapa\">Acogimiento residencial<"));

  // The transfer form posted twice at once (a double click that got through,
  // two tabs): both succeed, the node holds one transfer.
  const Browser::FormIds transfer = Browser::FormOf(page, path + "/traslado");
  ASSERT_FALSE(transfer.request_id.empty());
  const httplib::Params transfer_fields = {
      {"region", kCusco},
      {"provincia", "0801"},
      {"servicio", "SERVICE_TYPE_EDUCATION_SUPPORT"},
      {"servicio", "SERVICE_TYPE_PSYCHOSOCIAL"}};
  std::unique_ptr<Browser> tab1 = rosa->Tab(), tab2 = rosa->Tab();
  std::atomic<bool> go{false};
  Browser::Answer a1, a2;
  std::thread t1([&] {
    while (!go) std::this_thread::yield();
    a1 = tab1->Post(path + "/traslado", transfer, transfer_fields);
  });
  std::thread t2([&] {
    while (!go) std::this_thread::yield();
    a2 = tab2->Post(path + "/traslado", transfer, transfer_fields);
  });
  go = true;
  t1.join();
  t2.join();
  EXPECT_EQ(a1.status, 200) << a1.body;
  EXPECT_EQ(a2.status, 200) << a2.body;
  EXPECT_EQ(a1.go, path);
  EXPECT_EQ(a2.go, path);
  const std::vector<v1::Transfer> held = TransfersOf(kMdd, case_id);
  ASSERT_EQ(held.size(), 1u);
  const std::string tr = held[0].transfer_id();
  EXPECT_EQ(held[0].state(), v1::TRANSFER_STATE_REQUESTED);
  EXPECT_EQ(held[0].requested_services_size(), 2);
  page = rosa->Get(path);
  EXPECT_THAT(page, HasSubstr(absl::StrCat("data-transfer=\"", tr, "\"")));
  EXPECT_FALSE(Browser::HasForm(page, path + "/traslado"));
  EXPECT_TRUE(
      Browser::HasForm(page, absl::StrCat("/traslado/", tr, "/cancelar")));

  // Cusco's home page lists it among the transfers to decide.
  auto in_queue = [&](const std::string& queue) {
    return [&tr, queue](const std::string& home) {
      return absl::StrContains(
          Browser::Between(home, absl::StrCat("id=\"", queue, "\""),
                           "</table>"),
          absl::StrCat("data-transfer=\"", tr, "\""));
    };
  };
  const std::string home = juan->WaitFor("/", in_queue("cola-entrantes"));
  ASSERT_TRUE(in_queue("cola-entrantes")(home)) << home;
  EXPECT_THAT(home, HasSubstr(absl::StrCat("<a href=\"/caso/", case_id)));

  // Cusco accepts from the case page.
  const std::string accept = absl::StrCat("/traslado/", tr, "/aceptar");
  page = juan->WaitFor(
      path, [&](const std::string& p) { return Browser::HasForm(p, accept); });
  EXPECT_THAT(page, HasSubstr("id=\"caso-ajeno\""));
  Browser::Answer a = juan->Post(accept, Browser::FormOf(page, accept), {});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.go, path);

  // Madre de Dios confirms the departure (listed on its home page first).
  const std::string depart = absl::StrCat("/traslado/", tr, "/salida");
  EXPECT_TRUE(
      in_queue("cola-salidas")(rosa->WaitFor("/", in_queue("cola-salidas"))));
  page = rosa->WaitFor(
      path, [&](const std::string& p) { return Browser::HasForm(p, depart); });
  a = rosa->Post(depart, Browser::FormOf(page, depart), {});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.go, path);

  // Cusco confirms the arrival.
  const std::string arrive = absl::StrCat("/traslado/", tr, "/llegada");
  EXPECT_TRUE(
      in_queue("cola-llegadas")(juan->WaitFor("/", in_queue("cola-llegadas"))));
  page = juan->WaitFor(
      path, [&](const std::string& p) { return Browser::HasForm(p, arrive); });
  a = juan->Post(arrive, Browser::FormOf(page, arrive), {});
  ASSERT_EQ(a.status, 200) << a.body;

  // The case is Cusco's now: Cusco records a service...
  page = juan->WaitFor(path, [&](const std::string& p) {
    return Browser::HasForm(p, path + "/servicio");
  });
  EXPECT_THAT(page, Not(HasSubstr("id=\"caso-ajeno\"")));
  a = juan->Post(path + "/servicio", Browser::FormOf(page, path + "/servicio"),
                 {{"tipo", "SERVICE_TYPE_EDUCATION_SUPPORT"},
                  {"estado", "SERVICE_STATUS_ONGOING"},
                  {"inicio", ThisMonth()}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.go, path);

  // ...which Madre de Dios sees, with no form left to act on.
  page = rosa->WaitFor(path, [](const std::string& p) {
    return absl::StrContains(p, "data-service=\"sv_") &&
           absl::StrContains(p, "id=\"caso-ajeno\"");
  });
  EXPECT_THAT(page, HasSubstr("data-service=\"sv_"));
  EXPECT_THAT(page, HasSubstr("id=\"caso-ajeno\""));
  EXPECT_THAT(page, HasSubstr("a cargo de Cusco"));
  EXPECT_THAT(Browser::Between(page, "<main>", "</main>"),
              Not(HasSubstr("data-ajax")));

  // The audit: every call of each console's office was made on behalf of
  // its clerk; the route's calls are there.
  const std::map<std::string, std::vector<std::string>> expected = {
      {kMdd,
       {"CaseOffice.FindPerson", "CaseOffice.OpenCase",
        "CaseOffice.UpdateStage", "CaseOffice.RequestTransfer",
        "CaseOffice.DepartTransfer", "CaseOffice.GetCase",
        "CaseOffice.ListTransfers"}},
      {kCusco,
       {"CaseOffice.AcceptTransfer", "CaseOffice.ReceiveTransfer",
        "CaseOffice.AddService", "CaseOffice.GetCase",
        "CaseOffice.ListTransfers", "CaseOffice.ListCases"}}};
  for (const auto& [region, methods] : expected) {
    SCOPED_TRACE(region);
    std::vector<v1::ExportAuditResponse> records;
    std::set<std::string> seen;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      records = Audit(region);
      seen.clear();
      for (const auto& r : records) {
        if (r.principal() == kOffices.at(region)) seen.insert(r.method());
      }
      if (std::all_of(methods.begin(), methods.end(),
                      [&](const std::string& m) { return seen.count(m); })) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    for (const std::string& m : methods) EXPECT_TRUE(seen.count(m)) << m;
    int of_console = 0, requests = 0;
    for (const auto& r : records) {
      if (r.principal() != kOffices.at(region)) continue;
      ++of_console;
      EXPECT_EQ(r.on_behalf_of(), kClerks.at(region)) << r.method();
      // The subject of a transfer call is the transfer.
      if (r.method() == "CaseOffice.RequestTransfer" && r.case_id() == tr) {
        ++requests;
        EXPECT_EQ(r.outcome(), "OK");
      }
    }
    EXPECT_GT(of_console, 10);
    // Both posts of the transfer form reached the node.
    if (region == kMdd) {
      EXPECT_EQ(requests, 2);
    }
  }

  // Nothing typed at intake in any line logged by the consoles or nodes.
  const std::vector<std::string> lines = testing::LogCapture::Get().Lines();
  EXPECT_GT(lines.size(), log_lines_before);
  for (size_t i = log_lines_before; i < lines.size(); ++i) {
    for (const char* canary :
         {kDni, kGiven, kSurnames, kBirth, "Canario", "Centinela"}) {
      EXPECT_THAT(lines[i], Not(HasSubstr(canary)));
    }
  }
}

TEST_F(ConsoleTest, ARejectedOrCancelledTransferReturnsTheCaseToCare) {
  std::unique_ptr<Browser> rosa = ClerkOf(kMdd);
  std::unique_ptr<Browser> juan = ClerkOf(kCusco);
  const std::string case_id = Intake(*rosa, "40417336");
  ASSERT_FALSE(case_id.empty());
  const std::string path = absl::StrCat("/caso/", case_id);
  MoveTo(*rosa, case_id, v1::STAGE_IMMEDIATE_PROTECTION);
  MoveTo(*rosa, case_id, v1::STAGE_FAMILY_CARE);
  auto request = [&]() -> std::string {
    const Browser::FormIds ids =
        Browser::FormOf(rosa->Get(path), path + "/traslado");
    EXPECT_FALSE(ids.request_id.empty());
    const Browser::Answer a = rosa->Post(
        path + "/traslado", ids, {{"region", kCusco}, {"provincia", "0813"}});
    EXPECT_EQ(a.status, 200) << a.body;
    const std::vector<v1::Transfer> all = TransfersOf(kMdd, case_id);
    for (const v1::Transfer& t : all) {
      if (t.state() == v1::TRANSFER_STATE_REQUESTED) return t.transfer_id();
    }
    return "";
  };

  // Cusco refuses, with a note; a note holding a phone number is refused
  // by the console first.
  const std::string first = request();
  ASSERT_FALSE(first.empty());
  const std::string reject = absl::StrCat("/traslado/", first, "/rechazar");
  std::string page = juan->WaitFor(
      path, [&](const std::string& p) { return Browser::HasForm(p, reject); });
  const Browser::FormIds ids = Browser::FormOf(page, reject);
  Browser::Answer a = juan->Post(reject, ids,
                                 {{"motivo", "REJECT_REASON_NO_CAPACITY"},
                                  {"nota", "llamar al 987 654 321"}});
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_THAT(a.body, HasSubstr("dato personal"));
  a = juan->Post(reject, ids,
                 {{"motivo", "REJECT_REASON_NO_CAPACITY"},
                  {"nota", "Sin vacantes en el albergue hasta enero"}});
  ASSERT_EQ(a.status, 200) << a.body;
  // Accepting the rejected transfer now: the node's state machine refuses.
  const std::string accept = absl::StrCat("/traslado/", first, "/aceptar");
  const Browser::FormIds stale = Browser::FormOf(page, accept);
  a = juan->Post(accept, stale, {});
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_THAT(a.body, HasSubstr("El traslado ya no espera respuesta"));

  // Madre de Dios sees why, and the case back in family care with the
  // transfer form offered again.
  // (The page reads the case and its transfers one after the other: the
  // rejection may show before the case's stage does; wait for both.)
  page = rosa->WaitFor(path, [](const std::string& p) {
    return absl::StrContains(p, "Rechazado") &&
           absl::StrContains(p, "id=\"caso-etapa\">Acogimiento familiar<");
  });
  EXPECT_THAT(page, HasSubstr("rechazado: Sin capacidad de atención"));
  EXPECT_THAT(page, HasSubstr("Sin vacantes en el albergue hasta enero"));
  EXPECT_THAT(page, HasSubstr("id=\"caso-etapa\">Acogimiento familiar<"));
  EXPECT_TRUE(Browser::HasForm(page, path + "/traslado"));

  // Requested again, then cancelled by Madre de Dios.
  const std::string second = request();
  ASSERT_FALSE(second.empty());
  ASSERT_NE(second, first);
  const std::string cancel = absl::StrCat("/traslado/", second, "/cancelar");
  page = rosa->Get(path);
  a = rosa->Post(cancel, Browser::FormOf(page, cancel), {});
  ASSERT_EQ(a.status, 200) << a.body;
  page = rosa->Get(path);
  EXPECT_THAT(page, HasSubstr("id=\"caso-etapa\">Acogimiento familiar<"));
  EXPECT_TRUE(Browser::HasForm(page, path + "/traslado"));
  // Cusco's queue no longer lists either.
  const std::string home = juan->WaitFor(
      "/", [&](const std::string& h) { return !absl::StrContains(h, second); });
  EXPECT_THAT(home, Not(HasSubstr(first)));
  EXPECT_THAT(home, Not(HasSubstr(second)));
}

TEST_F(ConsoleTest, ARetriedIntakeOpensNoSecondCase) {
  std::unique_ptr<Browser> rosa = ClerkOf(kMdd);
  const std::string dni = "40417334";
  const Browser::FormIds ids =
      Browser::FormOf(rosa->Get("/ingreso"), "/ingreso");
  ASSERT_FALSE(ids.request_id.empty());
  const Browser::Answer first = rosa->Post("/ingreso", ids, IntakeFields(dni));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string opened = Browser::Between(first.go, "/caso/", "?");
  ASSERT_EQ(opened.size(), 23u) << first.go;

  // Sent again (the answer was lost): the child is found with the case just
  // opened, which the clerk is offered.
  const Browser::Answer again = rosa->Post("/ingreso", ids, IntakeFields(dni));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_THAT(again.body, HasSubstr("\"confirm\":true"));
  EXPECT_THAT(again.body, HasSubstr(absl::StrCat("\"id\":\"", opened, "\"")));
  // Confirmed with the same request_id: the node answers with the same case.
  httplib::Params confirmed = IntakeFields(dni);
  confirmed.emplace("confirmar", "1");
  const Browser::Answer forced = rosa->Post("/ingreso", ids, confirmed);
  EXPECT_EQ(forced.status, 200) << forced.body;
  EXPECT_EQ(forced.go, first.go);
  std::vector<v1::Case> cases = FindPerson(kMdd, dni);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].case_id(), opened);

  // The form submitted twice at once: still one case.
  const std::string dni2 = "40417335";
  const Browser::FormIds ids2 =
      Browser::FormOf(rosa->Get("/ingreso"), "/ingreso");
  std::unique_ptr<Browser> tab1 = rosa->Tab(), tab2 = rosa->Tab();
  std::atomic<bool> go{false};
  Browser::Answer a1, a2;
  std::thread t1([&] {
    while (!go) std::this_thread::yield();
    a1 = tab1->Post("/ingreso", ids2, IntakeFields(dni2));
  });
  std::thread t2([&] {
    while (!go) std::this_thread::yield();
    a2 = tab2->Post("/ingreso", ids2, IntakeFields(dni2));
  });
  go = true;
  t1.join();
  t2.join();
  cases = FindPerson(kMdd, dni2);
  ASSERT_EQ(cases.size(), 1u);
  for (const Browser::Answer& a : {a1, a2}) {
    // Opened (or found opened by the other post), never a second case.
    if (a.status == 200) {
      EXPECT_EQ(a.go, absl::StrCat("/caso/", cases[0].case_id(), "?nuevo=1"));
    } else {
      EXPECT_EQ(a.status, 409) << a.body;
      EXPECT_THAT(a.body, HasSubstr(cases[0].case_id()));
    }
  }
  EXPECT_TRUE(a1.status == 200 || a2.status == 200);
}

TEST_F(ConsoleTest, AFormSentWhileTheNodeIsDownIsRecordedOnceAfterItReturns) {
  std::unique_ptr<Browser> rosa = ClerkOf(kMdd);
  const std::string campaign = "Campana de prueba del reinicio";
  const Browser::FormIds ids =
      Browser::FormOf(rosa->Get("/actividades"), "/actividades/campana");
  ASSERT_FALSE(ids.request_id.empty());
  const httplib::Params fields = {{"campana", campaign},
                                  {"provincia", "1701"},
                                  {"mes", ThisMonth()},
                                  {"personas", "250"}};

  nodes_[kMdd].reset();
  const Browser::Answer down = rosa->Post("/actividades/campana", ids, fields);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_THAT(down.body, HasSubstr(kUnreachable));
  EXPECT_EQ(down.go, "");
  // The home page still opens and says so; no queue claims to be empty.
  const std::string home = rosa->Get("/");
  EXPECT_THAT(home, HasSubstr(kUnreachable));
  EXPECT_THAT(home, Not(HasSubstr("No hay traslados entrantes por decidir.")));

  StartNode(kMdd);
  // The console finds the node again within seconds; until then the form
  // keeps answering 503.
  Browser::Answer back;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    back = rosa->Post("/actividades/campana", ids, fields);
    if (back.status != 503) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  EXPECT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.go, "/actividades");
  // Sent once more: still one activity.
  EXPECT_EQ(rosa->Post("/actividades/campana", ids, fields).status, 200);

  v1::ListActivitiesRequest request;
  request.set_page_size(100);
  v1::ListActivitiesResponse response;
  auto context = testing::ContextWithDeadline();
  ASSERT_TRUE(
      Office(kMdd)->ListActivities(context.get(), request, &response).ok());
  int recorded = 0;
  for (const v1::Activity& activity : response.activities()) {
    if (activity.awareness().campaign() == campaign) ++recorded;
  }
  EXPECT_EQ(recorded, 1);
  const std::string page = rosa->Get("/actividades");
  EXPECT_THAT(page, HasSubstr(absl::StrCat("Campaña «", campaign, "»")));
}

}  // namespace
}  // namespace ruta
