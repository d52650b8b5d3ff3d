// PartnerService against the real SQLite store: resolving a partner's refs
// through its in-memory index (partner_ref_index.h) with many referred cases,
// and every way access ends taking effect at the next call (withdrawal,
// erasure, custody moved), a key change giving other refs, and the index
// catching up with referrals made after it was built.
#include "ruta/core/partner_service.h"

#include <stdlib.h>

#include <algorithm>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/case_service.h"
#include "ruta/core/person_links.h"
#include "ruta/core/privacy_service.h"

namespace ruta::core {
namespace {

constexpr char kRegion[] = "madre-de-dios";
constexpr char kTdh[] = "madre-de-dios/tdh";
constexpr char kCaritas[] = "madre-de-dios/caritas";

std::string RequestId(int n) {
  return absl::StrFormat("7b1c2b9e-0000-4000-8000-%012d", n);
}

Actor Office() {
  return Actor{"spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado",
               kRegion, ""};
}
Actor Admin() {
  return Actor{"spiffe://madre-de-dios.ruta.pe/admin/operator", kRegion, ""};
}
Actor PartnerActor(const std::string& partner) {
  const std::string name = partner.substr(partner.find('/') + 1);
  return Actor{absl::StrCat("spiffe://madre-de-dios.ruta.pe/partner/", name),
               kRegion, ""};
}

OpenCaseCommand Open(int request) {
  OpenCaseCommand c;
  c.request_id = RequestId(request);
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

template <typename T, typename Fn>
absl::StatusOr<T> Await(Fn&& call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::unique_ptr<PartnerPseudonyms> Pseudonyms(char fill) {
  auto p = PartnerPseudonyms::FromMasterSecret(std::string(32, fill));
  EXPECT_TRUE(p.ok()) << p.status();
  return std::make_unique<PartnerPseudonyms>(*std::move(p));
}

class PartnerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = ::testing::TempDir() + "/ruta_partner_XXXXXX";
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    store::SqliteOptions options;
    options.path = absl::StrCat(dir, "/node.db");
    auto opened = store::OpenSqliteStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    auto ring = LinkageKeyring::FromKeys({{1, std::string(32, 'a')}});
    ASSERT_TRUE(ring.ok()) << ring.status();
    keys_ = std::make_unique<LinkageKeys>(
        std::make_shared<const LinkageKeyring>(*std::move(ring)), 1);
    CaseServiceOptions case_options;
    case_options.region = kRegion;
    case_options.partners = {kTdh, kCaritas};
    cases_ = std::make_unique<CaseService>(case_options, store_.get(),
                                           keys_.get(), nullptr);
    PrivacyServiceOptions privacy_options;
    privacy_options.region = kRegion;
    privacy_ = std::make_unique<PrivacyService>(
        std::move(privacy_options), store_.get(), keys_.get(), nullptr);
    pseudonyms_ = Pseudonyms('k');
    partners_ = NewPartnerService(pseudonyms_.get());
  }

  std::unique_ptr<PartnerService> NewPartnerService(
      const PartnerPseudonyms* pseudonyms) {
    PartnerServiceOptions options;
    options.region = kRegion;
    options.partners = {kTdh, kCaritas};
    return std::make_unique<PartnerService>(options, store_.get(), pseudonyms,
                                            nullptr);
  }

  std::string OpenCase() {
    auto c = Await<Case>([&](auto done) {
      cases_->OpenCase(Office(), Open(next_request_++), std::move(done));
    });
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->case_id : "";
  }
  absl::Status Refer(const std::string& case_id, const std::string& partner,
                     bool withdraw = false) {
    ReferCaseCommand command;
    command.request_id = RequestId(next_request_++);
    command.case_id = case_id;
    command.partner_id = partner;
    command.withdraw = withdraw;
    return Await<Case>([&](auto done) {
             cases_->ReferCase(Office(), std::move(command), std::move(done));
           })
        .status();
  }
  absl::StatusOr<PartnerCaseView> Status(const std::string& partner,
                                         const std::string& ref,
                                         PartnerService* service = nullptr) {
    if (service == nullptr) service = partners_.get();
    return Await<PartnerCaseView>([&](auto done) {
      service->GetCaseStatus(PartnerActor(partner), ref, std::move(done));
    });
  }
  std::vector<std::string> ListedRefs(const std::string& partner,
                                      int page_size) {
    std::vector<std::string> refs;
    PartnerCaseQuery query;
    query.page_size = page_size;
    do {
      auto page = Await<PartnerCaseList>([&](auto done) {
        partners_->ListReferredCases(PartnerActor(partner), query,
                                     std::move(done));
      });
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const PartnerCaseView& v : page->cases) {
        refs.push_back(v.partner_case_ref);
      }
      query.page_token = page->next_page_token;
    } while (!query.page_token.empty());
    return refs;
  }
  std::string RefOf(const std::string& partner, const std::string& case_id) {
    return pseudonyms_->CaseRefFor(partner, case_id);
  }

