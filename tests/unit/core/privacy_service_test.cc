// PrivacyService and the person links against the real SQLite store:
// merges (and their convergence in any order), key rotation with refs of
// older versions still found and re-linked, erasure, the retention purge.
#include "ruta/core/privacy_service.h"

#include <stdlib.h>

#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/audit.h"
#include "ruta/core/case_service.h"
#include "ruta/core/person_links.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;

constexpr char kRegion[] = "madre-de-dios";

std::string RequestId(int n) {
  return absl::StrFormat("9a1c2b9e-0000-4000-8000-%012d", n);
}

Actor Admin() {
  return Actor{"spiffe://madre-de-dios.ruta.pe/admin/operator", kRegion, ""};
}
Actor Office() {
  return Actor{"spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado",
               kRegion, ""};
}

OpenCaseCommand Open(int request, IdentityTuple identity = {}) {
  OpenCaseCommand c;
  c.request_id = RequestId(request);
  c.identity = std::move(identity);
  c.kind = CaseKind::kVictim;
  c.initial_stage = Stage::kDetected;
  c.profile.age_band = AgeBand::k15To17;
  c.profile.sex = Sex::kFemale;
  c.profile.origin_province = "0812";
  c.profile.exploitation_forms = {ExploitationForm::kLabour};
  c.profile.setting = Setting::kMiningCamp;
  c.profile.recruitment_means = RecruitmentMeans::kFalseJobOffer;
  c.profile.identified_month = {2026, 8};
  c.legal_basis = LegalBasis::kUpeProtectiveMeasure;
  return c;
}

IdentityTuple Dni(const std::string& dni) {
  IdentityTuple t;
  t.dni = dni;
  return t;
}

