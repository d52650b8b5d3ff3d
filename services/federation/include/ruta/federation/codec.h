// The wire form of federation events (proto ruta.v1.Event) and of the batch
// signature (DESIGN.md section 5): Ed25519 over the SHA-256 hashes of the
// exact event bytes, concatenated in order.
#ifndef RUTA_FEDERATION_CODEC_H_
#define RUTA_FEDERATION_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/core/federation.h"

namespace ruta::federation {

// core::EventEncoder over ruta.v1.Event. Stateless and thread-safe.
class ProtoEventEncoder final : public core::EventEncoder {
 public:
  absl::StatusOr<std::string> Encode(
      const core::FederationEvent& event) const override;
};

// Sets the sequence of an encoded, unstamped event: the exact bytes the
// relay signs and sends. INVALID_ARGUMENT when `payload` is not an event.
absl::StatusOr<std::string> StampEvent(absl::string_view payload,
                                       int64_t sequence);

// Decodes and checks one event: first the identifier firewall
// (api/firewall.h: no unknown field, every string in its format, free text
// without identifiers, enum values known), so that a peer cannot plant an
// identifier either; then ids, regions and payload well formed.
// INVALID_ARGUMENT "malformed event: ..." naming what is wrong, never a
// value. A service's author_region is the event's origin.
absl::StatusOr<core::FederationEvent> DecodeEvent(absl::string_view bytes);

// What a batch signature signs: SHA-256 of each event's bytes, concatenated.
std::string BatchSigningInput(const std::vector<std::string>& events);

}  // namespace ruta::federation

#endif  // RUTA_FEDERATION_CODEC_H_
