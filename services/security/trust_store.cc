#include "ruta/security/trust_store.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl_util.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/security/pem.h"
#include "spdlog/spdlog.h"

namespace ruta::security {

using internal::AsnTime;
using internal::NameText;
using internal::X509StoreCtxPtr;
using internal::X509StorePtr;

// Immutable once built: verifications hold a reference while a reload
// installs a new state.
struct TrustStore::RegionState {
  std::vector<std::string> contents;  // CA file, then each CRL file
  X509StorePtr store;                 // roots and CRLs
  absl::Time crl_expiry = absl::InfinitePast();
};

namespace {

std::map<std::string, RegionTrustFiles> ByRegion(
    const std::vector<RegionTrustFiles>& regions) {
  std::map<std::string, RegionTrustFiles> files;
  for (const RegionTrustFiles& region : regions) {
    files.emplace(region.region, region);
  }
  return files;
}

absl::StatusOr<std::vector<std::string>> ReadRegionFiles(
    const RegionTrustFiles& files) {
  std::vector<std::string> contents;
  RUTA_ASSIGN_OR_RETURN(
      std::string ca,
      ReadPemFile(files.ca_file, absl::StrCat("region ", files.region, " CA")));
  contents.push_back(std::move(ca));
  for (const std::string& crl_file : files.crl_files) {
    RUTA_ASSIGN_OR_RETURN(
        std::string crl,
        ReadPemFile(crl_file, absl::StrCat("region ", files.region, " CRL")));
    contents.push_back(std::move(crl));
  }
  return contents;
}

absl::StatusOr<X509StorePtr> BuildStore(
    const RegionTrustFiles& files, const std::vector<std::string>& contents,
    absl::Time* crl_expiry) {
  X509StorePtr store(X509_STORE_new());
  if (store == nullptr) return absl::InternalError("X509_STORE_new failed");
  std::vector<internal::X509Ptr> roots =
      internal::ParseCertificates(contents.front());
  if (roots.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("region ", files.region, " CA file ", files.ca_file,
                     " holds no PEM certificate"));
  }
  for (const internal::X509Ptr& root : roots) {
    if (X509_check_ca(root.get()) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("region ", files.region, " CA file ", files.ca_file,
                       " holds a certificate that is not a CA: ",
                       NameText(X509_get_subject_name(root.get()))));
    }
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      ERR_clear_error();  // a duplicate root is harmless
    }
  }
  *crl_expiry = absl::InfiniteFuture();
  for (size_t i = 1; i < contents.size(); ++i) {
    const std::string& crl_file = files.crl_files[i - 1];
    std::vector<internal::X509CrlPtr> crls = internal::ParseCrls(contents[i]);
    if (crls.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("region ", files.region,
                                                        " CRL file ", crl_file,
                                                        " holds no PEM CRL"));
    }
    for (const internal::X509CrlPtr& crl : crls) {
      if (X509_STORE_add_crl(store.get(), crl.get()) != 1) {
        ERR_clear_error();
      }
      const absl::Time next = AsnTime(X509_CRL_get0_nextUpdate(crl.get()));
      *crl_expiry = std::min(*crl_expiry, next);
      if (next < absl::Now()) {
        spdlog::warn(
            "region {}: CRL {} of \"{}\" expired at {}: clients whose chain "
            "it covers are refused (crl_expired) until a fresh CRL is "
            "installed",
            files.region, crl_file, NameText(X509_CRL_get_issuer(crl.get())),
            absl::FormatTime(next, absl::UTCTimeZone()));
      }
    }
  }
  return store;
}

}  // namespace

TrustStore::TrustStore(const std::vector<RegionTrustFiles>& regions)
    : files_(ByRegion(regions)) {}

