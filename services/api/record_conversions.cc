// proto <-> domain for transfers, services and whole cases (the records that
// travel between regions and the transfer requests of CaseOffice).
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "ruta/api/conversions.h"
#include "ruta/common/status_macros.h"

namespace ruta::api {
namespace {

using google::protobuf::util::TimeUtil;

template <typename DomainEnum>
absl::StatusOr<DomainEnum> EnumFrom(int value, bool (*is_valid)(int),
                                    absl::string_view field) {
  if (!is_valid(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown value ", value));
  }
  return static_cast<DomainEnum>(value);
}

void DateToProto(const core::Date& in, v1::Date* out) {
  out->set_year(in.year);
  out->set_month(in.month);
  out->set_day(in.day);
}

// An unset proto date (all zero) gives an unset date.
absl::StatusOr<core::Date> DateFrom(const v1::Date& in,
                                    absl::string_view field) {
  core::Date d{in.year(), in.month(), in.day()};
  if (d.year == 0 && d.month == 0 && d.day == 0) return core::Date{};
  if (!core::IsValidDate(d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is not a valid calendar day between 2000 and 2199"));
  }
  return d;
}

core::YearMonth MonthFrom(const v1::YearMonth& in) {
  return core::YearMonth{in.year(), in.month()};
}

void MonthToProto(const core::YearMonth& in, v1::YearMonth* out) {
  out->set_year(in.year);
  out->set_month(in.month);
}

absl::Time TimeFrom(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

}  // namespace

void ToProto(const core::Transfer& t, v1::Transfer* out) {
  out->set_transfer_id(t.transfer_id);
  out->set_case_id(t.case_id);
  out->set_from_region(t.from_region);
  out->set_to_region(t.to_region);
  out->set_destination_province(t.destination_province);
  for (core::ServiceType type : t.requested_services) {
    out->add_requested_services(static_cast<v1::ServiceType>(type));
  }
  const core::TransferState state = core::TransferStateOf(t);
  out->set_state(static_cast<v1::TransferState>(state));
  if (state == core::TransferState::kRejected) {
    out->set_reject_reason(static_cast<v1::RejectReason>(t.reject_reason));
    out->set_note(t.reject_note);
  } else if (state == core::TransferState::kCancelled) {
    out->set_note(t.cancel_note);
  }
  if (t.requested_on.is_set()) {
    DateToProto(t.requested_on, out->mutable_requested_on());
    out->mutable_requested_month()->set_year(t.requested_on.year);
    out->mutable_requested_month()->set_month(t.requested_on.month);
  }
  if (t.accepted_on.is_set()) {
    DateToProto(t.accepted_on, out->mutable_accepted_on());
  }
  if (t.departed_on.is_set()) {
    DateToProto(t.departed_on, out->mutable_departed_on());
  }
  if (t.received_on.is_set()) {
    DateToProto(t.received_on, out->mutable_received_on());
  }
  out->set_version(core::TransferVersionOf(t));
}

absl::StatusOr<core::Transfer> FromProto(const v1::Transfer& in) {
  core::Transfer t;
  t.transfer_id = in.transfer_id();
  t.case_id = in.case_id();
  t.from_region = in.from_region();
  t.to_region = in.to_region();
  t.destination_province = in.destination_province();
  for (int type : in.requested_services()) {
    RUTA_ASSIGN_OR_RETURN(
        core::ServiceType st,
        EnumFrom<core::ServiceType>(type, v1::ServiceType_IsValid,
                                    "transfer.requested_services"));
    t.requested_services.push_back(st);
  }
  RUTA_ASSIGN_OR_RETURN(
      core::TransferState state,
      EnumFrom<core::TransferState>(in.state(), v1::TransferState_IsValid,
                                    "transfer.state"));
  RUTA_ASSIGN_OR_RETURN(t.requested_on,
                        DateFrom(in.requested_on(), "transfer.requested_on"));
  RUTA_ASSIGN_OR_RETURN(t.accepted_on,
                        DateFrom(in.accepted_on(), "transfer.accepted_on"));
  RUTA_ASSIGN_OR_RETURN(t.departed_on,
                        DateFrom(in.departed_on(), "transfer.departed_on"));
  RUTA_ASSIGN_OR_RETURN(t.received_on,
                        DateFrom(in.received_on(), "transfer.received_on"));
  if (state == core::TransferState::kRejected) {
    t.rejected = true;
    RUTA_ASSIGN_OR_RETURN(t.reject_reason,
                          EnumFrom<core::RejectReason>(
                              in.reject_reason(), v1::RejectReason_IsValid,
                              "transfer.reject_reason"));
    t.reject_note = in.note();
  } else if (state == core::TransferState::kCancelled) {
    t.cancelled = true;
    t.cancel_note = in.note();
  }
  if (core::TransferStateOf(t) != state) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transfer ", t.transfer_id, ": state ", core::TransferStateName(state),
        " does not match its dates"));
  }
  return t;
}

void ToProto(const core::ServiceRecord& s, v1::ServiceRecord* out) {
  out->set_service_id(s.service_id);
  out->set_case_id(s.case_id);
  out->set_type(static_cast<v1::ServiceType>(s.type));
  out->set_provider(s.provider);
  out->set_status(static_cast<v1::ServiceStatus>(s.status));
  MonthToProto(s.start_month, out->mutable_start_month());
  if (s.end_month.year != 0) {
    MonthToProto(s.end_month, out->mutable_end_month());
  }
  out->set_version(s.version);
}

absl::StatusOr<core::ServiceRecord> FromProto(const v1::ServiceRecord& in) {
  core::ServiceRecord s;
  s.service_id = in.service_id();
  s.case_id = in.case_id();
  RUTA_ASSIGN_OR_RETURN(
      s.type, EnumFrom<core::ServiceType>(in.type(), v1::ServiceType_IsValid,
                                          "service.type"));
  s.provider = in.provider();
  RUTA_ASSIGN_OR_RETURN(
      s.status, EnumFrom<core::ServiceStatus>(
                    in.status(), v1::ServiceStatus_IsValid, "service.status"));
  s.start_month = MonthFrom(in.start_month());
  s.end_month = MonthFrom(in.end_month());
  s.version = in.version();
  return s;
}

absl::StatusOr<core::Case> CaseFromProto(const v1::Case& in) {
  core::Case c;
  c.case_id = in.case_id();
  c.person_ref = in.person_ref();
  RUTA_ASSIGN_OR_RETURN(
      c.kind,
      EnumFrom<core::CaseKind>(in.kind(), v1::CaseKind_IsValid, "case.kind"));
  c.owner_region = in.owner_region();
  RUTA_ASSIGN_OR_RETURN(
      c.stage,
      EnumFrom<core::Stage>(in.stage(), v1::Stage_IsValid, "case.stage"));
  RUTA_ASSIGN_OR_RETURN(
      c.closed_reason,
      EnumFrom<core::ClosedReason>(in.closed_reason(), v1::ClosedReason_IsValid,
                                   "case.closed_reason"));
  RUTA_ASSIGN_OR_RETURN(c.profile, ProfileFromProtoPublic(in.profile()));
  RUTA_ASSIGN_OR_RETURN(
      c.legal_basis,
      EnumFrom<core::LegalBasis>(in.legal_basis(), v1::LegalBasis_IsValid,
                                 "case.legal_basis"));
  c.consent_partner_sharing = in.consent_partner_sharing();
  c.version = in.version();
  c.opened_at = TimeFrom(in.opened_at());
  c.updated_at = TimeFrom(in.updated_at());
  return c;
}

absl::StatusOr<core::RequestTransferCommand> FromProto(
    const v1::RequestTransferRequest& in) {
  core::RequestTransferCommand out;
  out.request_id = in.request_id();
  out.case_id = in.case_id();
  out.to_region = in.to_region();
  out.destination_province = in.destination_province();
  for (int type : in.requested_services()) {
    RUTA_ASSIGN_OR_RETURN(
        core::ServiceType st,
        EnumFrom<core::ServiceType>(type, v1::ServiceType_IsValid,
                                    "requested_services"));
    out.requested_services.push_back(st);
  }
  return out;
}

absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::AcceptTransferRequest& in) {
  core::TransferStepCommand out;
  out.request_id = in.request_id();
  out.transfer_id = in.transfer_id();
  return out;
}

absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::RejectTransferRequest& in) {
  core::TransferStepCommand out;
  out.request_id = in.request_id();
  out.transfer_id = in.transfer_id();
  RUTA_ASSIGN_OR_RETURN(out.reject_reason,
                        EnumFrom<core::RejectReason>(
                            in.reason(), v1::RejectReason_IsValid, "reason"));
  out.note = in.note();
  return out;
}

absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::DepartTransferRequest& in) {
  core::TransferStepCommand out;
  out.request_id = in.request_id();
  out.transfer_id = in.transfer_id();
  RUTA_ASSIGN_OR_RETURN(out.on, DateFrom(in.departed_on(), "departed_on"));
  return out;
}

absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::ReceiveTransferRequest& in) {
  core::TransferStepCommand out;
  out.request_id = in.request_id();
  out.transfer_id = in.transfer_id();
  RUTA_ASSIGN_OR_RETURN(out.on, DateFrom(in.received_on(), "received_on"));
  return out;
}

absl::StatusOr<core::TransferStepCommand> FromProto(
    const v1::CancelTransferRequest& in) {
  core::TransferStepCommand out;
  out.request_id = in.request_id();
  out.transfer_id = in.transfer_id();
  out.note = in.note();
  return out;
}

absl::StatusOr<core::ListTransfersQuery> FromProto(
    const v1::ListTransfersRequest& in) {
  core::ListTransfersQuery out;
  RUTA_ASSIGN_OR_RETURN(out.state,
                        EnumFrom<core::TransferState>(
                            in.state(), v1::TransferState_IsValid, "state"));
  if (in.has_incoming()) {
    out.direction = in.incoming() ? core::TransferRole::kReceiver
                                  : core::TransferRole::kSender;
  }
  out.case_id = in.case_id();
  out.page_size = in.page_size();
  out.page_token = in.page_token();
  return out;
}

