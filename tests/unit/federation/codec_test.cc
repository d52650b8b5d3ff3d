// The event codec's identifier firewall (federation/codec.h): a peer cannot
// plant an identifier in an event either; DecodeEvent refuses it (and the
// inbox with it the whole batch) without echoing it.
#include "ruta/federation/codec.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/ids.h"
#include "ruta/v1/federation.pb.h"

namespace ruta::federation {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A cancelled transfer from Cusco to Madre de Dios, as Cusco sends it.
v1::Event CancelledTransferEvent(const std::string& note) {
  v1::Event event;
  event.set_event_id(core::NewEventId());
  event.set_origin_region("cusco");
  event.set_destination_region("madre-de-dios");
  event.set_sequence(7);
  event.set_case_id(core::NewCaseId());
  event.mutable_committed_at()->set_seconds(1795000000);
  v1::Transfer* t = event.mutable_transfer_changed();
  t->set_transfer_id(core::NewTransferId());
  t->set_case_id(event.case_id());
  t->set_from_region("cusco");
  t->set_to_region("madre-de-dios");
  t->set_destination_province("1701");
  t->add_requested_services(v1::SERVICE_TYPE_PSYCHOSOCIAL);
  t->set_state(v1::TRANSFER_STATE_CANCELLED);
  t->set_note(note);
  v1::Date* on = t->mutable_requested_on();
  on->set_year(2026);
  on->set_month(11);
  on->set_day(3);
  t->set_version(2);
  return event;
}

TEST(CodecTest, AnEventWithOrdinaryFreeTextDecodes) {
  absl::StatusOr<core::FederationEvent> decoded = DecodeEvent(
      CancelledTransferEvent("la familia se mudó en 2014").SerializeAsString());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<core::Transfer>(decoded->payload).cancel_note,
            "la familia se mudó en 2014");
}

TEST(CodecTest, AnIdentifierInAnEventIsRefusedWithoutEcho) {
  for (const std::string note : {"llamar al +51 987 654 321", "DNI 12345678",
                                 "ana@example.org", "nació el 12/03/2014"}) {
    SCOPED_TRACE(note);
    absl::StatusOr<core::FederationEvent> decoded =
        DecodeEvent(CancelledTransferEvent(note).SerializeAsString());
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("malformed event: transfer_changed.note looks like "
                          "it holds"));
    for (const char* part : {"987", "12345678", "ana@", "2014"}) {
      EXPECT_THAT(decoded.status().message(), Not(HasSubstr(part)));
    }
  }
}

TEST(CodecTest, AFieldOrFormatThisNodeDoesNotKnowIsRefused) {
  v1::Event event = CancelledTransferEvent("");
  event.mutable_transfer_changed()->set_destination_province("0899");
  EXPECT_THAT(DecodeEvent(event.SerializeAsString()).status().message(),
              HasSubstr("transfer_changed.destination_province must be a "
                        "UBIGEO province"));

  // A field of a newer peer's contract, holding anything at all.
  std::string bytes = CancelledTransferEvent("").SerializeAsString();
  bytes += std::string("\xA2\x06\x08", 3) + "12345678";  // field 100, bytes
  const absl::Status s = DecodeEvent(bytes).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("malformed event: unknown field number 100 in "
                        "ruta.v1.Event"));
  EXPECT_THAT(s.message(), Not(HasSubstr("12345678")));
}

}  // namespace
}  // namespace ruta::federation
