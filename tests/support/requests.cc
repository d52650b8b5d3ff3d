#include "ruta/testing/requests.h"

namespace ruta::testing {

v1::OpenCaseRequest VictimOpenCaseRequest(const std::string& request_id,
                                          const std::string& dni) {
  v1::OpenCaseRequest request;
  request.set_request_id(request_id);
  request.mutable_identifiers()->set_dni(dni);
  request.set_kind(v1::CASE_KIND_VICTIM);
  request.set_initial_stage(v1::STAGE_IDENTIFIED);
  auto* profile = request.mutable_profile();
  profile->set_age_band(v1::AGE_BAND_15_17);
  profile->set_sex(v1::SEX_FEMALE);
  profile->set_origin_province("0812");
  profile->add_exploitation_forms(v1::EXPLOITATION_FORM_SEXUAL);
  profile->set_setting(v1::SETTING_BAR);
  profile->set_recruitment_means(v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  profile->mutable_identified_month()->set_year(2026);
  profile->mutable_identified_month()->set_month(10);
  request.set_legal_basis(v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  return request;
}

}  // namespace ruta::testing
