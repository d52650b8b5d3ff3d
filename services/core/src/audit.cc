#include "ruta/core/audit.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ruta/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace ruta::core {
namespace {

constexpr char kRecordDomain[] = "ruta.audit.v1";
constexpr char kCheckpointDomain[] = "ruta.audit.checkpoint.v1";
constexpr char kRestoreDomain[] = "ruta.audit.restore.v1";
constexpr size_t kIdLetters = 20;

// Length-prefixed fields: 8-byte big-endian length, then the bytes.
class Encoder {
 public:
  explicit Encoder(absl::string_view domain) { Add(domain); }
  Encoder& Add(absl::string_view bytes) {
    AppendBigEndian(static_cast<uint64_t>(bytes.size()));
    out_.append(bytes.data(), bytes.size());
    return *this;
  }
  Encoder& Add(int64_t value) {
    std::string bytes;
    const uint64_t v = static_cast<uint64_t>(value);
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((v >> shift) & 0xff));
    }
    return Add(bytes);
  }
  std::string Finish() { return std::move(out_); }

 private:
  void AppendBigEndian(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<char>((v >> shift) & 0xff));
    }
  }
  std::string out_;
};

int64_t Micros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMicros(t);
}

std::string Sha256(absl::string_view a, absl::string_view b) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  if (ctx == nullptr ||
      EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 ||
      size != kAuditHashSize) {
    // Without a hash function there is no audit: stop rather than write
    // records that cannot be verified.
    spdlog::critical("audit: SHA-256 failed in OpenSSL; aborting");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

absl::Time NowMicros() {
  return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
}

std::string Hex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace

bool IsAuditableSubject(absl::string_view id) {
  if (id.size() != 3 + kIdLetters) return false;
  if (!absl::StartsWith(id, "cs_") && !absl::StartsWith(id, "tr_")) {
    return false;
  }
  return std::all_of(id.begin() + 3, id.end(),
                     [](char c) { return c >= 'a' && c <= 'z'; });
}

AuditEntry MakeAuditEntry(const Actor& actor, absl::string_view method,
                          absl::string_view subject, absl::StatusCode outcome) {
  AuditEntry entry;
  entry.at = NowMicros();
  entry.principal =
      actor.principal.empty() ? kUnauthenticatedPrincipal : actor.principal;
  entry.clerk = actor.clerk;
  entry.method = std::string(method);
  if (IsAuditableSubject(subject)) entry.subject = std::string(subject);
  entry.outcome = outcome;
  return entry;
}

std::string CanonicalAuditRecord(const store::AuditRecord& record) {
  return Encoder(kRecordDomain)
      .Add(record.index)
      .Add(Micros(record.at))
      .Add(record.principal)
      .Add(record.clerk)
      .Add(record.method)
      .Add(record.subject)
      .Add(int64_t{record.outcome})
      .Finish();
}

std::string ChainAuditHash(absl::string_view previous_hash,
                           const store::AuditRecord& record) {
  return Sha256(previous_hash, CanonicalAuditRecord(record));
}

std::string ZeroAuditHash() { return std::string(kAuditHashSize, '\0'); }

absl::StatusOr<store::AuditRecord> AppendAuditEntry(store::WriteTxn& txn,
                                                    const AuditEntry& entry) {
  RUTA_ASSIGN_OR_RETURN(store::AuditHead head, txn.GetAuditHead());
  store::AuditRecord record;
  record.index = head.length;
  // Microseconds: what the store keeps, so that verification re-reads the
  // exact value that was hashed.
  record.at = entry.at == absl::InfinitePast()
                  ? NowMicros()
                  : absl::FromUnixMicros(absl::ToUnixMicros(entry.at));
  record.principal =
      entry.principal.empty() ? kUnauthenticatedPrincipal : entry.principal;
  record.clerk = entry.clerk;
  record.method = entry.method;
  // Checked again here, the one place every record passes through.
  if (IsAuditableSubject(entry.subject)) record.subject = entry.subject;
  record.outcome = static_cast<int32_t>(entry.outcome);
  record.hash = ChainAuditHash(head.hash, record);
  RUTA_RETURN_IF_ERROR(txn.AppendAudit(record));
  return record;
}

absl::StatusOr<ChainVerification> VerifyAuditChain(
    store::ReadTxn& txn, const std::vector<int64_t>& lengths_of_interest,
    int page_size) {
  ChainVerification result;
  std::string previous = ZeroAuditHash();
  int64_t position = 0;
  auto fail = [&](int64_t index, std::string problem) {
    if (!result.ok) return;
    result.ok = false;
    result.first_bad_index = index;
    result.problem = std::move(problem);
  };
  while (true) {
    RUTA_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> page,
                          txn.ScanAudit(position, page_size));
    for (const store::AuditRecord& record : page) {
      ++result.records_checked;
      result.chain_length = record.index + 1;
      if (!result.ok) continue;  // Only the length matters past a break.
      if (record.index != position) {
        fail(position,
             absl::StrCat("record ", position,
                          " is missing: the next stored record has index ",
                          record.index,
                          " (records were deleted or renumbered)"));
        continue;
      }
      const std::string expected = ChainAuditHash(previous, record);
      if (record.hash != expected) {
        fail(position,
             absl::StrCat(
                 "record ", position,
                 " does not match the chain: its content or position was "
                 "altered (edited, reordered or replaced); stored hash ",
                 Hex(record.hash).substr(0, 16), "..., expected ",
                 Hex(expected).substr(0, 16), "..."));
        continue;
      }
      previous = record.hash;
      ++position;
      result.verified_length = position;
      if (std::find(lengths_of_interest.begin(), lengths_of_interest.end(),
                    position) != lengths_of_interest.end()) {
        result.hashes_at[position] = previous;
      }
    }
    if (static_cast<int>(page.size()) < page_size) break;
    // Next page: past the last record read, whatever its index claimed.
    const int64_t next = page.back().index + 1;
    if (!result.ok) {
      // Keep reading only to learn the chain's length.
      position = std::max(position, next);
    } else {
      position = next;
    }
  }
  return result;
}

