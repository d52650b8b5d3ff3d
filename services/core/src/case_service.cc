#include "ruta/core/case_service.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "crypto_util.h"
#include "mutations.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/audit.h"
#include "ruta/core/ids.h"
#include "ruta/core/profile.h"
#include "ruta/core/stage_machine.h"

namespace ruta::core {
namespace {

constexpr char kOpenCaseMethod[] = "CaseOffice.OpenCase";
constexpr char kUpdateStageMethod[] = "CaseOffice.UpdateStage";
constexpr char kCloseCaseMethod[] = "CaseOffice.CloseCase";
constexpr char kReferCaseMethod[] = "CaseOffice.ReferCase";

// Upper bound on the cases FindPerson returns for one child.
constexpr int kMaxCasesPerPerson = 1000;
constexpr int kFindPersonPage = 100;

// Whether `ref` was derived from identifiers (not a random "pr0_" ref).
bool IsLinked(const std::string& ref) { return PersonRefKeyVersion(ref) != 0; }

using internal::AuditMutation;
using internal::CheckRequestId;
using internal::Fingerprinter;
using internal::NowMicros;

absl::Status CheckRegion(const CaseServiceOptions& options,
                         const Actor& actor) {
  return internal::CheckRegion(options.region, actor);
}

absl::Status CheckCaseId(const std::string& case_id) {
  if (!IsValidCaseId(case_id)) {
    return absl::InvalidArgumentError(
        "case_id must be \"cs_\" followed by 20 lowercase letters");
  }
  return absl::OkStatus();
}

absl::Status CheckExpectedVersion(const std::optional<int64_t>& expected) {
  if (expected.has_value() && *expected < 1) {
    return absl::InvalidArgumentError(
        "expected_version must be 1 or more when given");
  }
  return absl::OkStatus();
}

absl::Status NoSuchCase(const std::string& case_id, const std::string& region) {
  return absl::NotFoundError(
      absl::StrCat("no case ", case_id, " in region ", region));
}

// Overwrites and clears every identifier of `identity`.
void WipeIdentity(IdentityTuple& identity) {
  internal::Wipe(identity.dni);
  internal::Wipe(identity.cnv);
  internal::Wipe(identity.given_names);
  internal::Wipe(identity.surnames);
  internal::Wipe(identity.birth_district);
  identity.birth_year = identity.birth_month = identity.birth_day = 0;
}

// If (principal, request_id) was already executed, loads the case version it
// produced into `out` and returns true. INVALID_ARGUMENT when the earlier
// request had different content.
absl::StatusOr<bool> Replay(store::ReadTxn& txn, const std::string& principal,
                            const std::string& request_id,
                            const std::string& fingerprint, Case* out) {
  RUTA_ASSIGN_OR_RETURN(
      std::optional<store::RequestRecord> record,
      internal::FindReplay(txn, principal, request_id, fingerprint));
  if (!record.has_value()) return false;
  RUTA_ASSIGN_OR_RETURN(
      std::optional<Case> c,
      txn.FindCaseVersion(record->case_id, record->case_version));
  if (!c.has_value()) {
    RUTA_ASSIGN_OR_RETURN(bool erased, txn.IsCaseErased(record->case_id));
    if (erased) {
      return absl::NotFoundError(
          absl::StrCat("request_id ", request_id, " opened or changed case ",
                       record->case_id, ", which has since been erased"));
    }
    return absl::InternalError(absl::StrCat(
        "request_id ", request_id, " recorded version ", record->case_version,
        " of case ", record->case_id, ", which the store does not have"));
  }
  *out = *std::move(c);
  return true;
}

store::RequestRecord MakeRecord(const Actor& actor, const std::string& id,
                                const char* method, const std::string& fp,
                                const Case& c) {
  return internal::MakeRequestRecord(actor, id, method, fp, c.case_id,
                                     c.version, c.updated_at);
}

}  // namespace

namespace {

std::unique_ptr<LinkageKeys> BorrowKeyring(const LinkageKeyring* keyring) {
  if (keyring == nullptr) return nullptr;
  // Not owned: the caller keeps the keyring alive.
  return std::make_unique<LinkageKeys>(
      std::shared_ptr<const LinkageKeyring>(keyring,
                                            [](const LinkageKeyring*) {}),
      keyring->current_version());
}

// The cases of refs `refs` (each resolved to the ref its cases carry now)
// that the node of `region` shows: its own and the ones shared with it.
// `best_ref` becomes the best ref that carries a case (SurvivingPersonRef),
// or stays as it is when none does.
absl::Status CollectCasesOfRefs(store::ReadTxn& txn, const std::string& region,
                                const std::vector<std::string>& refs,
                                std::vector<Case>* cases,
                                std::vector<std::string>* roots_with_cases) {
  for (const std::string& ref : refs) {
    RUTA_ASSIGN_OR_RETURN(std::string root, ResolvePersonRef(txn, ref));
    if (std::find(roots_with_cases->begin(), roots_with_cases->end(), root) !=
        roots_with_cases->end()) {
      continue;
    }
    store::CaseFilter filter;
    filter.person_ref = root;
    std::string after;
    bool any = false;
    do {
      RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                            txn.ListCases(filter, after, kFindPersonPage));
      for (Case& c : page.cases) {
        if (c.owner_region != region) {
          RUTA_ASSIGN_OR_RETURN(std::vector<std::string> shares,
                                txn.ListCaseShares(c.case_id));
          if (shares.empty()) continue;
        }
        any = true;
        if (cases != nullptr &&
            static_cast<int>(cases->size()) < kMaxCasesPerPerson) {
          cases->push_back(std::move(c));
        }
      }
      after = std::move(page.next_after);
    } while (!after.empty());
    if (any) roots_with_cases->push_back(std::move(root));
  }
  return absl::OkStatus();
}

}  // namespace

