#include "ruta/core/partner_service.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "partner_ref_index.h"
#include "ruta/common/status_macros.h"

namespace ruta::core {
namespace {

constexpr absl::string_view kSpiffePrefix = "spiffe://";
constexpr absl::string_view kTrustDomainSuffix = ".ruta.pe";
constexpr absl::string_view kPartnerPath = "/partner/";
// Cursor payloads: "L<position>" resumes the change log after a position;
// "S<position>:<ref>" resumes the initial state after the case with that ref
// (then the log after the position). Page tokens: "P<ref>".
constexpr int kServicesPage = 100;

YearMonth MonthOf(absl::Time t) {
  // The node's time zone (Peru, UTC-5, no DST), as transfer dates.
  static const absl::TimeZone zone = absl::FixedTimeZone(-5 * 60 * 60);
  const absl::CivilMonth month = absl::CivilMonth(absl::ToCivilSecond(t, zone));
  return YearMonth{static_cast<int>(month.year()), month.month()};
}

// Entries read from the index per batch while walking refs in order.
constexpr size_t kIndexBatch = 64;

// The referral of `case_id` to `partner` when the partner sees it in `txn`'s
// snapshot (referred, owned by `region`); nullopt else.
absl::StatusOr<std::optional<store::PartnerReferral>> VisibleReferral(
    store::ReadTxn& txn, const std::string& partner, const std::string& region,
    const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(std::optional<store::PartnerReferral> referral,
                        txn.FindPartnerReferral(partner, case_id));
  if (referral.has_value() && referral->owner_region != region) {
    return std::nullopt;
  }
  return referral;
}

// The referral whose ref for `partner` is `ref`, when the partner sees it in
// `txn`'s snapshot; nullopt else (whatever the reason).
absl::StatusOr<std::optional<store::PartnerReferral>> ReferralOfRef(
    store::ReadTxn& txn, internal::PartnerRefIndex& index,
    const std::string& partner, const std::string& region,
    const std::string& ref) {
  RUTA_RETURN_IF_ERROR(index.CatchUp(txn, partner));
  const std::optional<std::string> case_id = index.Find(partner, ref);
  if (!case_id.has_value()) return std::nullopt;
  return VisibleReferral(txn, partner, region, *case_id);
}

// Calls `visit` with each case the partner sees in `txn`'s snapshot whose
// ref is after `after` ("" for all), in ref order, until it returns false.
absl::Status ForEachReferral(
    store::ReadTxn& txn, internal::PartnerRefIndex& index,
    const std::string& partner, const std::string& region, std::string after,
    const std::function<absl::StatusOr<bool>(
        const std::string& ref, const store::PartnerReferral& referral)>&
        visit) {
  RUTA_RETURN_IF_ERROR(index.CatchUp(txn, partner));
  while (true) {
    const std::vector<internal::PartnerRefIndex::Entry> batch =
        index.After(partner, after, kIndexBatch);
    if (batch.empty()) return absl::OkStatus();
    for (const internal::PartnerRefIndex::Entry& e : batch) {
      after = e.ref;
      RUTA_ASSIGN_OR_RETURN(std::optional<store::PartnerReferral> referral,
                            VisibleReferral(txn, partner, region, e.case_id));
      if (!referral.has_value()) continue;
      RUTA_ASSIGN_OR_RETURN(const bool more, visit(e.ref, *referral));
      if (!more) return absl::OkStatus();
    }
  }
}

// The case of `referral` as the partner sees it, at `version` (0: the
// current one); nullopt when the store no longer has it.
absl::StatusOr<std::optional<PartnerCaseView>> Render(
    store::ReadTxn& txn, const std::string& partner, const std::string& ref,
    const store::PartnerReferral& referral, int64_t version) {
  std::optional<Case> c;
  if (version > 0) {
    RUTA_ASSIGN_OR_RETURN(c, txn.FindCaseVersion(referral.case_id, version));
  } else {
    RUTA_ASSIGN_OR_RETURN(c, txn.FindCase(referral.case_id));
  }
  if (!c.has_value()) return std::nullopt;
  PartnerCaseView view;
  view.partner_case_ref = ref;
  view.stage = c->stage;
  view.referred_month = MonthOf(referral.referred_at);
  RUTA_ASSIGN_OR_RETURN(std::vector<store::CaseStageVersion> stages,
                        txn.ListCaseStages(c->case_id, c->version));
  for (const store::CaseStageVersion& v : stages) {
    if (!view.timeline.empty() && view.timeline.back().stage == v.stage) {
      continue;
    }
    view.timeline.push_back({v.stage, MonthOf(v.at)});
  }
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::ServicePage page,
                          txn.ListServices(c->case_id, after, kServicesPage));
    for (ServiceRecord& s : page.services) {
      if (s.provider == partner) view.services.push_back(std::move(s));
    }
    after = std::move(page.next_after);
  } while (!after.empty());
  return view;
}