CheckpointMatch CompareWithCheckpoint(
    const ChainVerification& chain, const store::AuditCheckpoint& checkpoint) {
  if (checkpoint.length > chain.chain_length) {
    return CheckpointMatch::kTruncated;
  }
  if (checkpoint.length == 0) {
    return checkpoint.head_hash == ZeroAuditHash() ? CheckpointMatch::kMatches
                                                   : CheckpointMatch::kDiverges;
  }
  auto it = chain.hashes_at.find(checkpoint.length);
  if (it != chain.hashes_at.end() && it->second == checkpoint.head_hash) {
    return CheckpointMatch::kMatches;
  }
  return CheckpointMatch::kDiverges;
}

std::string CheckpointSigningBytes(const store::AuditCheckpoint& checkpoint) {
  return Encoder(kCheckpointDomain)
      .Add(checkpoint.region)
      .Add(checkpoint.length)
      .Add(checkpoint.head_hash)
      .Add(Micros(checkpoint.signed_at))
      .Finish();
}

std::string RestoredBackupSubject(absl::string_view backup_name) {
  const size_t slash = backup_name.find_last_of('/');
  if (slash != absl::string_view::npos) {
    backup_name = backup_name.substr(slash + 1);
  }
  if (backup_name.empty() || backup_name.size() > 128) return "backup";
  for (char c : backup_name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != '_') {
      return "backup";
    }
  }
  return std::string(backup_name);
}

absl::StatusOr<store::AuditRecord> AppendRestoreAuditEntry(
    store::WriteTxn& txn, absl::string_view principal,
    absl::string_view backup_name) {
  RUTA_ASSIGN_OR_RETURN(store::AuditHead head, txn.GetAuditHead());
  store::AuditRecord record;
  record.index = head.length;
  record.at = NowMicros();
  record.principal =
      principal.empty() ? kUnauthenticatedPrincipal : std::string(principal);
  record.method = kRestoreAuditMethod;
  record.subject = RestoredBackupSubject(backup_name);
  record.outcome = static_cast<int32_t>(absl::StatusCode::kOk);
  record.hash = ChainAuditHash(head.hash, record);
  RUTA_RETURN_IF_ERROR(txn.AppendAudit(record));
  return record;
}

std::string RestoreDeclarationSigningBytes(const RestoreDeclaration& d) {
  return Encoder(kRestoreDomain)
      .Add(d.region)
      .Add(d.superseded_length)
      .Add(d.superseded_head_hash)
      .Add(d.restored_length)
      .Add(d.resumed_length)
      .Add(d.resumed_head_hash)
      .Add(Micros(d.signed_at))
      .Finish();
}

// --- AuditLog ---------------------------------------------------------------

AuditLog::AuditLog(store::Store* store, AuditLogOptions options)
    : store_(store), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void AuditLog::Record(AuditEntry entry) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(entry));
  ++recorded_;
}

absl::Status AuditLog::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = recorded_;
  ++flush_requests_;
  auto done = [this, target]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return committed_ >= target;
  };
  const bool reached = mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  --flush_requests_;
  if (!reached) {
    return absl::DeadlineExceededError(
        absl::StrCat("audit: ", recorded_ - committed_,
                     " records are still waiting to be committed"));
  }
  return absl::OkStatus();
}

int64_t AuditLog::pending() const {
  absl::MutexLock lock(&mu_);
  return recorded_ - committed_;
}

int64_t AuditLog::failed_flushes() const {
  absl::MutexLock lock(&mu_);
  return failed_flushes_;
}

absl::Status AuditLog::Commit(const std::vector<AuditEntry>& batch) {
  return store_->WriteSync([&batch](store::WriteTxn& txn) -> absl::Status {
    for (const AuditEntry& entry : batch) {
      RUTA_RETURN_IF_ERROR(AppendAuditEntry(txn, entry).status());
    }
    return absl::OkStatus();
  });
}

void AuditLog::Loop() {
  absl::Time give_up = absl::InfiniteFuture();
  while (true) {
    std::vector<AuditEntry> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || flush_requests_ > 0 ||
               queue_.size() >= options_.max_batch;
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), options_.flush_interval);
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      if (stopping_ && give_up == absl::InfiniteFuture()) {
        give_up = absl::Now() + options_.shutdown_timeout;
      }
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }

    const absl::Status status = Commit(batch);

    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      committed_ += static_cast<int64_t>(batch.size());
      continue;
    }
    ++failed_flushes_;
    // Loud, and the records go back to the front of the queue: an audit
    // record is never dropped without a trace.
    spdlog::error(
        "audit: could not commit {} audit records ({} failed attempts so "
        "far; {} queued in all); retrying in {}: {}",
        batch.size(), failed_flushes_, batch.size() + queue_.size(),
        absl::FormatDuration(options_.retry_delay), status.ToString());
    queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                  std::make_move_iterator(batch.end()));
    if (stopping_ && absl::Now() >= give_up) {
      spdlog::critical(
          "audit: shutting down with {} audit records that could not be "
          "committed; they are lost: {}",
          queue_.size(), status.ToString());
      return;
    }
    if (!stopping_) {
      // Cut short by shutdown, which then retries until give_up.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.retry_delay);
    } else {
      mu_.Unlock();
      absl::SleepFor(std::min(options_.retry_delay, absl::Milliseconds(200)));
      mu_.Lock();
    }
  }
}

}  // namespace ruta::core