CaseService::CaseService(CaseServiceOptions options, store::Store* store,
                         const LinkageKeyring* keyring, const Outbox* outbox)
    : options_(std::move(options)),
      store_(store),
      owned_keys_(BorrowKeyring(keyring)),
      keys_(owned_keys_.get()),
      outbox_(outbox) {}

CaseService::CaseService(CaseServiceOptions options, store::Store* store,
                         const LinkageKeys* keys, const Outbox* outbox)
    : options_(std::move(options)),
      store_(store),
      keys_(keys),
      outbox_(outbox) {}

void CaseService::OpenCase(const Actor& actor, OpenCaseCommand command,
                           std::function<void(absl::StatusOr<Case>)> done) {
  auto reject = [&](absl::Status status) {
    WipeIdentity(command.identity);
    done(std::move(status));
  };
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) {
    return reject(s);
  }
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return reject(s);
  }
  const CaseKind kind = command.kind;
  if (!IsSpecified(kind)) {
    return reject(
        absl::InvalidArgumentError("kind must be VICTIM or PREVENTION"));
  }
  const Stage initial = command.initial_stage;
  if (kind == CaseKind::kVictim && initial != Stage::kDetected &&
      initial != Stage::kIdentified) {
    return reject(absl::InvalidArgumentError(
        "initial_stage of a VICTIM case must be DETECTED or IDENTIFIED"));
  }
  if (kind == CaseKind::kPrevention && initial != Stage::kIdentified) {
    return reject(absl::InvalidArgumentError(
        "initial_stage of a PREVENTION case must be IDENTIFIED"));
  }
  NormalizeProfile(&command.profile);
  if (absl::Status s = ValidateProfile(command.profile, kind); !s.ok()) {
    return reject(s);
  }
  if (!IsSpecified(command.legal_basis)) {
    return reject(absl::InvalidArgumentError(
        "legal_basis must be one of UPE_PROTECTIVE_MEASURE, "
        "PROSECUTOR_ORDER, WRITTEN_CONSENT"));
  }

  // Derive the person_ref now, before anything reaches the store; then the
  // identifiers are wiped and only the ref travels on.
  absl::StatusOr<LinkageBasis> basis = ChooseLinkageBasis(command.identity);
  if (!basis.ok()) return reject(basis.status());
  std::string person_ref;
  // The child's refs under the older key versions too: cases under them are
  // re-linked to the new case's ref (person_links.h).
  std::vector<std::string> other_refs;
  // A random ref differs on every retry: the fingerprint then records only
  // that the case is unlinked.
  std::string fingerprint_ref;
  if (*basis == LinkageBasis::kNone) {
    person_ref = RandomPersonRef();
    fingerprint_ref = "unlinked";
  } else {
    if (keys_ == nullptr) {
      return reject(absl::FailedPreconditionError(
          "this node has no linkage keyring: cases can only be opened "
          "without identifiers"));
    }
    absl::StatusOr<std::vector<std::string>> refs =
        DeriveRefsUnderEveryVersion(keys_->Get(), command.identity);
    if (!refs.ok()) return reject(refs.status());
    person_ref = refs->front();
    other_refs.assign(refs->begin() + 1, refs->end());
    fingerprint_ref = person_ref;
  }
  WipeIdentity(command.identity);

  const Profile& p = command.profile;
  Fingerprinter fp(kOpenCaseMethod);
  fp.Add(CaseKindName(kind))
      .Add(StageName(initial))
      .Add(AgeBandName(p.age_band))
      .Add(SexName(p.sex))
      .Add(p.origin_province)
      .Add(static_cast<int64_t>(p.exploitation_forms.size()));
  for (ExploitationForm f : p.exploitation_forms) {
    fp.Add(ExploitationFormName(f));
  }
  fp.Add(SettingName(p.setting))
      .Add(RecruitmentMeansName(p.recruitment_means))
      .Add(p.identified_month.year)
      .Add(p.identified_month.month)
      .Add(LegalBasisName(command.legal_basis))
      .Add(command.consent_partner_sharing ? "consent" : "no-consent")
      .Add(fingerprint_ref);

  Case draft;
  draft.person_ref = std::move(person_ref);
  draft.kind = kind;
  draft.owner_region = options_.region;
  draft.stage = initial;
  draft.profile = std::move(command.profile);
  draft.legal_basis = command.legal_basis;
  draft.consent_partner_sharing = command.consent_partner_sharing;
  draft.version = 1;
  draft.opened_by = actor.principal;

  auto result = std::make_shared<Case>();
  store_->Write(
      [result, draft = std::move(draft), fingerprint = fp.Finish(), actor,
       request_id = command.request_id, other_refs = std::move(other_refs),
       region = options_.region,
       outbox = outbox_](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed, Replay(txn, actor.principal, request_id, fingerprint,
                                  result.get()));
        if (replayed) {
          return AuditMutation(txn, actor, kOpenCaseMethod, result->case_id);
        }
        Case c = draft;
        if (IsLinked(c.person_ref)) {
          // The child seen again: join the refs its cases carry (older key
          // versions, earlier merges) with this one; the case gets the
          // surviving ref.
          std::vector<std::string> refs = other_refs;
          refs.insert(refs.begin(), c.person_ref);
          std::vector<std::string> roots;
          RUTA_RETURN_IF_ERROR(
              CollectCasesOfRefs(txn, region, refs, nullptr, &roots));
          std::string ref = c.person_ref;
          for (const std::string& root : roots) {
            RUTA_ASSIGN_OR_RETURN(PersonJoin join,
                                  JoinPersons(txn, ref, root, outbox));
            ref = join.kept_ref;
          }
          RUTA_ASSIGN_OR_RETURN(c.person_ref, ResolvePersonRef(txn, ref));
        }
        RUTA_ASSIGN_OR_RETURN(
            c.case_id,
            internal::DrawFreshId(
                "case id", &NewCaseId,
                [&txn](const std::string& id) -> absl::StatusOr<bool> {
                  RUTA_ASSIGN_OR_RETURN(std::optional<Case> found,
                                        txn.FindCase(id));
                  return found.has_value();
                }));
        c.opened_at = c.updated_at = NowMicros();
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {}, {c.person_ref}));
        RUTA_RETURN_IF_ERROR(txn.PutCase(c));
        RUTA_RETURN_IF_ERROR(txn.PutRequest(
            MakeRecord(actor, request_id, kOpenCaseMethod, fingerprint, c)));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        RUTA_RETURN_IF_ERROR(
            AuditMutation(txn, actor, kOpenCaseMethod, c.case_id));
        *result = std::move(c);
        return absl::OkStatus();
      },
      [result, outbox = outbox_, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        if (outbox != nullptr) outbox->Committed();
        done(std::move(*result));
      });
}