PartnerUpdate Withdrawn(std::string ref, std::string cursor) {
  PartnerUpdate update;
  update.view.partner_case_ref = std::move(ref);
  update.withdrawn = true;
  update.cursor = std::move(cursor);
  return update;
}

std::string LogCursor(int64_t position) {
  return EncodeLetterToken(absl::StrCat("L", position));
}

}  // namespace

std::string EncodeLetterToken(absl::string_view payload) {
  std::string out;
  out.reserve(payload.size() * 2);
  for (unsigned char b : payload) {
    out.push_back(static_cast<char>('a' + (b >> 4)));
    out.push_back(static_cast<char>('a' + (b & 0x0f)));
  }
  return out;
}

absl::StatusOr<std::string> DecodeLetterToken(absl::string_view token,
                                              absl::string_view field) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     " is not one this node issued; pass it unchanged (or "
                     "leave it empty to start over)"));
  };
  if (token.size() % 2 != 0 || token.size() > 256) return bad();
  std::string out;
  out.reserve(token.size() / 2);
  for (size_t i = 0; i < token.size(); i += 2) {
    const char hi = token[i], lo = token[i + 1];
    if (hi < 'a' || hi > 'p' || lo < 'a' || lo > 'p') return bad();
    out.push_back(static_cast<char>(((hi - 'a') << 4) | (lo - 'a')));
  }
  return out;
}

absl::StatusOr<std::string> PartnerIdOf(const Actor& actor) {
  absl::string_view p = actor.principal;
  auto denied = [&] {
    return absl::PermissionDeniedError(
        absl::StrCat("the caller ", actor.principal,
                     " is not a partner (a partner certificate names "
                     "spiffe://<region>.ruta.pe/partner/<name>)"));
  };
  if (!absl::ConsumePrefix(&p, kSpiffePrefix)) return denied();
  const size_t dot = p.find(kTrustDomainSuffix);
  if (dot == absl::string_view::npos || dot == 0) return denied();
  const absl::string_view region = p.substr(0, dot);
  absl::string_view rest = p.substr(dot + kTrustDomainSuffix.size());
  if (!absl::ConsumePrefix(&rest, kPartnerPath) || rest.empty() ||
      rest.find('/') != absl::string_view::npos) {
    return denied();
  }
  return absl::StrCat(region, "/", rest);
}

PartnerService::PartnerService(PartnerServiceOptions options,
                               store::Store* store,
                               const PartnerPseudonyms* pseudonyms,
                               TransferService* transfers)
    : options_(std::move(options)),
      store_(store),
      pseudonyms_(pseudonyms),
      transfers_(transfers),
      refs_(pseudonyms == nullptr ? nullptr
                                  : std::make_unique<internal::PartnerRefIndex>(
                                        pseudonyms, options_.region)) {}

PartnerService::~PartnerService() = default;

absl::StatusOr<std::string> PartnerService::RegisteredPartner(
    const Actor& actor) const {
  RUTA_ASSIGN_OR_RETURN(std::string partner, PartnerIdOf(actor));
  if (pseudonyms_ == nullptr ||
      std::find(options_.partners.begin(), options_.partners.end(), partner) ==
          options_.partners.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "partner ", partner, " is not registered on the node of ",
        options_.region,
        " (the node operator registers partners in the node configuration's "
        "`partners`)"));
  }
  return partner;
}

