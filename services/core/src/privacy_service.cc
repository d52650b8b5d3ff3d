#include "ruta/core/privacy_service.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mutations.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/ids.h"
#include "ruta/core/transfer.h"

namespace ruta::core {
namespace {

constexpr char kMergePersonsMethod[] = "Admin.MergePersons";
constexpr char kEraseCaseMethod[] = "Admin.EraseCase";
constexpr char kRotateMethod[] = "Admin.RotateLinkageKey";
constexpr char kPurgeMethod[] = "Node.RetentionPurge";
constexpr int kPage = 200;

using internal::AuditMutation;
using internal::CheckRequestId;
using internal::FindReplay;
using internal::Fingerprinter;
using internal::MakeRequestRecord;
using internal::NowMicros;

bool IsOpen(TransferState state) {
  return state == TransferState::kRequested ||
         state == TransferState::kAccepted ||
         state == TransferState::kInTransit;
}

// Erases `case_id` (owned by `region`) in the caller's transaction and tells
// every region it was shared with.
absl::Status EraseInTxn(store::WriteTxn& txn, const std::string& region,
                        const Outbox* outbox, const std::string& case_id) {
  RUTA_ASSIGN_OR_RETURN(bool erased, txn.IsCaseErased(case_id));
  if (erased) {
    return absl::NotFoundError(
        absl::StrCat("case ", case_id, " was already erased"));
  }
  RUTA_ASSIGN_OR_RETURN(std::optional<Case> c, txn.FindCase(case_id));
  if (!c.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no case ", case_id, " in region ", region));
  }
  if (c->owner_region != region) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", case_id, " is owned by ", c->owner_region,
                     "; only ", c->owner_region, " can erase it"));
  }
  store::TransferFilter filter;
  filter.region = region;
  filter.case_id = case_id;
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::TransferPage page,
                          txn.ListTransfers(filter, after, kPage));
    for (const Transfer& t : page.transfers) {
      const TransferState state = TransferStateOf(t);
      if (IsOpen(state)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "case ", case_id, " has transfer ", t.transfer_id, " in state ",
            TransferStateName(state),
            "; cancel or reject it, or complete its arrival, before erasing "
            "the case"));
      }
    }
    after = std::move(page.next_after);
  } while (!after.empty());
  RUTA_ASSIGN_OR_RETURN(std::vector<std::string> shares,
                        txn.ListCaseShares(case_id));
  RUTA_RETURN_IF_ERROR(EraseCaseCounted(txn, case_id, region, NowMicros()));
  if (outbox != nullptr) {
    for (const std::string& destination : shares) {
      if (destination == region) continue;
      RUTA_RETURN_IF_ERROR(
          outbox->Append(txn, destination, case_id, CaseErased{}));
    }
  }
  return absl::OkStatus();
}

}  // namespace

PrivacyService::PrivacyService(PrivacyServiceOptions options,
                               store::Store* store, LinkageKeys* keys,
                               const Outbox* outbox)
    : options_(std::move(options)),
      store_(store),
      keys_(keys),
      outbox_(outbox) {}

