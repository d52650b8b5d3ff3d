#include "ruta/console/pages.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ruta/console/forms.h"
#include "ruta/core/stage_machine.h"
#include "ruta/core/ubigeo.h"
#include "ruta/web/http.h"
#include "ruta/web/labels.h"

namespace ruta::console {
namespace {

using web::HtmlEscape;
using web::RegionName;
using web::ValueLabel;

constexpr const char* kMonths[] = {
    "enero", "febrero", "marzo",     "abril",   "mayo",      "junio",
    "julio", "agosto",  "setiembre", "octubre", "noviembre", "diciembre"};

std::string E(absl::string_view text) { return HtmlEscape(text); }

std::string StageLabel(v1::Stage s) { return ValueLabel(v1::Stage_Name(s)); }

std::string ProvinceLabel(const std::string& code) {
  auto name = core::ProvinceName(code);
  return name ? absl::StrCat(std::string(*name), " (", code, ")") : code;
}

// The opening of a form that posts with its CSRF token and a fresh
// request_id; console.js submits it in the background (data-ajax).
std::string FormStart(const PageContext& ctx, const std::string& action,
                      const std::string& id_or_class, bool is_id = false) {
  return absl::StrCat(
      "<form method=\"post\" action=\"", E(action), "\" data-ajax ",
      is_id ? "id=\"" : "class=\"", E(id_or_class),
      "\"><input type=\"hidden\" name=\"csrf\" value=\"", E(ctx.csrf_token),
      "\"><input type=\"hidden\" name=\"request_id\" value=\"", NewRequestId(),
      "\">");
}

// <select> of an enum's values (not UNSPECIFIED).
template <typename Descriptor>
std::string EnumSelect(const std::string& name, const std::string& id,
                       const Descriptor* descriptor, bool required,
                       const std::vector<int>& only = {}) {
  std::string out = absl::StrCat("<select name=\"", name, "\" id=\"", id, "\"",
                                 required ? " required" : "",
                                 "><option value=\"\">—</option>");
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto* v = descriptor->value(i);
    if (v->number() == 0) continue;
    if (!only.empty() &&
        std::find(only.begin(), only.end(), v->number()) == only.end()) {
      continue;
    }
    absl::StrAppend(&out, "<option value=\"", v->name(), "\">",
                    E(ValueLabel(v->name())), "</option>");
  }
  return out + "</select>";
}

template <typename Descriptor>
std::string EnumCheckboxes(const std::string& name,
                           const Descriptor* descriptor) {
  std::string out = "<div class=\"checks\">";
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto* v = descriptor->value(i);
    if (v->number() == 0) continue;
    absl::StrAppend(&out, "<label><input type=\"checkbox\" name=\"", name,
                    "\" value=\"", v->name(), "\"> ", E(ValueLabel(v->name())),
                    "</label>");
  }
  return out + "</div>";
}

// Provinces of `department` ("" = all known ones with a name).
std::string ProvinceSelect(const std::string& name, const std::string& id,
                           const std::string& department) {
  std::string out = absl::StrCat("<select name=\"", name, "\" id=\"", id,
                                 "\" required><option value=\"\">—</option>");
  for (std::string_view code : core::AllUbigeoProvinces()) {
    if (!department.empty() && code.substr(0, 2) != department) continue;
    auto province_name = core::ProvinceName(code);
    if (department.empty() && !province_name) continue;
    absl::StrAppend(&out, "<option value=\"", std::string(code), "\">",
                    E(ProvinceLabel(std::string(code))), "</option>");
  }
  return out + "</select>";
}

std::string MonthValue(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d", day.year(), day.month());
}

std::string CaseLink(const std::string& case_id) {
  return absl::StrCat("<a href=\"/caso/", E(case_id), "\">", E(case_id),
                      "</a>");
}

std::string Layout(const PageContext& ctx, const std::string& title,
                   const std::string& body) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>",
      E(title), " — ruta ", E(RegionName(ctx.region)),
      "</title><link rel=\"stylesheet\" href=\"/style.css\">"
      "<script src=\"/console.js\" defer></script></head><body>"
      "<header><nav><strong>ruta · ",
      E(RegionName(ctx.region)),
      "</strong> <a href=\"/\">Pendientes</a> <a href=\"/ingreso\">Nuevo "
      "caso</a> <a href=\"/casos\">Casos</a> <a "
      "href=\"/actividades\">Actividades</a></nav><form method=\"post\" "
      "action=\"/logout\" id=\"form-salir\"><input type=\"hidden\" "
      "name=\"csrf\" value=\"",
      E(ctx.csrf_token), "\"><span id=\"usuario\">", E(ctx.user),
      "</span> <button type=\"submit\">Salir</button></form></header>"
      "<main><p id=\"aviso\" role=\"alert\" hidden></p><h1>",
      E(title), "</h1>", body, "</main></body></html>\n");
}

