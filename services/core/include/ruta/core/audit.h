// ruta::core audit — the tamper-evident record of every call (DESIGN.md §5).
//
// Every call, allowed or denied, appends one record (time, caller, clerk,
// method, case or transfer id, outcome status code) to a hash chain kept in
// the node's store:
//
//   h_i = SHA-256(h_{i-1} || canonical(record_i)),   h_{-1} = 32 zero bytes
//
// canonical(record) = "ruta.audit.v1" then, each as an 8-byte big-endian
// length followed by the bytes: the index, the time (µs since the Unix epoch),
// the principal, the clerk, the method, the subject and the outcome code
// (integers as 8-byte big-endian two's complement). Length prefixes make the
// encoding unambiguous: no two different records share one.
//
// `AppendAuditEntry` is the only code that extends the chain. It runs inside
// the store's single writer (a WriteTxn), reading the head and appending
// after it, so the chain order is the commit order whoever writes:
//  * a successful mutation appends its record in its own write function (a
//    change and its record commit together, or neither does);
//  * everything else (reads, denials, failed calls) goes through `AuditLog`,
//    which queues records and group-commits them at least once per flush
//    interval.
//
// No identifier of a child is ever part of a record: the subject is kept only
// when it has the case/transfer id format (letters only), the principal is a
// certificate identity and the clerk an account id.
#ifndef RUTA_CORE_AUDIT_H_
#define RUTA_CORE_AUDIT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"

namespace ruta::core {

// Principal of a record whose caller identity could not be established.
inline constexpr char kUnauthenticatedPrincipal[] = "unauthenticated";
// Size of every chain hash (SHA-256).
inline constexpr size_t kAuditHashSize = 32;

// What one call produced; the chain position and hash are added on append.
struct AuditEntry {
  absl::Time at = absl::InfinitePast();  // kept at microsecond precision
  std::string principal;                 // SPIFFE id or "unauthenticated"
  std::string clerk;                     // empty when none
  std::string method;                    // "CaseOffice.GetCase"
  std::string subject;                   // case/transfer id, or empty
  absl::StatusCode outcome = absl::StatusCode::kOk;
};

// An entry for a call of `actor` decided now. A `subject` that is not a case
// or transfer id is dropped (see IsAuditableSubject); an empty principal
// becomes "unauthenticated".
AuditEntry MakeAuditEntry(const Actor& actor, absl::string_view method,
                          absl::string_view subject, absl::StatusCode outcome);

// Whether `id` has the format of a case id ("cs_") or transfer id ("tr_"):
// the prefix and 20 lowercase letters. Only such ids are ever recorded as a
// subject: any other caller-supplied text could hold an identifier.
bool IsAuditableSubject(absl::string_view id);

// The canonical encoding of `record` (every field but `hash`), as above.
std::string CanonicalAuditRecord(const store::AuditRecord& record);

// SHA-256(previous_hash || CanonicalAuditRecord(record)), 32 raw bytes.
std::string ChainAuditHash(absl::string_view previous_hash,
                           const store::AuditRecord& record);

// 32 zero bytes: h_{-1}.
std::string ZeroAuditHash();

// Appends `entry` to the chain inside `txn` (after its head, so after every
// record appended earlier in the same transaction) and returns the record as
// stored. Errors are the store's (the caller's write function must fail with
// them, rolling back whatever it changed).
absl::StatusOr<store::AuditRecord> AppendAuditEntry(store::WriteTxn& txn,
                                                    const AuditEntry& entry);

// --- Verification --------------------------------------------------------

// The result of recomputing the chain from its first record.
struct ChainVerification {
  bool ok = true;                // every record present, in order, unaltered
  int64_t records_checked = 0;   // records read
  int64_t first_bad_index = -1;  // first record that fails; -1 when ok
  std::string problem;           // what fails, when !ok
  // Records verified from index 0 (== records_checked when ok).
  int64_t verified_length = 0;
  // Index of the last record found, plus one (0 for an empty chain): what
  // the chain claims to hold.
  int64_t chain_length = 0;
  // Hash after the first `n` records, for each requested length n in
  // 1..verified_length (the checkpoints' lengths).
  std::map<int64_t, std::string> hashes_at;
};

// Reads the whole chain in `txn` (in pages of `page_size`) and recomputes
// it. A record whose stored index is not its position (a deletion or a move)
// or whose hash does not follow (an edit, a reordering) is the first bad one.
// Errors are the store's; a broken chain is an OK status with `ok == false`.
absl::StatusOr<ChainVerification> VerifyAuditChain(
    store::ReadTxn& txn, const std::vector<int64_t>& lengths_of_interest,
    int page_size = 1000);

enum class CheckpointMatch {
  kMatches,    // the chain has the checkpoint's hash at its length
  kTruncated,  // the chain is shorter than the checkpoint
  kDiverges,   // the chain's hash at the checkpoint's length differs
};

// Compares a verified chain with a (signature-checked) checkpoint of it. A
// checkpoint longer than the verified prefix of a broken chain is reported as
// diverging unless the chain is shorter (truncated).
CheckpointMatch CompareWithCheckpoint(const ChainVerification& chain,
                                      const store::AuditCheckpoint& checkpoint);

// The bytes a region signs for a checkpoint: "ruta.audit.checkpoint.v1" then,
// length-prefixed as in records, the region, the length, the head hash and
// the signing time (µs). The signature field is not part of them.
std::string CheckpointSigningBytes(const store::AuditCheckpoint& checkpoint);

// --- Restore (docs/restore.md) -----------------------------------------

// Method of the record a node appends to its chain once it restored a
// backup; its subject is the backup's file name (RestoredBackupSubject).
inline constexpr char kRestoreAuditMethod[] = "Admin.Restore";

// The subject recorded for a restore of `backup_name`: its base name when
// made only of letters, digits, '.', '-' and '_' (at most 128 characters),
// else "backup".
std::string RestoredBackupSubject(absl::string_view backup_name);

// Appends the "restored" record (method kRestoreAuditMethod, subject
// RestoredBackupSubject(backup_name), outcome OK, principal `principal`) in
// `txn`, bypassing the case/transfer-id rule for subjects that
// AppendAuditEntry applies. Returns it as stored; errors are the store's.
absl::StatusOr<store::AuditRecord> AppendRestoreAuditEntry(
    store::WriteTxn& txn, absl::string_view principal,
    absl::string_view backup_name);

// A region's signed declaration that its chain restarted from a backup
// (proto ruta.v1.RestoreDeclaration documents each field).
struct RestoreDeclaration {
  std::string region;
  int64_t superseded_length = 0;
  std::string superseded_head_hash;  // 32 bytes, or empty when none held
  int64_t restored_length = 0;
  int64_t resumed_length = 0;
  std::string resumed_head_hash;  // 32 bytes
  absl::Time signed_at = absl::InfinitePast();
  std::string signature;
};

// "ruta.audit.restore.v1" then, length-prefixed as in records: region,
// superseded length and head hash, restored length, resumed length and head
// hash, signing time (µs). The signature is not part of them.
std::string RestoreDeclarationSigningBytes(const RestoreDeclaration& d);

// --- Asynchronous records ------------------------------------------------

struct AuditLogOptions {
  // Queued records are committed at least this often. Default 250 ms (reads
  // are on record within one second).
  absl::Duration flush_interval = absl::Milliseconds(250);
  // Wait before retrying a flush that failed. Default 1 s.
  absl::Duration retry_delay = absl::Seconds(1);
  // Most records committed by one write function. Default 2000.
  size_t max_batch = 2000;
  // On destruction, how long failing flushes are retried before the records
  // still queued are given up (with a critical log line). Default 10 s.
  absl::Duration shutdown_timeout = absl::Seconds(10);
};

// Queues audit records and commits them to the chain in the background.
// Records are never dropped silently: a failed flush is logged (spdlog error)
// and retried with the same records, in the same order, ahead of newer ones.
//
// Thread-safety: Record and the accessors may be called from any thread,
// including gRPC reactors and store callbacks (Record never blocks on I/O).
class AuditLog final {
 public:
  // `store` must outlive the AuditLog. Starts the flushing thread.
  AuditLog(store::Store* store, AuditLogOptions options = {});
  // Commits everything queued (retrying for up to shutdown_timeout), then
  // stops. Must run before the store is destroyed.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `entry`. Never blocks on the store.
  void Record(AuditEntry entry);

  // Blocks until every entry recorded before the call is committed (OK), or
  // `timeout` passes (DEADLINE_EXCEEDED). For tests, tools and shutdown;
  // never call it from a reactor or a store callback.
  absl::Status Flush(absl::Duration timeout);

  // Entries recorded but not committed yet.
  int64_t pending() const;
  // Flush attempts that failed so far.
  int64_t failed_flushes() const;

 private:
  void Loop();
  // Commits `batch` in one write function; the store's status.
  absl::Status Commit(const std::vector<AuditEntry>& batch);

  store::Store* const store_;
  const AuditLogOptions options_;

  mutable absl::Mutex mu_;
  std::deque<AuditEntry> queue_ ABSL_GUARDED_BY(mu_);
  int64_t recorded_ ABSL_GUARDED_BY(mu_) = 0;   // ever queued
  int64_t committed_ ABSL_GUARDED_BY(mu_) = 0;  // ever committed
  int64_t failed_flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int flush_requests_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ruta::core

#endif  // RUTA_CORE_AUDIT_H_
