#include "ruta/console/server.h"

#include <httplib.h>
#include <sodium.h>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ruta/console/pages.h"
#include "ruta/console/queues.h"
#include "ruta/core/ids.h"
#include "ruta/web/http.h"
#include "ruta/web/labels.h"
#include "ruta/web/login.h"
#include "spdlog/spdlog.h"

namespace ruta::console {
namespace {

using web::JsonString;
using web::NoStore;

constexpr char kIdPattern[] = "[a-z]{20}";

// Marks a status the console itself produced (a Spanish sentence for the
// clerk), as opposed to a failure reported by the node.
constexpr char kLocalError[] = "type.ruta.pe/console.local-error";

absl::Status LocalError(const std::string& message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kLocalError, absl::Cord("1"));
  return status;
}

// The HTTP status of a failed call to the node.
int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:  // by a node being stopped
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 502;
  }
}

// A call the node refused. For FAILED_PRECONDITION, `hint` says in Spanish
// what the action needs (the node's own reason, in English, follows as a
// technical detail).
ConsoleServer::Outcome Refused(const absl::Status& status,
                               const std::string& hint = "") {
  ConsoleServer::Outcome out;
  out.http_status = HttpStatusOf(status);
  out.error = NodeErrorMessage(status);
  if (status.code() == absl::StatusCode::kFailedPrecondition && !hint.empty()) {
    out.error = absl::StrCat(hint, " Detalle técnico del nodo: ",
                             std::string(status.message()), ".");
  }
  return out;
}

// A form that the console itself found wrong (forms.h messages are already
// Spanish sentences for the clerk).
ConsoleServer::Outcome Invalid(const absl::Status& status) {
  ConsoleServer::Outcome out;
  out.http_status = 400;
  out.error = std::string(status.message());
  return out;
}

ConsoleServer::Outcome Go(std::string url) {
  ConsoleServer::Outcome out;
  out.go = std::move(url);
  return out;
}

// One form: its parsed request (or the console's own refusal), the call
// made with it, the Spanish hint for a refusal of the node (Refused), and
// the page to go to after the answer.
template <typename Request, typename Call, typename Next>
ConsoleServer::Outcome Act(const absl::StatusOr<Request>& request, Call call,
                           const std::string& hint, Next next) {
  if (!request.ok()) return Invalid(request.status());
  auto done = call(*request);
  if (!done.ok()) return Refused(done.status(), hint);
  return Go(next(*done));
}

bool WantsJson(const httplib::Request& req) {
  return absl::StrContains(req.get_header_value("Accept"), "application/json");
}

// Overwrites the identifiers of a request before it is released.
void Wipe(v1::PersonIdentifiers* ids) {
  for (std::string* s :
       {ids->mutable_dni(), ids->mutable_cnv(), ids->mutable_given_names(),
        ids->mutable_surnames(), ids->mutable_birth_district()}) {
    if (!s->empty()) sodium_memzero(s->data(), s->size());
  }
  ids->Clear();
}

// Wipes the posted body and its parsed fields (the intake form holds
// identifiers).
void WipeForm(Form* form, std::string* body) {
  for (auto& [name, value] : *form) {
    if (!value.empty()) sodium_memzero(value.data(), value.size());
  }
  form->clear();
  if (!body->empty()) sodium_memzero(body->data(), body->size());
}

}  // namespace

ConsoleServer::ConsoleServer(Options options) : options_(std::move(options)) {}

