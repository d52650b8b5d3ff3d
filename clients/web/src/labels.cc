#include "ruta/web/labels.h"

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ruta/core/ubigeo.h"

namespace ruta::web {
namespace {

const std::map<std::string, std::string, std::less<>>& Headers() {
  static const auto* m = new std::map<std::string, std::string, std::less<>>{
      {"region", "Región"},
      {"stage", "Etapa"},
      {"quarter", "Trimestre"},
      {"age_band", "Grupo de edad"},
      {"sex", "Sexo"},
      {"province", "Provincia"},
      {"origin_province", "Provincia de origen"},
      {"destination_province", "Provincia de destino"},
      {"exploitation_form", "Forma de explotación"},
      {"setting", "Lugar de explotación"},
      {"recruitment_means", "Medio de captación"},
      {"kind", "Tipo de caso"},
      {"case_kind", "Tipo de caso"},
      {"closed_reason", "Motivo de cierre"},
      {"transfer_state", "Estado del traslado"},
      {"service_type", "Servicio"},
      {"service_status", "Estado del servicio"},
      {"measure", "Medida"},
      {"work", "Trabajo pendiente"},
      {"campaign", "Campaña"},
      {"level", "Nivel"},
      {"from_region", "Región de origen"},
      {"to_region", "Región de destino"},
      {"cases", "Casos"},
      {"count", "Casos"},
      {"transfers", "Traslados"},
      {"services", "Servicios"},
      {"children", "Niñas, niños y adolescentes"},
      {"items", "Pendientes"},
      {"people_reached", "Personas alcanzadas"},
      {"activities", "Actividades"},
      {"members_trained", "Miembros capacitados"},
      {"p90_days", "Percentil 90 de días"},
      {"median_days", "Mediana de días"},
      {"mean_days", "Promedio de días"},
      {"total", "Total"},
  };
  return *m;
}

// Enum values without their type prefix.
const std::map<std::string, std::string, std::less<>>& Values() {
  static const auto* m = new std::map<std::string, std::string, std::less<>>{
      // Stage
      {"DETECTED", "Detectado"},
      {"IDENTIFIED", "Identificado"},
      {"IMMEDIATE_PROTECTION", "Protección inmediata"},
      {"RESIDENTIAL_CARE", "Acogimiento residencial"},
      {"FAMILY_CARE", "Acogimiento familiar"},
      {"TRANSFER_REQUESTED", "Traslado solicitado"},
      {"IN_TRANSIT", "En tránsito"},
      {"RECEIVED", "Recibido"},
      {"REINTEGRATION_PLAN", "Plan de reintegración"},
      {"FOLLOW_UP", "Seguimiento"},
      {"CLOSED", "Cerrado"},
      {"PREVENTION_SUPPORT", "Apoyo preventivo"},
      // AgeBand
      {"0_5", "0 a 5 años"},
      {"6_11", "6 a 11 años"},
      {"12_14", "12 a 14 años"},
      {"15_17", "15 a 17 años"},
      {"18_PLUS", "18 años o más"},
      // Sex
      {"FEMALE", "Femenino"},
      {"MALE", "Masculino"},
      // CaseKind
      {"VICTIM", "Víctima"},
      {"PREVENTION", "Prevención"},
      // ExploitationForm
      {"SEXUAL", "Explotación sexual"},
      {"LABOUR", "Explotación laboral"},
      {"DOMESTIC_SERVITUDE", "Servidumbre doméstica"},
      {"FORCED_BEGGING", "Mendicidad forzada"},
      // Setting
      {"MINING_CAMP", "Campamento minero"},
      {"BAR", "Bar"},
      {"LODGING", "Hospedaje"},
      {"DOMESTIC", "Hogar"},
      {"ONLINE", "En línea"},
      // RecruitmentMeans
      {"FALSE_JOB_OFFER", "Falsa oferta de empleo"},
      {"FAMILY", "Familia"},
      {"PARTNER", "Pareja"},
      {"INTERNET", "Internet"},
      // ClosedReason
      {"REINTEGRATED", "Reintegrado"},
      {"REACHED_MAJORITY", "Alcanzó la mayoría de edad"},
      {"REFERRED", "Derivado"},
      {"LOST_CONTACT", "Contacto perdido"},
      {"REVICTIMIZED", "Revictimizado"},
      {"DECEASED", "Fallecido"},
      // TransferState (IN_TRANSIT and RECEIVED as for stages)
      {"REQUESTED", "Solicitado"},
      {"ACCEPTED", "Aceptado"},
      {"REJECTED", "Rechazado"},
      {"CANCELLED", "Cancelado"},
      // ServiceType (RESIDENTIAL_CARE as for stages)
      {"EDUCATION_SUPPORT", "Apoyo educativo"},
      {"VOCATIONAL_TRAINING", "Formación técnica"},
      {"PSYCHOSOCIAL", "Apoyo psicosocial"},
      {"FAMILY_ECONOMIC_SUPPORT", "Apoyo económico familiar"},
      {"HEALTH", "Salud"},
      {"LEGAL", "Asistencia legal"},
      {"IDENTITY_DOCUMENTS", "Documentos de identidad"},
      // ServiceStatus
      {"PLANNED", "Planificado"},
      {"ONGOING", "En curso"},
      {"COMPLETED", "Completado"},
      {"DROPPED", "Abandonado"},
      // Transfer times' measures and stalled work
      {"ACCEPTANCE", "Días hasta la aceptación"},
      {"ARRIVAL", "Días hasta la llegada"},
      {"TRANSFER_NOT_ACCEPTED", "Traslado sin aceptar"},
      {"FOLLOW_UP_OVERDUE", "Seguimiento vencido"},
      // TrainingLevel
      // LegalBasis
      {"UPE_PROTECTIVE_MEASURE", "Medida de protección de la UPE"},
      {"PROSECUTOR_ORDER", "Disposición fiscal"},
      {"WRITTEN_CONSENT", "Consentimiento escrito"},
      // RejectReason
      {"NO_CAPACITY", "Sin capacidad de atención"},
      {"INCOMPLETE_REQUEST", "Solicitud incompleta"},
      {"WRONG_REGION", "Región equivocada"},
      {"RISK_AT_DESTINATION", "Riesgo en el destino"},
      {"COMMUNITY", "Comunal"},
      {"LOCAL", "Local"},
      {"REGIONAL", "Regional"},
      // Shared
      {"OTHER", "Otro"},
      {"UNKNOWN", "Desconocido"},
      {"TOTAL", "Total"},
      {"ALL", "Total"},
  };
  return *m;
}

constexpr std::string_view kPrefixes[] = {
    "STAGE_",
    "AGE_BAND_",
    "SEX_",
    "CASE_KIND_",
    "EXPLOITATION_FORM_",
    "SETTING_",
    "RECRUITMENT_MEANS_",
    "CLOSED_REASON_",
    "TRANSFER_STATE_",
    "SERVICE_TYPE_",
    "SERVICE_STATUS_",
    "TRAINING_LEVEL_",
    "LEGAL_BASIS_",
    "REJECT_REASON_",
};

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

}  // namespace

std::string HeaderLabel(std::string_view name) {
  auto it = Headers().find(name);
  // The columns of a crossed table are values of its column dimension
  // ("FEMALE", "TOTAL").
  return it == Headers().end() ? ValueLabel(name) : it->second;
}

std::string RegionName(std::string_view slug) {
  if (slug == "cusco") return "Cusco";
  if (slug == "madre-de-dios") return "Madre de Dios";
  return std::string(slug);
}

bool IsTotalLabel(std::string_view value) {
  const std::string upper = absl::AsciiStrToUpper(std::string(value));
  return upper == "TOTAL" || upper == "ALL";
}

std::string ValueLabel(std::string_view value) {
  if (value == "cusco" || value == "madre-de-dios") return RegionName(value);
  if (value.size() == 4 && AllDigits(value)) {
    if (auto name = core::ProvinceName(value)) return std::string(*name);
    return std::string(value);
  }
  // "2026Q3" -> "2026 T3"
  if (value.size() == 6 && AllDigits(value.substr(0, 4)) && value[4] == 'Q' &&
      value[5] >= '1' && value[5] <= '4') {
    return std::string(value.substr(0, 4)) + " T" +
           std::string(value.substr(5));
  }
  std::string_view bare = value;
  for (std::string_view prefix : kPrefixes) {
    if (bare.substr(0, prefix.size()) == prefix) {
      bare.remove_prefix(prefix.size());
      break;
    }
  }
  auto it = Values().find(bare);
  if (it == Values().end())
    it = Values().find(absl::AsciiStrToUpper(std::string(bare)));
  return it == Values().end() ? std::string(value) : it->second;
}

}  // namespace ruta::web
