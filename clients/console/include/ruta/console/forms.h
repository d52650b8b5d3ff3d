// The console's forms: from the fields a browser posts to the CaseOffice
// request the console sends. No I/O. Every error is INVALID_ARGUMENT with a
// Spanish sentence for the clerk that names the field and says what to
// write, and never repeats what was typed (a field may hold an identifier).
//
// Field names and values are those of the pages (pages.h): enum values are
// the contract's names ("STAGE_IDENTIFIED"), months "YYYY-MM", days
// "YYYY-MM-DD", provinces 4-digit UBIGEO codes.
#ifndef RUTA_CONSOLE_FORMS_H_
#define RUTA_CONSOLE_FORMS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::console {

// Posted fields, a repeated name with all its values.
using Form = std::multimap<std::string, std::string>;

// The form's `request_id`: a UUID, canonical lower-case 8-4-4-4-12 form, as
// the pages generate (NewRequestId). The node makes every retry with it a
// no-op, so a double click or a resent form never acts twice.
absl::StatusOr<std::string> RequestIdOf(const Form& form);
// A fresh random UUID (version 4) for a form.
std::string NewRequestId();

// The intake form: identifiers (dni, cnv, nombres, apellidos, nacimiento,
// distrito) and profile (tipo, etapa, edad, sexo, provincia, forma..., lugar,
// captacion, mes, base, consentimiento). At least a DNI, a CNV, or names with
// a birth date is required to recognize the child later. `today` bounds the
// birth date and the month of identification.
struct IntakeForm {
  v1::FindPersonRequest find;
  v1::OpenCaseRequest open;
  // The clerk confirmed opening although the child has an open case here.
  bool confirmed_duplicate = false;
};
absl::StatusOr<IntakeForm> ParseIntakeForm(const Form& form,
                                           absl::CivilDay today);

// Stage change: `etapa`.
absl::StatusOr<v1::UpdateStageRequest> ParseStageForm(
    const std::string& case_id, const Form& form);
// Closure: `motivo` (ClosedReason).
absl::StatusOr<v1::CloseCaseRequest> ParseCloseForm(const std::string& case_id,
                                                    const Form& form);
// Referral to a partner: `socio` ("<region>/<name>"), `retirar` = "1" to
// withdraw.
absl::StatusOr<v1::ReferCaseRequest> ParseReferForm(const std::string& case_id,
                                                    const Form& form);
// Transfer request: `region` (a key of `peer_departments`), `provincia` (a
// province of that region's department), `servicio...` (ServiceType).
absl::StatusOr<v1::RequestTransferRequest> ParseTransferForm(
    const std::string& case_id, const Form& form,
    const std::map<std::string, std::string>& peer_departments);
// Rejection: `motivo` (RejectReason), optional `nota`.
absl::StatusOr<v1::RejectTransferRequest> ParseRejectForm(
    const std::string& transfer_id, const Form& form);
// Cancellation: optional `nota`.
absl::StatusOr<v1::CancelTransferRequest> ParseCancelForm(
    const std::string& transfer_id, const Form& form);
// Departure / arrival: optional `fecha` (a day, not after `today`; empty
// means today at the node).
absl::StatusOr<v1::DepartTransferRequest> ParseDepartForm(
    const std::string& transfer_id, const Form& form, absl::CivilDay today);
absl::StatusOr<v1::ReceiveTransferRequest> ParseReceiveForm(
    const std::string& transfer_id, const Form& form, absl::CivilDay today);
// New service: `tipo` (ServiceType), optional `proveedor` (partner id),
// `estado` (ServiceStatus), `inicio` (month).
absl::StatusOr<v1::AddServiceRequest> ParseAddServiceForm(
    const std::string& case_id, const Form& form);
// Service status: `estado`, `fin` (month; required for COMPLETED and
// DROPPED), `version` (the version shown, so that a stale page does not
// overwrite a newer change).
absl::StatusOr<v1::UpdateServiceRequest> ParseUpdateServiceForm(
    const std::string& service_id, const Form& form);
// Awareness activity: `campana`, `provincia` (of `department`), `mes`,
// `personas` (1 to 1,000,000).
absl::StatusOr<v1::RecordActivityRequest> ParseAwarenessForm(
    const Form& form, const std::string& department);
// Training: `nivel` (TrainingLevel), `provincia`, `mes`, `miembros`.
absl::StatusOr<v1::RecordActivityRequest> ParseTrainingForm(
    const Form& form, const std::string& department);

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_FORMS_H_
