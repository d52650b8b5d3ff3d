// Regions are data: three nodes (Madre de Dios, Cusco and a third region,
// Puno, created for this test with certs/pki.sh), transfers along two pairs
// (Madre de Dios -> Cusco, Cusco -> Puno). Each pair converges; nothing of a
// pair's transfers reaches the third region.
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"

namespace ruta {
namespace {

using testing::InProcessNode;
using testing::OfficeClient;
using testing::RegionInfo;

const RegionInfo kPuno{"puno", "21", "Puno"};

bool Received(const v1::Transfer& t) {
  return t.state() == v1::TRANSFER_STATE_RECEIVED;
}

// Walks a transfer of a fresh case of `sender` to `receiver` up to RECEIVED.
v1::Transfer WalkTransfer(OfficeClient& sender, OfficeClient& receiver,
                          const std::string& to_region,
                          const std::string& province, uint64_t salt) {
  absl::StatusOr<v1::Case> c = sender.OpenCaseInCare(salt, 0);
  EXPECT_TRUE(c.ok()) << c.status();
  absl::StatusOr<v1::Transfer> t = sender.Request(
      testing::RequestIdFor(salt, 100), c->case_id(), to_region, province);
  EXPECT_TRUE(t.ok()) << t.status();
  const std::string id = t->transfer_id();
  absl::StatusOr<v1::Transfer> arrived =
      receiver.WaitFor(id, [](const v1::Transfer&) { return true; });
  EXPECT_TRUE(arrived.ok()) << arrived.status();
  EXPECT_TRUE(receiver.Accept(testing::RequestIdFor(salt, 101), id).ok());
  EXPECT_EQ(sender
                .WaitFor(id,
                         [](const v1::Transfer& x) {
                           return x.state() == v1::TRANSFER_STATE_ACCEPTED;
                         })
                ->state(),
            v1::TRANSFER_STATE_ACCEPTED);
  EXPECT_TRUE(sender.Depart(testing::RequestIdFor(salt, 102), id).ok());
  EXPECT_EQ(receiver
                .WaitFor(id,
                         [](const v1::Transfer& x) {
                           return x.state() == v1::TRANSFER_STATE_IN_TRANSIT;
                         })
                ->state(),
            v1::TRANSFER_STATE_IN_TRANSIT);
  EXPECT_TRUE(receiver.Receive(testing::RequestIdFor(salt, 103), id).ok());
  absl::StatusOr<v1::Transfer> done = sender.WaitFor(id, Received);
  EXPECT_TRUE(done.ok() && Received(*done));
  return done.ok() ? *done : v1::Transfer();
}

TEST(ThreeRegionsTest, TransfersAlongTwoPairsStayWithinTheirPair) {
  std::unique_ptr<testing::DevPki> pki = testing::DevPki::Get().Copy();
  ASSERT_EQ(pki->RunPkiScript({"init-region", "--region", "puno"}), 0);
  ASSERT_EQ(
      pki->RunPkiScript({"issue", "--region", "puno", "--role", "node",
                         "--name", "node", "--hosts", "localhost,127.0.0.1"}),
      0);
  ASSERT_EQ(pki->RunPkiScript({"issue", "--region", "puno", "--role", "office",
                               "--name", "main-office"}),
            0);
  ASSERT_EQ(pki->RunPkiScript({"publish-crl", "--region", "puno"}), 0);

  const std::vector<std::string> slugs = {"madre-de-dios", "cusco", "puno"};
  // Who talks to whom: the two pairs.
  const std::map<std::string, std::vector<std::string>> peers = {
      {"madre-de-dios", {"cusco"}},
      {"cusco", {"madre-de-dios", "puno"}},
      {"puno", {"cusco"}}};
  std::map<std::string, int> ports;
  for (const std::string& slug : slugs) ports[slug] = testing::PickFreePort();
  std::map<std::string, std::unique_ptr<InProcessNode>> nodes;
  for (const std::string& slug : slugs) {
    testing::NodeSetup setup;
    setup.region = slug;
    setup.pki = pki.get();
    setup.regions = {testing::kCusco, testing::kMadreDeDios, kPuno};
    setup.listen_address = absl::StrCat("127.0.0.1:", ports[slug]);
    for (const std::string& peer : peers.at(slug)) {
      setup.peers.push_back({peer, absl::StrCat("127.0.0.1:", ports[peer])});
    }
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 500;
    nodes[slug] = InProcessNode::Start(setup);
    ASSERT_NE(nodes[slug], nullptr) << slug;
  }
  std::map<std::string, std::unique_ptr<OfficeClient>> office;
  for (const std::string& slug : slugs) {
    office[slug] =
        std::make_unique<OfficeClient>(nodes[slug]->address(), slug, *pki);
  }

  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  const v1::Transfer first = WalkTransfer(
      *office["madre-de-dios"], *office["cusco"], "cusco", "0801", salt);
  const v1::Transfer second =
      WalkTransfer(*office["cusco"], *office["puno"], "puno", "2101", salt + 1);
  ASSERT_FALSE(first.transfer_id().empty());
  ASSERT_FALSE(second.transfer_id().empty());

  // Custody moved along each pair.
  EXPECT_EQ(office["madre-de-dios"]->GetCase(first.case_id())->owner_region(),
            "cusco");
  EXPECT_EQ(office["cusco"]->GetCase(second.case_id())->owner_region(), "puno");
  EXPECT_EQ(office["puno"]->GetCase(second.case_id())->owner_region(), "puno");

  // Nothing crossed to the region outside each pair.
  EXPECT_EQ(office["puno"]->Get(first.transfer_id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(office["puno"]->GetCase(first.case_id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(office["madre-de-dios"]->Get(second.transfer_id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(office["madre-de-dios"]->GetCase(second.case_id()).status().code(),
            absl::StatusCode::kNotFound);

  // A region that is not a peer cannot be a destination.
  absl::StatusOr<v1::Case> c =
      office["madre-de-dios"]->OpenCaseInCare(salt + 2, 0);
  ASSERT_TRUE(c.ok());
  absl::StatusOr<v1::Transfer> refused = office["madre-de-dios"]->Request(
      testing::RequestIdFor(salt + 2, 100), c->case_id(), "puno", "2101");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta
