// libFuzzer target: arbitrary bytes through what a node does with a message
// from outside before anything is stored: parsing (one byte picks the request
// type, request_types.h), the identifier firewall, the proto -> domain
// conversions, and the person_ref derivation of identity tuples (under two
// key versions, as after a rotation); and, for a peer's Event, the
// federation decoder. Built with clang, -fsanitize=fuzzer,address,undefined
// (scripts/build.sh); run by the test suite for a bounded time
// (tests/fuzz/run.sh) and for longer on demand (tests/fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "request_types.h"
#include "ruta/api/conversions.h"
#include "ruta/api/firewall.h"
#include "ruta/core/person_links.h"
#include "ruta/core/pseudonym.h"
#include "ruta/federation/codec.h"

namespace {

const ruta::core::LinkageKeys& Keys() {
  static const auto* keys = [] {
    auto ring = ruta::core::LinkageKeyring::FromKeys(
        {{1, std::string(32, '\x11')}, {2, std::string(32, '\x22')}});
    if (!ring.ok()) __builtin_trap();
    return new ruta::core::LinkageKeys(
        std::make_shared<const ruta::core::LinkageKeyring>(*std::move(ring)),
        2);
  }();
  return *keys;
}

void Derive(const ruta::core::IdentityTuple& identity) {
  absl::StatusOr<ruta::core::LinkageBasis> basis =
      ruta::core::ChooseLinkageBasis(identity);
  if (!basis.ok() || *basis == ruta::core::LinkageBasis::kNone) return;
  absl::StatusOr<std::vector<std::string>> refs =
      ruta::core::DeriveRefsUnderEveryVersion(Keys().Get(), identity);
  // A valid tuple always derives valid refs.
  if (!refs.ok() || refs->size() != 2) __builtin_trap();
  for (const std::string& ref : *refs) {
    if (!ruta::core::IsValidPersonRef(ref)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& types = ruta::fuzz::RequestTypes();
  const google::protobuf::Message* type = types[data[0] % types.size()];
  std::unique_ptr<google::protobuf::Message> message(type->New());
  if (!message->ParseFromArray(data + 1, static_cast<int>(size - 1))) {
    return 0;
  }
  const absl::Status admitted = ruta::api::CheckMessage(*message);
  // The conversions run whatever the firewall said: they must be robust on
  // their own.
  using namespace ruta;  // NOLINT: a fuzz driver, short names read better
  if (auto* open = dynamic_cast<v1::OpenCaseRequest*>(message.get())) {
    absl::StatusOr<core::OpenCaseCommand> command = api::FromProto(*open);
    if (command.ok()) Derive(command->identity);
  } else if (auto* find = dynamic_cast<v1::FindPersonRequest*>(message.get())) {
    absl::StatusOr<core::IdentityTuple> identity =
        api::FromProto(find->identifiers());
    if (identity.ok()) Derive(*identity);
  } else if (auto* list = dynamic_cast<v1::ListCasesRequest*>(message.get())) {
    (void)api::FromProto(*list);
  } else if (auto* stage =
                 dynamic_cast<v1::UpdateStageRequest*>(message.get())) {
    (void)api::FromProto(*stage);
  } else if (auto* close = dynamic_cast<v1::CloseCaseRequest*>(message.get())) {
    (void)api::FromProto(*close);
  } else if (dynamic_cast<v1::Event*>(message.get()) != nullptr) {
    absl::StatusOr<core::FederationEvent> event = federation::DecodeEvent(
        std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    // A decoded event re-encodes without error.
    if (event.ok() && admitted.ok()) {
      federation::ProtoEventEncoder encoder;
      if (!encoder.Encode(*event).ok()) __builtin_trap();
    }
  }
  return 0;
}
