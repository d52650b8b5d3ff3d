// The console's HTML pages (pages.h): values escaped, the case page's forms
// following the stage machine and the transfer's state and direction,
// intake inputs kept out of the browser's memory, every posting form with
// its CSRF token and a request_id, Spanish dates, and page sizes.
#include "ruta/console/pages.h"

#include <iostream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/ids.h"

namespace ruta::console {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCsrf[] = "Zq3csrfTokenOfTheSessionXXXXXXXXXXXXXXXXXXX";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";

PageContext Context(const std::string& region) {
  PageContext ctx;
  ctx.user = "rosa";
  ctx.csrf_token = kCsrf;
  ctx.region = region;
  ctx.department = region == kCusco ? "08" : "17";
  if (region == kCusco) {
    ctx.peer_departments = {{kMdd, "17"}};
  } else {
    ctx.peer_departments = {{kCusco, "08"}};
  }
  ctx.today = absl::CivilDay(2026, 11, 29);
  return ctx;
}

// "<prefix>" + 20 letters, distinct for each n (base 26, then padding).
std::string Id(const std::string& prefix, int n) {
  std::string id = prefix;
  for (int i = 0; i < 5; ++i) {
    id += static_cast<char>('a' + n % 26);
    n /= 26;
  }
  return id + "pqrstuvwxyzabcd";
}

v1::Case MakeCase(int n, const std::string& owner, v1::Stage stage,
                  v1::CaseKind kind = v1::CASE_KIND_VICTIM) {
  v1::Case c;
  c.set_case_id(Id("cs_", n));
  c.set_kind(kind);
  c.set_owner_region(owner);
  c.set_stage(stage);
  c.set_version(4);
  v1::Profile* p = c.mutable_profile();
  p->set_age_band(v1::AGE_BAND_15_17);
  p->set_sex(v1::SEX_FEMALE);
  p->set_origin_province("0812");
  if (kind == v1::CASE_KIND_VICTIM) {
    p->add_exploitation_forms(v1::EXPLOITATION_FORM_SEXUAL);
    p->add_exploitation_forms(v1::EXPLOITATION_FORM_LABOUR);
    p->set_setting(v1::SETTING_MINING_CAMP);
    p->set_recruitment_means(v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  }
  p->mutable_identified_month()->set_year(2026);
  p->mutable_identified_month()->set_month(9);
  c.set_legal_basis(v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  c.set_consent_partner_sharing(true);
  return c;
}

v1::Transfer MakeTransfer(int n, const std::string& case_id,
                          const std::string& from, const std::string& to,
                          v1::TransferState state) {
  v1::Transfer t;
  t.set_transfer_id(Id("tr_", n));
  t.set_case_id(case_id);
  t.set_from_region(from);
  t.set_to_region(to);
  t.set_destination_province(to == kCusco ? "0801" : "1701");
  t.add_requested_services(v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  t.add_requested_services(v1::SERVICE_TYPE_PSYCHOSOCIAL);
  t.set_state(state);
  t.mutable_requested_on()->set_year(2026);
  t.mutable_requested_on()->set_month(11);
  t.mutable_requested_on()->set_day(3 + n % 20);
  if (state != v1::TRANSFER_STATE_REQUESTED &&
      state != v1::TRANSFER_STATE_REJECTED) {
    *t.mutable_accepted_on() = t.requested_on();
    t.mutable_accepted_on()->set_day(t.requested_on().day() + 1);
  }
  if (state == v1::TRANSFER_STATE_IN_TRANSIT ||
      state == v1::TRANSFER_STATE_RECEIVED) {
    *t.mutable_departed_on() = t.accepted_on();
  }
  if (state == v1::TRANSFER_STATE_RECEIVED) {
    *t.mutable_received_on() = t.accepted_on();
  }
  return t;
}

v1::ServiceRecord MakeService(int n, const std::string& case_id) {
  v1::ServiceRecord s;
  s.set_service_id(Id("sv_", n));
  s.set_case_id(case_id);
  s.set_type(static_cast<v1::ServiceType>(1 + n % 8));
  s.set_provider(n % 2 == 0 ? "cusco/tdh" : "");
  s.set_status(n % 3 == 0 ? v1::SERVICE_STATUS_COMPLETED
                          : v1::SERVICE_STATUS_ONGOING);
  s.mutable_start_month()->set_year(2026);
  s.mutable_start_month()->set_month(1 + n % 10);
  if (s.status() == v1::SERVICE_STATUS_COMPLETED) {
    s.mutable_end_month()->set_year(2026);
    s.mutable_end_month()->set_month(11);
  }
  s.set_version(2);
  return s;
}

struct FormTag {
  std::string open;  // the <form ...> tag
  std::string html;  // up to </form>
};

std::vector<FormTag> FormsOf(const std::string& html) {
  std::vector<FormTag> out;
  size_t at = 0;
  while ((at = html.find("<form", at)) != std::string::npos) {
    const size_t open_end = html.find('>', at);
    const size_t end = html.find("</form>", at);
    if (open_end == std::string::npos || end == std::string::npos) {
      ADD_FAILURE() << "unclosed form at " << at;
      break;
    }
    out.push_back(FormTag{html.substr(at, open_end + 1 - at),
                          html.substr(at, end + 7 - at)});
    at = end;
  }
  return out;
}

// The data-ajax forms of a page by their action.
std::vector<std::string> AjaxActions(const std::string& html) {
  std::vector<std::string> out;
  std::regex action("action=\"([^\"]*)\"");
  for (const FormTag& f : FormsOf(html)) {
    std::smatch m;
    if (absl::StrContains(f.open, "data-ajax") &&
        std::regex_search(f.open, m, action)) {
      out.push_back(m[1]);
    }
  }
  return out;
}

bool HasAjaxForm(const std::string& html, const std::string& action_suffix) {
  for (const std::string& a : AjaxActions(html)) {
    if (absl::EndsWith(a, action_suffix)) return true;
  }
  return false;
}

// Every posting form carries the session's CSRF token; every data-ajax form
// a request_id, distinct on the page. Returns the number of forms checked.
int ExpectFormsCarryTokens(const std::string& html) {
  const std::regex rid("name=\"request_id\" value=\"([^\"]*)\"");
  std::set<std::string> seen;
  int n = 0;
  for (const FormTag& f : FormsOf(html)) {
    if (!absl::StrContains(f.open, "method=\"post\"")) continue;
    ++n;
    EXPECT_THAT(f.html, HasSubstr(absl::StrCat("<input type=\"hidden\" "
                                               "name=\"csrf\" value=\"",
                                               kCsrf, "\">")))
        << f.open;
    if (!absl::StrContains(f.open, "data-ajax")) {
      // Only the logout form posts without the script.
      EXPECT_THAT(f.open, HasSubstr("action=\"/logout\""));
      continue;
    }
    std::smatch m;
    if (!std::regex_search(f.html, m, rid)) {
      ADD_FAILURE() << "no request_id in " << f.open;
      continue;
    }
    EXPECT_TRUE(core::IsValidRequestId(m[1].str())) << m[1];
    EXPECT_TRUE(seen.insert(m[1]).second) << "request_id repeated: " << m[1];
  }
  return n;
}

TEST(PagesTest, ValuesAreEscaped) {
  PageContext ctx = Context(kMdd);
  ctx.user = "<b>ana</b>";
  v1::ListActivitiesResponse list;
  v1::AwarenessActivity* a = list.add_activities()->mutable_awareness();
  a->set_campaign("<script>alert(\"x\")</script> & 'más'");
  a->set_province("1701");
  a->mutable_month()->set_year(2026);
  a->mutable_month()->set_month(10);
  a->set_people_reached(300);
  list.set_next_page_token("\"><script>");
  const std::string html = ActivitiesPage(ctx, list, "");
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, Not(HasSubstr("\"><script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>ana")));
  EXPECT_THAT(html,
              HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
                        " &amp; &#39;más&#39;"));
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;ana&lt;/b&gt;"));
  // The only script element is the console's own.
  size_t scripts = 0;
  for (size_t at = 0; (at = html.find("<script", at)) != std::string::npos;
       ++at) {
    ++scripts;
  }
  EXPECT_EQ(scripts, 1u);

  // A transfer's note and a message page's text are escaped too.
  v1::Case c = MakeCase(1, kMdd, v1::STAGE_TRANSFER_REQUESTED);
  CaseView view;
  view.case_record = c;
  v1::Transfer t =
      MakeTransfer(1, c.case_id(), kMdd, kCusco, v1::TRANSFER_STATE_REJECTED);
  t.set_reject_reason(v1::REJECT_REASON_OTHER);
  t.set_note("<img src=x onerror=alert(1)>");
  view.transfers = {t};
  const std::string page = CasePage(Context(kMdd), view);
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  EXPECT_THAT(page, HasSubstr("&lt;img src=x onerror=alert(1)&gt;"));
  const std::string message =
      MessagePage(Context(kMdd), "<i>t</i>", "<u>m</u>", "\"/><a href=x");
  EXPECT_THAT(message, Not(HasSubstr("<i>t")));
  EXPECT_THAT(message, Not(HasSubstr("<u>m")));
  EXPECT_THAT(message, Not(HasSubstr("\"/><a href=x")));
  EXPECT_THAT(
      LoginPage("\"><script>", "<b>m</b>", true),
      Not(::testing::AnyOf(HasSubstr("\"><script>"), HasSubstr("<b>m"))));
}

TEST(CasePageTest, ACaseInCareOwnedHereOffersTheTransferForm) {
  CaseView view;
  view.case_record = MakeCase(1, kMdd, v1::STAGE_RESIDENTIAL_CARE);
  const std::string id = view.case_record.case_id();
  const std::string html = CasePage(Context(kMdd), view);
  EXPECT_TRUE(HasAjaxForm(html, absl::StrCat("/caso/", id, "/traslado")));
  EXPECT_THAT(html, HasSubstr("id=\"form-traslado\""));
  // Cusco's provinces, not Madre de Dios' (the peer's department).
  EXPECT_THAT(html, HasSubstr("<option value=\"0801\">"));
  EXPECT_THAT(html, Not(HasSubstr("<option value=\"1701\">")));
  // Stage buttons: the machine's next stages, CLOSED apart (its own form).
  EXPECT_TRUE(HasAjaxForm(html, "/etapa"));
  EXPECT_THAT(html, HasSubstr("value=\"STAGE_REINTEGRATION_PLAN\""));
  EXPECT_THAT(html, Not(HasSubstr("value=\"STAGE_CLOSED\"")));
  EXPECT_THAT(html, Not(HasSubstr("value=\"STAGE_TRANSFER_REQUESTED\"")));
  EXPECT_THAT(html, HasSubstr("name=\"version\" value=\"4\""));
  EXPECT_TRUE(HasAjaxForm(html, "/cierre"));
  EXPECT_TRUE(HasAjaxForm(html, "/servicio"));
  EXPECT_TRUE(HasAjaxForm(html, "/derivacion"));
  EXPECT_THAT(html, Not(HasSubstr("caso-ajeno")));
  EXPECT_GE(ExpectFormsCarryTokens(html), 5);

  // Earlier stages: no transfer yet.
  for (v1::Stage stage :
       {v1::STAGE_DETECTED, v1::STAGE_IDENTIFIED,
        v1::STAGE_IMMEDIATE_PROTECTION, v1::STAGE_REINTEGRATION_PLAN}) {
    view.case_record.set_stage(stage);
    const std::string page = CasePage(Context(kMdd), view);
    EXPECT_FALSE(HasAjaxForm(page, "/traslado")) << v1::Stage_Name(stage);
    EXPECT_TRUE(HasAjaxForm(page, "/etapa")) << v1::Stage_Name(stage);
  }
  view.case_record.set_stage(v1::STAGE_IDENTIFIED);
  EXPECT_THAT(CasePage(Context(kMdd), view),
              HasSubstr("value=\"STAGE_IMMEDIATE_PROTECTION\""));
  // Family care may be transferred too.
  view.case_record.set_stage(v1::STAGE_FAMILY_CARE);
  EXPECT_TRUE(HasAjaxForm(CasePage(Context(kMdd), view), "/traslado"));
}

TEST(CasePageTest, APreventionCaseIsNeverTransferred) {
  CaseView view;
  view.case_record =
      MakeCase(2, kMdd, v1::STAGE_IDENTIFIED, v1::CASE_KIND_PREVENTION);
  const std::string html = CasePage(Context(kMdd), view);
  EXPECT_FALSE(HasAjaxForm(html, "/traslado"));
  EXPECT_THAT(html, HasSubstr("value=\"STAGE_PREVENTION_SUPPORT\""));
  EXPECT_THAT(html, Not(HasSubstr("value=\"STAGE_IMMEDIATE_PROTECTION\"")));
}

TEST(CasePageTest, ACaseOfTheOtherRegionShowsNoForms) {
  CaseView view;
  view.case_record = MakeCase(3, kCusco, v1::STAGE_RESIDENTIAL_CARE);
  view.services = {MakeService(1, view.case_record.case_id())};
  const std::string html = CasePage(Context(kMdd), view);
  EXPECT_THAT(html, HasSubstr("id=\"caso-ajeno\""));
  EXPECT_THAT(html, HasSubstr("a cargo de Cusco"));
  EXPECT_THAT(AjaxActions(html), ::testing::IsEmpty());
  // The logout form is the page's only form.
  EXPECT_EQ(FormsOf(html).size(), 1u);
  EXPECT_EQ(ExpectFormsCarryTokens(html), 1);
  // The services are shown, without an update form.
  EXPECT_THAT(html, HasSubstr("data-service=\"" +
                              view.services[0].service_id() + "\""));
}

TEST(CasePageTest, TransferFormsFollowStateAndDirection) {
  const v1::Case at_mdd = MakeCase(4, kMdd, v1::STAGE_TRANSFER_REQUESTED);
  const std::string id = at_mdd.case_id();
  struct Expect {
    std::string region;           // the office looking
    v1::TransferState state;      // of a transfer Madre de Dios -> Cusco
    v1::Stage stage;              // of the case
    std::string owner;            // of the case
    std::set<std::string> forms;  // transfer forms shown
  };
  const std::vector<Expect> cases = {
      {kCusco,
       v1::TRANSFER_STATE_REQUESTED,
       v1::STAGE_TRANSFER_REQUESTED,
       kMdd,
       {"aceptar", "rechazar"}},
      {kMdd,
       v1::TRANSFER_STATE_REQUESTED,
       v1::STAGE_TRANSFER_REQUESTED,
       kMdd,
       {"cancelar"}},
      {kMdd,
       v1::TRANSFER_STATE_ACCEPTED,
       v1::STAGE_TRANSFER_REQUESTED,
       kMdd,
       {"salida", "cancelar"}},
      {kCusco,
       v1::TRANSFER_STATE_ACCEPTED,
       v1::STAGE_TRANSFER_REQUESTED,
       kMdd,
       {}},
      {kCusco,
       v1::TRANSFER_STATE_IN_TRANSIT,
       v1::STAGE_IN_TRANSIT,
       kMdd,
       {"llegada"}},
      {kMdd, v1::TRANSFER_STATE_IN_TRANSIT, v1::STAGE_IN_TRANSIT, kMdd, {}},
      {kMdd, v1::TRANSFER_STATE_RECEIVED, v1::STAGE_RECEIVED, kCusco, {}},
      {kCusco, v1::TRANSFER_STATE_RECEIVED, v1::STAGE_RECEIVED, kCusco, {}},
      {kCusco,
       v1::TRANSFER_STATE_REJECTED,
       v1::STAGE_RESIDENTIAL_CARE,
       kMdd,
       {}},
      {kMdd,
       v1::TRANSFER_STATE_CANCELLED,
       v1::STAGE_RESIDENTIAL_CARE,
       kMdd,
       {}},
  };
  const std::vector<std::string> all = {"aceptar", "rechazar", "cancelar",
                                        "salida", "llegada"};
  for (const Expect& e : cases) {
    SCOPED_TRACE(absl::StrCat(e.region, " ", v1::TransferState_Name(e.state)));
    CaseView view;
    view.case_record = at_mdd;
    view.case_record.set_stage(e.stage);
    view.case_record.set_owner_region(e.owner);
    const v1::Transfer t = MakeTransfer(4, id, kMdd, kCusco, e.state);
    view.transfers = {t};
    const std::string html = CasePage(Context(e.region), view);
    for (const std::string& form : all) {
      const std::string action =
          absl::StrCat("/traslado/", t.transfer_id(), "/", form);
      EXPECT_EQ(HasAjaxForm(html, action), e.forms.count(form) > 0) << form;
      // Selector form.<name> (the browser test and console.js use it).
      EXPECT_EQ(absl::StrContains(html, absl::StrCat("class=\"", form, "\"")),
                e.forms.count(form) > 0)
          << form;
    }
    EXPECT_EQ(absl::StrContains(html, "id=\"caso-ajeno\""),
              e.owner != e.region);
    ExpectFormsCarryTokens(html);
  }

  // The sender cannot close a case in transit; it can while requested.
  CaseView transit;
  transit.case_record = at_mdd;
  transit.case_record.set_stage(v1::STAGE_IN_TRANSIT);
  EXPECT_FALSE(HasAjaxForm(CasePage(Context(kMdd), transit), "/cierre"));
  EXPECT_FALSE(HasAjaxForm(CasePage(Context(kMdd), transit), "/traslado"));
  transit.case_record.set_stage(v1::STAGE_TRANSFER_REQUESTED);
  EXPECT_TRUE(HasAjaxForm(CasePage(Context(kMdd), transit), "/cierre"));
  EXPECT_FALSE(HasAjaxForm(CasePage(Context(kMdd), transit), "/traslado"));
}

TEST(CasePageTest, AClosedCaseShowsNoForms) {
  CaseView view;
  view.case_record = MakeCase(5, kMdd, v1::STAGE_CLOSED);
  view.case_record.set_closed_reason(v1::CLOSED_REASON_REINTEGRATED);
  view.services = {MakeService(2, view.case_record.case_id())};
  const std::string html = CasePage(Context(kMdd), view);
  EXPECT_THAT(AjaxActions(html), ::testing::IsEmpty());
  EXPECT_THAT(html, HasSubstr("Cerrado"));
}

TEST(CasePageTest, EarlierCasesAndTheNoticeAreListed) {
  CaseView view;
  view.case_record = MakeCase(6, kMdd, v1::STAGE_IDENTIFIED);
  view.notice = "Caso abierto.";
  view.earlier_cases = {MakeCase(7, kCusco, v1::STAGE_CLOSED),
                        MakeCase(8, kMdd, v1::STAGE_FOLLOW_UP)};
  const std::string html = CasePage(Context(kMdd), view);
  EXPECT_THAT(html, HasSubstr("id=\"caso-aviso\">Caso abierto.</p>"));
  EXPECT_THAT(html, HasSubstr("id=\"caso-previos\""));
  for (const v1::Case& e : view.earlier_cases) {
    EXPECT_THAT(
        html, HasSubstr(absl::StrCat("<a href=\"/caso/", e.case_id(), "\">")));
  }
}

TEST(IntakePageTest, IdentityInputsAreNotRememberedByTheBrowser) {
  const std::string html = IntakePage(Context(kMdd));
  int checked = 0;
  for (const char* name :
       {"dni", "cnv", "nombres", "apellidos", "nacimiento", "distrito"}) {
    const std::regex input(
        absl::StrCat("<input[^>]*name=\"", name, "\"[^>]*>"));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(html, m, input)) << name;
    EXPECT_THAT(m[0].str(), HasSubstr("autocomplete=\"off\"")) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
  EXPECT_TRUE(HasAjaxForm(html, "/ingreso"));
  EXPECT_EQ(ExpectFormsCarryTokens(html), 2);  // intake and logout
  // The month of identification cannot be future.
  EXPECT_THAT(html, HasSubstr("value=\"2026-11\" max=\"2026-11\""));
  // Only DETECTED and IDENTIFIED as initial stage.
  EXPECT_THAT(html, HasSubstr("value=\"STAGE_DETECTED\""));
  EXPECT_THAT(html, Not(HasSubstr("value=\"STAGE_RESIDENTIAL_CARE\"")));
}

TEST(PagesTest, EveryFormCarriesCsrfAndARequestId) {
  const PageContext ctx = Context(kMdd);
  WorkQueues q;
  q.to_decide = {MakeTransfer(1, Id("cs_", 1), kCusco, kMdd,
                              v1::TRANSFER_STATE_REQUESTED)};
  CaseView view;
  view.case_record = MakeCase(9, kMdd, v1::STAGE_RESIDENTIAL_CARE);
  view.case_record.add_referrals("madre-de-dios/tdh");
  view.services = {MakeService(1, view.case_record.case_id()),
                   MakeService(2, view.case_record.case_id())};
  view.transfers = {MakeTransfer(2, view.case_record.case_id(), kMdd, kCusco,
                                 v1::TRANSFER_STATE_CANCELLED)};
  v1::ListCasesResponse cases;
  *cases.add_cases() = view.case_record;
  v1::ListActivitiesResponse activities;
  const std::vector<std::pair<std::string, std::string>> pages = {
      {"home", HomePage(ctx, q)},
      {"intake", IntakePage(ctx)},
      {"case", CasePage(ctx, view)},
      {"cases", CasesPage(ctx, cases, v1::STAGE_UNSPECIFIED, "")},
      {"activities", ActivitiesPage(ctx, activities, "")},
      {"message", MessagePage(ctx, "t", "m", "/")}};
  int ajax = 0;
  for (const auto& [name, html] : pages) {
    SCOPED_TRACE(name);
    EXPECT_GE(ExpectFormsCarryTokens(html), 1);
    ajax += static_cast<int>(AjaxActions(html).size());
  }
  // Case: stage, close, transfer, 2 service updates, new service, withdraw
  // referral, refer; intake; activities: campaign and training.
  EXPECT_EQ(ajax, 8 + 1 + 2);
  // The request_id differs between two renderings of the same page.
  const std::regex rid("name=\"request_id\" value=\"([^\"]*)\"");
  std::smatch a, b;
  const std::string first = IntakePage(ctx), second = IntakePage(ctx);
  ASSERT_TRUE(std::regex_search(first, a, rid));
  ASSERT_TRUE(std::regex_search(second, b, rid));
  EXPECT_NE(a[1].str(), b[1].str());
}

TEST(PagesTest, SpanishDates) {
  v1::Date d;
  d.set_year(2026);
  d.set_month(11);
  d.set_day(29);
  EXPECT_EQ(FormatDate(d), "29 de noviembre de 2026");
  d.set_month(9);
  d.set_day(1);
  EXPECT_EQ(FormatDate(d), "1 de setiembre de 2026");
  d.set_month(1);
  EXPECT_EQ(FormatDate(d), "1 de enero de 2026");
  d.set_month(13);
  EXPECT_EQ(FormatDate(d), "");
  EXPECT_EQ(FormatDate(v1::Date()), "");
  v1::YearMonth m;
  m.set_year(2027);
  m.set_month(12);
  EXPECT_EQ(FormatMonth(m), "diciembre de 2027");
  m.set_month(5);
  EXPECT_EQ(FormatMonth(m), "mayo de 2027");
  m.set_month(0);
  EXPECT_EQ(FormatMonth(m), "");
}

TEST(PagesTest, NodeErrorsAreSpanishSentences) {
  EXPECT_THAT(NodeErrorMessage(absl::UnavailableError("connection refused")),
              HasSubstr("No se puede contactar al nodo regional"));
  EXPECT_THAT(NodeErrorMessage(absl::UnavailableError("connection refused")),
              Not(HasSubstr("connection refused")));
  EXPECT_THAT(NodeErrorMessage(absl::DeadlineExceededError("")),
              HasSubstr("no respondió a tiempo"));
  EXPECT_THAT(
      NodeErrorMessage(absl::FailedPreconditionError("case is IN_TRANSIT")),
      HasSubstr("no permite este cambio en el estado actual del registro "
                "(case is IN_TRANSIT)"));
  EXPECT_THAT(NodeErrorMessage(absl::AbortedError("version")),
              HasSubstr("Otra persona modificó este registro"));
  EXPECT_THAT(NodeErrorMessage(absl::PermissionDeniedError("")),
              HasSubstr("certificado de la consola"));
  EXPECT_THAT(NodeErrorMessage(absl::NotFoundError("")),
              HasSubstr("no encuentra ese registro"));
  EXPECT_THAT(NodeErrorMessage(absl::InternalError("")),
              HasSubstr("Error del nodo regional"));
}

TEST(PagesTest, PagesWithRealisticDataStayUnder32KB) {
  const PageContext ctx = Context(kMdd);
  // A busy office: 10 items in each queue.
  WorkQueues q;
  for (int i = 0; i < 10; ++i) {
    q.to_decide.push_back(MakeTransfer(i, Id("cs_", i), kCusco, kMdd,
                                       v1::TRANSFER_STATE_REQUESTED));
    q.waiting_too_long.push_back(q.to_decide.back());
    q.departures_to_confirm.push_back(MakeTransfer(
        20 + i, Id("cs_", 20 + i), kMdd, kCusco, v1::TRANSFER_STATE_ACCEPTED));
    q.arrivals_expected.push_back(MakeTransfer(40 + i, Id("cs_", 40 + i),
                                               kCusco, kMdd,
                                               v1::TRANSFER_STATE_IN_TRANSIT));
    v1::Case c = MakeCase(60 + i, kMdd, v1::STAGE_FOLLOW_UP);
    q.follow_ups_overdue.push_back(c);
  }
  // A case with a long history: two earlier cases, three transfers (one to
  // act on), eight services, two referrals.
  CaseView view;
  view.case_record = MakeCase(100, kMdd, v1::STAGE_TRANSFER_REQUESTED);
  view.case_record.add_referrals("madre-de-dios/tdh");
  view.case_record.add_referrals("madre-de-dios/caritas");
  view.notice = "Caso abierto.";
  view.earlier_cases = {MakeCase(101, kCusco, v1::STAGE_CLOSED),
                        MakeCase(102, kMdd, v1::STAGE_CLOSED)};
  const std::string id = view.case_record.case_id();
  view.transfers = {
      MakeTransfer(100, id, kMdd, kCusco, v1::TRANSFER_STATE_REJECTED),
      MakeTransfer(101, id, kMdd, kCusco, v1::TRANSFER_STATE_CANCELLED),
      MakeTransfer(102, id, kMdd, kCusco, v1::TRANSFER_STATE_ACCEPTED)};
  view.transfers[0].set_reject_reason(v1::REJECT_REASON_NO_CAPACITY);
  view.transfers[0].set_note("Sin vacantes en el albergue hasta enero");
  for (int i = 0; i < 8; ++i) view.services.push_back(MakeService(i, id));
  // A full page of cases (the node's default page: 50) and of activities.
  v1::ListCasesResponse cases;
  for (int i = 0; i < 50; ++i) {
    *cases.add_cases() = MakeCase(200 + i, kMdd, v1::STAGE_RESIDENTIAL_CARE);
  }
  cases.set_next_page_token("Y3Nfb3Bhb3BhcXJzdHV2d3h5emFi");
  v1::ListActivitiesResponse activities;
  for (int i = 0; i < 50; ++i) {
    v1::Activity* a = activities.add_activities();
    if (i % 2 == 0) {
      a->mutable_awareness()->set_campaign("No te dejes engañar: ferias");
      a->mutable_awareness()->set_province("1701");
      a->mutable_awareness()->mutable_month()->set_year(2026);
      a->mutable_awareness()->mutable_month()->set_month(1 + i % 11);
      a->mutable_awareness()->set_people_reached(1500);
    } else {
      a->mutable_training()->set_level(v1::TRAINING_LEVEL_LOCAL);
      a->mutable_training()->set_province("1702");
      a->mutable_training()->mutable_month()->set_year(2026);
      a->mutable_training()->mutable_month()->set_month(1 + i % 11);
      a->mutable_training()->set_members_trained(30);
    }
  }
  activities.set_next_page_token("YWNfYWJjZGVmZ2hpamtsbW5vcHFyc3Q");

  const std::vector<std::pair<std::string, std::string>> pages = {
      {"login", LoginPage(kCsrf, "Sesión cerrada.", false)},
      {"home (5 queues x 10)", HomePage(ctx, q)},
      {"home (empty)", HomePage(ctx, WorkQueues())},
      {"intake", IntakePage(ctx)},
      {"case (3 transfers, 8 services)", CasePage(ctx, view)},
      {"cases (50)", CasesPage(ctx, cases, v1::STAGE_UNSPECIFIED, "")},
      {"activities (50)", ActivitiesPage(ctx, activities, "")},
      {"message",
       MessagePage(ctx, "No se pudo mostrar",
                   NodeErrorMessage(absl::UnavailableError("")), "/")}};
  for (const auto& [name, html] : pages) {
    std::cout << absl::StrFormat("[ page size ] %-32s %6d bytes\n", name,
                                 html.size());
    ::testing::Test::RecordProperty(absl::StrCat("bytes ", name),
                                    static_cast<int>(html.size()));
    EXPECT_LT(html.size(), 32u * 1024) << name;
    EXPECT_GT(html.size(), 500u) << name;
  }
}

}  // namespace
}  // namespace ruta::console