void PrivacyService::MergePersons(
    const Actor& actor, std::string request_id, std::string ref_a,
    std::string ref_b,
    std::function<void(absl::StatusOr<MergePersonsResult>)> done) {
  if (absl::Status s = internal::CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(request_id); !s.ok()) return done(s);
  for (const auto& [name, ref] :
       {std::pair<const char*, const std::string*>{"kept_ref", &ref_a},
        {"merged_ref", &ref_b}}) {
    if (!IsValidPersonRef(*ref)) {
      return done(absl::InvalidArgumentError(absl::StrCat(
          name,
          " must be a person_ref (\"pr\" + key version + \"_\" + 32 "
          "letters a..p), as FindPerson and GetCase show it")));
    }
  }
  if (ref_a == ref_b) {
    return done(absl::InvalidArgumentError(
        "kept_ref and merged_ref are the same ref: nothing to merge"));
  }
  const std::string fingerprint = Fingerprinter(kMergePersonsMethod)
                                      .Add(std::min(ref_a, ref_b))
                                      .Add(std::max(ref_a, ref_b))
                                      .Finish();
  auto result = std::make_shared<MergePersonsResult>();
  store_->Write(
      [=, outbox = outbox_](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            std::optional<store::RequestRecord> replay,
            FindReplay(txn, actor.principal, request_id, fingerprint));
        if (replay.has_value()) {
          result->person_ref = replay->case_id;
          result->cases_changed = replay->case_version;
          return AuditMutation(txn, actor, kMergePersonsMethod, "");
        }
        for (const std::string* ref : {&ref_a, &ref_b}) {
          RUTA_ASSIGN_OR_RETURN(std::string root, ResolvePersonRef(txn, *ref));
          store::CaseFilter filter;
          filter.person_ref = root;
          RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                                txn.ListCases(filter, "", 1));
          if (page.cases.empty()) {
            return absl::NotFoundError(
                absl::StrCat("no case carries person_ref ", *ref, " in region ",
                             options_.region));
          }
        }
        RUTA_ASSIGN_OR_RETURN(PersonJoin join,
                              JoinPersons(txn, ref_a, ref_b, outbox));
        result->person_ref = join.kept_ref;
        result->cases_changed = join.cases_changed;
        const absl::Time now = NowMicros();
        RUTA_RETURN_IF_ERROR(txn.PutRequest(MakeRequestRecord(
            actor, request_id, kMergePersonsMethod, fingerprint, join.kept_ref,
            join.cases_changed, now)));
        return AuditMutation(txn, actor, kMergePersonsMethod, "");
      },
      [result, outbox = outbox_, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        if (outbox != nullptr) outbox->Committed();
        done(std::move(*result));
      });
}

void PrivacyService::EraseCase(const Actor& actor, std::string request_id,
                               std::string case_id,
                               std::function<void(absl::Status)> done) {
  if (absl::Status s = internal::CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(request_id); !s.ok()) return done(s);
  if (!IsValidCaseId(case_id)) {
    return done(absl::InvalidArgumentError(
        "case_id must be \"cs_\" followed by 20 lowercase letters"));
  }
  const std::string fingerprint =
      Fingerprinter(kEraseCaseMethod).Add(case_id).Finish();
  store_->Write(
      [=, region = options_.region,
       outbox = outbox_](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            std::optional<store::RequestRecord> replay,
            FindReplay(txn, actor.principal, request_id, fingerprint));
        if (!replay.has_value()) {
          RUTA_RETURN_IF_ERROR(EraseInTxn(txn, region, outbox, case_id));
          RUTA_RETURN_IF_ERROR(txn.PutRequest(
              MakeRequestRecord(actor, request_id, kEraseCaseMethod,
                                fingerprint, case_id, 0, NowMicros())));
        }
        return AuditMutation(txn, actor, kEraseCaseMethod, case_id);
      },
      [outbox = outbox_, done = std::move(done)](absl::Status status) {
        if (status.ok() && outbox != nullptr) outbox->Committed();
        done(std::move(status));
      });
}