std::string TransferRow(const PageContext& ctx, const v1::Transfer& t,
                        bool with_case) {
  const bool incoming = t.to_region() == ctx.region;
  return absl::StrCat(
      "<tr data-transfer=\"", E(t.transfer_id()), "\" data-case=\"",
      E(t.case_id()), "\">",
      with_case ? absl::StrCat("<td>", CaseLink(t.case_id()), "</td>") : "",
      "<td>",
      incoming ? absl::StrCat("desde ", E(RegionName(t.from_region())))
               : absl::StrCat("hacia ", E(RegionName(t.to_region()))),
      "</td><td>", E(ProvinceLabel(t.destination_province())),
      "</td><td class=\"estado\">",
      E(ValueLabel(v1::TransferState_Name(t.state()))), "</td><td>",
      t.has_requested_on() ? E(FormatDate(t.requested_on())) : "",
      "</td></tr>");
}

// What an empty queue that could not be read says instead of "nothing".
constexpr char kUnreadQueue[] =
    "No se pudo leer esta lista (vea el aviso de arriba): puede haber "
    "pendientes que no se muestran.";

std::string TransferTable(const PageContext& ctx, const std::string& id,
                          const std::vector<v1::Transfer>& transfers,
                          const std::string& empty, bool read) {
  if (transfers.empty() && !read) {
    return absl::StrCat("<p class=\"error\" id=\"", id, "\">", E(kUnreadQueue),
                        "</p>");
  }
  if (transfers.empty()) {
    return absl::StrCat("<p class=\"vacio\" id=\"", id, "\">", E(empty),
                        "</p>");
  }
  std::string out = absl::StrCat(
      "<table id=\"", id,
      "\"><thead><tr><th>Caso</th><th>Región</th><th>Provincia de "
      "destino</th><th>Estado</th><th>Solicitado</th></tr></thead><tbody>");
  for (const v1::Transfer& t : transfers) {
    out += TransferRow(ctx, t, /*with_case=*/true);
  }
  return out + "</tbody></table>";
}

std::string ProfileList(const v1::Case& c) {
  const v1::Profile& p = c.profile();
  std::vector<std::string> forms;
  for (int f : p.exploitation_forms()) {
    forms.push_back(ValueLabel(
        v1::ExploitationForm_Name(static_cast<v1::ExploitationForm>(f))));
  }
  auto row = [](const std::string& term, const std::string& value) {
    return absl::StrCat("<dt>", term, "</dt><dd>", E(value), "</dd>");
  };
  std::string out = "<dl class=\"perfil\">";
  out += row("Tipo", ValueLabel(v1::CaseKind_Name(c.kind())));
  out += row("Grupo de edad", ValueLabel(v1::AgeBand_Name(p.age_band())));
  out += row("Sexo", ValueLabel(v1::Sex_Name(p.sex())));
  out += row("Provincia de origen", ProvinceLabel(p.origin_province()));
  if (!forms.empty()) {
    out += row("Formas de explotación", absl::StrJoin(forms, ", "));
  }
  if (p.setting() != 0)
    out += row("Lugar", ValueLabel(v1::Setting_Name(p.setting())));
  if (p.recruitment_means() != 0) {
    out += row("Medio de captación",
               ValueLabel(v1::RecruitmentMeans_Name(p.recruitment_means())));
  }
  out += row("Identificado en", FormatMonth(p.identified_month()));
  out += row("Base legal", ValueLabel(v1::LegalBasis_Name(c.legal_basis())));
  out += row("Consentimiento para compartir con socios",
             c.consent_partner_sharing() ? "Sí" : "No");
  out += row("Región a cargo", RegionName(c.owner_region()));
  return out + "</dl>";
}

