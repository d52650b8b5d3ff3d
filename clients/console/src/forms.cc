#include "ruta/console/forms.h"

#include <sodium.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "ruta/core/free_text.h"
#include "ruta/core/ids.h"
#include "ruta/core/ubigeo.h"

namespace ruta::console {
namespace {

// The last value of `name`, trimmed; "" when absent.
std::string Field(const Form& form, const std::string& name) {
  auto range = form.equal_range(name);
  if (range.first == range.second) return "";
  return std::string(
      absl::StripAsciiWhitespace(std::prev(range.second)->second));
}

bool Checked(const Form& form, const std::string& name) {
  return Field(form, name) == "1";
}

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// An enum value chosen in a select: the contract's name, not UNSPECIFIED.
template <typename Enum>
absl::StatusOr<Enum> Choice(const Form& form, const std::string& name,
                            bool (*parse)(const std::string&, Enum*),
                            const std::string& label) {
  const std::string value = Field(form, name);
  Enum out{};
  if (value.empty() || !parse(value, &out) || static_cast<int>(out) == 0) {
    return Invalid(absl::StrCat("Elija ", label, "."));
  }
  return out;
}

absl::StatusOr<v1::YearMonth> Month(const Form& form, const std::string& name,
                                    const std::string& label) {
  const std::string text = Field(form, name);
  int year = 0, month = 0;
  if (text.size() != 7 || text[4] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5)) ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(5), &month) || month < 1 || month > 12 ||
      year < 2000 || year > 2999) {
    return Invalid(absl::StrCat("Indique ", label, " como mes y año."));
  }
  v1::YearMonth out;
  out.set_year(year);
  out.set_month(month);
  return out;
}

// A day "YYYY-MM-DD" (what <input type=date> posts); nullopt-like empty
// Date when the field is empty and `optional`.
absl::StatusOr<absl::CivilDay> Day(const std::string& text,
                                   const std::string& label) {
  int y = 0, m = 0, d = 0;
  const absl::Status bad =
      Invalid(absl::StrCat("Indique ", label, " como una fecha válida."));
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !AllDigits(text.substr(0, 4)) || !AllDigits(text.substr(5, 2)) ||
      !AllDigits(text.substr(8, 2)) ||
      !absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return bad;
  }
  const absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return bad;
  return day;
}

v1::Date ToDate(absl::CivilDay day) {
  v1::Date out;
  out.set_year(static_cast<int>(day.year()));
  out.set_month(day.month());
  out.set_day(day.day());
  return out;
}

absl::Status ProvinceOf(const std::string& code, const std::string& department,
                        const std::string& label) {
  if (!core::IsKnownProvince(code) ||
      (!department.empty() && code.substr(0, 2) != department)) {
    return Invalid(absl::StrCat("Elija ", label, " de la lista."));
  }
  return absl::OkStatus();
}

// Free text (notes, campaign names): the node's firewall rule, told in
// Spanish before the node refuses it.
absl::Status FreeText(const std::string& text, size_t max_chars,
                      const std::string& label) {
  switch (core::ScanFreeText(text, max_chars)) {
    case core::FreeTextFinding::kNone:
      return absl::OkStatus();
    case core::FreeTextFinding::kTooLong:
      return Invalid(
          absl::StrCat(label, " admite a lo sumo ", max_chars, " caracteres."));
    case core::FreeTextFinding::kLongNumber:
    case core::FreeTextFinding::kPhoneNumber:
    case core::FreeTextFinding::kEmailAddress:
    case core::FreeTextFinding::kSocialHandle:
    case core::FreeTextFinding::kDate:
      return Invalid(absl::StrCat(
          label,
          " parece contener un dato personal (DNI, teléfono, correo, fecha o "
          "cuenta de red social). Estos datos no se registran en texto libre: "
          "quítelo y vuelva a enviar."));
    default:
      return Invalid(
          absl::StrCat(label,
                       " contiene caracteres no permitidos (de control o "
                       "invisibles)."));
  }
}

absl::StatusOr<int64_t> Count(const Form& form, const std::string& name,
                              const std::string& label) {
  int64_t n = 0;
  const std::string text = Field(form, name);
  if (!AllDigits(text) || text.size() > 7 || !absl::SimpleAtoi(text, &n) ||
      n < 1 || n > 1000000) {
    return Invalid(
        absl::StrCat("Indique ", label, " como un número de 1 a 1 000 000."));
  }
  return n;
}

