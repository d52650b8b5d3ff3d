// The console's HTML pages, rendered on the server: small (no framework, one
// stylesheet and one script of a few KB, no images), Spanish throughout, and
// usable without the script (forms post and redirect); console.js only
// keeps a form on the page when the node cannot be reached and blocks double
// submission. Pure functions: data in, HTML out, every value escaped.
//
// Identifiers of a child are never rendered: pages show case ids, the
// generalized profile, stages, transfers and services only. Form inputs
// for identifiers carry autocomplete="off" so that the browser keeps nothing.
#ifndef RUTA_CONSOLE_PAGES_H_
#define RUTA_CONSOLE_PAGES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::console {

// What every page of a logged-in clerk needs.
struct PageContext {
  std::string user;        // the clerk's account
  std::string csrf_token;  // of the clerk's session, in every form
  std::string region;      // the office's region slug
  std::string department;  // its UBIGEO department
  std::map<std::string, std::string> peer_departments;  // transfer targets
  absl::CivilDay today;                                 // in Peru (UTC-5)
};

// The home page's work queues (ComputeWorkQueues in queues.h).
struct WorkQueues {
  // Incoming transfers to accept or reject.
  std::vector<v1::Transfer> to_decide;
  // Transfers (either way) REQUESTED for more than `waiting_days`.
  std::vector<v1::Transfer> waiting_too_long;
  // Outgoing transfers accepted: the child's departure to confirm.
  std::vector<v1::Transfer> departures_to_confirm;
  // Incoming transfers in transit: arrivals expected.
  std::vector<v1::Transfer> arrivals_expected;
  // Cases in FOLLOW_UP not updated for more than `follow_up_days`.
  std::vector<v1::Case> follow_ups_overdue;
  int waiting_days = 7;
  int follow_up_days = 90;
  // A queue that could not be read completely (Spanish sentence); the page
  // shows it rather than an empty queue.
  std::vector<std::string> problems;
  // Whether each queue was read completely (false: a list it needs failed or
  // was cut); an empty queue not read is shown as unread, not as empty.
  bool to_decide_read = true;
  bool waiting_too_long_read = true;
  bool departures_to_confirm_read = true;
  bool arrivals_expected_read = true;
  bool follow_ups_overdue_read = true;
};

// Everything the case page shows.
struct CaseView {
  v1::Case case_record;
  std::vector<v1::Transfer> transfers;  // of this case, oldest first
  std::vector<v1::ServiceRecord> services;
  // Earlier cases of the same child found at intake (FindPerson), when the
  // page follows an intake; each "cs_..." with its region and stage.
  std::vector<v1::Case> earlier_cases;
  // Shown at the top, e.g. "Caso abierto."; may be empty.
  std::string notice;
};

std::string LoginPage(const std::string& csrf, const std::string& message,
                      bool error);
std::string HomePage(const PageContext& ctx, const WorkQueues& queues);
std::string IntakePage(const PageContext& ctx);
std::string CasePage(const PageContext& ctx, const CaseView& view);
// The region's cases, one page, optionally in one stage.
std::string CasesPage(const PageContext& ctx, const v1::ListCasesResponse& list,
                      v1::Stage stage_filter, const std::string& page_token);
std::string ActivitiesPage(const PageContext& ctx,
                           const v1::ListActivitiesResponse& list,
                           const std::string& page_token);
// A page that only explains a problem (node unreachable, unknown case, a
// refused form when the script is off), with a link back.
std::string MessagePage(const PageContext& ctx, const std::string& title,
                        const std::string& message, const std::string& back);

// Spanish dates: "29 de noviembre de 2026", "noviembre de 2026".
std::string FormatDate(const v1::Date& date);
std::string FormatMonth(const v1::YearMonth& month);

// The Spanish sentence for a failed call to the node, saying what the clerk
// can do (UNAVAILABLE, or CANCELLED by a node being stopped: the node is
// unreachable, the form is kept, try again; FAILED_PRECONDITION: the node's
// reason...). Never contains identifiers: the node's messages name fields, not
// values.
std::string NodeErrorMessage(const absl::Status& status);

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_PAGES_H_
