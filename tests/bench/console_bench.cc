// ruta-console's cost: rendering its pages and parsing its forms (pure
// functions), and what a clerk's form costs end to end through the console
// (HTTP + session + CSRF + the CaseOffice calls over mutual TLS to an
// in-process node) next to the same call made directly over gRPC. Client,
// console and node share the machine's cores, so figures are for comparison
// between runs of the same machine. Page sizes are reported as counters
// (bytes): the pages must stay small for rural links.
#include <httplib.h>

#include <atomic>
#include <memory>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "ruta/console/forms.h"
#include "ruta/console/office_backend.h"
#include "ruta/console/pages.h"
#include "ruta/console/server.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/web/accounts.h"
#include "ruta/web/http.h"
#include "ruta/web/sessions.h"
#include "spdlog/spdlog.h"

namespace ruta {
namespace {

constexpr char kRegion[] = "madre-de-dios";

console::PageContext Context() {
  console::PageContext ctx;
  ctx.user = "luis";
  ctx.csrf_token = web::NewToken();
  ctx.region = kRegion;
  ctx.department = "17";
  ctx.peer_departments = {{"cusco", "08"}};
  ctx.today = absl::CivilDay(2026, 11, 29);
  return ctx;
}

v1::Transfer SomeTransfer(int n, v1::TransferState state) {
  v1::Transfer t;
  t.set_transfer_id(
      absl::StrCat("tr_", std::string(19, 'a'),
                   std::string(1, static_cast<char>('a' + n % 26))));
  t.set_case_id(absl::StrCat("cs_", std::string(19, 'b'),
                             std::string(1, static_cast<char>('a' + n % 26))));
  t.set_from_region(kRegion);
  t.set_to_region("cusco");
  t.set_destination_province("0801");
  t.add_requested_services(v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  t.set_state(state);
  t.mutable_requested_on()->set_year(2026);
  t.mutable_requested_on()->set_month(11);
  t.mutable_requested_on()->set_day(1 + n % 28);
  return t;
}

console::CaseView SomeCase() {
  console::CaseView view;
  v1::Case& c = view.case_record;
  c.set_case_id("cs_abcdefghijklmnopqrst");
  c.set_kind(v1::CASE_KIND_VICTIM);
  c.set_owner_region(kRegion);
  c.set_stage(v1::STAGE_RESIDENTIAL_CARE);
  c.set_legal_basis(v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  c.set_version(4);
  v1::Profile& p = *c.mutable_profile();
  p.set_age_band(v1::AGE_BAND_15_17);
  p.set_sex(v1::SEX_FEMALE);
  p.set_origin_province("0812");
  p.add_exploitation_forms(v1::EXPLOITATION_FORM_SEXUAL);
  p.set_setting(v1::SETTING_BAR);
  p.set_recruitment_means(v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  p.mutable_identified_month()->set_year(2026);
  p.mutable_identified_month()->set_month(10);
  c.add_referrals("madre-de-dios/caritas");
  view.transfers.push_back(SomeTransfer(1, v1::TRANSFER_STATE_REJECTED));
  view.transfers.push_back(SomeTransfer(2, v1::TRANSFER_STATE_ACCEPTED));
  for (int i = 0; i < 4; ++i) {
    v1::ServiceRecord s;
    s.set_service_id(absl::StrCat("sv_", std::string(19, 'c'),
                                  std::string(1, static_cast<char>('a' + i))));
    s.set_type(static_cast<v1::ServiceType>(1 + i));
    s.set_status(v1::SERVICE_STATUS_ONGOING);
    s.mutable_start_month()->set_year(2026);
    s.mutable_start_month()->set_month(11);
    view.services.push_back(s);
  }
  return view;
}

void BM_RenderCasePage(benchmark::State& state) {
  const console::PageContext ctx = Context();
  const console::CaseView view = SomeCase();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = console::CasePage(ctx, view);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["page_bytes"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_RenderCasePage);

void BM_RenderHomePage(benchmark::State& state) {
  const console::PageContext ctx = Context();
  console::WorkQueues queues;
  for (int i = 0; i < state.range(0); ++i) {
    queues.to_decide.push_back(SomeTransfer(i, v1::TRANSFER_STATE_REQUESTED));
    queues.departures_to_confirm.push_back(
        SomeTransfer(i, v1::TRANSFER_STATE_ACCEPTED));
    queues.arrivals_expected.push_back(
        SomeTransfer(i, v1::TRANSFER_STATE_IN_TRANSIT));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = console::HomePage(ctx, queues);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["page_bytes"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_RenderHomePage)->Arg(0)->Arg(10)->Arg(50);

void BM_RenderIntakePage(benchmark::State& state) {
  const console::PageContext ctx = Context();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = console::IntakePage(ctx);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["page_bytes"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_RenderIntakePage);

console::Form IntakeFields(const std::string& request_id,
                           const std::string& dni) {
  return {{"request_id", request_id},
          {"dni", dni},
          {"nombres", "María Elena"},
          {"apellidos", "Quispe Huamán"},
          {"nacimiento", "2010-03-14"},
          {"tipo", "CASE_KIND_VICTIM"},
          {"etapa", "STAGE_IDENTIFIED"},
          {"edad", "AGE_BAND_15_17"},
          {"sexo", "SEX_FEMALE"},
          {"provincia", "0812"},
          {"forma", "EXPLOITATION_FORM_SEXUAL"},
          {"lugar", "SETTING_BAR"},
          {"captacion", "RECRUITMENT_MEANS_FALSE_JOB_OFFER"},
          {"mes", "2026-10"},
          {"base", "LEGAL_BASIS_UPE_PROTECTIVE_MEASURE"}};
}

void BM_ParseIntakeForm(benchmark::State& state) {
  const console::Form form = IntakeFields(console::NewRequestId(), "45678912");
  for (auto _ : state) {
    auto parsed = console::ParseIntakeForm(form, absl::CivilDay(2026, 11, 29));
    if (!parsed.ok()) {
      state.SkipWithError(std::string(parsed.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseIntakeForm);

// End to end: one node, one console (plain HTTP on loopback), one clerk.
struct Stack {
  std::unique_ptr<testing::InProcessNode> node;
  std::unique_ptr<web::AccountStore> accounts;
  std::unique_ptr<web::SessionStore> sessions;
  std::unique_ptr<console::NodeOfficeBackend> backend;
  std::unique_ptr<console::ConsoleServer> server;
  std::thread serving;
  int port = 0;
  std::string cookie;
  std::string csrf;
};

Stack& TheStack() {
  static Stack* stack = [] {
    auto* s = new Stack;
    testing::NodeSetup setup;
    setup.region = kRegion;
    s->node = testing::InProcessNode::Start(setup);
    const std::string dir = testing::MakeTempDir("console-bench");
    const std::string accounts = dir + "/accounts";
    const std::string password = "una-clave-de-prueba-larga";
    if (!web::AddAccount(accounts, "luis", password).ok()) std::abort();
    s->accounts = *web::AccountStore::Open(accounts, {});
    s->sessions =
        std::make_unique<web::SessionStore>(web::SessionStore::Options{});
    const testing::KeyPair office = testing::DevPki::Get().Office(kRegion);
    console::NodeOfficeBackend::Options backend;
    backend.address = s->node->address();
    backend.node_region = kRegion;
    backend.ca_file = testing::DevPki::Get().TrustBundle();
    backend.cert_file = office.cert_file;
    backend.key_file = office.key_file;
    s->backend = *console::NodeOfficeBackend::Create(backend);
    console::ConsoleServer::Options options;
    options.web_root = RUTA_CONSOLE_WEB_DIR;
    options.region = kRegion;
    options.department = "17";
    options.peer_departments = {{"cusco", "08"}};
    options.accounts = s->accounts.get();
    options.sessions = s->sessions.get();
    options.backend = s->backend.get();
    s->server = *console::ConsoleServer::Create(options);
    s->port = *s->server->Bind("127.0.0.1", 0);
    s->serving = std::thread([s] { s->server->Run(); });
    httplib::Client client("127.0.0.1", s->port);
    for (int i = 0; i < 100 && !client.Get("/login"); ++i) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    auto login_page = client.Get("/login");
    std::smatch m;
    std::string body = login_page->body;
    std::regex_search(body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\""));
    const std::string login_csrf = m[1];
    std::string login_cookie = login_page->get_header_value("Set-Cookie");
    login_cookie = login_cookie.substr(0, login_cookie.find(';'));
    auto logged = client.Post(
        "/login", {{"Cookie", login_cookie}},
        absl::StrCat("csrf=", login_csrf, "&user=luis&password=", password),
        "application/x-www-form-urlencoded");
    s->cookie = logged->get_header_value("Set-Cookie");
    s->cookie = s->cookie.substr(0, s->cookie.find(';'));
    auto home = client.Get("/ingreso", {{"Cookie", s->cookie}});
    body = home->body;
    std::regex_search(body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\""));
    s->csrf = m[1];
    return s;
  }();
  return *stack;
}

std::atomic<int64_t> next_dni{10000000};

std::string UrlEncoded(const console::Form& form) {
  std::string out;
  for (const auto& [name, value] : form) {
    absl::StrAppend(&out, out.empty() ? "" : "&", name, "=",
                    httplib::detail::encode_query_param(value));
  }
  return out;
}

// OpenCase through the console: POST /ingreso = FindPerson + OpenCase.
void BM_ConsoleIntake(benchmark::State& state) {
  Stack& s = TheStack();
  httplib::Client client("127.0.0.1", s.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  const httplib::Headers headers = {{"Cookie", s.cookie},
                                    {"Accept", "application/json"}};
  for (auto _ : state) {
    console::Form form = IntakeFields(console::NewRequestId(),
                                      absl::StrFormat("%08d", next_dni++));
    form.emplace("csrf", s.csrf);
    auto res = client.Post("/ingreso", headers, UrlEncoded(form),
                           "application/x-www-form-urlencoded");
    if (!res || res->status != 200) {
      state.SkipWithError(res ? res->body.c_str() : "no answer");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsoleIntake)->UseRealTime()->Threads(1)->Threads(8);

// The same two calls made directly over gRPC (what the console adds is the
// difference).
void BM_DirectFindAndOpen(benchmark::State& state) {
  Stack& s = TheStack();
  auto stub = v1::CaseOffice::NewStub(testing::MakeChannel(
      s.node->address(), testing::DevPki::Get().Office(kRegion), kRegion));
  for (auto _ : state) {
    v1::OpenCaseRequest open = testing::VictimOpenCaseRequest(
        console::NewRequestId(), absl::StrFormat("%08d", next_dni++));
    v1::FindPersonRequest find;
    *find.mutable_identifiers() = open.identifiers();
    v1::FindPersonResponse found;
    v1::OpenCaseResponse opened;
    if (!stub->FindPerson(testing::ContextWithDeadline().get(), find, &found)
             .ok() ||
        !stub->OpenCase(testing::ContextWithDeadline().get(), open, &opened)
             .ok()) {
      state.SkipWithError("FindPerson/OpenCase failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DirectFindAndOpen)->UseRealTime()->Threads(1)->Threads(8);

// The case page: GET /caso/ID = GetCase + ListTransfers + ListServices +
// rendering.
void BM_ConsoleCasePage(benchmark::State& state) {
  Stack& s = TheStack();
  auto stub = v1::CaseOffice::NewStub(testing::MakeChannel(
      s.node->address(), testing::DevPki::Get().Office(kRegion), kRegion));
  v1::OpenCaseResponse opened;
  if (!stub->OpenCase(testing::ContextWithDeadline().get(),
                      testing::VictimOpenCaseRequest(
                          console::NewRequestId(),
                          absl::StrFormat("%08d", next_dni++)),
                      &opened)
           .ok()) {
    state.SkipWithError("could not open a case");
    return;
  }
  httplib::Client client("127.0.0.1", s.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  const std::string path = absl::StrCat("/caso/", opened.case_().case_id());
  size_t bytes = 0;
  for (auto _ : state) {
    auto res = client.Get(path, {{"Cookie", s.cookie}});
    if (!res || res->status != 200) {
      state.SkipWithError("case page failed");
      break;
    }
    bytes = res->body.size();
  }
  state.counters["page_bytes"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kAvgThreads);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsoleCasePage)->UseRealTime()->Threads(1)->Threads(8);

}  // namespace
}  // namespace ruta

int main(int argc, char** argv) {
  // One line per form would drown the figures.
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