absl::StatusOr<core::AddServiceCommand> FromProto(
    const v1::AddServiceRequest& in) {
  core::AddServiceCommand out;
  out.request_id = in.request_id();
  out.case_id = in.case_id();
  RUTA_ASSIGN_OR_RETURN(
      out.type,
      EnumFrom<core::ServiceType>(in.type(), v1::ServiceType_IsValid, "type"));
  out.provider = in.provider();
  RUTA_ASSIGN_OR_RETURN(out.status,
                        EnumFrom<core::ServiceStatus>(
                            in.status(), v1::ServiceStatus_IsValid, "status"));
  out.start_month = MonthFrom(in.start_month());
  return out;
}

absl::StatusOr<core::UpdateServiceCommand> FromProto(
    const v1::UpdateServiceRequest& in) {
  core::UpdateServiceCommand out;
  out.request_id = in.request_id();
  out.service_id = in.service_id();
  RUTA_ASSIGN_OR_RETURN(out.status,
                        EnumFrom<core::ServiceStatus>(
                            in.status(), v1::ServiceStatus_IsValid, "status"));
  out.end_month = MonthFrom(in.end_month());
  if (in.expected_version() != 0) out.expected_version = in.expected_version();
  return out;
}

void ToProto(const core::Activity& a, v1::Activity* out) {
  out->set_activity_id(a.activity_id);
  out->set_region(a.region);
  switch (a.kind) {
    case core::ActivityKind::kAwareness: {
      v1::AwarenessActivity* awareness = out->mutable_awareness();
      awareness->set_campaign(a.campaign);
      awareness->set_province(a.province);
      MonthToProto(a.month, awareness->mutable_month());
      awareness->set_people_reached(a.people_reached);
      break;
    }
    case core::ActivityKind::kTraining: {
      v1::Training* training = out->mutable_training();
      training->set_level(static_cast<v1::TrainingLevel>(a.level));
      training->set_province(a.province);
      MonthToProto(a.month, training->mutable_month());
      training->set_members_trained(a.members_trained);
      break;
    }
    case core::ActivityKind::kUnspecified:
      break;
  }
}

absl::StatusOr<core::RecordActivityCommand> FromProto(
    const v1::RecordActivityRequest& in) {
  core::RecordActivityCommand out;
  out.request_id = in.request_id();
  switch (in.kind_case()) {
    case v1::RecordActivityRequest::kAwareness:
      out.kind = core::ActivityKind::kAwareness;
      out.campaign = in.awareness().campaign();
      out.province = in.awareness().province();
      out.month = MonthFrom(in.awareness().month());
      out.people_reached = in.awareness().people_reached();
      break;
    case v1::RecordActivityRequest::kTraining: {
      out.kind = core::ActivityKind::kTraining;
      RUTA_ASSIGN_OR_RETURN(
          out.level, EnumFrom<core::TrainingLevel>(in.training().level(),
                                                   v1::TrainingLevel_IsValid,
                                                   "training.level"));
      out.province = in.training().province();
      out.month = MonthFrom(in.training().month());
      out.members_trained = in.training().members_trained();
      break;
    }
    case v1::RecordActivityRequest::KIND_NOT_SET:
      return absl::InvalidArgumentError(
          "set either awareness (an awareness activity) or training (a "
          "training of authority members)");
  }
  return out;
}

absl::StatusOr<core::ListActivitiesQuery> FromProto(
    const v1::ListActivitiesRequest& in) {
  core::ListActivitiesQuery out;
  out.page_size = in.page_size();
  out.page_token = in.page_token();
  out.from_month = MonthFrom(in.from_month());
  out.to_month = MonthFrom(in.to_month());
  return out;
}

}  // namespace ruta::api
