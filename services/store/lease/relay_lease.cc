// The relay lease's key and the always-held lease of a SQLite node
// (relay_lease.h).
#include "ruta/store/relay_lease.h"

#include <openssl/sha.h>

#include <atomic>
#include <utility>

namespace ruta::store {
namespace {

class ExclusiveRelayLease final : public RelayLease {
 public:
  explicit ExclusiveRelayLease(RelayLeaseOptions options)
      : options_(std::move(options)) {
    if (options_.on_gained) options_.on_gained();
    held_.store(true);
  }
  bool held() const override { return held_.load(); }

 private:
  const RelayLeaseOptions options_;
  std::atomic<bool> held_{false};
};

}  // namespace

int32_t RelayLeaseKey(const std::string& region) {
  const std::string input = "ruta.relay-lease.v1/" + region;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  const uint32_t key = (uint32_t{digest[0]} << 24) |
                       (uint32_t{digest[1]} << 16) |
                       (uint32_t{digest[2]} << 8) | uint32_t{digest[3]};
  return static_cast<int32_t>(key);
}

std::unique_ptr<RelayLease> MakeExclusiveRelayLease(RelayLeaseOptions options) {
  return std::make_unique<ExclusiveRelayLease>(std::move(options));
}

}  // namespace ruta::store