  // Refers `n` new cases to `partner` in one transaction (straight through
  // the store: fast enough for hundreds); returns their ids.
  std::vector<std::string> ReferMany(int n, const std::string& partner) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      // "cs_" + 20 letters: the counter in base 26.
      std::string id = "cs_";
      for (int v = next_request_++, k = 0; k < 20; ++k, v /= 26) {
        id.push_back(static_cast<char>('a' + v % 26));
      }
      ids.push_back(std::move(id));
    }
    const absl::Status written =
        store_->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
          for (const std::string& id : ids) {
            Case c;
            c.case_id = id;
            c.person_ref = "pr_bulk";
            c.kind = CaseKind::kVictim;
            c.owner_region = kRegion;
            c.stage = Stage::kDetected;
            c.legal_basis = LegalBasis::kUpeProtectiveMeasure;
            c.referrals = {partner};
            c.version = 1;
            c.opened_at = c.updated_at = absl::Now();
            if (absl::Status s = txn.PutCase(c); !s.ok()) return s;
          }
          return absl::OkStatus();
        });
    EXPECT_TRUE(written.ok()) << written;
    return ids;
  }

  int next_request_ = 1;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LinkageKeys> keys_;
  std::unique_ptr<CaseService> cases_;
  std::unique_ptr<PrivacyService> privacy_;
  std::unique_ptr<PartnerPseudonyms> pseudonyms_;
  std::unique_ptr<PartnerService> partners_;
};

TEST_F(PartnerServiceTest, ResolvesEveryRefAmongManyAndListsThemInRefOrder) {
  const std::vector<std::string> tdh = ReferMany(600, kTdh);
  const std::vector<std::string> caritas = ReferMany(50, kCaritas);
  // Every case of tdh under its own ref; a caritas case is not tdh's.
  for (const std::string& id : tdh) {
    auto view = Status(kTdh, RefOf(kTdh, id));
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->partner_case_ref, RefOf(kTdh, id));
    EXPECT_EQ(view->stage, Stage::kDetected);
  }
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, caritas[0])).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Status(kTdh, RefOf(kCaritas, caritas[0])).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Status(kCaritas, RefOf(kTdh, tdh[0])).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Status(kCaritas, RefOf(kCaritas, caritas[7])).ok());
  // Pages of 7 give every ref once, in order.
  std::vector<std::string> expected;
  for (const std::string& id : tdh) expected.push_back(RefOf(kTdh, id));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ListedRefs(kTdh, 7), expected);
}

TEST_F(PartnerServiceTest, ReferralsAfterTheFirstCallAreFoundAtOnce) {
  ReferMany(20, kTdh);
  const std::string id = OpenCase();
  // The index of tdh is built now, without this case.
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, id)).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(Refer(id, kTdh).ok());
  EXPECT_TRUE(Status(kTdh, RefOf(kTdh, id)).ok());
  // More than one scan batch of changes at once.
  const std::vector<std::string> more = ReferMany(1500, kTdh);
  EXPECT_TRUE(Status(kTdh, RefOf(kTdh, more.back())).ok());
  EXPECT_TRUE(Status(kTdh, RefOf(kTdh, more.front())).ok());
  EXPECT_EQ(ListedRefs(kTdh, 100).size(), 1521u);
}

TEST_F(PartnerServiceTest, WithdrawalAndErasureEndAccessAtTheNextCall) {
  const std::string withdrawn = OpenCase();
  const std::string erased = OpenCase();
  ASSERT_TRUE(Refer(withdrawn, kTdh).ok());
  ASSERT_TRUE(Refer(erased, kTdh).ok());
  ASSERT_TRUE(Refer(erased, kCaritas).ok());
  ASSERT_TRUE(Status(kTdh, RefOf(kTdh, withdrawn)).ok());
  ASSERT_TRUE(Status(kTdh, RefOf(kTdh, erased)).ok());
  ASSERT_TRUE(Status(kCaritas, RefOf(kCaritas, erased)).ok());

  ASSERT_TRUE(Refer(withdrawn, kTdh, /*withdraw=*/true).ok());
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, withdrawn)).status().code(),
            absl::StatusCode::kNotFound);
  std::promise<absl::Status> erasing;
  privacy_->EraseCase(Admin(), RequestId(next_request_++), erased,
                      [&erasing](absl::Status s) { erasing.set_value(s); });
  const absl::Status erase = erasing.get_future().get();
  ASSERT_TRUE(erase.ok()) << erase;
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, erased)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Status(kCaritas, RefOf(kCaritas, erased)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListedRefs(kTdh, 10).empty());
  // Referred again after the withdrawal: visible again, same ref.
  ASSERT_TRUE(Refer(withdrawn, kTdh).ok());
  EXPECT_TRUE(Status(kTdh, RefOf(kTdh, withdrawn)).ok());
}

TEST_F(PartnerServiceTest, CustodyMovedAwayEndsAccessAtOnce) {
  const std::string id = OpenCase();
  ASSERT_TRUE(Refer(id, kTdh).ok());
  ASSERT_TRUE(Status(kTdh, RefOf(kTdh, id)).ok());
  // Another region takes the custody (as a completed transfer would).
  ASSERT_TRUE(store_
                  ->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
                    auto c = txn.FindCase(id);
                    if (!c.ok()) return c.status();
                    Case moved = **c;
                    moved.owner_region = "cusco";
                    moved.version += 1;
                    return txn.PutCase(moved);
                  })
                  .ok());
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, id)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListedRefs(kTdh, 10).empty());
}

TEST_F(PartnerServiceTest, ANewMasterKeyGivesOtherRefsAndTheOldOnesResolveNot) {
  const std::string id = OpenCase();
  ASSERT_TRUE(Refer(id, kTdh).ok());
  ASSERT_TRUE(Status(kTdh, RefOf(kTdh, id)).ok());
  // The node restarted with another partner key: a new service and index.
  std::unique_ptr<PartnerPseudonyms> replaced = Pseudonyms('z');
  std::unique_ptr<PartnerService> service = NewPartnerService(replaced.get());
  const std::string new_ref = replaced->CaseRefFor(kTdh, id);
  EXPECT_NE(new_ref, RefOf(kTdh, id));
  EXPECT_TRUE(Status(kTdh, new_ref, service.get()).ok());
  EXPECT_EQ(Status(kTdh, RefOf(kTdh, id), service.get()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ruta::core
