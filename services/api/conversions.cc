#include "ruta/api/conversions.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "ruta/common/status_macros.h"

namespace ruta::api {
namespace {

using google::protobuf::util::TimeUtil;

// Checks an enum number against the generated validity function; the zero
// value is accepted here (required-ness is a domain rule, checked by core).
template <typename DomainEnum>
absl::StatusOr<DomainEnum> EnumFromProto(int value, bool (*is_valid)(int),
                                         absl::string_view field) {
  if (!is_valid(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown value ", value));
  }
  return static_cast<DomainEnum>(value);
}

absl::StatusOr<core::Profile> ProfileFromProto(const v1::Profile& in) {
  core::Profile out;
  RUTA_ASSIGN_OR_RETURN(out.age_band, EnumFromProto<core::AgeBand>(
                                          in.age_band(), v1::AgeBand_IsValid,
                                          "profile.age_band"));
  RUTA_ASSIGN_OR_RETURN(out.sex, EnumFromProto<core::Sex>(
                                     in.sex(), v1::Sex_IsValid, "profile.sex"));
  out.origin_province = in.origin_province();
  for (int form : in.exploitation_forms()) {
    RUTA_ASSIGN_OR_RETURN(
        core::ExploitationForm f,
        EnumFromProto<core::ExploitationForm>(
            form, v1::ExploitationForm_IsValid, "profile.exploitation_forms"));
    out.exploitation_forms.push_back(f);
  }
  RUTA_ASSIGN_OR_RETURN(
      out.setting, EnumFromProto<core::Setting>(
                       in.setting(), v1::Setting_IsValid, "profile.setting"));
  RUTA_ASSIGN_OR_RETURN(
      out.recruitment_means,
      EnumFromProto<core::RecruitmentMeans>(in.recruitment_means(),
                                            v1::RecruitmentMeans_IsValid,
                                            "profile.recruitment_means"));
  out.identified_month.year = in.identified_month().year();
  out.identified_month.month = in.identified_month().month();
  return out;
}

void ProfileToProto(const core::Profile& in, v1::Profile* out) {
  out->set_age_band(static_cast<v1::AgeBand>(in.age_band));
  out->set_sex(static_cast<v1::Sex>(in.sex));
  out->set_origin_province(in.origin_province);
  for (core::ExploitationForm f : in.exploitation_forms) {
    out->add_exploitation_forms(static_cast<v1::ExploitationForm>(f));
  }
  out->set_setting(static_cast<v1::Setting>(in.setting));
  out->set_recruitment_means(
      static_cast<v1::RecruitmentMeans>(in.recruitment_means));
  out->mutable_identified_month()->set_year(in.identified_month.year);
  out->mutable_identified_month()->set_month(in.identified_month.month);
}

std::optional<int64_t> ExpectedVersion(int64_t v) {
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace

absl::StatusOr<core::Profile> ProfileFromProtoPublic(const v1::Profile& in) {
  return ProfileFromProto(in);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

void ToProto(const core::Case& c, v1::Case* out) {
  out->set_case_id(c.case_id);
  out->set_person_ref(c.person_ref);
  out->set_kind(static_cast<v1::CaseKind>(c.kind));
  out->set_owner_region(c.owner_region);
  out->set_stage(static_cast<v1::Stage>(c.stage));
  out->set_closed_reason(static_cast<v1::ClosedReason>(c.closed_reason));
  ProfileToProto(c.profile, out->mutable_profile());
  out->set_legal_basis(static_cast<v1::LegalBasis>(c.legal_basis));
  out->set_consent_partner_sharing(c.consent_partner_sharing);
  for (const std::string& partner : c.referrals) out->add_referrals(partner);
  out->set_version(c.version);
  *out->mutable_opened_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(c.opened_at));
  *out->mutable_updated_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(c.updated_at));
}

absl::StatusOr<core::IdentityTuple> FromProto(const v1::PersonIdentifiers& in) {
  core::IdentityTuple out;
  out.dni = in.dni();
  out.cnv = in.cnv();
  out.given_names = in.given_names();
  out.surnames = in.surnames();
  out.birth_year = in.birth_date().year();
  out.birth_month = in.birth_date().month();
  out.birth_day = in.birth_date().day();
  out.birth_district = in.birth_district();
  return out;
}

absl::StatusOr<core::OpenCaseCommand> FromProto(const v1::OpenCaseRequest& in) {
  core::OpenCaseCommand out;
  out.request_id = in.request_id();
  RUTA_ASSIGN_OR_RETURN(out.identity, FromProto(in.identifiers()));
  RUTA_ASSIGN_OR_RETURN(out.kind, EnumFromProto<core::CaseKind>(
                                      in.kind(), v1::CaseKind_IsValid, "kind"));
  RUTA_ASSIGN_OR_RETURN(
      out.initial_stage,
      EnumFromProto<core::Stage>(in.initial_stage(), v1::Stage_IsValid,
                                 "initial_stage"));
  RUTA_ASSIGN_OR_RETURN(out.profile, ProfileFromProto(in.profile()));
  RUTA_ASSIGN_OR_RETURN(
      out.legal_basis,
      EnumFromProto<core::LegalBasis>(in.legal_basis(), v1::LegalBasis_IsValid,
                                      "legal_basis"));
  out.consent_partner_sharing = in.consent_partner_sharing();
  return out;
}

absl::StatusOr<core::UpdateStageCommand> FromProto(
    const v1::UpdateStageRequest& in) {
  core::UpdateStageCommand out;
  out.request_id = in.request_id();
  out.case_id = in.case_id();
  RUTA_ASSIGN_OR_RETURN(out.to, EnumFromProto<core::Stage>(
                                    in.stage(), v1::Stage_IsValid, "stage"));
  out.expected_version = ExpectedVersion(in.expected_version());
  return out;
}

absl::StatusOr<core::CloseCaseCommand> FromProto(
    const v1::CloseCaseRequest& in) {
  core::CloseCaseCommand out;
  out.request_id = in.request_id();
  out.case_id = in.case_id();
  RUTA_ASSIGN_OR_RETURN(out.reason,
                        EnumFromProto<core::ClosedReason>(
                            in.reason(), v1::ClosedReason_IsValid, "reason"));
  out.expected_version = ExpectedVersion(in.expected_version());
  return out;
}

absl::StatusOr<core::ListCasesQuery> FromProto(const v1::ListCasesRequest& in) {
  core::ListCasesQuery out;
  if (in.page_size() < 0) {
    return absl::InvalidArgumentError("page_size: must not be negative");
  }
  out.page_size = in.page_size();
  out.page_token = in.page_token();
  RUTA_ASSIGN_OR_RETURN(out.stage, EnumFromProto<core::Stage>(
                                       in.stage(), v1::Stage_IsValid, "stage"));
  RUTA_ASSIGN_OR_RETURN(out.kind, EnumFromProto<core::CaseKind>(
                                      in.kind(), v1::CaseKind_IsValid, "kind"));
  out.person_ref = in.person_ref();
  out.include_closed = !in.exclude_closed();
  return out;
}

}  // namespace ruta::api
