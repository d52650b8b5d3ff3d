// The console's forms (forms.h): posted fields -> the exact CaseOffice
// request, and every kind of bad input -> INVALID_ARGUMENT with a Spanish
// sentence that never repeats what was typed.
#include "ruta/console/forms.h"

#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/ids.h"

namespace ruta::console {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRid[] = "123e4567-e89b-42d3-a456-426614174000";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";
constexpr char kTransfer[] = "tr_abcdefghijklmnopqrst";
constexpr char kService[] = "sv_abcdefghijklmnopqrst";
const absl::CivilDay kToday(2026, 11, 29);
const std::map<std::string, std::string> kPeers = {{"cusco", "08"}};

// Canary identifiers typed in the intake form.
constexpr char kDni[] = "45678912";
constexpr char kCnv[] = "1234567890";
constexpr char kGiven[] = "Rosaura Canaria";
constexpr char kSurnames[] = "Quispe Testigo";
constexpr char kBirth[] = "2012-03-14";
constexpr char kDistrict[] = "081201";

Form F(std::vector<std::pair<std::string, std::string>> fields) {
  Form form;
  for (auto& [name, value] : fields) form.emplace(name, value);
  return form;
}

// `form` with `name` set to `value` (every earlier value removed; an empty
// value removes the field).
Form With(Form form, const std::string& name, const std::string& value) {
  form.erase(name);
  if (!value.empty()) form.emplace(name, value);
  return form;
}

Form Without(Form form, const std::string& name) {
  form.erase(name);
  return form;
}

template <typename T>
std::string Dump(const T& message) {
  return message.ShortDebugString();
}

// Expects INVALID_ARGUMENT whose message contains `part` and none of the
// canaries.
template <typename T>
void ExpectInvalid(const absl::StatusOr<T>& result, const std::string& part,
                   const std::vector<std::string>& typed = {}) {
  ASSERT_FALSE(result.ok()) << "accepted; expected an error with: " << part;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(result.status().message());
  EXPECT_THAT(message, HasSubstr(part));
  for (const std::string& value : typed) {
    EXPECT_THAT(message, Not(HasSubstr(value))) << "message repeats a value";
  }
}

// A complete, valid intake of a victim.
Form VictimIntake() {
  return F({{"dni", kDni},
            {"cnv", kCnv},
            {"nombres", kGiven},
            {"apellidos", kSurnames},
            {"nacimiento", kBirth},
            {"distrito", kDistrict},
            {"tipo", "CASE_KIND_VICTIM"},
            {"etapa", "STAGE_IDENTIFIED"},
            {"edad", "AGE_BAND_12_14"},
            {"sexo", "SEX_FEMALE"},
            {"provincia", "0812"},
            {"forma", "EXPLOITATION_FORM_SEXUAL"},
            {"forma", "EXPLOITATION_FORM_LABOUR"},
            {"forma", "EXPLOITATION_FORM_SEXUAL"},
            {"lugar", "SETTING_BAR"},
            {"captacion", "RECRUITMENT_MEANS_FALSE_JOB_OFFER"},
            {"mes", "2026-10"},
            {"base", "LEGAL_BASIS_UPE_PROTECTIVE_MEASURE"},
            {"consentimiento", "1"},
            {"request_id", kRid},
            {"csrf", "token"}});
}

TEST(RequestIdTest, AcceptsCanonicalUuidsOnly) {
  auto ok = RequestIdOf(F({{"request_id", kRid}}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, kRid);
  // Surrounding spaces are trimmed; all upper case is canonical too.
  EXPECT_EQ(*RequestIdOf(F({{"request_id", std::string(" ") + kRid + " "}})),
            kRid);
  EXPECT_TRUE(
      RequestIdOf(F({{"request_id", "123E4567-E89B-42D3-A456-426614174000"}}))
          .ok());
  for (const std::string bad :
       {"", "123e4567", "123e4567e89b42d3a456426614174000",
        "{123e4567-e89b-42d3-a456-426614174000}",
        "123e4567-E89B-42d3-a456-426614174000",
        "123e4567-e89b-42d3-a456-42661417400g", "x23e4567-e89b-42d3-a456"}) {
    ExpectInvalid(RequestIdOf(F({{"request_id", bad}})),
                  "identificador de envío", {bad.empty() ? "\x01" : bad});
  }
  ExpectInvalid(RequestIdOf(F({})), "recargue la página");
}

TEST(RequestIdTest, NewRequestIdIsAFreshVersion4Uuid) {
  const std::regex v4(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    ASSERT_TRUE(core::IsValidRequestId(id)) << id;
    ASSERT_TRUE(RequestIdOf(F({{"request_id", id}})).ok()) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(IntakeFormTest, AVictimBecomesTheExactFindAndOpenRequests) {
  absl::StatusOr<IntakeForm> intake = ParseIntakeForm(VictimIntake(), kToday);
  ASSERT_TRUE(intake.ok()) << intake.status();

  v1::PersonIdentifiers ids;
  ids.set_dni(kDni);
  ids.set_cnv(kCnv);
  ids.set_given_names(kGiven);
  ids.set_surnames(kSurnames);
  ids.mutable_birth_date()->set_year(2012);
  ids.mutable_birth_date()->set_month(3);
  ids.mutable_birth_date()->set_day(14);
  ids.set_birth_district(kDistrict);
  v1::FindPersonRequest find;
  *find.mutable_identifiers() = ids;
  v1::OpenCaseRequest open;
  open.set_request_id(kRid);
  *open.mutable_identifiers() = ids;
  open.set_kind(v1::CASE_KIND_VICTIM);
  open.set_initial_stage(v1::STAGE_IDENTIFIED);
  v1::Profile* p = open.mutable_profile();
  p->set_age_band(v1::AGE_BAND_12_14);
  p->set_sex(v1::SEX_FEMALE);
  p->set_origin_province("0812");
  p->add_exploitation_forms(v1::EXPLOITATION_FORM_SEXUAL);  // once
  p->add_exploitation_forms(v1::EXPLOITATION_FORM_LABOUR);
  p->set_setting(v1::SETTING_BAR);
  p->set_recruitment_means(v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  p->mutable_identified_month()->set_year(2026);
  p->mutable_identified_month()->set_month(10);
  open.set_legal_basis(v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  open.set_consent_partner_sharing(true);

  EXPECT_EQ(Dump(intake->find), Dump(find));
  EXPECT_EQ(Dump(intake->open), Dump(open));
  EXPECT_FALSE(intake->confirmed_duplicate);

  intake = ParseIntakeForm(With(VictimIntake(), "confirmar", "1"), kToday);
  ASSERT_TRUE(intake.ok()) << intake.status();
  EXPECT_TRUE(intake->confirmed_duplicate);
  intake = ParseIntakeForm(Without(VictimIntake(), "consentimiento"), kToday);
  ASSERT_TRUE(intake.ok()) << intake.status();
  EXPECT_FALSE(intake->open.consent_partner_sharing());
}

TEST(IntakeFormTest, ADniACnvOrNamesWithABirthDateIsEnough) {
  Form base = VictimIntake();
  for (const char* f :
       {"dni", "cnv", "nombres", "apellidos", "nacimiento", "distrito"}) {
    base = Without(base, f);
  }
  auto only_dni = ParseIntakeForm(With(base, "dni", kDni), kToday);
  ASSERT_TRUE(only_dni.ok()) << only_dni.status();
  EXPECT_EQ(Dump(only_dni->find.identifiers()),
            absl::StrCat("dni: \"", kDni, "\""));
  auto only_cnv = ParseIntakeForm(With(base, "cnv", kCnv), kToday);
  ASSERT_TRUE(only_cnv.ok()) << only_cnv.status();
  EXPECT_EQ(only_cnv->open.identifiers().cnv(), kCnv);

  Form names = With(With(With(base, "nombres", kGiven), "apellidos", kSurnames),
                    "nacimiento", kBirth);
  auto by_names = ParseIntakeForm(names, kToday);
  ASSERT_TRUE(by_names.ok()) << by_names.status();
  EXPECT_EQ(by_names->open.identifiers().given_names(), kGiven);
  EXPECT_EQ(by_names->open.identifiers().birth_date().day(), 14);

  const std::vector<std::string> typed = {kDni,      kCnv,      kGiven,
                                          kSurnames, "Rosaura", "Testigo"};
  const std::string need = "ingrese su DNI, su CNV, o sus nombres";
  ExpectInvalid(ParseIntakeForm(base, kToday), need, typed);
  // Names without the birth date, or without the surnames, are not enough.
  ExpectInvalid(ParseIntakeForm(Without(names, "nacimiento"), kToday), need,
                typed);
  ExpectInvalid(ParseIntakeForm(Without(names, "apellidos"), kToday), need,
                typed);
  // A birth date and a district alone are not enough either.
  ExpectInvalid(ParseIntakeForm(With(With(base, "nacimiento", kBirth),
                                     "distrito", kDistrict),
                                kToday),
                need, typed);
}

TEST(IntakeFormTest, BadIdentifiersAreRefusedWithoutRepeatingThem) {
  const Form good = VictimIntake();
  // Every message is checked against every value typed in the form.
  std::vector<std::string> typed = {kDni,      kCnv,      kGiven,    kSurnames,
                                    "Rosaura", "Testigo", kDistrict, "14"};
  auto check = [&](const std::string& field, const std::string& value,
                   const std::string& part) {
    SCOPED_TRACE(field + "=" + value);
    std::vector<std::string> all = typed;
    if (value.size() >= 3) all.push_back(value);
    ExpectInvalid(ParseIntakeForm(With(good, field, value), kToday), part, all);
  };
  check("dni", "4567891", "8 dígitos");
  check("dni", "456789123", "8 dígitos");
  check("dni", "4567891A", "8 dígitos");
  check("dni", "45.678.912", "8 dígitos");
  check("cnv", "1234567", "de 8 a");
  check("cnv", "1234567890123", "de 8 a");
  check("cnv", "12345678X", "de 8 a");
  check("nombres", "Rosaura 2da", "nombres no pueden contener números");
  check("apellidos", "Quispe 45678912", "apellidos no pueden contener");
  check("nombres", std::string(201, 'a'), "nombres son demasiado largos");
  check("apellidos", "Quispe\x01Testigo", "no pueden contener");
  check("nacimiento", "14/03/2012", "fecha de nacimiento como una fecha");
  check("nacimiento", "2012-02-30", "fecha de nacimiento como una fecha");
  check("nacimiento", "2012-3-14", "fecha de nacimiento como una fecha");
  check("nacimiento", "2026-11-30", "no puede ser futura");
  check("nacimiento", "1899-12-31", "ni anterior a 1900");
  check("distrito", "0812", "UBIGEO de 6 dígitos");
  check("distrito", "081400", "UBIGEO de 6 dígitos");
  check("distrito", "08120A", "UBIGEO de 6 dígitos");

  // Today is a valid birth date (a newborn); so is 1900-01-01.
  EXPECT_TRUE(
      ParseIntakeForm(With(good, "nacimiento", "2026-11-29"), kToday).ok());
  EXPECT_TRUE(
      ParseIntakeForm(With(good, "nacimiento", "1900-01-01"), kToday).ok());
}

TEST(IntakeFormTest, CaseRulesOfTheContract) {
  const Form good = VictimIntake();
  const std::vector<std::string> typed = {kDni, kCnv, kGiven, kSurnames};
  auto check = [&](const Form& form, const std::string& part) {
    ExpectInvalid(ParseIntakeForm(form, kToday), part, typed);
  };
  check(Without(good, "tipo"), "Elija el tipo de caso.");
  check(With(good, "tipo", "CASE_KIND_UNSPECIFIED"), "Elija el tipo de caso.");
  check(With(good, "tipo", "VICTIM"), "Elija el tipo de caso.");
  check(Without(good, "etapa"), "Elija la etapa inicial.");
  check(With(good, "etapa", "STAGE_RESIDENTIAL_CARE"),
        "La etapa inicial es Detectado o Identificado.");
  check(Without(good, "edad"), "Elija el grupo de edad.");
  check(With(good, "sexo", "SEX_UNKNOWN"), "Elija el sexo.");
  check(Without(good, "provincia"),
        "Elija la provincia de origen de la lista.");
  check(With(good, "provincia", "0814"),
        "Elija la provincia de origen de la lista.");
  check(With(good, "provincia", "08"), "provincia de origen");
  check(With(good, "forma", "EXPLOITATION_FORM_UNSPECIFIED"),
        "formas de explotación de la lista");
  check(With(good, "forma", "MINING"), "formas de explotación de la lista");
  check(Without(good, "mes"), "mes de identificación como mes y año");
  check(With(good, "mes", "2026-13"), "mes de identificación como mes y año");
  check(With(good, "mes", "1999-12"), "mes de identificación como mes y año");
  check(With(good, "mes", "10/2026"), "mes de identificación como mes y año");
  check(With(good, "mes", "2026-12"),
        "El mes de identificación no puede ser futuro.");
  check(Without(good, "base"), "Elija la base legal.");
  check(Without(good, "request_id"), "identificador de envío");

  // Victims: at least one exploitation form, the setting and the
  // recruitment means.
  check(Without(good, "forma"), "al menos una forma de explotación");
  check(Without(good, "lugar"), "Elija el lugar de explotación.");
  check(Without(good, "captacion"), "Elija el medio de captación.");

  // Prevention: starts IDENTIFIED; needs neither forms, setting nor means,
  // but a setting given is kept.
  Form prevention = With(good, "tipo", "CASE_KIND_PREVENTION");
  for (const char* f : {"forma", "lugar", "captacion"}) {
    prevention = Without(prevention, f);
  }
  check(With(prevention, "etapa", "STAGE_DETECTED"),
        "Un caso de prevención empieza en la etapa Identificado.");
  auto p = ParseIntakeForm(prevention, kToday);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->open.kind(), v1::CASE_KIND_PREVENTION);
  EXPECT_EQ(p->open.profile().exploitation_forms_size(), 0);
  EXPECT_EQ(p->open.profile().setting(), v1::SETTING_UNSPECIFIED);
  p = ParseIntakeForm(With(prevention, "lugar", "SETTING_ONLINE"), kToday);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->open.profile().setting(), v1::SETTING_ONLINE);
  check(With(prevention, "lugar", "SETTING_NOWHERE"),
        "Elija el lugar de explotación.");

  // A victim detected (not yet identified) is fine; any known province of
  // Peru may be the origin.
  EXPECT_TRUE(
      ParseIntakeForm(With(good, "etapa", "STAGE_DETECTED"), kToday).ok());
  EXPECT_TRUE(ParseIntakeForm(With(good, "provincia", "1501"), kToday).ok());
  EXPECT_TRUE(ParseIntakeForm(With(good, "mes", "2026-11"), kToday).ok());
}

TEST(StageFormTest, ExactRequestAndErrors) {
  auto r = ParseStageForm(kCase, F({{"etapa", "STAGE_IMMEDIATE_PROTECTION"},
                                    {"version", "3"},
                                    {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::UpdateStageRequest want;
  want.set_request_id(kRid);
  want.set_case_id(kCase);
  want.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
  want.set_expected_version(3);
  EXPECT_EQ(Dump(*r), Dump(want));
  // A missing or malformed version is no precondition.
  r = ParseStageForm(kCase, F({{"etapa", "STAGE_IMMEDIATE_PROTECTION"},
                               {"version", "tres"},
                               {"request_id", kRid}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expected_version(), 0);
  ExpectInvalid(ParseStageForm(kCase, F({{"request_id", kRid}})),
                "Elija la nueva etapa.");
  ExpectInvalid(ParseStageForm(kCase, F({{"etapa", "STAGE_UNSPECIFIED"},
                                         {"request_id", kRid}})),
                "Elija la nueva etapa.");
  ExpectInvalid(ParseStageForm(kCase, F({{"etapa", "STAGE_FOLLOW_UP"}})),
                "identificador de envío");
}

TEST(CloseFormTest, ExactRequestAndErrors) {
  auto r = ParseCloseForm(kCase, F({{"motivo", "CLOSED_REASON_REINTEGRATED"},
                                    {"version", "7"},
                                    {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::CloseCaseRequest want;
  want.set_request_id(kRid);
  want.set_case_id(kCase);
  want.set_reason(v1::CLOSED_REASON_REINTEGRATED);
  want.set_expected_version(7);
  EXPECT_EQ(Dump(*r), Dump(want));
  ExpectInvalid(ParseCloseForm(kCase, F({{"request_id", kRid}})),
                "Elija el motivo del cierre.");
  ExpectInvalid(ParseCloseForm(kCase, F({{"motivo", "REINTEGRATED"},
                                         {"request_id", kRid}})),
                "Elija el motivo del cierre.");
  ExpectInvalid(
      ParseCloseForm(kCase, F({{"motivo", "CLOSED_REASON_REINTEGRATED"}})),
      "identificador de envío");
}

TEST(ReferFormTest, ExactRequestAndErrors) {
  auto r = ParseReferForm(
      kCase,
      F({{"socio", " Cusco/TDH "}, {"retirar", "1"}, {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::ReferCaseRequest want;
  want.set_request_id(kRid);
  want.set_case_id(kCase);
  want.set_partner_id("cusco/tdh");
  want.set_withdraw(true);
  EXPECT_EQ(Dump(*r), Dump(want));
  r = ParseReferForm(
      kCase, F({{"socio", "madre-de-dios/caritas"}, {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->withdraw());
  for (const std::string bad : {"", "tdh", "/tdh", "cusco/", "cusco/tdh/x",
                                "cusco/t dh", "cusco/tdh!"}) {
    ExpectInvalid(
        ParseReferForm(kCase, F({{"socio", bad}, {"request_id", kRid}})),
        "Indique el socio como región/nombre");
  }
  ExpectInvalid(ParseReferForm(kCase, F({{"socio", "cusco/tdh"}})),
                "identificador de envío");
}

TEST(TransferFormTest, ProvinceMustBelongToTheChosenRegion) {
  auto r = ParseTransferForm(kCase,
                             F({{"region", "cusco"},
                                {"provincia", "0801"},
                                {"servicio", "SERVICE_TYPE_EDUCATION_SUPPORT"},
                                {"servicio", "SERVICE_TYPE_PSYCHOSOCIAL"},
                                {"servicio", "SERVICE_TYPE_EDUCATION_SUPPORT"},
                                {"request_id", kRid}}),
                             kPeers);
  ASSERT_TRUE(r.ok()) << r.status();
  v1::RequestTransferRequest want;
  want.set_request_id(kRid);
  want.set_case_id(kCase);
  want.set_to_region("cusco");
  want.set_destination_province("0801");
  want.add_requested_services(v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  want.add_requested_services(v1::SERVICE_TYPE_PSYCHOSOCIAL);
  EXPECT_EQ(Dump(*r), Dump(want));

  // No service asked is allowed.
  r = ParseTransferForm(
      kCase,
      F({{"region", "cusco"}, {"provincia", "0813"}, {"request_id", kRid}}),
      kPeers);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->requested_services_size(), 0);

  // Madre de Dios' province for a transfer to Cusco; an unknown province;
  // a region that is not a peer (the office's own, or any other).
  for (const char* province : {"1701", "0814", "", "08"}) {
    ExpectInvalid(
        ParseTransferForm(kCase,
                          F({{"region", "cusco"},
                             {"provincia", province},
                             {"request_id", kRid}}),
                          kPeers),
        "Elija una provincia de destino de la región de destino elegida.");
  }
  for (const char* region : {"madre-de-dios", "lima", ""}) {
    ExpectInvalid(ParseTransferForm(kCase,
                                    F({{"region", region},
                                       {"provincia", "1701"},
                                       {"request_id", kRid}}),
                                    kPeers),
                  "Elija la región de destino de la lista.");
  }
  // With two peers, each province goes with its own region.
  const std::map<std::string, std::string> two = {{"cusco", "08"},
                                                  {"madre-de-dios", "17"}};
  EXPECT_TRUE(ParseTransferForm(kCase,
                                F({{"region", "madre-de-dios"},
                                   {"provincia", "1701"},
                                   {"request_id", kRid}}),
                                two)
                  .ok());
  EXPECT_FALSE(ParseTransferForm(kCase,
                                 F({{"region", "madre-de-dios"},
                                    {"provincia", "0801"},
                                    {"request_id", kRid}}),
                                 two)
                   .ok());
  ExpectInvalid(ParseTransferForm(kCase,
                                  F({{"region", "cusco"},
                                     {"provincia", "0801"},
                                     {"servicio", "SERVICE_TYPE_SPA"},
                                     {"request_id", kRid}}),
                                  kPeers),
                "Elija los servicios solicitados de la lista.");
  ExpectInvalid(
      ParseTransferForm(kCase, F({{"region", "cusco"}, {"provincia", "0801"}}),
                        kPeers),
      "identificador de envío");
}

// Notes that hold an identifier: each is refused, and the message does not
// repeat it.
const std::vector<std::string> kIdentifierNotes = {
    "llamar a la tía al 987 654 321",
    "su DNI es 45678912",
    "nació el 14/03/2012",
    "nació el 14 de marzo de 2012",
    "escribir a tia.rosa@example.org",
    "contacto +51 987654321",
    "cuenta @rosaura_q",
};

TEST(RejectFormTest, ExactRequestAndNotesWithIdentifiersRefused) {
  auto r = ParseRejectForm(kTransfer,
                           F({{"motivo", "REJECT_REASON_NO_CAPACITY"},
                              {"nota", " Sin vacantes hasta marzo de 2027 "},
                              {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::RejectTransferRequest want;
  want.set_request_id(kRid);
  want.set_transfer_id(kTransfer);
  want.set_reason(v1::REJECT_REASON_NO_CAPACITY);
  want.set_note("Sin vacantes hasta marzo de 2027");
  EXPECT_EQ(Dump(*r), Dump(want));
  ExpectInvalid(ParseRejectForm(kTransfer, F({{"request_id", kRid}})),
                "Elija el motivo del rechazo.");
  for (const std::string& note : kIdentifierNotes) {
    SCOPED_TRACE(note);
    ExpectInvalid(
        ParseRejectForm(kTransfer, F({{"motivo", "REJECT_REASON_OTHER"},
                                      {"nota", note},
                                      {"request_id", kRid}})),
        "La nota parece contener un dato personal",
        {note, "987", "45678912", "2012", "rosa"});
  }
  ExpectInvalid(ParseRejectForm(kTransfer, F({{"motivo", "REJECT_REASON_OTHER"},
                                              {"nota", std::string(281, 'a')},
                                              {"request_id", kRid}})),
                "La nota admite a lo sumo 280 caracteres.");
  ExpectInvalid(ParseRejectForm(kTransfer, F({{"motivo", "REJECT_REASON_OTHER"},
                                              {"nota",
                                               "sin\x07"
                                               "control"},
                                              {"request_id", kRid}})),
                "caracteres no permitidos");
}

TEST(CancelFormTest, ExactRequestAndNotesWithIdentifiersRefused) {
  auto r = ParseCancelForm(kTransfer, F({{"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::CancelTransferRequest want;
  want.set_request_id(kRid);
  want.set_transfer_id(kTransfer);
  EXPECT_EQ(Dump(*r), Dump(want));
  r = ParseCancelForm(
      kTransfer, F({{"nota", "La familia se mudó"}, {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->note(), "La familia se mudó");
  for (const std::string& note : kIdentifierNotes) {
    SCOPED_TRACE(note);
    ExpectInvalid(
        ParseCancelForm(kTransfer, F({{"nota", note}, {"request_id", kRid}})),
        "parece contener un dato personal", {note, "987", "45678912"});
  }
  ExpectInvalid(ParseCancelForm(kTransfer, F({})), "identificador de envío");
}

TEST(DepartReceiveFormTest, OptionalDayNotInTheFuture) {
  auto d = ParseDepartForm(kTransfer, F({{"request_id", kRid}}), kToday);
  ASSERT_TRUE(d.ok()) << d.status();
  v1::DepartTransferRequest want;
  want.set_request_id(kRid);
  want.set_transfer_id(kTransfer);
  EXPECT_EQ(Dump(*d), Dump(want));
  EXPECT_FALSE(d->has_departed_on());
  d = ParseDepartForm(
      kTransfer, F({{"fecha", "2026-11-29"}, {"request_id", kRid}}), kToday);
  ASSERT_TRUE(d.ok()) << d.status();
  want.mutable_departed_on()->set_year(2026);
  want.mutable_departed_on()->set_month(11);
  want.mutable_departed_on()->set_day(29);
  EXPECT_EQ(Dump(*d), Dump(want));
  ExpectInvalid(ParseDepartForm(
                    kTransfer,
                    F({{"fecha", "2026-11-30"}, {"request_id", kRid}}), kToday),
                "La fecha de salida no puede ser futura.");
  ExpectInvalid(ParseDepartForm(
                    kTransfer,
                    F({{"fecha", "2026-11-31"}, {"request_id", kRid}}), kToday),
                "Indique la fecha de salida como una fecha válida.");

  auto a = ParseReceiveForm(
      kTransfer, F({{"fecha", "2026-11-28"}, {"request_id", kRid}}), kToday);
  ASSERT_TRUE(a.ok()) << a.status();
  v1::ReceiveTransferRequest got;
  got.set_request_id(kRid);
  got.set_transfer_id(kTransfer);
  got.mutable_received_on()->set_year(2026);
  got.mutable_received_on()->set_month(11);
  got.mutable_received_on()->set_day(28);
  EXPECT_EQ(Dump(*a), Dump(got));
  ExpectInvalid(ParseReceiveForm(
                    kTransfer,
                    F({{"fecha", "2027-01-01"}, {"request_id", kRid}}), kToday),
                "La fecha de llegada no puede ser futura.");
  ExpectInvalid(
      ParseReceiveForm(kTransfer, F({{"fecha", "29/11/2026"}}), kToday),
      "fecha válida");
  ExpectInvalid(ParseReceiveForm(kTransfer, F({}), kToday),
                "identificador de envío");
}

TEST(ServiceFormTest, AddExactRequestAndErrors) {
  auto r = ParseAddServiceForm(kCase, F({{"tipo", "SERVICE_TYPE_HEALTH"},
                                         {"estado", "SERVICE_STATUS_ONGOING"},
                                         {"proveedor", "Cusco/TDH"},
                                         {"inicio", "2026-11"},
                                         {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::AddServiceRequest want;
  want.set_request_id(kRid);
  want.set_case_id(kCase);
  want.set_type(v1::SERVICE_TYPE_HEALTH);
  want.set_provider("cusco/tdh");
  want.set_status(v1::SERVICE_STATUS_ONGOING);
  want.mutable_start_month()->set_year(2026);
  want.mutable_start_month()->set_month(11);
  EXPECT_EQ(Dump(*r), Dump(want));
  // The authority itself: no provider.
  r = ParseAddServiceForm(kCase, F({{"tipo", "SERVICE_TYPE_HEALTH"},
                                    {"estado", "SERVICE_STATUS_PLANNED"},
                                    {"inicio", "2026-12"},
                                    {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->provider(), "");
  const Form good = F({{"tipo", "SERVICE_TYPE_HEALTH"},
                       {"estado", "SERVICE_STATUS_ONGOING"},
                       {"inicio", "2026-11"},
                       {"request_id", kRid}});
  ExpectInvalid(ParseAddServiceForm(kCase, Without(good, "tipo")),
                "Elija el tipo de servicio.");
  ExpectInvalid(
      ParseAddServiceForm(kCase, With(good, "estado", "SERVICE_STATUS_X")),
      "Elija el estado del servicio.");
  ExpectInvalid(ParseAddServiceForm(kCase, With(good, "proveedor", "tdh")),
                "Indique el proveedor como región/nombre");
  ExpectInvalid(ParseAddServiceForm(kCase, Without(good, "inicio")),
                "Indique el mes de inicio como mes y año.");
  ExpectInvalid(ParseAddServiceForm(kCase, Without(good, "request_id")),
                "identificador de envío");
}

TEST(ServiceFormTest, UpdateNeedsTheEndMonthWhenFinished) {
  auto r =
      ParseUpdateServiceForm(kService, F({{"estado", "SERVICE_STATUS_ONGOING"},
                                          {"fin", "2026-11"},
                                          {"version", "2"},
                                          {"request_id", kRid}}));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::UpdateServiceRequest want;
  want.set_request_id(kRid);
  want.set_service_id(kService);
  want.set_status(v1::SERVICE_STATUS_ONGOING);
  want.set_expected_version(2);
  // The end month only counts for a finished service.
  EXPECT_EQ(Dump(*r), Dump(want));
  for (const char* finished :
       {"SERVICE_STATUS_COMPLETED", "SERVICE_STATUS_DROPPED"}) {
    r = ParseUpdateServiceForm(
        kService,
        F({{"estado", finished}, {"fin", "2026-10"}, {"request_id", kRid}}));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->end_month().year(), 2026);
    EXPECT_EQ(r->end_month().month(), 10);
    ExpectInvalid(ParseUpdateServiceForm(kService, F({{"estado", finished},
                                                      {"request_id", kRid}})),
                  "Indique el mes en que terminó como mes y año.");
  }
  ExpectInvalid(ParseUpdateServiceForm(kService, F({{"request_id", kRid}})),
                "Elija el nuevo estado.");
  ExpectInvalid(ParseUpdateServiceForm(
                    kService, F({{"estado", "SERVICE_STATUS_ONGOING"}})),
                "identificador de envío");
}

TEST(ActivityFormTest, AwarenessExactRequestAndErrors) {
  const Form good = F({{"campana", "No te dejes engañar"},
                       {"provincia", "1701"},
                       {"mes", "2026-11"},
                       {"personas", "1200"},
                       {"request_id", kRid}});
  auto r = ParseAwarenessForm(good, "17");
  ASSERT_TRUE(r.ok()) << r.status();
  v1::RecordActivityRequest want;
  want.set_request_id(kRid);
  v1::AwarenessActivity* a = want.mutable_awareness();
  a->set_campaign("No te dejes engañar");
  a->set_province("1701");
  a->mutable_month()->set_year(2026);
  a->mutable_month()->set_month(11);
  a->set_people_reached(1200);
  EXPECT_EQ(Dump(*r), Dump(want));
  EXPECT_EQ(ParseAwarenessForm(With(good, "personas", "1000000"), "17")
                ->awareness()
                .people_reached(),
            1000000);

  ExpectInvalid(ParseAwarenessForm(Without(good, "campana"), "17"),
                "Escriba el nombre de la campaña.");
  ExpectInvalid(ParseAwarenessForm(With(good, "campana", "a|b"), "17"),
                "no puede contener «|»");
  ExpectInvalid(ParseAwarenessForm(
                    With(good, "campana", "Informes al 987 654 321"), "17"),
                "El nombre de la campaña parece contener un dato personal",
                {"987 654 321"});
  ExpectInvalid(
      ParseAwarenessForm(With(good, "campana", std::string(121, 'a')), "17"),
      "admite a lo sumo 120 caracteres");
  // A province of another department than the office's.
  ExpectInvalid(ParseAwarenessForm(With(good, "provincia", "0801"), "17"),
                "Elija la provincia de la lista.");
  ExpectInvalid(ParseAwarenessForm(With(good, "mes", "2026-1"), "17"),
                "Indique el mes como mes y año.");
  for (const char* people :
       {"0", "1000001", "-5", "12.5", "mil", "", "99999999"}) {
    ExpectInvalid(ParseAwarenessForm(With(good, "personas", people), "17"),
                  "Indique las personas alcanzadas como un número de 1 a");
  }
  ExpectInvalid(ParseAwarenessForm(Without(good, "request_id"), "17"),
                "identificador de envío");
}

TEST(ActivityFormTest, TrainingExactRequestAndErrors) {
  const Form good = F({{"nivel", "TRAINING_LEVEL_COMMUNITY"},
                       {"provincia", "0801"},
                       {"mes", "2026-09"},
                       {"miembros", "25"},
                       {"request_id", kRid}});
  auto r = ParseTrainingForm(good, "08");
  ASSERT_TRUE(r.ok()) << r.status();
  v1::RecordActivityRequest want;
  want.set_request_id(kRid);
  v1::Training* t = want.mutable_training();
  t->set_level(v1::TRAINING_LEVEL_COMMUNITY);
  t->set_province("0801");
  t->mutable_month()->set_year(2026);
  t->mutable_month()->set_month(9);
  t->set_members_trained(25);
  EXPECT_EQ(Dump(*r), Dump(want));
  ExpectInvalid(ParseTrainingForm(Without(good, "nivel"), "08"),
                "Elija el nivel de la capacitación.");
  ExpectInvalid(ParseTrainingForm(With(good, "provincia", "1701"), "08"),
                "Elija la provincia de la lista.");
  ExpectInvalid(ParseTrainingForm(With(good, "miembros", "0"), "08"),
                "Indique los miembros capacitados como un número");
  ExpectInvalid(ParseTrainingForm(Without(good, "request_id"), "08"),
                "identificador de envío");
}

TEST(FormsTest, TheLastValueOfARepeatedFieldCounts) {
  Form form = F({{"etapa", "STAGE_DETECTED"},
                 {"etapa", "STAGE_IMMEDIATE_PROTECTION"},
                 {"request_id", kRid}});
  auto r = ParseStageForm(kCase, form);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stage(), v1::STAGE_IMMEDIATE_PROTECTION);
}

}  // namespace
}  // namespace ruta::console