ConsoleServer::~ConsoleServer() { Stop(); }

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Create(
    Options options) {
  if (options.accounts == nullptr || options.sessions == nullptr ||
      options.backend == nullptr) {
    return absl::InvalidArgumentError(
        "ConsoleServer needs accounts, sessions and a backend");
  }
  std::unique_ptr<ConsoleServer> console(new ConsoleServer(std::move(options)));
  Options& o = console->options_;
  console->secure_ = !o.tls_cert_file.empty();
  // Browsers do not keep cookies apart by port: two consoles on one host
  // (the local run, a shared office machine) must not overwrite each
  // other's session.
  web::Login::Options login;
  login.accounts = o.accounts;
  login.sessions = o.sessions;
  login.session_cookie = absl::StrCat("ruta_console_", o.region);
  login.login_csrf_cookie = absl::StrCat("ruta_console_", o.region, "_login");
  login.secure = console->secure_;
  login.page = &LoginPage;
  login.log_name = "console";
  console->login_ = std::make_unique<web::Login>(std::move(login));
  web::WebServerOptions server;
  server.tls_cert_file = o.tls_cert_file;
  server.tls_key_file = o.tls_key_file;
  server.web_root = o.web_root;
  server.static_files = {"console.js", "style.css"};
  server.io_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<httplib::Server>> made =
      web::MakeWebServer(server);
  if (!made.ok()) return made.status();
  console->server_ = *std::move(made);
  if (!o.clock) o.clock = [] { return absl::Now(); };
  console->Routes();
  return console;
}

absl::Time ConsoleServer::Now() const { return options_.clock(); }

absl::CivilDay ConsoleServer::Today() const {
  // Peru has no daylight saving time: UTC-5 all year.
  return absl::ToCivilDay(Now(), absl::FixedTimeZone(-5 * 60 * 60));
}

PageContext ConsoleServer::Context(const Clerk& clerk) const {
  PageContext ctx;
  ctx.user = clerk.user;
  ctx.csrf_token = clerk.csrf_token;
  ctx.region = options_.region;
  ctx.department = options_.department;
  ctx.peer_departments = options_.peer_departments;
  ctx.today = Today();
  return ctx;
}

std::optional<ConsoleServer::Clerk> ConsoleServer::ClerkOf(
    const httplib::Request& req) {
  std::optional<web::SessionStore::Session> session = login_->SessionOf(req);
  if (!session) return std::nullopt;
  return Clerk{session->user, session->csrf_token};
}

void ConsoleServer::GetPage(const std::string& pattern,
                            std::function<absl::StatusOr<std::string>(
                                const Clerk&, const httplib::Request&)>
                                render) {
  server_->Get(pattern, [this, render](const httplib::Request& req,
                                       httplib::Response& res) {
    NoStore(res);
    std::optional<Clerk> clerk = ClerkOf(req);
    if (!clerk) {
      // "Your session expired" only to someone who had one.
      res.set_redirect(
          login_->HasSessionCookie(req) ? "/login?expirada=1" : "/login", 303);
      return;
    }
    absl::StatusOr<std::string> html = render(*clerk, req);
    if (!html.ok()) {
      res.status = HttpStatusOf(html.status());
      // The console's own refusals are already Spanish sentences for the
      // clerk; the node's failures are explained.
      const bool local = html.status().GetPayload(kLocalError).has_value();
      res.set_content(MessagePage(Context(*clerk), "No se pudo mostrar",
                                  local ? std::string(html.status().message())
                                        : NodeErrorMessage(html.status()),
                                  "/"),
                      "text/html; charset=utf-8");
      return;
    }
    res.set_content(*html, "text/html; charset=utf-8");
  });
}