template <typename T, typename Fn>
absl::StatusOr<T> Await(Fn&& call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

absl::Status AwaitStatus(
    const std::function<void(std::function<void(absl::Status)>)>& call) {
  std::promise<absl::Status> promise;
  auto future = promise.get_future();
  call([&promise](absl::Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

std::string Key(char c) { return std::string(32, c); }

std::shared_ptr<const LinkageKeyring> Ring(
    std::map<uint32_t, std::string> keys) {
  auto ring = LinkageKeyring::FromKeys(std::move(keys));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return std::make_shared<const LinkageKeyring>(*std::move(ring));
}

std::unique_ptr<store::Store> OpenStore(const std::string& tag) {
  std::string tmpl = ::testing::TempDir() + "/ruta_privacy_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  store::SqliteOptions options;
  options.path = absl::StrCat(tmpl, "/", tag, ".db");
  auto store = store::OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

class PrivacyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore("node");
    ASSERT_NE(store_, nullptr);
    keys_ = std::make_unique<LinkageKeys>(Ring({{1, Key('a')}}), 1);
    file_keys_ = {{1, Key('a')}};
    cases_ = std::make_unique<CaseService>(CaseServiceOptions{kRegion},
                                           store_.get(), keys_.get(), nullptr);
    PrivacyServiceOptions options;
    options.region = kRegion;
    // The "key file": what the test installed so far.
    options.reload_keyring = [this]() {
      return LinkageKeyring::FromKeys(file_keys_);
    };
    options.retention = absl::Hours(24 * 30);
    privacy_ = std::make_unique<PrivacyService>(
        std::move(options), store_.get(), keys_.get(), nullptr);
  }

  Case MustOpen(int request, IdentityTuple identity = {}) {
    auto c = Await<Case>([&](auto done) {
      cases_->OpenCase(Office(), Open(request, std::move(identity)),
                       std::move(done));
    });
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Case();
  }
  absl::StatusOr<Case> Get(const std::string& case_id) {
    return Await<Case>([&](auto done) {
      cases_->GetCase(Office(), case_id, std::move(done));
    });
  }
  absl::StatusOr<FindPersonResult> Find(IdentityTuple identity) {
    return Await<FindPersonResult>([&](auto done) {
      cases_->FindPerson(Office(), std::move(identity), std::move(done));
    });
  }
  absl::StatusOr<MergePersonsResult> Merge(int request, const std::string& a,
                                           const std::string& b) {
    return Await<MergePersonsResult>([&](auto done) {
      privacy_->MergePersons(Admin(), RequestId(request), a, b,
                             std::move(done));
    });
  }
  absl::Status Erase(int request, const std::string& case_id) {
    return AwaitStatus([&](auto done) {
      privacy_->EraseCase(Admin(), RequestId(request), case_id,
                          std::move(done));
    });
  }
  absl::StatusOr<RotationResult> Rotate(int request, uint32_t version) {
    return Await<RotationResult>([&](auto done) {
      privacy_->RotateLinkageKey(Admin(), RequestId(request), version,
                                 std::move(done));
    });
  }
  void ExpectAuditVerifies() {
    ASSERT_TRUE(store_
                    ->ReadSync([](store::ReadTxn& txn) -> absl::Status {
                      auto verified = VerifyAuditChain(txn, {});
                      if (!verified.ok()) return verified.status();
                      EXPECT_TRUE(verified->ok) << verified->problem;
                      EXPECT_GT(verified->records_checked, 0);
                      return absl::OkStatus();
                    })
                    .ok());
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LinkageKeys> keys_;
  std::map<uint32_t, std::string> file_keys_;
  std::unique_ptr<CaseService> cases_;
  std::unique_ptr<PrivacyService> privacy_;
};

TEST_F(PrivacyServiceTest, MergeJoinsTwoUnlinkedRefsAndIsIdempotent) {
  const Case a = MustOpen(1);
  const Case b = MustOpen(2);
  ASSERT_NE(a.person_ref, b.person_ref);
  auto merged = Merge(10, a.person_ref, b.person_ref);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->person_ref, SurvivingPersonRef(a.person_ref, b.person_ref));
  EXPECT_EQ(merged->cases_changed, 1);
  EXPECT_EQ(Get(a.case_id)->person_ref, merged->person_ref);
  EXPECT_EQ(Get(b.case_id)->person_ref, merged->person_ref);

  // A retry replays; the refs in the other order are the same request.
  auto again = Merge(10, b.person_ref, a.person_ref);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->person_ref, merged->person_ref);
  EXPECT_EQ(again->cases_changed, 1);
  // A new request on refs already joined changes nothing.
  auto noop = Merge(11, a.person_ref, b.person_ref);
  ASSERT_TRUE(noop.ok()) << noop.status();
  EXPECT_EQ(noop->cases_changed, 0);
  ExpectAuditVerifies();
}

TEST_F(PrivacyServiceTest, MergeRefusesBadAndUnknownRefs) {
  const Case a = MustOpen(1);
  EXPECT_EQ(Merge(20, a.person_ref, a.person_ref).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad = Merge(21, a.person_ref, "12345678");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("merged_ref"));
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::Not(HasSubstr("12345678")));
  auto unknown = Merge(22, a.person_ref, RandomPersonRef());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  // Same request id, other content.
  const Case b = MustOpen(2);
  ASSERT_TRUE(Merge(23, a.person_ref, b.person_ref).ok());
  const Case c = MustOpen(3);
  EXPECT_EQ(Merge(23, a.person_ref, c.person_ref).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PrivacyServiceTest, RotationKeepsOlderRefsFindableAndReLinksThem) {
  const Case first = MustOpen(1, Dni("04512345"));
  ASSERT_EQ(PersonRefKeyVersion(first.person_ref), 1u);

  // Version 2 is not installed yet: refused, nothing changes.
  auto refused = Rotate(30, 2);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("not in the linkage key file"));
  EXPECT_EQ(keys_->Get().current, 1u);

  file_keys_[2] = Key('b');
  auto rotated = Rotate(31, 2);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->current_version, 2u);
  EXPECT_EQ(rotated->cases_on_older_versions, 1);
  EXPECT_EQ(keys_->Get().current, 2u);
  // Back to 1 is refused.
  EXPECT_EQ(Rotate(32, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The child is still found: its case carries the version-1 ref.
  auto found = Find(Dni("04512345"));
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->cases.size(), 1u);
  EXPECT_EQ(found->cases[0].case_id, first.case_id);
  EXPECT_EQ(found->person_ref, first.person_ref);

  // Seen again at intake: the new case gets the version-2 ref and the old
  // case is re-linked to it.
  const Case second = MustOpen(2, Dni("04512345"));
  EXPECT_EQ(PersonRefKeyVersion(second.person_ref), 2u);
  EXPECT_EQ(Get(first.case_id)->person_ref, second.person_ref);
  found = Find(Dni("04512345"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->cases.size(), 2u);
  EXPECT_EQ(found->person_ref, second.person_ref);
  // Another child is not affected.
  const Case other = MustOpen(3, Dni("04512346"));
  EXPECT_NE(other.person_ref, second.person_ref);

  // Nothing is left on version 1.
  auto replay = Rotate(31, 2);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->cases_on_older_versions, 0);
  ExpectAuditVerifies();
}

TEST_F(PrivacyServiceTest, EraseRemovesTheCaseAndKeepsTheChainVerifiable) {
  const Case c = MustOpen(1, Dni("04599999"));
  const Case kept = MustOpen(2);
  ASSERT_TRUE(Erase(40, c.case_id).ok());
  EXPECT_EQ(Get(c.case_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Get(kept.case_id).ok());
  auto found = Find(Dni("04599999"));
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->cases.empty());
  // Retry: the same answer; a new request: the case is gone.
  EXPECT_TRUE(Erase(40, c.case_id).ok());
  auto again = Erase(41, c.case_id);
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(again.message()), HasSubstr("already erased"));
  // The OpenCase request that created it now says so.
  auto replayed = Await<Case>([&](auto done) {
    cases_->OpenCase(Office(), Open(1, Dni("04599999")), std::move(done));
  });
  EXPECT_EQ(replayed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(replayed.status().message()), HasSubstr("erased"));
  EXPECT_EQ(Erase(42, "cs_nope").code(), absl::StatusCode::kInvalidArgument);
  ExpectAuditVerifies();
}

