#include "ruta/console/queues.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ruta::console {
namespace {

// Every transfer in `state`, incoming or outgoing, up to max_pages pages;
// `*read` tells whether the list was read completely.
std::vector<v1::Transfer> Transfers(OfficeBackend& backend,
                                    const std::string& clerk,
                                    const QueueOptions& options,
                                    v1::TransferState state, bool incoming,
                                    std::vector<std::string>* problems,
                                    bool* read) {
  std::vector<v1::Transfer> out;
  *read = false;
  v1::ListTransfersRequest request;
  request.set_page_size(100);
  request.set_state(state);
  request.set_incoming(incoming);
  for (int page = 0; page < options.max_pages; ++page) {
    absl::StatusOr<v1::ListTransfersResponse> list =
        backend.ListTransfers(clerk, request);
    if (!list.ok()) {
      problems->push_back(NodeErrorMessage(list.status()));
      return out;
    }
    for (const v1::Transfer& t : list->transfers()) out.push_back(t);
    if (list->next_page_token().empty()) {
      *read = true;
      return out;
    }
    request.set_page_token(list->next_page_token());
  }
  problems->push_back(
      absl::StrCat("Hay más de ", options.max_pages * 100,
                   " traslados en una cola: se muestran los primeros."));
  return out;
}

bool RequestedBefore(const v1::Transfer& t, absl::CivilDay limit) {
  const v1::Date& d = t.requested_on();
  return d.year() > 0 && absl::CivilDay(d.year(), d.month(), d.day()) < limit;
}

}  // namespace

WorkQueues ComputeWorkQueues(OfficeBackend& backend, const std::string& clerk,
                             const QueueOptions& options, absl::Time now,
                             absl::CivilDay today) {
  WorkQueues q;
  q.waiting_days = options.waiting_days;
  q.follow_up_days = options.follow_up_days;
  std::vector<std::string> problems;
  bool outgoing_requested_read = false;
  q.to_decide = Transfers(backend, clerk, options, v1::TRANSFER_STATE_REQUESTED,
                          true, &problems, &q.to_decide_read);
  const std::vector<v1::Transfer> outgoing_requested =
      Transfers(backend, clerk, options, v1::TRANSFER_STATE_REQUESTED, false,
                &problems, &outgoing_requested_read);
  q.departures_to_confirm =
      Transfers(backend, clerk, options, v1::TRANSFER_STATE_ACCEPTED, false,
                &problems, &q.departures_to_confirm_read);
  q.arrivals_expected =
      Transfers(backend, clerk, options, v1::TRANSFER_STATE_IN_TRANSIT, true,
                &problems, &q.arrivals_expected_read);
  q.waiting_too_long_read = q.to_decide_read && outgoing_requested_read;
  const absl::CivilDay limit = today - options.waiting_days;
  const std::vector<v1::Transfer>* requested[] = {&q.to_decide,
                                                  &outgoing_requested};
  for (const std::vector<v1::Transfer>* list : requested) {
    for (const v1::Transfer& t : *list) {
      if (RequestedBefore(t, limit)) q.waiting_too_long.push_back(t);
    }
  }

  v1::ListCasesRequest cases;
  cases.set_page_size(100);
  cases.set_stage(v1::STAGE_FOLLOW_UP);
  cases.set_exclude_closed(true);
  const absl::Time overdue = now - absl::Hours(24) * options.follow_up_days;
  for (int page = 0;; ++page) {
    if (page == options.max_pages) {
      q.follow_ups_overdue_read = false;
      problems.push_back(
          absl::StrCat("Hay más de ", options.max_pages * 100,
                       " casos en seguimiento: se revisaron los primeros."));
      break;
    }
    absl::StatusOr<v1::ListCasesResponse> list =
        backend.ListCases(clerk, cases);
    if (!list.ok()) {
      q.follow_ups_overdue_read = false;
      problems.push_back(NodeErrorMessage(list.status()));
      break;
    }
    for (const v1::Case& c : list->cases()) {
      const absl::Time updated =
          absl::FromUnixSeconds(c.updated_at().seconds());
      if (c.owner_region() == options.region && updated < overdue) {
        q.follow_ups_overdue.push_back(c);
      }
    }
    if (list->next_page_token().empty()) break;
    cases.set_page_token(list->next_page_token());
  }
  // One sentence per distinct problem (an unreachable node fails every list).
  std::set<std::string> seen;
  for (std::string& p : problems) {
    if (seen.insert(p).second) q.problems.push_back(std::move(p));
  }
  return q;
}

}  // namespace ruta::console
