#include "ruta/cli/transfer_requests.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/cli/case_requests.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kTransfer[] = "tr_abcdefghijklmnopqrst";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";

TEST(TransferRequestsTest, TransferIds) {
  EXPECT_TRUE(ValidateTransferId("TRANSFER_ID", kTransfer).ok());
  for (const char* bad :
       {"", "tr_abc", "tr_abcdefghijklmnopqrsT", "tr_abcdefghijklmnopqrs1",
        "cs_abcdefghijklmnopqrst", "tr-abcdefghijklmnopqrst",
        "tr_abcdefghijklmnopqrstu"}) {
    absl::Status status = ValidateTransferId("TRANSFER_ID", bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_THAT(status.message(), HasSubstr("TRANSFER_ID"));
    EXPECT_THAT(status.message(), HasSubstr("\"tr_\" followed by 20 letters"));
  }
}

TEST(TransferRequestsTest, Dates) {
  absl::StatusOr<ruta::v1::Date> date = ParseDate("--on", "2028-02-29");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(date->year(), 2028);
  EXPECT_EQ(date->month(), 2);
  EXPECT_EQ(date->day(), 29);
  for (const char* bad :
       {"2027-02-29", "2026-04-31", "2026-13-01", "2026-1-1", "26-10-01",
        "2026/10/01", "1899-12-31", "today", "2026-10-01x", ""}) {
    absl::StatusOr<ruta::v1::Date> parsed = ParseDate("--on", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("--on"));
    EXPECT_THAT(parsed.status().message(), HasSubstr("YYYY-MM-DD"));
  }
}

TEST(TransferRequestsTest, Notes) {
  EXPECT_TRUE(ValidateNote("--note", "").ok());
  EXPECT_TRUE(ValidateNote("--note", std::string(280, 'a')).ok());
  // 280 characters of two bytes each: characters are counted, not bytes.
  std::string accented;
  for (int i = 0; i < 280; ++i) accented += "\xc3\xb1";  // ñ
  EXPECT_TRUE(ValidateNote("--note", accented).ok());

  absl::Status too_long = ValidateNote("--note", std::string(281, 'a'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.message(), HasSubstr("--note"));
  EXPECT_THAT(too_long.message(), HasSubstr("281 characters"));
  EXPECT_THAT(too_long.message(), HasSubstr("at most 280"));
  EXPECT_FALSE(ValidateNote("--note", accented + "a").ok());

  EXPECT_THAT(ValidateNote("--note", "two\nlines").message(),
              HasSubstr("one line"));
  EXPECT_THAT(ValidateNote("--note", "bad \xc3").message(), HasSubstr("UTF-8"));
  EXPECT_FALSE(ValidateNote("--note", "\xed\xa0\x80").ok());  // surrogate
  EXPECT_FALSE(ValidateNote("--note", "\xc0\xaf").ok());      // overlong
}

TEST(TransferRequestsTest, RequestTransfer) {
  RequestTransferFlags flags;
  flags.case_id = kCase;
  flags.to_region = "Madre_de_Dios";
  flags.province = "1701";
  flags.services = {"education-support", "psychosocial,HEALTH", "psychosocial"};
  absl::StatusOr<ruta::v1::RequestTransferRequest> request =
      BuildRequestTransferRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->to_region(), "madre-de-dios");
  EXPECT_EQ(request->destination_province(), "1701");
  ASSERT_EQ(request->requested_services_size(), 3);
  EXPECT_EQ(request->requested_services(0),
            ruta::v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  EXPECT_EQ(request->requested_services(1),
            ruta::v1::SERVICE_TYPE_PSYCHOSOCIAL);
  EXPECT_EQ(request->requested_services(2), ruta::v1::SERVICE_TYPE_HEALTH);
  EXPECT_TRUE(request->request_id().empty());  // stamped when sending

  flags.services.clear();
  request = BuildRequestTransferRequest(flags);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->requested_services_size(), 0);

  RequestTransferFlags bad = flags;
  bad.case_id = "cs_short";
  EXPECT_THAT(BuildRequestTransferRequest(bad).status().message(),
              HasSubstr("CASE_ID"));
  bad = flags;
  bad.to_region = "cusco2";
  EXPECT_THAT(BuildRequestTransferRequest(bad).status().message(),
              HasSubstr("--to"));
  bad = flags;
  bad.province = "080101";
  EXPECT_THAT(BuildRequestTransferRequest(bad).status().message(),
              HasSubstr("--province"));
  bad = flags;
  bad.services = {"education"};
  absl::Status status = BuildRequestTransferRequest(bad).status();
  EXPECT_THAT(status.message(), HasSubstr("--service"));
  EXPECT_THAT(status.message(),
              HasSubstr("education-support, vocational-training, "
                        "psychosocial, family-economic-support, health, "
                        "legal, identity-documents, residential-care"));
}

TEST(TransferRequestsTest, RejectNeedsAReasonAndAShortNote) {
  absl::StatusOr<ruta::v1::RejectTransferRequest> request =
      BuildRejectTransferRequest(kTransfer, "No_Capacity", "sin cupo");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->transfer_id(), kTransfer);
  EXPECT_EQ(request->reason(), ruta::v1::REJECT_REASON_NO_CAPACITY);
  EXPECT_EQ(request->note(), "sin cupo");

  absl::Status status =
      BuildRejectTransferRequest(kTransfer, "busy", "").status();
  EXPECT_THAT(status.message(), HasSubstr("--reason"));
  EXPECT_THAT(status.message(),
              HasSubstr("no-capacity, incomplete-request, wrong-region, "
                        "risk-at-destination, other"));
  EXPECT_THAT(
      BuildRejectTransferRequest(kTransfer, "other", "").status().message(),
      HasSubstr("--note"));
  status = BuildRejectTransferRequest(kTransfer, "wrong-region",
                                      std::string(300, 'x'))
               .status();
  EXPECT_THAT(status.message(), HasSubstr("--note"));
  EXPECT_FALSE(BuildRejectTransferRequest("tr_x", "other", "x").ok());
}

