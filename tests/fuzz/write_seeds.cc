// Writes the fuzz target's seed corpus into the directory given as argument:
// one input per request type (request_types.h), and well-formed requests
// with identifiers, notes and ids, so that fuzzing starts from messages that
// pass parsing and reach the firewall, the conversions and the derivation.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "request_types.h"
#include "ruta/testing/requests.h"

namespace {

bool Write(const std::string& dir, const std::string& name, int type,
           const google::protobuf::Message& message) {
  std::string bytes(1, static_cast<char>(type));
  bytes += message.SerializeAsString();
  std::ofstream out(absl::StrCat(dir, "/", name), std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const auto& types = ruta::fuzz::RequestTypes();
  bool ok = true;
  for (size_t i = 0; i < types.size(); ++i) {
    ok &= Write(dir, absl::StrCat("empty-", i), static_cast<int>(i), *types[i]);
  }
  using ruta::fuzz::RequestTypeIndex;
  const char kUuid[] = "6f1c2b9e-0000-4000-8000-000000000001";
  ruta::v1::OpenCaseRequest open =
      ruta::testing::VictimOpenCaseRequest(kUuid, "04512345");
  ok &=
      Write(dir, "open-dni", RequestTypeIndex("ruta.v1.OpenCaseRequest"), open);
  open.mutable_identifiers()->clear_dni();
  open.mutable_identifiers()->set_given_names("José María");
  open.mutable_identifiers()->set_surnames("Ñaupa Quispe");
  open.mutable_identifiers()->mutable_birth_date()->set_year(2011);
  open.mutable_identifiers()->mutable_birth_date()->set_month(3);
  open.mutable_identifiers()->mutable_birth_date()->set_day(12);
  open.mutable_identifiers()->set_birth_district("170101");
  ok &= Write(dir, "open-names", RequestTypeIndex("ruta.v1.OpenCaseRequest"),
              open);
  ruta::v1::FindPersonRequest find;
  find.mutable_identifiers()->set_cnv("1234567890");
  ok &= Write(dir, "find-cnv", RequestTypeIndex("ruta.v1.FindPersonRequest"),
              find);
  ruta::v1::RejectTransferRequest reject;
  reject.set_request_id(kUuid);
  reject.set_transfer_id("tr_abcdefghijklmnopqrst");
  reject.set_reason(ruta::v1::REJECT_REASON_NO_CAPACITY);
  reject.set_note("sin cupo en el albergue hasta marzo");
  ok &= Write(dir, "reject-note",
              RequestTypeIndex("ruta.v1.RejectTransferRequest"), reject);
  ruta::v1::Event event;
  event.set_event_id("ev_abcdefghijklmnopqrst");
  event.set_origin_region("madre-de-dios");
  event.set_destination_region("cusco");
  event.set_sequence(1);
  event.set_case_id("cs_abcdefghijklmnopqrst");
  event.mutable_committed_at()->set_seconds(1790000000);
  event.mutable_persons_merged()->set_kept_ref(
      "pr1_abcdefghijklmnopabcdefghijklmnop");
  event.mutable_persons_merged()->set_merged_ref(
      "pr0_abcdefghijklmnopabcdefghijklmnoa");
  ok &= Write(dir, "event-merge", RequestTypeIndex("ruta.v1.Event"), event);
  if (!ok) {
    std::fprintf(stderr, "could not write the seeds into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