void CaseService::FindPerson(
    const Actor& actor, IdentityTuple identity,
    std::function<void(absl::StatusOr<FindPersonResult>)> done) {
  auto reject = [&](absl::Status status) {
    WipeIdentity(identity);
    done(std::move(status));
  };
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) {
    return reject(s);
  }
  absl::StatusOr<LinkageBasis> basis = ChooseLinkageBasis(identity);
  if (!basis.ok()) return reject(basis.status());
  if (*basis == LinkageBasis::kNone) {
    WipeIdentity(identity);
    FindPersonResult unlinked;
    unlinked.person_ref = RandomPersonRef();  // not stored anywhere
    unlinked.linked = false;
    return done(std::move(unlinked));
  }
  if (keys_ == nullptr) {
    return reject(absl::FailedPreconditionError(
        "this node has no linkage keyring: persons cannot be looked up"));
  }
  absl::StatusOr<std::vector<std::string>> refs =
      DeriveRefsUnderEveryVersion(keys_->Get(), identity);
  WipeIdentity(identity);
  if (!refs.ok()) return done(refs.status());

  auto result = std::make_shared<FindPersonResult>();
  result->linked = true;
  store_->Read(
      [result, refs = *std::move(refs),
       region = options_.region](store::ReadTxn& txn) -> absl::Status {
        result->cases.clear();
        std::vector<std::string> roots;
        RUTA_RETURN_IF_ERROR(
            CollectCasesOfRefs(txn, region, refs, &result->cases, &roots));
        // The ref the cases carry (the best one, should they carry several
        // before a re-link), else the ref under the current key.
        result->person_ref = roots.empty() ? refs.front() : roots.front();
        for (const std::string& root : roots) {
          result->person_ref = SurvivingPersonRef(result->person_ref, root);
        }
        // Most recent first.
        std::sort(result->cases.begin(), result->cases.end(),
                  [](const Case& a, const Case& b) {
                    return a.opened_at > b.opened_at;
                  });
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void CaseService::GetCase(const Actor& actor, std::string case_id,
                          std::function<void(absl::StatusOr<Case>)> done) {
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) return done(s);
  if (absl::Status s = CheckCaseId(case_id); !s.ok()) return done(s);
  auto result = std::make_shared<Case>();
  store_->Read(
      [result, case_id,
       region = options_.region](store::ReadTxn& txn) -> absl::Status {
        // Readable: the region's own cases, and the cases that crossed
        // between it and another region in a transfer (either way).
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(case_id));
        if (!c.has_value()) return NoSuchCase(case_id, region);
        if (c->owner_region != region) {
          RUTA_ASSIGN_OR_RETURN(std::vector<std::string> shares,
                                txn.ListCaseShares(case_id));
          if (shares.empty()) return NoSuchCase(case_id, region);
        }
        *result = *std::move(c);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void CaseService::ListCases(
    const Actor& actor, ListCasesQuery query,
    std::function<void(absl::StatusOr<CaseList>)> done) {
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) return done(s);
  if (query.page_size < 0) {
    return done(absl::InvalidArgumentError(
        "page_size must be 0 (the default) or more"));
  }
  int limit =
      query.page_size == 0 ? options_.default_page_size : query.page_size;
  limit = std::max(1, std::min(limit, std::max(1, options_.max_page_size)));
  if (query.stage != Stage::kUnspecified && !IsSpecified(query.stage)) {
    return done(absl::InvalidArgumentError("stage is not a known stage"));
  }
  if (query.kind != CaseKind::kUnspecified && !IsSpecified(query.kind)) {
    return done(absl::InvalidArgumentError("kind is not a known case kind"));
  }
  if (!query.person_ref.empty() && !IsValidPersonRef(query.person_ref)) {
    return done(absl::InvalidArgumentError(
        "person_ref must be \"pr\" + key version + \"_\" + 32 letters a..p"));
  }
  absl::StatusOr<std::string> after = DecodePageToken(query.page_token);
  if (!after.ok()) return done(after.status());

  store::CaseFilter filter;
  filter.owner_region = options_.region;
  filter.stage = query.stage;
  filter.kind = query.kind;
  filter.person_ref = std::move(query.person_ref);
  filter.include_closed = query.include_closed;

  auto result = std::make_shared<CaseList>();
  store_->Read(
      [result, filter = std::move(filter), after = *std::move(after),
       limit](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                              txn.ListCases(filter, after, limit));
        result->cases = std::move(page.cases);
        result->next_page_token = page.next_after.empty()
                                      ? std::string()
                                      : EncodePageToken(page.next_after);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

namespace {

// One idempotent change of an existing case of `region`, in one write
// transaction: a retried request replays its first result; otherwise the case
// must exist in the region and be at `expected_version` (when given),
// `change` edits it (or refuses with an error), and the new version, its
// request record, the aggregate counts and the audit record are written
// together.
//
// `change` sets `*unchanged` to leave the case as it is (the request is then
// recorded, so that a retry replays it, and audited, but no version is
// written). With `replicate` false the change is not sent to the regions the
// case is shared with (referrals: local to the owner region).
void ChangeCase(store::Store* store, const Outbox* outbox, std::string region,
                const Actor& actor, const char* method, std::string request_id,
                std::string case_id, std::optional<int64_t> expected_version,
                std::string fingerprint,
                std::function<absl::Status(Case&, bool* unchanged)> change,
                std::function<void(absl::StatusOr<Case>)> done,
                bool replicate = true) {
  auto result = std::make_shared<Case>();
  store->Write(
      [result, outbox, region = std::move(region), actor, method,
       request_id = std::move(request_id), case_id = std::move(case_id),
       expected_version, fingerprint = std::move(fingerprint),
       change = std::move(change),
       replicate](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            bool replayed, Replay(txn, actor.principal, request_id, fingerprint,
                                  result.get()));
        if (replayed) return AuditMutation(txn, actor, method, result->case_id);
        RUTA_ASSIGN_OR_RETURN(std::optional<Case> found, txn.FindCase(case_id));
        if (!found.has_value() || found->owner_region != region) {
          return NoSuchCase(case_id, region);
        }
        Case c = *std::move(found);
        if (expected_version.has_value() && *expected_version != c.version) {
          return absl::AbortedError(absl::StrCat(
              "case ", c.case_id, " is at version ", c.version, ", not ",
              *expected_version,
              ": it changed since it was read; read it again and retry"));
        }
        RUTA_ASSIGN_OR_RETURN(CountedChange counted,
                              CountedChange::Begin(txn, {c.case_id}, {}));
        bool unchanged = false;
        RUTA_RETURN_IF_ERROR(change(c, &unchanged));
        if (unchanged) {
          RUTA_RETURN_IF_ERROR(txn.PutRequest(
              MakeRecord(actor, request_id, method, fingerprint, c)));
          RUTA_RETURN_IF_ERROR(AuditMutation(txn, actor, method, c.case_id));
          *result = std::move(c);
          return absl::OkStatus();
        }
        c.version += 1;
        c.updated_at = NowMicros();
        RUTA_RETURN_IF_ERROR(txn.PutCase(c));
        RUTA_RETURN_IF_ERROR(txn.PutRequest(
            MakeRecord(actor, request_id, method, fingerprint, c)));
        RUTA_RETURN_IF_ERROR(counted.Commit(txn));
        if (outbox != nullptr && replicate) {
          RUTA_RETURN_IF_ERROR(outbox->AppendToShares(
              txn, c.case_id,
              StageChange{c.stage, c.closed_reason, c.version}));
        }
        RUTA_RETURN_IF_ERROR(AuditMutation(txn, actor, method, c.case_id));
        *result = std::move(c);
        return absl::OkStatus();
      },
      [result, outbox, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        if (outbox != nullptr) outbox->Committed();
        done(std::move(*result));
      });
}

}  // namespace

void CaseService::UpdateStage(const Actor& actor, UpdateStageCommand command,
                              std::function<void(absl::StatusOr<Case>)> done) {
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) return done(s);
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(command.case_id); !s.ok()) return done(s);
  if (!IsSpecified(command.to)) {
    return done(
        absl::InvalidArgumentError("stage must be the new stage of the case"));
  }
  if (command.to == Stage::kClosed) {
    return done(absl::InvalidArgumentError(
        "stage: a case is closed with CloseCase, which records the reason"));
  }
  if (absl::Status s = CheckExpectedVersion(command.expected_version);
      !s.ok()) {
    return done(s);
  }
  Fingerprinter fp(kUpdateStageMethod);
  fp.Add(command.case_id)
      .Add(StageName(command.to))
      .Add(command.expected_version.value_or(0));
  const Stage to = command.to;
  ChangeCase(
      store_, outbox_, options_.region, actor, kUpdateStageMethod,
      std::move(command.request_id), std::move(command.case_id),
      command.expected_version, fp.Finish(),
      [to](Case& c, bool*) -> absl::Status {
        RUTA_RETURN_IF_ERROR(
            CheckTransition(c.kind, c.stage, to, TransitionSource::kOffice));
        c.stage = to;
        c.care_stage = Stage::kUnspecified;
        return absl::OkStatus();
      },
      std::move(done));
}

void CaseService::CloseCase(const Actor& actor, CloseCaseCommand command,
                            std::function<void(absl::StatusOr<Case>)> done) {
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) return done(s);
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(command.case_id); !s.ok()) return done(s);
  if (!IsSpecified(command.reason)) {
    return done(absl::InvalidArgumentError(
        "reason must be one of REINTEGRATED, REACHED_MAJORITY, REFERRED, "
        "LOST_CONTACT, REVICTIMIZED, DECEASED"));
  }
  if (absl::Status s = CheckExpectedVersion(command.expected_version);
      !s.ok()) {
    return done(s);
  }
  Fingerprinter fp(kCloseCaseMethod);
  fp.Add(command.case_id)
      .Add(ClosedReasonName(command.reason))
      .Add(command.expected_version.value_or(0));
  const ClosedReason reason = command.reason;
  ChangeCase(
      store_, outbox_, options_.region, actor, kCloseCaseMethod,
      std::move(command.request_id), std::move(command.case_id),
      command.expected_version, fp.Finish(),
      [reason](Case& c, bool*) -> absl::Status {
        RUTA_RETURN_IF_ERROR(CheckTransition(c.kind, c.stage, Stage::kClosed,
                                             TransitionSource::kOffice));
        c.care_stage = c.stage;
        c.stage = Stage::kClosed;
        c.closed_reason = reason;
        return absl::OkStatus();
      },
      std::move(done));
}

