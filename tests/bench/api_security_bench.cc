// Micro-benchmarks of per-request and per-batch CPU work outside the core:
// validating an OpenCase request as the api layer does (proto -> domain
// conversion, then the domain checks), and signing / verifying a federation
// batch (Ed25519 over the hash list of a batch's events).
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ruta/api/conversions.h"
#include "ruta/api/firewall.h"
#include "ruta/core/ids.h"
#include "ruta/core/profile.h"
#include "ruta/security/signing.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

// What the OpenCase handler checks before calling the core: the request
// converted to a command (every enum checked), its request_id format and
// its profile rules.
void BM_ValidateOpenCaseRequest(benchmark::State& state) {
  const v1::OpenCaseRequest request = testing::VictimOpenCaseRequest(
      "00000000-0000-4000-8000-000000000001", "45678912");
  for (auto _ : state) {
    absl::StatusOr<core::OpenCaseCommand> command = api::FromProto(request);
    if (!command.ok() || !core::IsValidRequestId(command->request_id) ||
        !core::ValidateProfile(command->profile, command->kind).ok()) {
      state.SkipWithError("the request does not validate");
      break;
    }
    benchmark::DoNotOptimize(command);
  }
}
BENCHMARK(BM_ValidateOpenCaseRequest);

// The identifier firewall (api/firewall.h) over an OpenCase request: every
// field walked by reflection, formats checked (identifiers exempt).
void BM_FirewallOpenCaseRequest(benchmark::State& state) {
  const v1::OpenCaseRequest request = testing::VictimOpenCaseRequest(
      "00000000-0000-4000-8000-000000000001", "45678912");
  for (auto _ : state) {
    absl::Status admitted = api::CheckMessage(request);
    if (!admitted.ok()) {
      state.SkipWithError("the request is refused");
      break;
    }
    benchmark::DoNotOptimize(admitted);
  }
}
BENCHMARK(BM_FirewallOpenCaseRequest);

// The firewall over a request with a free-text note of 280 characters (the
// longest allowed): the identifier-shape scan of free text.
void BM_FirewallRejectTransferNote280(benchmark::State& state) {
  v1::RejectTransferRequest request;
  request.set_request_id("00000000-0000-4000-8000-000000000001");
  request.set_transfer_id("tr_abcdefghijklmnopqrst");
  request.set_reason(v1::REJECT_REASON_NO_CAPACITY);
  // One multibyte character first; the rest ASCII, cut at 280 bytes.
  std::string note = "niña; ";
  while (note.size() < 280) note += "sin cupo en el albergue hasta marzo; ";
  note.resize(280);
  request.set_note(note);
  for (auto _ : state) {
    absl::Status admitted = api::CheckMessage(request);
    if (!admitted.ok()) {
      state.SkipWithError(std::string(admitted.message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(admitted);
  }
}
BENCHMARK(BM_FirewallRejectTransferNote280);

// A fresh Ed25519 key pair (openssl, as certs/pki.sh makes region signing
// keys), loaded once per process.
struct Keys {
  std::unique_ptr<security::Signer> signer;
  std::unique_ptr<security::SignatureVerifier> verifier;
};

const Keys& SigningKeys() {
  static const Keys* const keys = [] {
    const std::string dir = testing::MakeTempDir("signing-bench");
    const std::string key = dir + "/signing.key";
    const std::string pub = dir + "/signing.pub";
    if (testing::RunProcess({"/usr/bin/openssl", "genpkey", "-algorithm",
                             "ed25519", "-out", key})
                .exit_code != 0 ||
        chmod(key.c_str(), 0600) != 0 ||
        testing::RunProcess(
            {"/usr/bin/openssl", "pkey", "-in", key, "-pubout", "-out", pub})
                .exit_code != 0) {
      std::fprintf(stderr, "cannot make an Ed25519 key with openssl\n");
      std::abort();
    }
    auto signer = security::Signer::LoadFromFile(key);
    auto verifier = security::SignatureVerifier::LoadFromFile(pub);
    if (!signer.ok() || !verifier.ok()) {
      std::fprintf(stderr, "cannot load the key pair\n");
      std::abort();
    }
    // Loaded: the key files are not needed any more.
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return new Keys{*std::move(signer), *std::move(verifier)};
  }();
  return *keys;
}

// The signed bytes of a batch: the SHA-256 hashes of its events' exact
// bytes, 4 KiB = 128 events.
std::string BatchHashList() {
  std::string hashes(4096, '\0');
  for (size_t i = 0; i < hashes.size(); ++i) {
    hashes[i] = static_cast<char>((i * 131 + 7) & 0xff);
  }
  return hashes;
}

void BM_SignBatch4KiB(benchmark::State& state) {
  const Keys& keys = SigningKeys();
  const std::string message = BatchHashList();
  for (auto _ : state) {
    absl::StatusOr<std::string> signature = keys.signer->Sign(message);
    if (!signature.ok()) {
      state.SkipWithError("Sign failed");
      break;
    }
    benchmark::DoNotOptimize(signature);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(message.size()));
}
BENCHMARK(BM_SignBatch4KiB);

void BM_VerifyBatch4KiB(benchmark::State& state) {
  const Keys& keys = SigningKeys();
  const std::string message = BatchHashList();
  const std::string signature = *keys.signer->Sign(message);
  for (auto _ : state) {
    const bool ok = keys.verifier->Verify(message, signature);
    if (!ok) {
      state.SkipWithError("Verify failed");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(message.size()));
}
BENCHMARK(BM_VerifyBatch4KiB);

}  // namespace
}  // namespace ruta

BENCHMARK_MAIN();