// The forms of one transfer that this region may act on.
std::string TransferActions(const PageContext& ctx, const v1::Transfer& t) {
  const bool incoming = t.to_region() == ctx.region;
  const bool outgoing = t.from_region() == ctx.region;
  const std::string base = absl::StrCat("/traslado/", t.transfer_id(), "/");
  std::string out;
  const std::string today = absl::StrFormat("%04d-%02d-%02d", ctx.today.year(),
                                            ctx.today.month(), ctx.today.day());
  if (incoming && t.state() == v1::TRANSFER_STATE_REQUESTED) {
    absl::StrAppend(&out, FormStart(ctx, base + "aceptar", "aceptar"),
                    "<button type=\"submit\">Aceptar el traslado</button>"
                    "</form>");
    absl::StrAppend(
        &out, FormStart(ctx, base + "rechazar", "rechazar"),
        "<label>Motivo del rechazo ",
        EnumSelect("motivo", "motivo-" + t.transfer_id(),
                   v1::RejectReason_descriptor(), true),
        "</label><label>Nota (opcional, sin datos personales) <input "
        "name=\"nota\" maxlength=\"280\" autocomplete=\"off\"></label>"
        "<button type=\"submit\">Rechazar</button></form>");
  }
  if (outgoing && t.state() == v1::TRANSFER_STATE_ACCEPTED) {
    absl::StrAppend(&out, FormStart(ctx, base + "salida", "salida"),
                    "<label>Fecha de salida <input type=\"date\" "
                    "name=\"fecha\" max=\"",
                    today, "\" value=\"", today,
                    "\"></label><button type=\"submit\">Confirmar la "
                    "salida</button></form>");
  }
  if (incoming && t.state() == v1::TRANSFER_STATE_IN_TRANSIT) {
    absl::StrAppend(&out, FormStart(ctx, base + "llegada", "llegada"),
                    "<label>Fecha de llegada <input type=\"date\" "
                    "name=\"fecha\" max=\"",
                    today, "\" value=\"", today,
                    "\"></label><button type=\"submit\">Confirmar la "
                    "llegada</button></form>");
  }
  if (outgoing && (t.state() == v1::TRANSFER_STATE_REQUESTED ||
                   t.state() == v1::TRANSFER_STATE_ACCEPTED)) {
    absl::StrAppend(&out, FormStart(ctx, base + "cancelar", "cancelar"),
                    "<label>Nota (opcional, sin datos personales) <input "
                    "name=\"nota\" maxlength=\"280\" autocomplete=\"off\">"
                    "</label><button type=\"submit\">Cancelar el "
                    "traslado</button></form>");
  }
  return out;
}

std::string TransferTimeline(const v1::Transfer& t) {
  std::vector<std::string> steps;
  if (t.has_requested_on()) {
    steps.push_back(
        absl::StrCat("Solicitado el ", FormatDate(t.requested_on())));
  }
  if (t.has_accepted_on()) {
    steps.push_back(absl::StrCat("aceptado el ", FormatDate(t.accepted_on())));
  }
  if (t.has_departed_on()) {
    steps.push_back(absl::StrCat("salió el ", FormatDate(t.departed_on())));
  }
  if (t.has_received_on()) {
    steps.push_back(absl::StrCat("llegó el ", FormatDate(t.received_on())));
  }
  if (t.state() == v1::TRANSFER_STATE_REJECTED) {
    steps.push_back(absl::StrCat(
        "rechazado: ", ValueLabel(v1::RejectReason_Name(t.reject_reason()))));
  }
  if (t.state() == v1::TRANSFER_STATE_CANCELLED) steps.push_back("cancelado");
  std::string out = E(absl::StrJoin(steps, "; "));
  if (!t.note().empty()) absl::StrAppend(&out, " — «", E(t.note()), "»");
  return out;
}

}  // namespace

std::string FormatDate(const v1::Date& date) {
  if (date.month() < 1 || date.month() > 12) return "";
  return absl::StrCat(date.day(), " de ", kMonths[date.month() - 1], " de ",
                      date.year());
}

std::string FormatMonth(const v1::YearMonth& month) {
  if (month.month() < 1 || month.month() > 12) return "";
  return absl::StrCat(kMonths[month.month() - 1], " de ", month.year());
}

std::string NodeErrorMessage(const absl::Status& status) {
  const std::string detail(status.message());
  switch (status.code()) {
    // CANCELLED: the console never cancels its calls, so the node did (it
    // cancels what it has not answered when it is being stopped).
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return "No se puede contactar al nodo regional (sin conexión o "
             "apagado). Su formulario sigue aquí: vuelva a enviarlo en unos "
             "minutos; no se registrará dos veces.";
    case absl::StatusCode::kDeadlineExceeded:
      return "El nodo regional no respondió a tiempo. Su formulario sigue "
             "aquí: vuelva a enviarlo; no se registrará dos veces.";
    case absl::StatusCode::kNotFound:
      return "El nodo regional no encuentra ese registro en su región.";
    case absl::StatusCode::kAborted:
      return "Otra persona modificó este registro mientras usted lo veía. "
             "Recargue la página y vuelva a intentarlo.";
    case absl::StatusCode::kFailedPrecondition:
      return absl::StrCat(
          "El nodo regional no permite este cambio en el estado actual del "
          "registro (",
          detail, ").");
    case absl::StatusCode::kInvalidArgument:
      return absl::StrCat("El nodo regional rechazó un dato del formulario (",
                          detail, "). Corríjalo y vuelva a enviar.");
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return "El nodo regional rechazó el certificado de la consola: avise "
             "al operador del nodo.";
    default:
      return absl::StrCat("Error del nodo regional (",
                          absl::StatusCodeToString(status.code()),
                          "). Si persiste, avise al operador.");
  }
}