void ConsoleServer::PostForm(const std::string& pattern,
                             const std::string& back, FormHandler handler) {
  server_->Post(pattern, [this, back, handler](const httplib::Request& req,
                                               httplib::Response& res) {
    NoStore(res);
    const bool json = WantsJson(req);
    auto answer = [&](const Outcome& outcome, const Clerk* clerk) {
      res.status = outcome.go.empty() ? outcome.http_status : 200;
      if (json) {
        std::string body =
            outcome.go.empty()
                ? absl::StrCat("{\"error\":", JsonString(outcome.error))
                : absl::StrCat("{\"go\":", JsonString(outcome.go));
        if (outcome.http_status == 401) {
          absl::StrAppend(&body, ",\"login\":\"/login?expirada=1\"");
        }
        if (outcome.confirm) absl::StrAppend(&body, ",\"confirm\":true");
        if (!outcome.known.empty()) {
          std::vector<std::string> known;
          for (const v1::Case& c : outcome.known) {
            known.push_back(absl::StrCat(
                "{\"id\":", JsonString(c.case_id()), ",\"region\":",
                JsonString(web::RegionName(c.owner_region())), ",\"stage\":",
                JsonString(web::ValueLabel(v1::Stage_Name(c.stage()))), "}"));
          }
          absl::StrAppend(&body, ",\"known\":[", absl::StrJoin(known, ","),
                          "]");
        }
        body += "}";
        res.set_content(body, "application/json; charset=utf-8");
        return;
      }
      if (!outcome.go.empty()) {
        res.set_redirect(outcome.go, 303);
        return;
      }
      if (outcome.http_status == 401 || clerk == nullptr) {
        res.set_redirect("/login?expirada=1", 303);
        return;
      }
      res.set_content(
          MessagePage(Context(*clerk), "No se registró", outcome.error, back),
          "text/html; charset=utf-8");
    };
    std::optional<Clerk> clerk = ClerkOf(req);
    if (!clerk) {
      Outcome expired;
      expired.http_status = 401;
      expired.error =
          "Su sesión expiró o se cerró. Ingrese de nuevo (en otra pestaña, "
          "para no perder este formulario) y vuelva a enviarlo.";
      answer(expired, nullptr);
      return;
    }
    // The body may hold a child's identifiers (intake): it is wiped once
    // answered. httplib owns `req` as a non-const object and hands it out
    // as const; nothing reads the body after this handler.
    std::string& body = const_cast<std::string&>(req.body);
    Form form = web::ParseFormMulti(body);
    auto csrf = form.find("csrf");
    if (csrf == form.end() ||
        !web::TokensEqual(clerk->csrf_token, csrf->second)) {
      spdlog::warn("console: {} posted {} without a valid CSRF token",
                   clerk->user, req.path);
      Outcome refused;
      refused.http_status = 403;
      refused.error =
          "Solicitud rechazada: el formulario no tiene un token de "
          "seguridad válido. Recargue la página.";
      answer(refused, &*clerk);
      WipeForm(&form, &body);
      return;
    }
    Outcome outcome = handler(*clerk, form, req);
    WipeForm(&form, &body);
    spdlog::info("console: {} {} -> {}", clerk->user, req.path,
                 outcome.go.empty() ? outcome.http_status : 200);
    answer(outcome, &*clerk);
  });
}

