// Signed federation batches for tests and benchmarks
// (ruta/testing/federation_batches.h).
#include "ruta/testing/federation_batches.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ruta/core/federation.h"
#include "ruta/core/ids.h"
#include "ruta/core/pseudonym.h"
#include "ruta/testing/pki.h"

namespace ruta::testing {
namespace {

const absl::Time kCommittedAt = absl::FromUnixSeconds(1790000000);

}  // namespace

core::Case SharedVictimCase(const std::string& case_id,
                            const std::string& owner) {
  core::Case c;
  c.case_id = case_id;
  c.person_ref = core::RandomPersonRef();
  c.kind = core::CaseKind::kVictim;
  c.owner_region = owner;
  c.stage = core::Stage::kResidentialCare;
  c.profile.age_band = core::AgeBand::k15To17;
  c.profile.sex = core::Sex::kFemale;
  c.profile.origin_province = "0812";
  c.profile.exploitation_forms = {core::ExploitationForm::kSexual};
  c.profile.setting = core::Setting::kBar;
  c.profile.recruitment_means = core::RecruitmentMeans::kFalseJobOffer;
  c.profile.identified_month = {2026, 10};
  c.legal_basis = core::LegalBasis::kUpeProtectiveMeasure;
  c.version = 3;
  c.opened_at = c.updated_at = kCommittedAt;
  return c;
}

absl::StatusOr<std::unique_ptr<FederationBatchMaker>>
FederationBatchMaker::Create(std::string from, std::string to) {
  absl::StatusOr<std::unique_ptr<security::Signer>> signer =
      security::Signer::LoadFromFile(
          absl::StrCat(DevPki::Get().dir(), "/", from, "/signing/signing.key"));
  if (!signer.ok()) return signer.status();
  return std::unique_ptr<FederationBatchMaker>(new FederationBatchMaker(
      std::move(from), std::move(to), *std::move(signer)));
}

FederationBatchMaker::FederationBatchMaker(
    std::string from, std::string to, std::unique_ptr<security::Signer> signer)
    : from_(std::move(from)), to_(std::move(to)), signer_(std::move(signer)) {}

std::vector<std::string> FederationBatchMaker::CasePairs(
    int64_t first, int pairs, int foreign_owner_pair) const {
  std::vector<std::string> events;
  int64_t sequence = first;
  auto encode = [&](const std::string& case_id, auto payload) {
    core::FederationEvent event;
    event.event_id = core::NewEventId();
    event.origin_region = from_;
    event.destination_region = to_;
    event.sequence = sequence++;
    event.case_id = case_id;
    event.committed_at = kCommittedAt;
    event.payload = std::move(payload);
    absl::StatusOr<std::string> encoded = encoder_.Encode(event);
    EXPECT_TRUE(encoded.ok()) << encoded.status();
    events.push_back(encoded.ok() ? *std::move(encoded) : std::string());
  };
  for (int i = 0; i < pairs; ++i) {
    const std::string case_id = core::NewCaseId();
    encode(case_id,
           SharedVictimCase(case_id, i == foreign_owner_pair ? to_ : from_));
    core::Transfer t;
    t.transfer_id = core::NewTransferId();
    t.case_id = case_id;
    t.from_region = from_;
    t.to_region = to_;
    t.destination_province = "0801";
    t.requested_on = core::Date{2026, 11, 2};
    encode(case_id, t);
  }
  return events;
}

v1::EventBatch FederationBatchMaker::Sign(
    const std::vector<std::string>& events) const {
  v1::EventBatch batch;
  for (const std::string& e : events) batch.add_events(e);
  absl::StatusOr<std::string> signature =
      signer_->Sign(federation::BatchSigningInput(events));
  EXPECT_TRUE(signature.ok()) << signature.status();
  if (signature.ok()) batch.set_signature(*std::move(signature));
  batch.set_signing_key_id(absl::StrCat(from_, "/ed25519"));
  return batch;
}

}  // namespace ruta::testing