std::string LoginPage(const std::string& csrf, const std::string& message,
                      bool error) {
  std::string notice;
  if (!message.empty()) {
    notice = absl::StrCat("<p class=\"", error ? "error" : "notice",
                          "\" role=\"alert\" id=\"login-message\">", E(message),
                          "</p>");
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>Ingreso — ruta, consola de la "
      "oficina</title><link rel=\"stylesheet\" href=\"/style.css\"></head>"
      "<body class=\"login\"><main><h1>ruta · consola de la oficina</h1>"
      "<p>Ruta de atención de niñas, niños y adolescentes víctimas de trata "
      "(Cusco y Madre de Dios).</p>",
      notice,
      "<form method=\"post\" action=\"/login\" id=\"login-form\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"",
      E(csrf),
      "\"><label for=\"user\">Usuario</label>"
      "<input id=\"user\" name=\"user\" autocomplete=\"username\" required>"
      "<label for=\"password\">Contraseña</label>"
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required>"
      "<button type=\"submit\">Ingresar</button></form>"
      "<p class=\"hint\">Cada ingreso es personal: todo lo que registre queda "
      "a su nombre en la auditoría del nodo. Después de 5 intentos fallidos "
      "la cuenta se bloquea durante 15 minutos.</p></main></body></html>\n");
}

std::string HomePage(const PageContext& ctx, const WorkQueues& q) {
  std::string body;
  for (const std::string& problem : q.problems) {
    absl::StrAppend(&body, "<p class=\"error\">", E(problem), "</p>");
  }
  absl::StrAppend(
      &body, "<section><h2>Traslados por aceptar o rechazar</h2>",
      TransferTable(ctx, "cola-entrantes", q.to_decide,
                    "No hay traslados entrantes por decidir.",
                    q.to_decide_read),
      "</section><section><h2>Salidas por confirmar</h2>",
      TransferTable(ctx, "cola-salidas", q.departures_to_confirm,
                    "No hay salidas por confirmar.",
                    q.departures_to_confirm_read),
      "</section><section><h2>Llegadas esperadas</h2>",
      TransferTable(ctx, "cola-llegadas", q.arrivals_expected,
                    "No se espera ninguna llegada.", q.arrivals_expected_read),
      "</section><section><h2>Traslados sin respuesta hace más de ",
      q.waiting_days, " días</h2>",
      TransferTable(ctx, "cola-demoradas", q.waiting_too_long,
                    "Ningún traslado espera demasiado.",
                    q.waiting_too_long_read),
      "</section><section><h2>Seguimientos vencidos (sin cambios en más de ",
      q.follow_up_days, " días)</h2>");
  if (q.follow_ups_overdue.empty() && !q.follow_ups_overdue_read) {
    absl::StrAppend(&body, "<p class=\"error\" id=\"cola-seguimientos\">",
                    E(kUnreadQueue), "</p>");
  } else if (q.follow_ups_overdue.empty()) {
    body +=
        "<p class=\"vacio\" id=\"cola-seguimientos\">No hay seguimientos "
        "vencidos.</p>";
  } else {
    body +=
        "<table id=\"cola-seguimientos\"><thead><tr><th>Caso</th><th>Grupo "
        "de edad</th><th>Provincia de origen</th></tr></thead><tbody>";
    for (const v1::Case& c : q.follow_ups_overdue) {
      absl::StrAppend(
          &body, "<tr data-case=\"", E(c.case_id()), "\"><td>",
          CaseLink(c.case_id()), "</td><td>",
          E(ValueLabel(v1::AgeBand_Name(c.profile().age_band()))), "</td><td>",
          E(ProvinceLabel(c.profile().origin_province())), "</td></tr>");
    }
    body += "</tbody></table>";
  }
  body += "</section>";
  return Layout(ctx, "Pendientes de la oficina", body);
}