bool IsPartnerId(const std::string& id) {
  const size_t slash = id.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= id.size() ||
      id.size() > 100) {
    return false;
  }
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
          c == '_' || c == '.' || c == '/')) {
      return false;
    }
  }
  return id.find('/', slash + 1) == std::string::npos;
}

}  // namespace

absl::StatusOr<std::string> RequestIdOf(const Form& form) {
  const std::string id = Field(form, "request_id");
  if (!core::IsValidRequestId(id)) {
    return Invalid(
        "El formulario no tiene un identificador de envío válido: recargue "
        "la página y vuelva a enviarlo.");
  }
  return id;
}

std::string NewRequestId() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122
  return absl::StrFormat(
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

namespace {

// The form's request_id into `out` (RequestIdOf's error otherwise).
template <typename Request>
absl::Status SetRequestId(const Form& form, Request* out) {
  absl::StatusOr<std::string> request_id = RequestIdOf(form);
  if (!request_id.ok()) return request_id.status();
  out->set_request_id(*request_id);
  return absl::OkStatus();
}

// The version the page showed (`version`), so that a change made from a
// stale page is refused (ABORTED) instead of overwriting a newer one.
template <typename Request>
void SetExpectedVersion(const Form& form, Request* out) {
  int64_t version = 0;
  if (absl::SimpleAtoi(Field(form, "version"), &version) && version > 0) {
    out->set_expected_version(version);
  }
}

}  // namespace

absl::StatusOr<IntakeForm> ParseIntakeForm(const Form& form,
                                           absl::CivilDay today) {
  IntakeForm out;
  v1::PersonIdentifiers ids;
  const std::string dni = Field(form, "dni");
  if (!dni.empty()) {
    if (dni.size() != 8 || !AllDigits(dni)) {
      return Invalid(
          "El DNI debe tener exactamente 8 dígitos (con los ceros "
          "iniciales).");
    }
    ids.set_dni(dni);
  }
  const std::string cnv = Field(form, "cnv");
  if (!cnv.empty()) {
    if (cnv.size() < 8 || cnv.size() > 12 || !AllDigits(cnv)) {
      return Invalid(
          "El número del Certificado de Nacido Vivo (CNV) debe tener de 8 a "
          "12 dígitos.");
    }
    ids.set_cnv(cnv);
  }
  for (const auto& [name, label] :
       {std::pair<std::string, std::string>{"nombres", "Los nombres"},
        {"apellidos", "Los apellidos"}}) {
    const std::string value = Field(form, name);
    if (value.size() > 200) {
      return Invalid(absl::StrCat(label, " son demasiado largos."));
    }
    for (char c : value) {
      if (absl::ascii_isdigit(c) || (static_cast<unsigned char>(c) < 0x20)) {
        return Invalid(absl::StrCat(label, " no pueden contener números."));
      }
    }
    if (name == "nombres") {
      ids.set_given_names(value);
    } else {
      ids.set_surnames(value);
    }
  }
  const std::string birth = Field(form, "nacimiento");
  if (!birth.empty()) {
    absl::StatusOr<absl::CivilDay> day = Day(birth, "la fecha de nacimiento");
    if (!day.ok()) return day.status();
    if (*day > today || day->year() < 1900) {
      return Invalid(
          "La fecha de nacimiento no puede ser futura ni anterior a 1900.");
    }
    *ids.mutable_birth_date() = ToDate(*day);
  }
  const std::string district = Field(form, "distrito");
  if (!district.empty()) {
    if (!core::IsWellFormedDistrict(district)) {
      return Invalid(
          "El distrito de nacimiento debe ser un código UBIGEO de 6 dígitos "
          "(por ejemplo 080101).");
    }
    ids.set_birth_district(district);
  }
  const bool has_names = !ids.given_names().empty() &&
                         !ids.surnames().empty() && ids.has_birth_date();
  if (ids.dni().empty() && ids.cnv().empty() && !has_names) {
    return Invalid(
        "Para reconocer a la niña, niño o adolescente más adelante, ingrese "
        "su DNI, su CNV, o sus nombres, apellidos y fecha de nacimiento.");
  }

  v1::OpenCaseRequest& open = out.open;
  {
    absl::StatusOr<v1::CaseKind> kind =
        Choice(form, "tipo", &v1::CaseKind_Parse, "el tipo de caso");
    if (!kind.ok()) return kind.status();
    open.set_kind(*kind);
    absl::StatusOr<v1::Stage> stage =
        Choice(form, "etapa", &v1::Stage_Parse, "la etapa inicial");
    if (!stage.ok()) return stage.status();
    if (*stage != v1::STAGE_DETECTED && *stage != v1::STAGE_IDENTIFIED) {
      return Invalid("La etapa inicial es Detectado o Identificado.");
    }
    if (*kind == v1::CASE_KIND_PREVENTION && *stage != v1::STAGE_IDENTIFIED) {
      return Invalid("Un caso de prevención empieza en la etapa Identificado.");
    }
    open.set_initial_stage(*stage);
  }
  v1::Profile& profile = *open.mutable_profile();
  {
    absl::StatusOr<v1::AgeBand> age =
        Choice(form, "edad", &v1::AgeBand_Parse, "el grupo de edad");
    if (!age.ok()) return age.status();
    profile.set_age_band(*age);
    absl::StatusOr<v1::Sex> sex =
        Choice(form, "sexo", &v1::Sex_Parse, "el sexo");
    if (!sex.ok()) return sex.status();
    profile.set_sex(*sex);
  }
  const std::string province = Field(form, "provincia");
  if (absl::Status s = ProvinceOf(province, "", "la provincia de origen");
      !s.ok()) {
    return s;
  }
  profile.set_origin_province(province);
  std::set<int> forms;
  for (auto [it, end] = form.equal_range("forma"); it != end; ++it) {
    v1::ExploitationForm f{};
    if (!v1::ExploitationForm_Parse(it->second, &f) || f == 0) {
      return Invalid("Elija las formas de explotación de la lista.");
    }
    if (forms.insert(f).second) profile.add_exploitation_forms(f);
  }
  if (open.kind() == v1::CASE_KIND_VICTIM && forms.empty()) {
    return Invalid(
        "Marque al menos una forma de explotación (caso de víctima).");
  }
  // Victims: where and how the child was exploited are required; a child
  // at risk (prevention) may have neither.
  const bool victim = open.kind() == v1::CASE_KIND_VICTIM;
  if (victim || !Field(form, "lugar").empty()) {
    absl::StatusOr<v1::Setting> setting =
        Choice(form, "lugar", &v1::Setting_Parse, "el lugar de explotación");
    if (!setting.ok()) return setting.status();
    profile.set_setting(*setting);
  }
  if (victim || !Field(form, "captacion").empty()) {
    absl::StatusOr<v1::RecruitmentMeans> means =
        Choice(form, "captacion", &v1::RecruitmentMeans_Parse,
               "el medio de captación");
    if (!means.ok()) return means.status();
    profile.set_recruitment_means(*means);
  }
  absl::StatusOr<v1::YearMonth> month =
      Month(form, "mes", "el mes de identificación");
  if (!month.ok()) return month.status();
  if (absl::CivilMonth(month->year(), month->month()) >
      absl::CivilMonth(today)) {
    return Invalid("El mes de identificación no puede ser futuro.");
  }
  *profile.mutable_identified_month() = *month;
  absl::StatusOr<v1::LegalBasis> basis =
      Choice(form, "base", &v1::LegalBasis_Parse, "la base legal");
  if (!basis.ok()) return basis.status();
  open.set_legal_basis(*basis);
  open.set_consent_partner_sharing(Checked(form, "consentimiento"));
  if (absl::Status s = SetRequestId(form, &open); !s.ok()) return s;
  *open.mutable_identifiers() = ids;
  *out.find.mutable_identifiers() = std::move(ids);
  out.confirmed_duplicate = Checked(form, "confirmar");
  return out;
}

absl::StatusOr<v1::UpdateStageRequest> ParseStageForm(
    const std::string& case_id, const Form& form) {
  v1::UpdateStageRequest out;
  absl::StatusOr<v1::Stage> stage =
      Choice(form, "etapa", &v1::Stage_Parse, "la nueva etapa");
  if (!stage.ok()) return stage.status();
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_case_id(case_id);
  out.set_stage(*stage);
  SetExpectedVersion(form, &out);
  return out;
}

absl::StatusOr<v1::CloseCaseRequest> ParseCloseForm(const std::string& case_id,
                                                    const Form& form) {
  v1::CloseCaseRequest out;
  absl::StatusOr<v1::ClosedReason> reason =
      Choice(form, "motivo", &v1::ClosedReason_Parse, "el motivo del cierre");
  if (!reason.ok()) return reason.status();
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_case_id(case_id);
  out.set_reason(*reason);
  SetExpectedVersion(form, &out);
  return out;
}

absl::StatusOr<v1::ReferCaseRequest> ParseReferForm(const std::string& case_id,
                                                    const Form& form) {
  v1::ReferCaseRequest out;
  const std::string partner = absl::AsciiStrToLower(Field(form, "socio"));
  if (!IsPartnerId(partner)) {
    return Invalid(
        "Indique el socio como región/nombre, por ejemplo cusco/tdh (lo da el "
        "operador del nodo).");
  }
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_case_id(case_id);
  out.set_partner_id(partner);
  out.set_withdraw(Checked(form, "retirar"));
  return out;
}

absl::StatusOr<v1::RequestTransferRequest> ParseTransferForm(
    const std::string& case_id, const Form& form,
    const std::map<std::string, std::string>& peer_departments) {
  v1::RequestTransferRequest out;
  const std::string region = Field(form, "region");
  auto peer = peer_departments.find(region);
  if (peer == peer_departments.end()) {
    return Invalid("Elija la región de destino de la lista.");
  }
  const std::string province = Field(form, "provincia");
  if (absl::Status s =
          ProvinceOf(province, peer->second, "la provincia de destino");
      !s.ok()) {
    return Invalid(
        "Elija una provincia de destino de la región de destino elegida.");
  }
  std::set<int> seen;
  for (auto [it, end] = form.equal_range("servicio"); it != end; ++it) {
    v1::ServiceType type{};
    if (!v1::ServiceType_Parse(it->second, &type) || type == 0) {
      return Invalid("Elija los servicios solicitados de la lista.");
    }
    if (seen.insert(type).second) out.add_requested_services(type);
  }
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_case_id(case_id);
  out.set_to_region(region);
  out.set_destination_province(province);
  return out;
}

absl::StatusOr<v1::RejectTransferRequest> ParseRejectForm(
    const std::string& transfer_id, const Form& form) {
  v1::RejectTransferRequest out;
  absl::StatusOr<v1::RejectReason> reason =
      Choice(form, "motivo", &v1::RejectReason_Parse, "el motivo del rechazo");
  if (!reason.ok()) return reason.status();
  const std::string note = Field(form, "nota");
  if (absl::Status s = FreeText(note, 280, "La nota"); !s.ok()) return s;
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_transfer_id(transfer_id);
  out.set_reason(*reason);
  out.set_note(note);
  return out;
}

absl::StatusOr<v1::CancelTransferRequest> ParseCancelForm(
    const std::string& transfer_id, const Form& form) {
  v1::CancelTransferRequest out;
  const std::string note = Field(form, "nota");
  if (absl::Status s = FreeText(note, 280, "La nota"); !s.ok()) return s;
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_transfer_id(transfer_id);
  out.set_note(note);
  return out;
}

namespace {

// The optional `fecha` of departure and arrival forms; `what` is "salida"
// or "llegada".
absl::Status OptionalDay(const Form& form, absl::CivilDay today,
                         const std::string& what, v1::Date* out) {
  const std::string text = Field(form, "fecha");
  if (text.empty()) return absl::OkStatus();
  absl::StatusOr<absl::CivilDay> day =
      Day(text, absl::StrCat("la fecha de ", what));
  if (!day.ok()) return day.status();
  if (*day > today) {
    return Invalid(absl::StrCat("La fecha de ", what, " no puede ser futura."));
  }
  *out = ToDate(*day);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::DepartTransferRequest> ParseDepartForm(
    const std::string& transfer_id, const Form& form, absl::CivilDay today) {
  v1::DepartTransferRequest out;
  v1::Date day;
  if (absl::Status s = OptionalDay(form, today, "salida", &day); !s.ok()) {
    return s;
  }
  if (day.year() != 0) *out.mutable_departed_on() = day;
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_transfer_id(transfer_id);
  return out;
}

absl::StatusOr<v1::ReceiveTransferRequest> ParseReceiveForm(
    const std::string& transfer_id, const Form& form, absl::CivilDay today) {
  v1::ReceiveTransferRequest out;
  v1::Date day;
  if (absl::Status s = OptionalDay(form, today, "llegada", &day); !s.ok()) {
    return s;
  }
  if (day.year() != 0) *out.mutable_received_on() = day;
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_transfer_id(transfer_id);
  return out;
}

absl::StatusOr<v1::AddServiceRequest> ParseAddServiceForm(
    const std::string& case_id, const Form& form) {
  v1::AddServiceRequest out;
  absl::StatusOr<v1::ServiceType> type =
      Choice(form, "tipo", &v1::ServiceType_Parse, "el tipo de servicio");
  if (!type.ok()) return type.status();
  absl::StatusOr<v1::ServiceStatus> status = Choice(
      form, "estado", &v1::ServiceStatus_Parse, "el estado del servicio");
  if (!status.ok()) return status.status();
  const std::string provider = absl::AsciiStrToLower(Field(form, "proveedor"));
  if (!provider.empty() && !IsPartnerId(provider)) {
    return Invalid(
        "Indique el proveedor como región/nombre (por ejemplo cusco/tdh), o "
        "déjelo vacío si el servicio lo da la propia autoridad.");
  }
  absl::StatusOr<v1::YearMonth> start =
      Month(form, "inicio", "el mes de inicio");
  if (!start.ok()) return start.status();
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_case_id(case_id);
  out.set_type(*type);
  out.set_provider(provider);
  out.set_status(*status);
  *out.mutable_start_month() = *start;
  return out;
}

absl::StatusOr<v1::UpdateServiceRequest> ParseUpdateServiceForm(
    const std::string& service_id, const Form& form) {
  v1::UpdateServiceRequest out;
  absl::StatusOr<v1::ServiceStatus> status =
      Choice(form, "estado", &v1::ServiceStatus_Parse, "el nuevo estado");
  if (!status.ok()) return status.status();
  if (*status == v1::SERVICE_STATUS_COMPLETED ||
      *status == v1::SERVICE_STATUS_DROPPED) {
    absl::StatusOr<v1::YearMonth> end =
        Month(form, "fin", "el mes en que terminó");
    if (!end.ok()) return end.status();
    *out.mutable_end_month() = *end;
  }
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  out.set_service_id(service_id);
  out.set_status(*status);
  SetExpectedVersion(form, &out);
  return out;
}

absl::StatusOr<v1::RecordActivityRequest> ParseAwarenessForm(
    const Form& form, const std::string& department) {
  v1::RecordActivityRequest out;
  v1::AwarenessActivity& a = *out.mutable_awareness();
  const std::string campaign = Field(form, "campana");
  if (campaign.empty()) return Invalid("Escriba el nombre de la campaña.");
  if (absl::StrContains(campaign, "|")) {
    return Invalid("El nombre de la campaña no puede contener «|».");
  }
  if (absl::Status s = FreeText(campaign, 120, "El nombre de la campaña");
      !s.ok()) {
    return s;
  }
  a.set_campaign(campaign);
  const std::string province = Field(form, "provincia");
  if (absl::Status s = ProvinceOf(province, department, "la provincia");
      !s.ok()) {
    return s;
  }
  a.set_province(province);
  absl::StatusOr<v1::YearMonth> month = Month(form, "mes", "el mes");
  if (!month.ok()) return month.status();
  *a.mutable_month() = *month;
  absl::StatusOr<int64_t> people =
      Count(form, "personas", "las personas alcanzadas");
  if (!people.ok()) return people.status();
  a.set_people_reached(*people);
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  return out;
}

absl::StatusOr<v1::RecordActivityRequest> ParseTrainingForm(
    const Form& form, const std::string& department) {
  v1::RecordActivityRequest out;
  v1::Training& t = *out.mutable_training();
  absl::StatusOr<v1::TrainingLevel> level = Choice(
      form, "nivel", &v1::TrainingLevel_Parse, "el nivel de la capacitación");
  if (!level.ok()) return level.status();
  t.set_level(*level);
  const std::string province = Field(form, "provincia");
  if (absl::Status s = ProvinceOf(province, department, "la provincia");
      !s.ok()) {
    return s;
  }
  t.set_province(province);
  absl::StatusOr<v1::YearMonth> month = Month(form, "mes", "el mes");
  if (!month.ok()) return month.status();
  *t.mutable_month() = *month;
  absl::StatusOr<int64_t> members =
      Count(form, "miembros", "los miembros capacitados");
  if (!members.ok()) return members.status();
  t.set_members_trained(*members);
  if (absl::Status s = SetRequestId(form, &out); !s.ok()) return s;
  return out;
}

}  // namespace ruta::console