void ConsoleServer::Routes() {
  httplib::Server& s = *server_;

  login_->AddRoutes(s);

  GetPage("/",
          [this](const Clerk& clerk,
                 const httplib::Request&) -> absl::StatusOr<std::string> {
            QueueOptions q;
            q.region = options_.region;
            q.waiting_days = options_.waiting_days;
            q.follow_up_days = options_.follow_up_days;
            return HomePage(Context(clerk),
                            ComputeWorkQueues(*options_.backend, clerk.user, q,
                                              Now(), Today()));
          });

  GetPage("/ingreso",
          [this](const Clerk& clerk,
                 const httplib::Request&) -> absl::StatusOr<std::string> {
            return IntakePage(Context(clerk));
          });
  PostForm("/ingreso", "/ingreso",
           [this](const Clerk& clerk, const Form& form,
                  const httplib::Request&) { return Intake(clerk, form); });

  GetPage(absl::StrCat("/caso/(cs_", kIdPattern, ")"),
          [this](const Clerk& clerk, const httplib::Request& req) {
            return RenderCase(clerk, req.matches[1], req);
          });

  GetPage(
      "/casos",
      [this](const Clerk& clerk,
             const httplib::Request& req) -> absl::StatusOr<std::string> {
        v1::ListCasesRequest request;
        request.set_exclude_closed(true);
        v1::Stage stage = v1::STAGE_UNSPECIFIED;
        if (req.has_param("etapa") && !req.get_param_value("etapa").empty() &&
            !v1::Stage_Parse(req.get_param_value("etapa"), &stage)) {
          return LocalError(
              "La etapa del filtro no existe: elija una de la lista.");
        }
        request.set_stage(stage);
        request.set_page_token(req.get_param_value("pagina"));
        absl::StatusOr<v1::ListCasesResponse> list =
            options_.backend->ListCases(clerk.user, request);
        if (!list.ok()) return list.status();
        return CasesPage(Context(clerk), *list, stage, request.page_token());
      });

  GetPage("/actividades",
          [this](const Clerk& clerk,
                 const httplib::Request& req) -> absl::StatusOr<std::string> {
            v1::ListActivitiesRequest request;
            request.set_page_token(req.get_param_value("pagina"));
            absl::StatusOr<v1::ListActivitiesResponse> list =
                options_.backend->ListActivities(clerk.user, request);
            if (!list.ok()) return list.status();
            return ActivitiesPage(Context(clerk), *list, request.page_token());
          });

  // The other forms: each is parsed into one CaseOffice request, sent for
  // the clerk, and leads back to the page of the record it changed.
  OfficeBackend* node = options_.backend;
  auto to_case = [](const std::string& case_id) {
    return absl::StrCat("/caso/", case_id);
  };
  auto transfer_case = [to_case](const auto& answer) {
    return to_case(answer.transfer().case_id());
  };
  const std::string case_route = absl::StrCat("/caso/(cs_", kIdPattern, ")/");
  auto case_form = [&](const std::string& action, auto parse, auto call,
                       const char* hint) {
    PostForm(
        case_route + action, "/",
        [node, parse, call, hint, to_case](const Clerk& clerk, const Form& form,
                                           const httplib::Request& req) {
          const std::string case_id = req.matches[1];
          return Act(
              parse(case_id, form),
              [&](const auto& r) { return (node->*call)(clerk.user, r); }, hint,
              [&](const auto&) { return to_case(case_id); });
        });
  };
  case_form("etapa", &ParseStageForm, &OfficeBackend::UpdateStage,
            "Ese paso no está permitido desde la etapa actual del caso "
            "(quizá otra persona ya lo movió: recargue la página).");
  case_form("cierre", &ParseCloseForm, &OfficeBackend::CloseCase,
            "El caso no se puede cerrar ahora: un caso en tránsito lo cierra "
            "la región que lo recibe, y un caso cerrado no se cierra de "
            "nuevo.");
  case_form("derivacion", &ParseReferForm, &OfficeBackend::ReferCase,
            "Para derivar un caso hace falta el consentimiento del tutor para "
            "compartirlo con socios, o una base legal que lo permita (medida "
            "de protección de la UPE o disposición fiscal); el socio debe "
            "estar registrado en el nodo y el caso, abierto. Solo se retira "
            "una derivación existente.");
  case_form(
      "traslado",
      [this](const std::string& case_id, const Form& form) {
        return ParseTransferForm(case_id, form, options_.peer_departments);
      },
      &OfficeBackend::RequestTransfer,
      "Solo se puede solicitar el traslado de un caso de víctima a cargo de "
      "esta región, en una etapa de cuidado (acogimiento residencial o "
      "familiar) y sin otro traslado en curso.");
  case_form("servicio", &ParseAddServiceForm, &OfficeBackend::AddService,
            "Solo la región a cargo del caso registra sus servicios, y un caso "
            "cerrado no recibe servicios nuevos.");

  PostForm(
      absl::StrCat("/servicio/(sv_", kIdPattern, ")/estado"), "/",
      [node, to_case](const Clerk& clerk, const Form& form,
                      const httplib::Request& req) {
        return Act(
            ParseUpdateServiceForm(req.matches[1], form),
            [&](const auto& r) { return node->UpdateService(clerk.user, r); },
            "Ese cambio de estado no está permitido para este servicio (un "
            "servicio completado o abandonado ya no cambia), o el caso ya "
            "no está a cargo de esta región.",
            [&](const auto& answer) {
              return to_case(answer.service().case_id());
            });
      });

  // Transfer forms: every answer leads back to the transfer's case.
  const std::string transfer_route =
      absl::StrCat("/traslado/(tr_", kIdPattern, ")/");
  auto transfer_form = [&](const std::string& action, auto parse, auto call,
                           const char* hint) {
    PostForm(
        transfer_route + action, "/",
        [this, node, parse, call, hint, transfer_case](
            const Clerk& clerk, const Form& form, const httplib::Request& req) {
          return Act(
              parse(req.matches[1], form, Today()),
              [&](const auto& r) { return (node->*call)(clerk.user, r); }, hint,
              transfer_case);
        });
  };
  const char* kNotPending =
      "El traslado ya no espera respuesta: quizá otra persona lo respondió o "
      "la región de origen lo canceló. Recargue la página.";
  transfer_form(
      "aceptar",
      [](const std::string& transfer_id, const Form& form,
         absl::CivilDay) -> absl::StatusOr<v1::AcceptTransferRequest> {
        absl::StatusOr<std::string> request_id = RequestIdOf(form);
        if (!request_id.ok()) return request_id.status();
        v1::AcceptTransferRequest request;
        request.set_request_id(*request_id);
        request.set_transfer_id(transfer_id);
        return request;
      },
      &OfficeBackend::AcceptTransfer, kNotPending);
  transfer_form(
      "rechazar",
      [](const std::string& transfer_id, const Form& form, absl::CivilDay) {
        return ParseRejectForm(transfer_id, form);
      },
      &OfficeBackend::RejectTransfer, kNotPending);
  transfer_form(
      "cancelar",
      [](const std::string& transfer_id, const Form& form, absl::CivilDay) {
        return ParseCancelForm(transfer_id, form);
      },
      &OfficeBackend::CancelTransfer,
      "Solo se cancela un traslado antes de la salida de la niña, niño o "
      "adolescente.");
  transfer_form("salida", &ParseDepartForm, &OfficeBackend::DepartTransfer,
                "La salida se confirma cuando el traslado fue aceptado y "
                "todavía no salió.");
  transfer_form("llegada", &ParseReceiveForm, &OfficeBackend::ReceiveTransfer,
                "La llegada se confirma cuando el traslado está en tránsito.");

  // Activities.
  for (const auto& [action, parse] :
       {std::pair{"campana", &ParseAwarenessForm},
        std::pair{"capacitacion", &ParseTrainingForm}}) {
    PostForm(absl::StrCat("/actividades/", action), "/actividades",
             [this, node, parse = parse](const Clerk& clerk, const Form& form,
                                         const httplib::Request&) {
               return Act(
                   parse(form, options_.department),
                   [&](const auto& r) {
                     return node->RecordActivity(clerk.user, r);
                   },
                   "El nodo no acepta esta actividad en su estado actual.",
                   [](const auto&) { return std::string("/actividades"); });
             });
  }
}