std::string IntakePage(const PageContext& ctx) {
  const std::string body = absl::StrCat(
      "<p>Primero se busca si la niña, niño o adolescente ya es conocido "
      "(en esta región o en un caso compartido con la otra); si no tiene un "
      "caso abierto aquí, se abre el caso. Los datos de identidad solo "
      "sirven para reconocerlo: el nodo los convierte en una referencia "
      "anónima y los descarta; esta consola no los guarda ni los "
      "muestra.</p>",
      FormStart(ctx, "/ingreso", "form-ingreso", true),
      "<fieldset><legend>Identidad (no se guarda)</legend>"
      "<label>DNI <input name=\"dni\" id=\"dni\" inputmode=\"numeric\" "
      "maxlength=\"8\" autocomplete=\"off\"></label>"
      "<label>CNV (Certificado de Nacido Vivo) <input name=\"cnv\" "
      "id=\"cnv\" inputmode=\"numeric\" maxlength=\"12\" "
      "autocomplete=\"off\"></label>"
      "<label>Nombres <input name=\"nombres\" id=\"nombres\" "
      "autocomplete=\"off\"></label>"
      "<label>Apellidos <input name=\"apellidos\" id=\"apellidos\" "
      "autocomplete=\"off\"></label>"
      "<label>Fecha de nacimiento <input type=\"date\" name=\"nacimiento\" "
      "id=\"nacimiento\" autocomplete=\"off\"></label>"
      "<label>Distrito de nacimiento (UBIGEO, 6 dígitos) <input "
      "name=\"distrito\" id=\"distrito\" inputmode=\"numeric\" "
      "maxlength=\"6\" autocomplete=\"off\"></label>"
      "<p class=\"hint\">Ingrese el DNI, el CNV, o nombres, apellidos y "
      "fecha de nacimiento.</p></fieldset>"
      "<fieldset><legend>Caso</legend><label>Tipo de caso ",
      EnumSelect("tipo", "tipo", v1::CaseKind_descriptor(), true),
      "</label><label>Etapa inicial ",
      EnumSelect("etapa", "etapa", v1::Stage_descriptor(), true,
                 {v1::STAGE_DETECTED, v1::STAGE_IDENTIFIED}),
      "</label><label>Grupo de edad ",
      EnumSelect("edad", "edad", v1::AgeBand_descriptor(), true),
      "</label><label>Sexo ",
      EnumSelect("sexo", "sexo", v1::Sex_descriptor(), true),
      "</label><label>Provincia de origen ",
      ProvinceSelect("provincia", "provincia", ""),
      "</label><p>Formas de explotación</p>",
      EnumCheckboxes("forma", v1::ExploitationForm_descriptor()),
      "<label>Lugar de explotación (víctimas) ",
      EnumSelect("lugar", "lugar", v1::Setting_descriptor(), false),
      "</label><label>Medio de captación (víctimas) ",
      EnumSelect("captacion", "captacion", v1::RecruitmentMeans_descriptor(),
                 false),
      "</label><label>Mes de identificación <input type=\"month\" "
      "name=\"mes\" id=\"mes\" required value=\"",
      MonthValue(ctx.today), "\" max=\"", MonthValue(ctx.today),
      "\"></label><label>Base legal ",
      EnumSelect("base", "base", v1::LegalBasis_descriptor(), true),
      "</label><label class=\"check\"><input type=\"checkbox\" "
      "name=\"consentimiento\" value=\"1\"> La madre, el padre o el tutor "
      "consintió compartir el caso con organizaciones socias</label>"
      "</fieldset><div id=\"ingreso-conocidos\"></div>"
      "<label class=\"check\" id=\"confirmar-fila\" hidden><input "
      "type=\"checkbox\" name=\"confirmar\" value=\"1\" id=\"confirmar\"> "
      "Abrir un caso nuevo de todos modos (nueva victimización)</label>"
      "<button type=\"submit\">Buscar y abrir el caso</button></form>");
  return Layout(ctx, "Nuevo caso", body);
}