void CaseService::ReferCase(const Actor& actor, ReferCaseCommand command,
                            std::function<void(absl::StatusOr<Case>)> done) {
  if (absl::Status s = CheckRegion(options_, actor); !s.ok()) return done(s);
  if (absl::Status s = CheckRequestId(command.request_id); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckCaseId(command.case_id); !s.ok()) return done(s);
  if (command.partner_id.empty()) {
    return done(absl::InvalidArgumentError(
        "partner_id is required: the partner id \"<region>/<name>\" of a "
        "partner registered on this node"));
  }
  if (std::find(options_.partners.begin(), options_.partners.end(),
                command.partner_id) == options_.partners.end()) {
    return done(absl::FailedPreconditionError(absl::StrCat(
        "partner_id: ", command.partner_id,
        " is not a partner registered on this node; the node operator "
        "registers partners in the node configuration's `partners`")));
  }
  Fingerprinter fp(kReferCaseMethod);
  fp.Add(command.case_id)
      .Add(command.partner_id)
      .Add(command.withdraw ? "withdraw" : "refer");
  const std::string partner = command.partner_id;
  const bool withdraw = command.withdraw;
  ChangeCase(
      store_, outbox_, options_.region, actor, kReferCaseMethod,
      std::move(command.request_id), std::move(command.case_id), std::nullopt,
      fp.Finish(),
      [partner, withdraw](Case& c, bool* unchanged) -> absl::Status {
        auto it = std::find(c.referrals.begin(), c.referrals.end(), partner);
        if (withdraw) {
          if (it == c.referrals.end()) {
            return absl::FailedPreconditionError(
                absl::StrCat("case ", c.case_id, " is not referred to ",
                             partner, ": there is no referral to withdraw"));
          }
          c.referrals.erase(it);
          return absl::OkStatus();
        }
        if (it != c.referrals.end()) {
          *unchanged = true;  // referred already
          return absl::OkStatus();
        }
        if (c.stage == Stage::kClosed) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c.case_id, " is CLOSED: it cannot be referred anymore"));
        }
        const bool basis_allows =
            c.legal_basis == LegalBasis::kUpeProtectiveMeasure ||
            c.legal_basis == LegalBasis::kProsecutorOrder;
        if (!c.consent_partner_sharing && !basis_allows) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c.case_id,
              " cannot be referred to a partner: the guardian's consent to "
              "partner sharing (consent_partner_sharing) is not recorded, and "
              "its legal basis ",
              LegalBasisName(c.legal_basis),
              " does not allow sharing without it (only "
              "UPE_PROTECTIVE_MEASURE and PROSECUTOR_ORDER do)"));
        }
        c.referrals.push_back(partner);
        std::sort(c.referrals.begin(), c.referrals.end());
        return absl::OkStatus();
      },
      std::move(done), /*replicate=*/false);
}

}  // namespace ruta::core
