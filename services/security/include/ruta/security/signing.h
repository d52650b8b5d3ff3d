// Region signing keys (DESIGN.md §5): each region has a long-lived Ed25519
// key pair, separate from its TLS keys, that signs its audit checkpoints (and
// later its federation batches). The private key stays with the region's
// node; the public key is distributed with the peers' configuration.
//
// Keys are PEM files as `openssl genpkey -algorithm ed25519` and
// `openssl pkey -pubout` write them (certs/pki.sh: <slug>/signing/signing.key,
// trust/signing/<slug>.pub). Signatures are raw Ed25519 (64 bytes) over the
// message itself (Ed25519 hashes internally; OpenSSL 3 EVP_DigestSign with no
// digest).
//
// Thread-safety: both classes are immutable after loading; Sign and Verify
// may be called concurrently from any thread.
#ifndef RUTA_SECURITY_SIGNING_H_
#define RUTA_SECURITY_SIGNING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ruta::security {

class Signer final {
 public:
  // Loads an Ed25519 private key from `path`. FAILED_PRECONDITION naming the
  // file when it is missing or unreadable, readable by group or others (it
  // must be mode 0600), or not an Ed25519 private key. The key material
  // never appears in a message.
  static absl::StatusOr<std::unique_ptr<Signer>> LoadFromFile(
      const std::string& path);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // The 64-byte signature of `message`. INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  struct Key;
  explicit Signer(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

class SignatureVerifier final {
 public:
  // Loads an Ed25519 public key (PEM SubjectPublicKeyInfo) from `path`.
  // FAILED_PRECONDITION naming the file when it is missing, unreadable or not
  // an Ed25519 public key.
  static absl::StatusOr<std::unique_ptr<SignatureVerifier>> LoadFromFile(
      const std::string& path);
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // True when `signature` is a valid signature of `message` by the key's
  // private half; false otherwise (including a malformed signature).
  bool Verify(absl::string_view message, absl::string_view signature) const;

 private:
  struct Key;
  explicit SignatureVerifier(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

}  // namespace ruta::security

#endif  // RUTA_SECURITY_SIGNING_H_