std::string CasePage(const PageContext& ctx, const CaseView& view) {
  const v1::Case& c = view.case_record;
  const bool owned = c.owner_region() == ctx.region;
  const bool open = c.stage() != v1::STAGE_CLOSED;
  std::string body;
  if (!view.notice.empty()) {
    absl::StrAppend(&body, "<p class=\"notice\" id=\"caso-aviso\">",
                    E(view.notice), "</p>");
  }
  if (!view.earlier_cases.empty()) {
    body +=
        "<section id=\"caso-previos\"><h2>Esta persona ya era "
        "conocida</h2><ul>";
    for (const v1::Case& e : view.earlier_cases) {
      absl::StrAppend(&body, "<li>", CaseLink(e.case_id()), " — ",
                      E(RegionName(e.owner_region())), ", ",
                      E(StageLabel(e.stage())), "</li>");
    }
    body += "</ul></section>";
  }
  absl::StrAppend(&body,
                  "<section id=\"caso-resumen\"><p>Etapa: <strong "
                  "id=\"caso-etapa\">",
                  E(StageLabel(c.stage())), "</strong>");
  if (c.stage() == v1::STAGE_CLOSED) {
    absl::StrAppend(&body, " (",
                    E(ValueLabel(v1::ClosedReason_Name(c.closed_reason()))),
                    ")");
  }
  absl::StrAppend(&body, "</p>", ProfileList(c), "</section>");
  if (!owned) {
    absl::StrAppend(&body,
                    "<p class=\"notice\" id=\"caso-ajeno\">Este caso "
                    "está a cargo de ",
                    E(RegionName(c.owner_region())),
                    ": solo esa región cambia su etapa, sus servicios y sus "
                    "derivaciones. Aquí se ve su avance y se responden los "
                    "traslados hacia esta región.</p>");
  }

  // Stage buttons and closure.
  if (owned && open) {
    const auto kind = static_cast<core::CaseKind>(c.kind());
    const auto stage = static_cast<core::Stage>(c.stage());
    std::vector<core::Stage> next = core::AllowedNextStages(kind, stage);
    next.erase(std::remove(next.begin(), next.end(), core::Stage::kClosed),
               next.end());
    body += "<section><h2>Siguiente paso</h2>";
    if (!next.empty()) {
      absl::StrAppend(
          &body,
          FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/etapa"),
                    "form-etapa", true),
          "<input type=\"hidden\" name=\"version\" value=\"", c.version(),
          "\">");
      for (core::Stage s : next) {
        const auto proto = static_cast<v1::Stage>(s);
        absl::StrAppend(&body,
                        "<button type=\"submit\" name=\"etapa\" value=\"",
                        v1::Stage_Name(proto), "\">Pasar a ",
                        E(StageLabel(proto)), "</button> ");
      }
      body += "</form>";
    }
    if (c.stage() != v1::STAGE_IN_TRANSIT) {
      absl::StrAppend(
          &body,
          FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/cierre"),
                    "form-cierre", true),
          "<input type=\"hidden\" name=\"version\" value=\"", c.version(),
          "\"><label>Motivo del cierre ",
          EnumSelect("motivo", "motivo-cierre", v1::ClosedReason_descriptor(),
                     true),
          "</label><button type=\"submit\">Cerrar el caso</button></form>");
    }
    body += "</section>";
  }

  // Transfers.
  body += "<section><h2>Traslados</h2>";
  if (view.transfers.empty()) {
    body += "<p class=\"vacio\" id=\"caso-traslados\">Sin traslados.</p>";
  } else {
    body += "<ul id=\"caso-traslados\">";
    for (const v1::Transfer& t : view.transfers) {
      const bool incoming = t.to_region() == ctx.region;
      absl::StrAppend(&body, "<li data-transfer=\"", E(t.transfer_id()),
                      "\"><p><strong ", "class=\"estado\">",
                      E(ValueLabel(v1::TransferState_Name(t.state()))),
                      "</strong> — de ", E(RegionName(t.from_region())), " a ",
                      E(RegionName(t.to_region())), ", provincia ",
                      E(ProvinceLabel(t.destination_province())), ". ",
                      TransferTimeline(t), "</p>");
      if (t.requested_services_size() > 0) {
        std::vector<std::string> services;
        for (int s : t.requested_services()) {
          services.push_back(ValueLabel(
              v1::ServiceType_Name(static_cast<v1::ServiceType>(s))));
        }
        absl::StrAppend(&body, "<p>Servicios solicitados: ",
                        E(absl::StrJoin(services, ", ")), "</p>");
      }
      (void)incoming;
      absl::StrAppend(&body, TransferActions(ctx, t), "</li>");
    }
    body += "</ul>";
  }
  const auto kind = static_cast<core::CaseKind>(c.kind());
  const auto stage = static_cast<core::Stage>(c.stage());
  std::vector<core::Stage> lifecycle =
      core::AllowedLifecycleStages(kind, stage);
  const bool can_request =
      owned && std::find(lifecycle.begin(), lifecycle.end(),
                         core::Stage::kTransferRequested) != lifecycle.end();
  if (can_request && !ctx.peer_departments.empty()) {
    std::string regions =
        "<select name=\"region\" id=\"traslado-region\" required>";
    std::string provinces =
        "<select name=\"provincia\" id=\"traslado-provincia\" required>"
        "<option value=\"\">—</option>";
    for (const auto& [slug, department] : ctx.peer_departments) {
      absl::StrAppend(&regions, "<option value=\"", E(slug), "\">",
                      E(RegionName(slug)), "</option>");
      absl::StrAppend(&provinces, "<optgroup label=\"", E(RegionName(slug)),
                      "\">");
      for (std::string_view code : core::AllUbigeoProvinces()) {
        if (code.substr(0, 2) != department) continue;
        absl::StrAppend(&provinces, "<option value=\"", std::string(code),
                        "\">", E(ProvinceLabel(std::string(code))),
                        "</option>");
      }
      provinces += "</optgroup>";
    }
    regions += "</select>";
    provinces += "</select>";
    absl::StrAppend(
        &body, "<h3>Solicitar un traslado</h3>",
        FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/traslado"),
                  "form-traslado", true),
        "<label>Región de destino ", regions,
        "</label><label>Provincia a la que vuelve ", provinces,
        "</label><p>Servicios que se piden a la región de destino</p>",
        EnumCheckboxes("servicio", v1::ServiceType_descriptor()),
        "<button type=\"submit\">Solicitar el traslado</button></form>");
  }
  body += "</section>";

  // Services.
  body += "<section><h2>Servicios</h2>";
  if (view.services.empty()) {
    body += "<p class=\"vacio\" id=\"caso-servicios\">Sin servicios.</p>";
  } else {
    body +=
        "<table id=\"caso-servicios\"><thead><tr><th>Servicio</th>"
        "<th>Proveedor</th><th>Estado</th><th>Desde</th><th>Hasta</th>"
        "<th></th></tr></thead><tbody>";
    for (const v1::ServiceRecord& s : view.services) {
      absl::StrAppend(&body, "<tr data-service=\"", E(s.service_id()),
                      "\"><td>", E(ValueLabel(v1::ServiceType_Name(s.type()))),
                      "</td><td>",
                      s.provider().empty() ? "La autoridad" : E(s.provider()),
                      "</td><td class=\"estado\">",
                      E(ValueLabel(v1::ServiceStatus_Name(s.status()))),
                      "</td><td>", E(FormatMonth(s.start_month())), "</td><td>",
                      E(FormatMonth(s.end_month())), "</td><td>");
      if (owned && open) {
        absl::StrAppend(
            &body,
            FormStart(ctx,
                      absl::StrCat("/servicio/", s.service_id(), "/estado"),
                      "servicio-estado"),
            "<input type=\"hidden\" name=\"version\" value=\"", s.version(),
            "\">",
            EnumSelect("estado", "estado-" + s.service_id(),
                       v1::ServiceStatus_descriptor(), true),
            "<input type=\"month\" name=\"fin\" aria-label=\"Mes en que "
            "terminó\" max=\"",
            MonthValue(ctx.today),
            "\"><button type=\"submit\">Actualizar</button></form>");
      }
      body += "</td></tr>";
    }
    body += "</tbody></table>";
  }
  if (owned && open) {
    absl::StrAppend(
        &body, "<h3>Registrar un servicio</h3>",
        FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/servicio"),
                  "form-servicio", true),
        "<label>Servicio ",
        EnumSelect("tipo", "servicio-tipo", v1::ServiceType_descriptor(), true),
        "</label><label>Proveedor (socio región/nombre; vacío si es la "
        "autoridad) <input name=\"proveedor\" id=\"servicio-proveedor\" "
        "autocomplete=\"off\"></label><label>Estado ",
        EnumSelect("estado", "servicio-estado", v1::ServiceStatus_descriptor(),
                   true),
        "</label><label>Mes de inicio <input type=\"month\" name=\"inicio\" "
        "id=\"servicio-inicio\" required value=\"",
        MonthValue(ctx.today),
        "\"></label><button type=\"submit\">Registrar el servicio</button>"
        "</form>");
  }
  body += "</section>";

  // Referrals to partners.
  if (owned) {
    body += "<section><h2>Derivaciones a organizaciones socias</h2>";
    if (c.referrals().empty()) {
      body +=
          "<p class=\"vacio\" id=\"caso-derivaciones\">Sin derivaciones.</p>";
    } else {
      body += "<ul id=\"caso-derivaciones\">";
      for (const std::string& partner : c.referrals()) {
        absl::StrAppend(
            &body, "<li data-partner=\"", E(partner), "\">", E(partner),
            FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/derivacion"),
                      "retirar"),
            "<input type=\"hidden\" name=\"socio\" value=\"", E(partner),
            "\"><input type=\"hidden\" name=\"retirar\" value=\"1\"><button "
            "type=\"submit\">Retirar</button></form></li>");
      }
      body += "</ul>";
    }
    if (open) {
      absl::StrAppend(
          &body,
          FormStart(ctx, absl::StrCat("/caso/", c.case_id(), "/derivacion"),
                    "form-derivar", true),
          "<label>Socio (región/nombre, por ejemplo cusco/tdh) <input "
          "name=\"socio\" id=\"derivar-socio\" required "
          "autocomplete=\"off\"></label><button type=\"submit\">Derivar"
          "</button></form>");
    }
    body += "</section>";
  }
  return Layout(ctx, absl::StrCat("Caso ", c.case_id()), body);
}

