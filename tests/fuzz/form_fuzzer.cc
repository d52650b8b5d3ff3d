// libFuzzer target: what ruta-console does with a form a browser posts.
// The first byte picks a form, the rest is its application/x-www-form-
// urlencoded body: parsed (web::ParseFormMulti), turned into a CaseOffice
// request (console/forms.h), and every posted value is rendered into the
// pages that show clerk-typed text (a campaign name, a transfer note). It
// traps when an accepted request breaks what the node requires of it, or when
// a value with HTML metacharacters appears unescaped in a page.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"
#include "ruta/console/forms.h"
#include "ruta/console/pages.h"
#include "ruta/core/ids.h"
#include "ruta/core/ubigeo.h"
#include "ruta/web/http.h"

namespace {

using ruta::console::Form;

constexpr char kCase[] = "cs_abcdefghijklmnopqrst";
constexpr char kTransfer[] = "tr_abcdefghijklmnopqrst";
constexpr char kService[] = "sv_abcdefghijklmnopqrst";
const absl::CivilDay kToday(2026, 11, 29);

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

template <typename Request>
void CheckRequestId(const Request& request) {
  Check(ruta::core::IsValidRequestId(request.request_id()));
}

bool HasMetacharacter(const std::string& s) {
  return s.find_first_of("<>\"'&") != std::string::npos;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The pages that show typed text, with `value` as that text.
std::string Pages(const std::string& value) {
  ruta::console::PageContext ctx;
  ctx.user = "luis";
  ctx.csrf_token = "token";
  ctx.region = "madre-de-dios";
  ctx.department = "17";
  ctx.peer_departments = {{"cusco", "08"}};
  ctx.today = kToday;
  ruta::v1::ListActivitiesResponse activities;
  activities.add_activities()->mutable_awareness()->set_campaign(value);
  ruta::console::CaseView view;
  view.case_record.set_case_id(kCase);
  view.case_record.set_owner_region("madre-de-dios");
  ruta::v1::Transfer t;
  t.set_transfer_id(kTransfer);
  t.set_note(value);
  view.transfers.push_back(t);
  return ruta::console::ActivitiesPage(ctx, activities, "") +
         ruta::console::CasePage(ctx, view) +
         ruta::console::MessagePage(ctx, value, value, "/");
}

// A value holding HTML metacharacters never appears raw in a page: it
// occurs no more often than in the same pages showing a neutral text (the
// value may be a piece of the pages' own markup, e.g. "<sc").
void CheckEscaped(const std::string& value) {
  if (!HasMetacharacter(value)) return;
  // Request ids differ from render to render: compare without them.
  auto strip = [](std::string html) {
    for (size_t at = html.find("name=\"request_id\" value=\"");
         at != std::string::npos;
         at = html.find("name=\"request_id\" value=\"", at + 1)) {
      html.replace(at + 25, 36, std::string(36, '0'));
    }
    return html;
  };
  Check(Count(strip(Pages(value)), value) <= Count(strip(Pages("x")), value));
}

void Parse(uint8_t kind, const Form& form) {
  using namespace ruta::console;
  switch (kind % 13) {
    case 0: {
      auto intake = ParseIntakeForm(form, kToday);
      if (!intake.ok()) return;
      CheckRequestId(intake->open);
      const ruta::v1::PersonIdentifiers& ids = intake->open.identifiers();
      Check(ids.dni().empty() || ids.dni().size() == 8);
      Check(!ids.dni().empty() || !ids.cnv().empty() ||
            (!ids.given_names().empty() && ids.has_birth_date()));
      Check(ruta::core::IsKnownProvince(
          intake->open.profile().origin_province()));
      break;
    }
    case 1:
      if (auto r = ParseStageForm(kCase, form); r.ok()) CheckRequestId(*r);
      break;
    case 2:
      if (auto r = ParseCloseForm(kCase, form); r.ok()) CheckRequestId(*r);
      break;
    case 3:
      if (auto r = ParseReferForm(kCase, form); r.ok()) {
        CheckRequestId(*r);
        Check(r->partner_id().find('/') != std::string::npos);
      }
      break;
    case 4:
      if (auto r = ParseTransferForm(kCase, form, {{"cusco", "08"}}); r.ok()) {
        CheckRequestId(*r);
        Check(r->to_region() == "cusco");
        Check(r->destination_province().substr(0, 2) == "08");
      }
      break;
    case 5:
      if (auto r = ParseRejectForm(kTransfer, form); r.ok()) {
        CheckRequestId(*r);
        Check(r->note().size() <= 4 * 280);
      }
      break;
    case 6:
      if (auto r = ParseCancelForm(kTransfer, form); r.ok()) CheckRequestId(*r);
      break;
    case 7:
      if (auto r = ParseDepartForm(kTransfer, form, kToday); r.ok()) {
        CheckRequestId(*r);
      }
      break;
    case 8:
      if (auto r = ParseReceiveForm(kTransfer, form, kToday); r.ok()) {
        CheckRequestId(*r);
      }
      break;
    case 9:
      if (auto r = ParseAddServiceForm(kCase, form); r.ok()) CheckRequestId(*r);
      break;
    case 10:
      if (auto r = ParseUpdateServiceForm(kService, form); r.ok()) {
        CheckRequestId(*r);
      }
      break;
    case 11:
      if (auto r = ParseAwarenessForm(form, "17"); r.ok()) {
        CheckRequestId(*r);
        Check(r->awareness().province().substr(0, 2) == "17");
        Check(r->awareness().people_reached() >= 1);
      }
      break;
    case 12:
      if (auto r = ParseTrainingForm(form, "17"); r.ok()) CheckRequestId(*r);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Form form = ruta::web::ParseFormMulti(body);
  Parse(data[0], form);
  for (const auto& [name, value] : form) CheckEscaped(value);
  return 0;
}