ConsoleServer::Outcome ConsoleServer::Intake(const Clerk& clerk,
                                             const Form& form) {
  absl::StatusOr<IntakeForm> intake = ParseIntakeForm(form, Today());
  if (!intake.ok()) return Invalid(intake.status());
  struct WipeOnExit {
    IntakeForm* form;
    ~WipeOnExit() {
      Wipe(form->find.mutable_identifiers());
      Wipe(form->open.mutable_identifiers());
    }
  } wipe{&*intake};

  absl::StatusOr<v1::FindPersonResponse> found =
      options_.backend->FindPerson(clerk.user, intake->find);
  if (!found.ok()) return Refused(found.status());
  std::vector<v1::Case> open_here;
  for (const v1::Case& c : found->cases()) {
    if (c.owner_region() == options_.region && c.stage() != v1::STAGE_CLOSED) {
      open_here.push_back(c);
    }
  }
  if (!open_here.empty() && !intake->confirmed_duplicate) {
    Outcome out;
    out.http_status = 409;
    out.confirm = true;
    out.known.assign(found->cases().begin(), found->cases().end());
    out.error =
        "Esta niña, niño o adolescente ya tiene un caso abierto en la región "
        "(si acaba de enviar este formulario, es el caso que se abrió). "
        "Ábralo en lugar de crear otro, o marque «Abrir un caso nuevo de "
        "todos modos» si es una nueva victimización.";
    return out;
  }
  absl::StatusOr<v1::OpenCaseResponse> opened =
      options_.backend->OpenCase(clerk.user, intake->open);
  if (!opened.ok()) {
    return Refused(opened.status(),
                   "El nodo no puede abrir este caso en su estado actual.");
  }
  std::vector<std::string> earlier;
  for (const v1::Case& c : found->cases()) {
    if (c.case_id() != opened->case_().case_id())
      earlier.push_back(c.case_id());
  }
  std::string go =
      absl::StrCat("/caso/", opened->case_().case_id(), "?nuevo=1");
  if (!earlier.empty()) {
    absl::StrAppend(&go, "&previos=", absl::StrJoin(earlier, "."));
  }
  return Go(go);
}