std::string CasesPage(const PageContext& ctx, const v1::ListCasesResponse& list,
                      v1::Stage stage_filter, const std::string& page_token) {
  std::string body = absl::StrCat(
      "<form method=\"get\" action=\"/casos\" id=\"form-filtro\"><label>Etapa ",
      EnumSelect("etapa", "filtro-etapa", v1::Stage_descriptor(), false),
      "</label><button type=\"submit\">Filtrar</button></form>");
  if (stage_filter != v1::STAGE_UNSPECIFIED) {
    absl::StrAppend(&body, "<p>Casos en la etapa ", E(StageLabel(stage_filter)),
                    ".</p>");
  }
  if (list.cases().empty()) {
    body += "<p class=\"vacio\" id=\"casos\">Ningún caso.</p>";
  } else {
    body +=
        "<table id=\"casos\"><thead><tr><th>Caso</th><th>Tipo</th>"
        "<th>Etapa</th><th>Grupo de edad</th><th>Provincia de origen</th>"
        "</tr></thead><tbody>";
    for (const v1::Case& c : list.cases()) {
      absl::StrAppend(
          &body, "<tr data-case=\"", E(c.case_id()), "\"><td>",
          CaseLink(c.case_id()), "</td><td>",
          E(ValueLabel(v1::CaseKind_Name(c.kind()))), "</td><td>",
          E(StageLabel(c.stage())), "</td><td>",
          E(ValueLabel(v1::AgeBand_Name(c.profile().age_band()))), "</td><td>",
          E(ProvinceLabel(c.profile().origin_province())), "</td></tr>");
    }
    body += "</tbody></table>";
  }
  if (!list.next_page_token().empty()) {
    absl::StrAppend(
        &body, "<p><a id=\"siguiente\" href=\"/casos?pagina=",
        E(list.next_page_token()),
        stage_filter != v1::STAGE_UNSPECIFIED
            ? absl::StrCat("&amp;etapa=", v1::Stage_Name(stage_filter))
            : "",
        "\">Siguiente página</a></p>");
  }
  (void)page_token;
  return Layout(ctx, "Casos abiertos de la región", body);
}