TEST_F(PrivacyServiceTest, PurgeErasesOnlyClosedCasesPastRetention) {
  const Case open = MustOpen(1);
  const Case closed = MustOpen(2);
  auto closing = Await<Case>([&](auto done) {
    CloseCaseCommand command;
    command.request_id = RequestId(50);
    command.case_id = closed.case_id;
    command.reason = ClosedReason::kReintegrated;
    cases_->CloseCase(Office(), command, std::move(done));
  });
  ASSERT_TRUE(closing.ok()) << closing.status();
  // Within retention: nothing.
  auto purged = privacy_->PurgeExpiredSync(Admin(), absl::Now());
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 0);
  // 31 days later (retention is 30 days here).
  purged =
      privacy_->PurgeExpiredSync(Admin(), absl::Now() + absl::Hours(24 * 31));
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Get(closed.case_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Get(open.case_id).ok());
  ExpectAuditVerifies();
}

// Joins applied in different orders on two nodes end with the same ref for
// every case: the surviving ref is the best of its class whatever the order.
TEST(PersonLinksTest, JoinsConvergeInAnyOrder) {
  for (int seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> refs;
    for (int i = 0; i < 8; ++i) {
      std::string ref = RandomPersonRef();
      // Some of version 1 and 2, as after a rotation.
      if (i % 3 == 1) ref.replace(0, 3, "pr1");
      if (i % 3 == 2) ref.replace(0, 3, "pr2");
      ASSERT_TRUE(IsValidPersonRef(ref)) << ref;
      refs.push_back(ref);
    }
    std::vector<std::pair<int, int>> joins;
    for (int j = 0; j < 6; ++j) {
      int a = static_cast<int>(rng() % refs.size());
      int b = static_cast<int>(rng() % refs.size());
      if (a != b) joins.emplace_back(a, b);
    }
    std::map<std::string, std::string> final_refs[2];
    for (int node = 0; node < 2; ++node) {
      auto store = OpenStore(absl::StrCat("join", node));
      ASSERT_NE(store, nullptr);
      CaseService cases(CaseServiceOptions{kRegion}, store.get(),
                        static_cast<const LinkageKeys*>(nullptr), nullptr);
      // One case per ref, written directly with the ref.
      std::vector<std::string> ids;
      ASSERT_TRUE(store
                      ->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
                        for (size_t i = 0; i < refs.size(); ++i) {
                          Case c;
                          c.case_id = std::string("cs_") +
                                      std::string(19, 'a') +
                                      static_cast<char>('a' + i);
                          c.person_ref = refs[i];
                          c.kind = CaseKind::kVictim;
                          c.owner_region = kRegion;
                          c.stage = Stage::kDetected;
                          c.version = 1;
                          ids.push_back(c.case_id);
                          auto s = txn.PutCase(c);
                          if (!s.ok()) return s;
                        }
                        return absl::OkStatus();
                      })
                      .ok());
      std::vector<std::pair<int, int>> order = joins;
      if (node == 1) {
        std::shuffle(order.begin(), order.end(), rng);
        for (auto& [a, b] : order) {
          if (rng() % 2) std::swap(a, b);
        }
      }
      for (const auto& [a, b] : order) {
        ASSERT_TRUE(
            store
                ->WriteSync([&](store::WriteTxn& txn) {
                  return JoinPersons(txn, refs[a], refs[b], nullptr).status();
                })
                .ok());
      }
      ASSERT_TRUE(store
                      ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                        for (const std::string& id : ids) {
                          auto c = txn.FindCase(id);
                          if (!c.ok()) return c.status();
                          final_refs[node][id] = (*c)->person_ref;
                        }
                        return absl::OkStatus();
                      })
                      .ok());
    }
    EXPECT_EQ(final_refs[0], final_refs[1]) << "seed " << seed;
  }
}

}  // namespace
}  // namespace ruta::core
