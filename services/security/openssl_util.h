// Small OpenSSL 3 helpers shared by the security library's .cc files (not a
// public header): owning pointers, PEM parsing, printable names.
#ifndef RUTA_SECURITY_OPENSSL_UTIL_H_
#define RUTA_SECURITY_OPENSSL_UTIL_H_

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ruta::security::internal {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509CrlFree {
  void operator()(X509_CRL* x) const { X509_CRL_free(x); }
};
struct X509StoreFree {
  void operator()(X509_STORE* x) const { X509_STORE_free(x); }
};
struct X509StoreCtxFree {
  void operator()(X509_STORE_CTX* x) const { X509_STORE_CTX_free(x); }
};
struct X509StackFree {
  // The stack does not own its certificates (they are owned elsewhere).
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509CrlPtr = std::unique_ptr<X509_CRL, X509CrlFree>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreFree>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, X509StoreCtxFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// Every certificate of the PEM text, in order (parsing stops at the first
// block that is not a certificate). Clears the OpenSSL error queue.
std::vector<X509Ptr> ParseCertificates(absl::string_view pem);

// Every CRL of the PEM text, in order. Clears the OpenSSL error queue.
std::vector<X509CrlPtr> ParseCrls(absl::string_view pem);

// One-line printable form of a name, e.g. "O=ruta, OU=cusco, CN=office/a".
std::string NameText(const X509_NAME* name);

// Serial number in hex.
std::string SerialHex(const X509* cert);

// The URI entries of the subjectAltName extension (none when absent).
// `malformed` is set when the extension cannot be decoded or appears twice.
std::vector<std::string> UriSans(const X509* cert, bool* malformed);

// An ASN.1 time as absl::Time (InfinitePast when it cannot be converted).
absl::Time AsnTime(const ASN1_TIME* time);

// Makes attacker-controlled certificate text safe for one log line:
// control and non-ASCII bytes escaped, at most `max` characters.
std::string ForLog(absl::string_view text, size_t max = 200);

}  // namespace ruta::security::internal

#endif  // RUTA_SECURITY_OPENSSL_UTIL_H_