std::string ActivitiesPage(const PageContext& ctx,
                           const v1::ListActivitiesResponse& list,
                           const std::string& page_token) {
  std::string body = absl::StrCat(
      "<section><h2>Registrar una campaña de sensibilización</h2>",
      FormStart(ctx, "/actividades/campana", "form-campana", true),
      "<label>Campaña <input name=\"campana\" id=\"campana\" required "
      "maxlength=\"120\" autocomplete=\"off\"></label><label>Provincia ",
      ProvinceSelect("provincia", "campana-provincia", ctx.department),
      "</label><label>Mes <input type=\"month\" name=\"mes\" required "
      "value=\"",
      MonthValue(ctx.today),
      "\"></label><label>Personas alcanzadas <input type=\"number\" "
      "name=\"personas\" id=\"campana-personas\" min=\"1\" max=\"1000000\" "
      "required></label><button type=\"submit\">Registrar</button></form>"
      "</section><section><h2>Registrar una capacitación</h2>",
      FormStart(ctx, "/actividades/capacitacion", "form-capacitacion", true),
      "<label>Nivel ",
      EnumSelect("nivel", "capacitacion-nivel", v1::TrainingLevel_descriptor(),
                 true),
      "</label><label>Provincia ",
      ProvinceSelect("provincia", "capacitacion-provincia", ctx.department),
      "</label><label>Mes <input type=\"month\" name=\"mes\" required "
      "value=\"",
      MonthValue(ctx.today),
      "\"></label><label>Miembros capacitados <input type=\"number\" "
      "name=\"miembros\" min=\"1\" max=\"1000000\" required></label>"
      "<button type=\"submit\">Registrar</button></form></section>"
      "<section><h2>Registradas</h2>");
  if (list.activities().empty()) {
    body += "<p class=\"vacio\" id=\"actividades\">Ninguna actividad.</p>";
  } else {
    body +=
        "<table id=\"actividades\"><thead><tr><th>Actividad</th>"
        "<th>Provincia</th><th>Mes</th><th>Personas</th></tr></thead><tbody>";
    for (const v1::Activity& a : list.activities()) {
      if (a.has_awareness()) {
        const v1::AwarenessActivity& w = a.awareness();
        absl::StrAppend(&body, "<tr><td>Campaña «", E(w.campaign()),
                        "»</td><td>", E(ProvinceLabel(w.province())),
                        "</td><td>", E(FormatMonth(w.month())), "</td><td>",
                        w.people_reached(), "</td></tr>");
      } else {
        const v1::Training& t = a.training();
        absl::StrAppend(&body, "<tr><td>Capacitación ",
                        E(ValueLabel(v1::TrainingLevel_Name(t.level()))),
                        "</td><td>", E(ProvinceLabel(t.province())),
                        "</td><td>", E(FormatMonth(t.month())), "</td><td>",
                        t.members_trained(), "</td></tr>");
      }
    }
    body += "</tbody></table>";
  }
  if (!list.next_page_token().empty()) {
    absl::StrAppend(&body, "<p><a href=\"/actividades?pagina=",
                    E(list.next_page_token()), "\">Siguiente página</a></p>");
  }
  (void)page_token;
  body += "</section>";
  return Layout(ctx, "Actividades de prevención", body);
}

std::string MessagePage(const PageContext& ctx, const std::string& title,
                        const std::string& message, const std::string& back) {
  return Layout(
      ctx, title,
      absl::StrCat("<p class=\"error\" id=\"mensaje\">", E(message),
                   "</p><p><a href=\"", E(back), "\">Volver</a></p>"));
}

}  // namespace ruta::console
