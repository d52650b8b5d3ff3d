// Region signing keys (security/signing.h): Ed25519 over OpenSSL 3, keys in
// the PEM files certs/pki.sh writes.
#include "ruta/security/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::security {
namespace {

using ::testing::HasSubstr;

// Writes a fresh key pair of `type` ("ED25519", or "EC" for a wrong one) to
// <dir>/<name>.key (mode 0600) and <dir>/<name>.pub.
void WriteKeyPair(const std::string& dir, const std::string& name,
                  const char* type = "ED25519") {
  EVP_PKEY* key = std::string(type) == "EC"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  ASSERT_NE(key, nullptr);
  FILE* priv = fopen((dir + "/" + name + ".key").c_str(), "w");
  ASSERT_NE(priv, nullptr);
  ASSERT_EQ(
      PEM_write_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr),
      1);
  fclose(priv);
  chmod((dir + "/" + name + ".key").c_str(), 0600);
  FILE* pub = fopen((dir + "/" + name + ".pub").c_str(), "w");
  ASSERT_NE(pub, nullptr);
  ASSERT_EQ(PEM_write_PUBKEY(pub, key), 1);
  fclose(pub);
  EVP_PKEY_free(key);
}

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/ruta_signing_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    WriteKeyPair(dir_, "a");
    WriteKeyPair(dir_, "b");
  }
  std::string dir_;
};

TEST_F(SigningTest, SignaturesVerifyWithTheMatchingPublicKeyOnly) {
  auto signer = Signer::LoadFromFile(dir_ + "/a.key");
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto a = SignatureVerifier::LoadFromFile(dir_ + "/a.pub");
  auto b = SignatureVerifier::LoadFromFile(dir_ + "/b.pub");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();

  const std::string message("checkpoint\0bytes", 16);
  absl::StatusOr<std::string> signature = (*signer)->Sign(message);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->size(), 64u);
  EXPECT_TRUE((*a)->Verify(message, *signature));
  EXPECT_FALSE((*b)->Verify(message, *signature));
  EXPECT_FALSE((*a)->Verify(message + "x", *signature));
  std::string flipped = *signature;
  flipped[10] ^= 1;
  EXPECT_FALSE((*a)->Verify(message, flipped));
  EXPECT_FALSE((*a)->Verify(message, signature->substr(0, 63)));
  EXPECT_FALSE((*a)->Verify(message, ""));
}

TEST_F(SigningTest, PrivateKeyMustBePrivateAndEd25519) {
  chmod((dir_ + "/a.key").c_str(), 0640);
  auto readable = Signer::LoadFromFile(dir_ + "/a.key");
  EXPECT_EQ(readable.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(readable.status().message(), HasSubstr("chmod 600"));

  auto missing = Signer::LoadFromFile(dir_ + "/none.key");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("none.key"));

  WriteKeyPair(dir_, "ec", "EC");
  auto ec = Signer::LoadFromFile(dir_ + "/ec.key");
  EXPECT_EQ(ec.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ec.status().message(), HasSubstr("Ed25519"));
  auto ec_pub = SignatureVerifier::LoadFromFile(dir_ + "/ec.pub");
  EXPECT_EQ(ec_pub.status().code(), absl::StatusCode::kFailedPrecondition);

  // A private key is not a public key file.
  auto wrong = SignatureVerifier::LoadFromFile(dir_ + "/b.key");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ruta::security