void PrivacyService::RotateLinkageKey(
    const Actor& actor, std::string request_id, uint32_t new_version,
    std::function<void(absl::StatusOr<RotationResult>)> done) {
  if (absl::Status s = internal::CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckRequestId(request_id); !s.ok()) return done(s);
  if (new_version < 1 || new_version > 999) {
    return done(absl::InvalidArgumentError(
        "new_version must be a key version from 1 to 999"));
  }
  if (!options_.reload_keyring) {
    return done(absl::FailedPreconditionError(
        "this node has no linkage key file to rotate"));
  }
  const std::string fingerprint =
      Fingerprinter(kRotateMethod).Add(int64_t{new_version}).Finish();
  struct State {
    std::shared_ptr<const LinkageKeyring> keyring;
    RotationResult result;
  };
  auto state = std::make_shared<State>();
  store_->Write(
      [=, keys = keys_,
       reload = options_.reload_keyring](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(
            std::optional<store::RequestRecord> replay,
            FindReplay(txn, actor.principal, request_id, fingerprint));
        // Read on the store's writer thread: a small local file, never in a
        // reactor.
        absl::StatusOr<LinkageKeyring> reloaded = reload();
        if (!reloaded.ok()) {
          return absl::FailedPreconditionError(
              absl::StrCat("the linkage key file could not be read again: ",
                           reloaded.status().message()));
        }
        if (!reloaded->has_version(new_version)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "linkage key version ", new_version,
              " is not in the linkage key file; install it there first, on "
              "every node of the federation (both regions must derive the "
              "same refs)"));
        }
        const uint32_t current = keys->Get().current;
        if (!replay.has_value() && new_version < current) {
          return absl::FailedPreconditionError(
              absl::StrCat("linkage key version ", current,
                           " is current; a rotation "
                           "cannot go back to the older version ",
                           new_version));
        }
        state->keyring =
            std::make_shared<const LinkageKeyring>(*std::move(reloaded));
        state->result.current_version = new_version;
        if (!replay.has_value()) {
          RUTA_RETURN_IF_ERROR(txn.PutSetting(kLinkageKeyVersionSetting,
                                              absl::StrCat(new_version)));
          RUTA_RETURN_IF_ERROR(txn.PutRequest(
              MakeRequestRecord(actor, request_id, kRotateMethod, fingerprint,
                                "", new_version, NowMicros())));
        }
        return AuditMutation(txn, actor, kRotateMethod, "");
      },
      [this, state, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        if (keys_->Get().current <= state->result.current_version) {
          keys_->Set(state->keyring, state->result.current_version);
        }
        // How many cases still carry refs of older versions: a read after
        // the commit, not a scan inside the writer's transaction.
        store_->Read(
            [state](store::ReadTxn& txn) -> absl::Status {
              store::CaseFilter filter;
              std::string after;
              do {
                RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                                      txn.ListCases(filter, after, 500));
                for (const Case& c : page.cases) {
                  const uint32_t v = PersonRefKeyVersion(c.person_ref);
                  if (v != 0 && v < state->result.current_version) {
                    ++state->result.cases_on_older_versions;
                  }
                }
                after = std::move(page.next_after);
              } while (!after.empty());
              return absl::OkStatus();
            },
            [state, done](absl::Status status) {
              if (!status.ok()) return done(std::move(status));
              done(state->result);
            });
      });
}

absl::StatusOr<int64_t> PrivacyService::PurgeExpiredSync(const Actor& actor,
                                                         absl::Time now) {
  const absl::Time cutoff = now - options_.retention;
  std::vector<std::string> expired;
  RUTA_RETURN_IF_ERROR(store_->ReadSync([&](store::ReadTxn& txn) {
    std::string after;
    do {
      RUTA_ASSIGN_OR_RETURN(
          store::CasePage page,
          txn.ListClosedCasesBefore(options_.region, cutoff, after, kPage));
      for (const Case& c : page.cases) expired.push_back(c.case_id);
      after = std::move(page.next_after);
    } while (!after.empty());
    return absl::OkStatus();
  }));
  int64_t purged = 0;
  for (const std::string& case_id : expired) {
    absl::Status status = store_->WriteSync([&](store::WriteTxn& txn) {
      RUTA_RETURN_IF_ERROR(EraseInTxn(txn, options_.region, outbox_, case_id));
      return AuditMutation(txn, actor, kPurgeMethod, case_id);
    });
    // A case that cannot go now (an open transfer) is tried again at the
    // next purge; anything else is a storage error.
    if (status.ok()) {
      ++purged;
    } else if (!absl::IsFailedPrecondition(status) &&
               !absl::IsNotFound(status)) {
      return status;
    }
  }
  if (purged > 0 && outbox_ != nullptr) outbox_->Committed();
  return purged;
}

}  // namespace ruta::core