TEST(TransferRequestsTest, DepartAndReceiveDates) {
  absl::StatusOr<ruta::v1::DepartTransferRequest> depart =
      BuildDepartTransferRequest(kTransfer, "");
  ASSERT_TRUE(depart.ok());
  EXPECT_FALSE(depart->has_departed_on());  // the node's today
  depart = BuildDepartTransferRequest(kTransfer, "2026-11-02");
  ASSERT_TRUE(depart.ok());
  EXPECT_EQ(depart->departed_on().day(), 2);
  EXPECT_THAT(
      BuildDepartTransferRequest(kTransfer, "2026-11-31").status().message(),
      HasSubstr("--on"));

  absl::StatusOr<ruta::v1::ReceiveTransferRequest> receive =
      BuildReceiveTransferRequest(kTransfer, "2026-11-04");
  ASSERT_TRUE(receive.ok());
  EXPECT_EQ(receive->received_on().month(), 11);
  EXPECT_FALSE(BuildReceiveTransferRequest(kTransfer, "04/11/2026").ok());
  EXPECT_FALSE(BuildReceiveTransferRequest("TR_abcdefghijklmnopqrst", "").ok());
}

TEST(TransferRequestsTest, AcceptCancelGet) {
  EXPECT_EQ(BuildAcceptTransferRequest(kTransfer)->transfer_id(), kTransfer);
  EXPECT_FALSE(BuildAcceptTransferRequest(kCase).ok());
  absl::StatusOr<ruta::v1::CancelTransferRequest> cancel =
      BuildCancelTransferRequest(kTransfer, "la familia se mudo");
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->note(), "la familia se mudo");
  EXPECT_THAT(BuildCancelTransferRequest(kTransfer, std::string(281, 'x'))
                  .status()
                  .message(),
              HasSubstr("--note is 281 characters long"));
  EXPECT_EQ(BuildGetTransferRequest(kTransfer)->transfer_id(), kTransfer);
  EXPECT_THAT(BuildGetTransferRequest("12345678").status().message(),
              HasSubstr("TRANSFER_ID \"12345678\" is not a transfer id"));
}

TEST(TransferRequestsTest, List) {
  ListTransfersFlags flags;
  absl::StatusOr<ruta::v1::ListTransfersRequest> request =
      BuildListTransfersRequest(flags);
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->has_incoming());  // both directions
  EXPECT_EQ(request->state(), ruta::v1::TRANSFER_STATE_UNSPECIFIED);

  flags.state = "in_transit";
  flags.incoming = true;
  flags.case_id = kCase;
  flags.page_size = 20;
  flags.page_token = "abc";
  request = BuildListTransfersRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->state(), ruta::v1::TRANSFER_STATE_IN_TRANSIT);
  ASSERT_TRUE(request->has_incoming());
  EXPECT_TRUE(request->incoming());
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->page_size(), 20);
  EXPECT_EQ(request->page_token(), "abc");

  flags.incoming = false;
  flags.outgoing = true;
  request = BuildListTransfersRequest(flags);
  ASSERT_TRUE(request->has_incoming());
  EXPECT_FALSE(request->incoming());

  ListTransfersFlags bad = flags;
  bad.incoming = true;
  EXPECT_THAT(BuildListTransfersRequest(bad).status().message(),
              HasSubstr("--incoming and --outgoing"));
  bad = flags;
  bad.state = "pending";
  EXPECT_THAT(BuildListTransfersRequest(bad).status().message(),
              HasSubstr("requested, accepted, rejected, in-transit, received, "
                        "cancelled"));
  bad = flags;
  bad.case_id = "tr_abcdefghijklmnopqrst";
  EXPECT_THAT(BuildListTransfersRequest(bad).status().message(),
              HasSubstr("--case"));
  bad = flags;
  bad.page_size = 101;
  EXPECT_THAT(BuildListTransfersRequest(bad).status().message(),
              HasSubstr("--page-size"));
}

TEST(TransferRequestsTest, Cursors) {
  EXPECT_TRUE(ValidateCursor("--cursor", "").ok());
  EXPECT_TRUE(ValidateCursor("--cursor", "c0A_-=17").ok());
  EXPECT_FALSE(ValidateCursor("--cursor", "a b").ok());
  EXPECT_FALSE(ValidateCursor("--cursor", "a\n").ok());
  EXPECT_FALSE(ValidateCursor("--cursor", std::string(1025, 'c')).ok());
  EXPECT_THAT(ValidateCursor("--cursor", "\xc3\xb1").message(),
              HasSubstr("--cursor"));
}

}  // namespace
}  // namespace ruta::cli