absl::StatusOr<std::string> ConsoleServer::RenderCase(
    const Clerk& clerk, const std::string& case_id,
    const httplib::Request& req) {
  CaseView view;
  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  absl::StatusOr<v1::GetCaseResponse> got =
      options_.backend->GetCase(clerk.user, get);
  if (!got.ok()) return got.status();
  view.case_record = got->case_();

  v1::ListTransfersRequest transfers;
  transfers.set_case_id(case_id);
  transfers.set_page_size(100);
  absl::StatusOr<v1::ListTransfersResponse> listed =
      options_.backend->ListTransfers(clerk.user, transfers);
  if (!listed.ok()) return listed.status();
  view.transfers.assign(listed->transfers().begin(), listed->transfers().end());
  std::sort(view.transfers.begin(), view.transfers.end(),
            [](const v1::Transfer& a, const v1::Transfer& b) {
              auto key = [](const v1::Transfer& t) {
                return std::make_tuple(t.requested_on().year(),
                                       t.requested_on().month(),
                                       t.requested_on().day(), t.transfer_id());
              };
              return key(a) < key(b);
            });

  v1::ListServicesRequest services;
  services.set_case_id(case_id);
  services.set_page_size(100);
  absl::StatusOr<v1::ListServicesResponse> offered =
      options_.backend->ListServices(clerk.user, services);
  if (!offered.ok()) return offered.status();
  view.services.assign(offered->services().begin(), offered->services().end());

  if (req.has_param("nuevo")) view.notice = "Caso abierto.";
  for (absl::string_view id :
       absl::StrSplit(req.get_param_value("previos"), '.', absl::SkipEmpty())) {
    if (!core::IsValidCaseId(std::string_view(id.data(), id.size())) ||
        view.earlier_cases.size() >= 20)
      continue;
    v1::GetCaseRequest earlier;
    earlier.set_case_id(std::string(id));
    absl::StatusOr<v1::GetCaseResponse> e =
        options_.backend->GetCase(clerk.user, earlier);
    if (e.ok()) view.earlier_cases.push_back(e->case_());
  }
  return CasePage(Context(clerk), view);
}

absl::StatusOr<int> ConsoleServer::Bind(const std::string& host, int port) {
  return web::BindServer(*server_, host, port);
}

void ConsoleServer::Run() { server_->listen_after_bind(); }

void ConsoleServer::Stop() {
  if (server_) server_->stop();
}

}  // namespace ruta::console