void PartnerService::ListReferredCases(
    const Actor& actor, PartnerCaseQuery query,
    std::function<void(absl::StatusOr<PartnerCaseList>)> done) {
  absl::StatusOr<std::string> partner = RegisteredPartner(actor);
  if (!partner.ok()) return done(partner.status());
  if (query.page_size < 0 || query.page_size > options_.max_page_size) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "page_size must be 1 to ", options_.max_page_size,
        ", or 0 for the default (", options_.default_page_size, ")")));
  }
  if (query.stage != Stage::kUnspecified && !IsSpecified(query.stage)) {
    return done(absl::InvalidArgumentError("stage is not a known stage"));
  }
  std::string after_ref;
  if (!query.page_token.empty()) {
    absl::StatusOr<std::string> payload =
        DecodeLetterToken(query.page_token, "page_token");
    if (!payload.ok()) return done(payload.status());
    if (!absl::StartsWith(*payload, "P")) {
      return done(absl::InvalidArgumentError(
          "page_token is not one this node issued; pass it unchanged"));
    }
    after_ref = payload->substr(1);
  }
  const int limit =
      query.page_size == 0 ? options_.default_page_size : query.page_size;
  auto result = std::make_shared<PartnerCaseList>();
  store_->Read(
      [result, partner = *partner, after_ref, limit, stage = query.stage,
       region = options_.region,
       index = refs_.get()](store::ReadTxn& txn) -> absl::Status {
        result->cases.clear();
        result->next_page_token.clear();
        return ForEachReferral(
            txn, *index, partner, region, after_ref,
            [&](const std::string& ref, const store::PartnerReferral& referral)
                -> absl::StatusOr<bool> {
              RUTA_ASSIGN_OR_RETURN(std::optional<PartnerCaseView> view,
                                    Render(txn, partner, ref, referral, 0));
              if (!view.has_value()) return true;
              if (stage != Stage::kUnspecified && view->stage != stage) {
                return true;
              }
              if (static_cast<int>(result->cases.size()) == limit) {
                result->next_page_token = EncodeLetterToken(
                    absl::StrCat("P", result->cases.back().partner_case_ref));
                return false;
              }
              result->cases.push_back(*std::move(view));
              return true;
            });
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void PartnerService::GetCaseStatus(
    const Actor& actor, std::string partner_case_ref,
    std::function<void(absl::StatusOr<PartnerCaseView>)> done) {
  absl::StatusOr<std::string> partner = RegisteredPartner(actor);
  if (!partner.ok()) return done(partner.status());
  if (!IsValidPartnerCaseRef(partner_case_ref)) {
    return done(absl::InvalidArgumentError(
        "partner_case_ref must be \"pc_\" followed by 32 letters a to p"));
  }
  auto result = std::make_shared<PartnerCaseView>();
  store_->Read(
      [result, partner = *partner, ref = std::move(partner_case_ref),
       region = options_.region,
       index = refs_.get()](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(std::optional<store::PartnerReferral> referral,
                              ReferralOfRef(txn, *index, partner, region, ref));
        std::optional<PartnerCaseView> view;
        if (referral.has_value()) {
          RUTA_ASSIGN_OR_RETURN(view, Render(txn, partner, ref, *referral, 0));
        }
        if (!view.has_value()) {
          return absl::NotFoundError(
              "no case referred to you has this partner_case_ref");
        }
        *result = *std::move(view);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void PartnerService::ReadChanges(
    const Actor& actor, std::string cursor, int limit,
    std::function<void(absl::StatusOr<std::vector<PartnerUpdate>>)> done) {
  absl::StatusOr<std::string> partner = RegisteredPartner(actor);
  if (!partner.ok()) return done(partner.status());
  if (limit <= 0) {
    return done(absl::InvalidArgumentError("limit must be positive"));
  }
  // Decoded: snapshot (with its position and the last ref sent) or log.
  bool snapshot = true;
  bool fresh = cursor.empty();
  int64_t position = 0;
  std::string after_ref;
  if (!fresh) {
    absl::StatusOr<std::string> payload = DecodeLetterToken(cursor, "cursor");
    if (!payload.ok()) return done(payload.status());
    bool ok = false;
    if (absl::StartsWith(*payload, "L")) {
      snapshot = false;
      ok = absl::SimpleAtoi(payload->substr(1), &position) && position >= 0;
    } else if (absl::StartsWith(*payload, "S")) {
      std::vector<std::string> parts =
          absl::StrSplit(payload->substr(1), absl::MaxSplits(':', 1));
      ok = parts.size() == 2 && absl::SimpleAtoi(parts[0], &position) &&
           position >= 0;
      if (ok) after_ref = parts[1];
    }
    if (!ok) {
      return done(absl::InvalidArgumentError(
          "cursor is not one this node issued; pass it unchanged (or leave "
          "it empty to start over)"));
    }
  }
  auto result = std::make_shared<std::vector<PartnerUpdate>>();
  store_->Read(
      [result, partner = *partner, snapshot, fresh, position, after_ref, limit,
       region = options_.region, pseudonyms = pseudonyms_,
       index = refs_.get()](store::ReadTxn& txn) -> absl::Status {
        result->clear();
        int64_t pos = position;
        if (snapshot) {
          if (fresh) {
            RUTA_ASSIGN_OR_RETURN(pos, txn.LastPartnerChange());
          }
          bool full = false;
          RUTA_RETURN_IF_ERROR(ForEachReferral(
              txn, *index, partner, region, after_ref,
              [&](const std::string& ref,
                  const store::PartnerReferral& referral)
                  -> absl::StatusOr<bool> {
                // The state at `pos`: referrals begun later come from the
                // log.
                if (referral.since_position > pos) return true;
                if (static_cast<int>(result->size()) >= limit) {
                  full = true;  // the snapshot goes on next read
                  return false;
                }
                RUTA_ASSIGN_OR_RETURN(std::optional<PartnerCaseView> view,
                                      Render(txn, partner, ref, referral, 0));
                if (!view.has_value()) return true;
                PartnerUpdate update;
                update.view = *std::move(view);
                update.cursor =
                    EncodeLetterToken(absl::StrCat("S", pos, ":", ref));
                result->push_back(std::move(update));
                return true;
              }));
          if (full) return absl::OkStatus();
          PartnerUpdate marker;
          marker.marker = true;
          marker.cursor = LogCursor(pos);
          result->push_back(std::move(marker));
          return absl::OkStatus();
        }
        RUTA_ASSIGN_OR_RETURN(std::vector<store::PartnerChange> changes,
                              txn.ScanPartnerChanges(partner, pos, limit));
        for (const store::PartnerChange& change : changes) {
          std::string ref = pseudonyms->CaseRefFor(partner, change.case_id);
          std::string next = LogCursor(change.position);
          std::optional<store::PartnerReferral> referral;
          if (!change.withdrawn) {
            RUTA_ASSIGN_OR_RETURN(
                referral, txn.FindPartnerReferral(partner, change.case_id));
          }
          if (!referral.has_value() || referral->owner_region != region) {
            result->push_back(Withdrawn(std::move(ref), std::move(next)));
            continue;
          }
          RUTA_ASSIGN_OR_RETURN(
              std::optional<PartnerCaseView> view,
              Render(txn, partner, ref, *referral, change.case_version));
          if (!view.has_value()) {
            result->push_back(Withdrawn(std::move(ref), std::move(next)));
            continue;
          }
          PartnerUpdate update;
          update.view = *std::move(view);
          update.cursor = std::move(next);
          result->push_back(std::move(update));
        }
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void PartnerService::UpdateServiceStatus(
    const Actor& actor, PartnerServiceStatusCommand command,
    std::function<void(absl::StatusOr<ServiceRecord>)> done) {
  absl::StatusOr<std::string> partner = RegisteredPartner(actor);
  if (!partner.ok()) return done(partner.status());
  if (!IsValidPartnerCaseRef(command.partner_case_ref)) {
    return done(absl::InvalidArgumentError(
        "partner_case_ref must be \"pc_\" followed by 32 letters a to p"));
  }
  auto case_id = std::make_shared<std::string>();
  std::string ref = command.partner_case_ref;  // before `command` is moved
  store_->Read(
      [case_id, partner = *partner, ref = std::move(ref),
       region = options_.region,
       index = refs_.get()](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(std::optional<store::PartnerReferral> referral,
                              ReferralOfRef(txn, *index, partner, region, ref));
        if (!referral.has_value()) {
          return absl::NotFoundError(
              "no case referred to you has this reference");
        }
        *case_id = referral->case_id;
        return absl::OkStatus();
      },
      [case_id, partner = *partner, actor, command = std::move(command),
       transfers = transfers_,
       done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) return done(std::move(status));
        UpdateServiceCommand update;
        update.request_id = std::move(command.request_id);
        update.service_id = std::move(command.service_id);
        update.status = command.status;
        update.end_month = command.end_month;
        update.partner_id = partner;
        update.partner_case_id = *case_id;
        transfers->UpdateService(actor, std::move(update), std::move(done));
      });
}

}  // namespace ruta::core