absl::StatusOr<std::unique_ptr<TrustStore>> TrustStore::Load(
    const std::vector<RegionTrustFiles>& regions) {
  if (regions.empty()) {
    return absl::FailedPreconditionError("no regions to trust");
  }
  std::unique_ptr<TrustStore> trust(new TrustStore(regions));
  if (trust->files_.size() != regions.size()) {
    return absl::FailedPreconditionError("a region is listed twice");
  }
  for (const auto& [region, files] : trust->files_) {
    if (files.crl_files.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("region ", region,
                       " has no CRL file: revocation is checked for the whole "
                       "chain and fails closed"));
    }
    RUTA_ASSIGN_OR_RETURN(std::vector<std::string> contents,
                          ReadRegionFiles(files));
    auto state = std::make_shared<RegionState>();
    RUTA_ASSIGN_OR_RETURN(state->store,
                          BuildStore(files, contents, &state->crl_expiry));
    state->contents = std::move(contents);
    spdlog::info("region {}: trusting {} with CRLs {} (earliest expiry {})",
                 region, files.ca_file, absl::StrJoin(files.crl_files, ", "),
                 absl::FormatTime(state->crl_expiry, absl::UTCTimeZone()));
    CountTrustLoad();
    absl::MutexLock lock(&trust->mu_);
    trust->states_[region] = std::move(state);
  }
  return trust;
}

int TrustStore::Reload() {
  int replaced = 0;
  for (const auto& [region, files] : files_) {
    absl::StatusOr<std::vector<std::string>> contents = ReadRegionFiles(files);
    {
      absl::MutexLock lock(&mu_);
      if (contents.ok() && states_[region]->contents == *contents) continue;
    }
    absl::Status status = contents.status();
    auto state = std::make_shared<RegionState>();
    if (status.ok()) {
      absl::StatusOr<X509StorePtr> store =
          BuildStore(files, *contents, &state->crl_expiry);
      status = store.status();
      if (store.ok()) state->store = *std::move(store);
    }
    absl::MutexLock lock(&mu_);
    if (!status.ok()) {
      // Unreadable files have no content to remember: key them by the error.
      std::vector<std::string> key =
          contents.ok()
              ? *contents
              : std::vector<std::string>{std::string(status.message())};
      if (refused_[region] != key) {
        refused_[region] = std::move(key);
        spdlog::warn(
            "region {}: new CA/CRL files refused, keeping the previous ones: "
            "{}",
            region, std::string(status.message()));
        CountTrustRefusal();
      }
      continue;
    }
    refused_.erase(region);
    state->contents = *std::move(contents);
    spdlog::info("region {}: reloaded CA and CRLs (earliest CRL expiry {})",
                 region,
                 absl::FormatTime(state->crl_expiry, absl::UTCTimeZone()));
    states_[region] = std::move(state);
    CountTrustLoad();
    ++replaced;
  }
  return replaced;
}

std::shared_ptr<const TrustStore::RegionState> TrustStore::Find(
    absl::string_view region) const {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(std::string(region));
  return it == states_.end() ? nullptr : it->second;
}

bool TrustStore::HasRegion(absl::string_view region) const {
  return files_.count(std::string(region)) != 0;
}

std::vector<std::string> TrustStore::Regions() const {
  std::vector<std::string> regions;
  for (const auto& entry : files_) regions.push_back(entry.first);
  return regions;
}

ChainCheck TrustStore::Verify(absl::string_view region, X509* leaf,
                              STACK_OF(X509) * untrusted) const {
  ChainCheck check;
  std::shared_ptr<const RegionState> state = Find(region);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (state == nullptr || ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), state->store.get(), leaf, untrusted) !=
          1) {
    ERR_clear_error();
    check.error = X509_V_ERR_UNSPECIFIED;
    check.message = "no trust store for this region";
    return check;
  }
  X509_STORE_CTX_set_flags(ctx.get(),
                           X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  check.ok = X509_verify_cert(ctx.get()) == 1;
  if (!check.ok) {
    check.error = X509_STORE_CTX_get_error(ctx.get());
    check.depth = X509_STORE_CTX_get_error_depth(ctx.get());
    const X509* current = X509_STORE_CTX_get_current_cert(ctx.get());
    if (current != nullptr) {
      check.subject = NameText(X509_get_subject_name(current));
    }
    check.message = X509_verify_cert_error_string(check.error);
  }
  ERR_clear_error();
  return check;
}

bool TrustStore::ChainsTo(absl::string_view region, X509* leaf,
                          STACK_OF(X509) * untrusted) const {
  std::shared_ptr<const RegionState> state = Find(region);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (state == nullptr || ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), state->store.get(), leaf, untrusted) !=
          1) {
    ERR_clear_error();
    return false;
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

absl::Time TrustStore::CrlExpiry(absl::string_view region) const {
  std::shared_ptr<const RegionState> state = Find(region);
  return state == nullptr ? absl::InfinitePast() : state->crl_expiry;
}

}  // namespace ruta::security
