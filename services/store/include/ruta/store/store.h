// ruta::store — the node's one persistence interface.
//
// A `Store` runs read transactions on a small pool of reader connections and
// write transactions on a single writer that group-commits: write functions
// submitted concurrently run one after another inside one database
// transaction, each under its own savepoint, and the transaction is committed
// (durably: SQLite WAL with synchronous=FULL; PostgreSQL with
// synchronous_commit=on) before any of them is reported
// done. A write function that returns an error has all of its own changes
// rolled back and does not affect the others in its group.
//
// Everything that must change atomically with a record (idempotency record,
// dashboard aggregates, audit records, outbox events, the inbox position) is
// written through the same `WriteTxn`.
//
// Thread-safety: all methods of `Store` may be called from any thread. A
// `ReadTxn`/`WriteTxn` is valid only inside the function it was passed to.
// `done` callbacks run on a store-owned thread: they must not block.
#ifndef RUTA_STORE_STORE_H_
#define RUTA_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/activities.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"

namespace ruta::store {

// Filters of ListCases. Empty/unspecified fields do not filter.
struct CaseFilter {
  std::string owner_region;
  core::Stage stage = core::Stage::kUnspecified;
  core::CaseKind kind = core::CaseKind::kUnspecified;
  std::string person_ref;
  bool include_closed = true;
};

// A page of cases ordered by case_id. `next_after` is the case_id to pass as
// `after` for the next page, empty at the end.
struct CasePage {
  std::vector<core::Case> cases;
  std::string next_after;
};

// What a mutating request produced, kept so that a retry with the same
// request_id returns the first result and has no second effect.
struct RequestRecord {
  std::string request_id;   // client-generated (UUID)
  std::string principal;    // who sent it; request ids are per principal
  std::string method;       // e.g. "CaseOffice.OpenCase"
  std::string fingerprint;  // hash of the request content
  // The record it created or changed: a case id, or for transfer and
  // service methods a transfer or service id; and the version it produced.
  std::string case_id;
  int64_t case_version = 0;
  absl::Time recorded_at = absl::InfinitePast();
};

// One record of the node's audit chain (DESIGN.md section 5). The store keeps
// records as given; computing `hash` (the chain) is the caller's job
// (core/audit.h), so that one piece of code defines the chain.
struct AuditRecord {
  int64_t index = 0;  // position in the chain: 0, 1, 2, ... without gaps
  absl::Time at = absl::InfinitePast();  // when the call was decided
  std::string principal;  // caller's SPIFFE id, or "unauthenticated"
  std::string clerk;      // clerk acting through the caller; empty if none
  std::string method;     // "<Service>.<Method>", e.g. "CaseOffice.GetCase"
  std::string subject;    // case or transfer id named by the call; or empty
  int32_t outcome = 0;    // status code of the outcome (absl == gRPC codes)
  std::string hash;       // h_index: 32 bytes (SHA-256), raw
};

// The end of the audit chain: `length` records, the last with `hash`
// (32 zero bytes when the chain is empty).
struct AuditHead {
  int64_t length = 0;
  std::string hash;
};

// A signed checkpoint of an audit chain: the chain of `region` had `length`
// records and its last one the hash `head_hash` at `signed_at`; `signature`
// is the region's signature over them (core/audit.h defines the bytes).
struct AuditCheckpoint {
  std::string region;
  int64_t length = 0;
  std::string head_hash;  // 32 bytes, raw
  absl::Time signed_at = absl::InfinitePast();
  std::string signature;  // raw Ed25519 signature
};

// Filters of ListTransfers. Transfers involving `region` (sent or received by
// it); empty/unspecified fields do not filter.
struct TransferFilter {
  std::string region;  // required
  core::TransferState state = core::TransferState::kUnspecified;
  // kNone: both directions; kSender: sent by `region`; kReceiver: received.
  core::TransferRole direction = core::TransferRole::kNone;
  std::string case_id;
};

// A page of transfers ordered by transfer_id; `next_after` as in CasePage.
struct TransferPage {
  std::vector<core::Transfer> transfers;
  std::string next_after;
};

// One committed change of a transfer, in commit order (WatchTransfers).
struct TransferChange {
  int64_t position = 0;     // 1, 2, 3, ... in commit order
  core::Transfer transfer;  // as it was right after the change
};

// A referral of a case to an NGO partner, as the store keeps it
// (PutCase maintains it from Case::referrals).
struct PartnerReferral {
  std::string partner_id;
  std::string case_id;
  std::string owner_region;                       // the case's custody now
  absl::Time referred_at = absl::InfinitePast();  // the case's updated_at
                                                  // when the referral began
  // Position of the partner change that began the referral.
  int64_t since_position = 0;
};

// One committed change of what a partner sees, in commit order
// (PartnerStatus.WatchReferredCases).
struct PartnerChange {
  int64_t position = 0;  // increasing in commit order, never reused
  std::string partner_id;
  std::string case_id;
  int64_t case_version = 0;  // the case's version after the change
  // The partner's access ended: referral withdrawn or case erased.
  bool withdrawn = false;
};

// One stored version of a case, reduced to its stage (partner timelines).
struct CaseStageVersion {
  int64_t version = 0;
  core::Stage stage = core::Stage::kUnspecified;
  absl::Time at = absl::InfinitePast();  // updated_at of that version
};

struct ServicePage {
  std::vector<core::ServiceRecord> services;
  std::string next_after;
};

// Filters of ListActivities: the activities recorded by `region` (required)
// whose month lies in [from_month, to_month]; an unset bound (year 0) does
// not filter.
struct ActivityFilter {
  std::string region;
  core::YearMonth from_month;
  core::YearMonth to_month;
};

// A page of activities ordered by activity_id; `next_after` as in CasePage.
struct ActivityPage {
  std::vector<core::Activity> activities;
  std::string next_after;
};

// An outbound federation event (DESIGN.md section 7). Written by a change in
// its own transaction (unstamped); the relay later stamps it with the next
// sequence of its destination's stream and the exact bytes it sends.
struct OutboxEvent {
  int64_t id = 0;           // local position, assigned by the store on append
  std::string destination;  // region slug
  std::string case_id;
  // The event as encoded by the writer, without its sequence.
  std::string payload;
  absl::Time committed_at = absl::InfinitePast();
  int64_t sequence = 0;  // 0 until stamped
  std::string bytes;     // the exact bytes sent, once stamped
};

// The relay's view of one destination stream.
struct OutboxStats {
  int64_t last_sequence = 0;  // highest stamped sequence
  int64_t unstamped = 0;      // events written but not yet stamped
  int64_t acknowledged = 0;   // highest sequence the peer acknowledged
  // Commit time of the oldest event not acknowledged (stamped or not);
  // InfinitePast when every event is acknowledged.
  absl::Time oldest_unacknowledged_at = absl::InfinitePast();
};

// A batch received from a peer, kept as evidence of what it sent.
struct InboxBatch {
  std::string origin;
  int64_t first_sequence = 0;
  int64_t last_sequence = 0;
  std::string signature;
  std::string signing_key_id;
  absl::Time received_at = absl::InfinitePast();
  // Exact bytes, in sequence order; empty for an event of an erased case,
  // whose SHA-256 is then in `erased_hashes` (by index in `events`).
  std::vector<std::string> events;
  // Case of each event (same order as `events`; PutInboxBatch requires one
  // per event), so that an erasure finds them.
  std::vector<std::string> event_case_ids;
  std::map<size_t, std::string> erased_hashes;
};

// Read-only view inside a transaction.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  // Current version of a case; nullopt when there is none.
  virtual absl::StatusOr<std::optional<core::Case>> FindCase(
      const std::string& case_id) = 0;
  // A past version of a case (the store keeps all); nullopt when absent.
  virtual absl::StatusOr<std::optional<core::Case>> FindCaseVersion(
      const std::string& case_id, int64_t version) = 0;
  // Cases matching `filter` with case_id > `after`, at most `limit` (>0,
  // else INVALID_ARGUMENT), in case_id order.
  virtual absl::StatusOr<CasePage> ListCases(const CaseFilter& filter,
                                             const std::string& after,
                                             int limit) = 0;
  virtual absl::StatusOr<std::optional<RequestRecord>> FindRequest(
      const std::string& principal, const std::string& request_id) = 0;
  // Value of one aggregate counter; 0 when never touched.
  virtual absl::StatusOr<int64_t> GetAggregate(const std::string& table,
                                               const std::string& key) = 0;
  // Every counter of `table` whose key starts with `key_prefix` ("" for the
  // whole table), in key order, as (key, value) pairs. A range scan of the
  // aggregates primary key (table_name, key).
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
  ScanAggregates(const std::string& table, const std::string& key_prefix) = 0;

  // --- Audit chain
  // The record with the highest index (length = that index + 1; a record
  // deleted in the middle does not shorten it), or length 0 and 32 zero
  // bytes when there is none.
  virtual absl::StatusOr<AuditHead> GetAuditHead() = 0;
  // Records with index >= `from_index`, in index order, at most `limit` (>0,
  // else INVALID_ARGUMENT). Fewer than `limit` means the end was reached.
  // Records are returned as stored (they may have been tampered with).
  virtual absl::StatusOr<std::vector<AuditRecord>> ScanAudit(int64_t from_index,
                                                             int limit) = 0;
  // The checkpoint of `region`'s chain that this node holds for that peer;
  // nullopt when none was ever stored.
  virtual absl::StatusOr<std::optional<AuditCheckpoint>> GetPeerCheckpoint(
      const std::string& region) = 0;
  // The last checkpoint of this node's own chain sent to `peer_region`
  // (a local copy, for verification when the peer cannot be asked); nullopt
  // when none was sent.
  virtual absl::StatusOr<std::optional<AuditCheckpoint>> GetSentCheckpoint(
      const std::string& peer_region) = 0;

  // --- Transfers and services (DESIGN.md section 7)
  virtual absl::StatusOr<std::optional<core::Transfer>> FindTransfer(
      const std::string& transfer_id) = 0;
  // The transfer as it was at `version` (the store keeps every version).
  virtual absl::StatusOr<std::optional<core::Transfer>> FindTransferVersion(
      const std::string& transfer_id, int64_t version) = 0;
  // Transfers matching `filter` with transfer_id > `after`, at most `limit`
  // (>0, else INVALID_ARGUMENT), in transfer_id order.
  virtual absl::StatusOr<TransferPage> ListTransfers(
      const TransferFilter& filter, const std::string& after, int limit) = 0;
  // Changes of transfers involving `region` with position > `after`, at most
  // `limit` (>0), in position order.
  virtual absl::StatusOr<std::vector<TransferChange>> ScanTransferChanges(
      const std::string& region, int64_t after, int limit) = 0;
  // The position of the last transfer change (0 when none).
  virtual absl::StatusOr<int64_t> LastTransferChange() = 0;
  virtual absl::StatusOr<std::optional<core::ServiceRecord>> FindService(
      const std::string& service_id) = 0;
  virtual absl::StatusOr<std::optional<core::ServiceRecord>> FindServiceVersion(
      const std::string& service_id, int64_t version) = 0;
  // Services of `case_id` with service_id > `after`, at most `limit` (>0).
  virtual absl::StatusOr<ServicePage> ListServices(const std::string& case_id,
                                                   const std::string& after,
                                                   int limit) = 0;
  // Every transfer of `case_id` (in either direction), in transfer_id order.
  virtual absl::StatusOr<std::vector<core::Transfer>> ListCaseTransfers(
      const std::string& case_id) = 0;
  // Transfers sent by `from_region` still REQUESTED (neither accepted,
  // rejected nor cancelled) and requested before `requested_before`, in
  // transfer_id order (the dashboard's stalled work; a partial index keeps
  // this to the open requests).
  virtual absl::StatusOr<std::vector<core::Transfer>> ListStalledRequests(
      const std::string& from_region, const core::Date& requested_before) = 0;
  // Cases owned by `owner_region` in FOLLOW_UP whose last change is before
  // `updated_before`, in case_id order (partial index on FOLLOW_UP cases).
  virtual absl::StatusOr<std::vector<core::Case>> ListStalledFollowUps(
      const std::string& owner_region, absl::Time updated_before) = 0;
  // Regions (other than this node's) the case has been shared with, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListCaseShares(
      const std::string& case_id) = 0;

  // --- Outbox (sender side) and inbox (receiver side)
  // Stamped events of `destination` with sequence >= `from_sequence`, at
  // most `limit` (>0), in sequence order.
  virtual absl::StatusOr<std::vector<OutboxEvent>> ReadOutbox(
      const std::string& destination, int64_t from_sequence, int limit) = 0;
  // Unstamped events of `destination`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<OutboxEvent>> ReadUnstamped(
      const std::string& destination, int limit) = 0;
  virtual absl::StatusOr<OutboxStats> GetOutboxStats(
      const std::string& destination) = 0;
  // Highest sequence of `origin`'s stream applied here (0 when none).
  virtual absl::StatusOr<int64_t> GetInboxPosition(
      const std::string& origin) = 0;
  // Received batches of `origin` whose last sequence >= `from_sequence`,
  // at most `limit` (>0), in sequence order.
  virtual absl::StatusOr<std::vector<InboxBatch>> ReadInboxBatches(
      const std::string& origin, int64_t from_sequence, int limit) = 0;

  // --- Privacy (DESIGN.md section 6)
  // The ref that `ref` was joined into (JoinPersonRef); nullopt when `ref`
  // was never joined into another (it is a root, or unknown).
  virtual absl::StatusOr<std::optional<std::string>> FindPersonAlias(
      const std::string& ref) = 0;
  // Whether `case_id` was erased on this node (EraseCase).
  virtual absl::StatusOr<bool> IsCaseErased(const std::string& case_id) = 0;
  // Closed cases owned by `owner_region` whose last change is before
  // `updated_before`, with case_id > `after`, at most `limit` (>0), in
  // case_id order (the retention purge).
  virtual absl::StatusOr<CasePage> ListClosedCasesBefore(
      const std::string& owner_region, absl::Time updated_before,
      const std::string& after, int limit) = 0;
  // A node setting; nullopt when never set.
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) = 0;

  // --- Activities (DESIGN.md section 4; never federated)
  virtual absl::StatusOr<std::optional<core::Activity>> FindActivity(
      const std::string& activity_id) = 0;
  // Activities matching `filter` with activity_id > `after`, at most `limit`
  // (>0, else INVALID_ARGUMENT), in activity_id order.
  virtual absl::StatusOr<ActivityPage> ListActivities(
      const ActivityFilter& filter, const std::string& after, int limit) = 0;
  // --- NGO partners (DESIGN.md sections 2 and 6)
  // The cases referred to `partner_id` whose custody is `owner_region`, in
  // case_id order.
  virtual absl::StatusOr<std::vector<PartnerReferral>> ListPartnerReferrals(
      const std::string& partner_id, const std::string& owner_region) = 0;
  // The referral of `case_id` to `partner_id`; nullopt when there is none.
  virtual absl::StatusOr<std::optional<PartnerReferral>> FindPartnerReferral(
      const std::string& partner_id, const std::string& case_id) = 0;
  // Changes for `partner_id` with position > `after`, at most `limit` (>0,
  // else INVALID_ARGUMENT), in position order.
  virtual absl::StatusOr<std::vector<PartnerChange>> ScanPartnerChanges(
      const std::string& partner_id, int64_t after, int limit) = 0;
  // The position of the last partner change of any partner (0 when none).
  virtual absl::StatusOr<int64_t> LastPartnerChange() = 0;
  // The stage of every stored version of `case_id` up to `max_version`, in
  // version order (empty when the case is unknown or erased).
  virtual absl::StatusOr<std::vector<CaseStageVersion>> ListCaseStages(
      const std::string& case_id, int64_t max_version) = 0;
};

// Read-write view inside the single writer's transaction.
class WriteTxn : public ReadTxn {
 public:
  // Inserts or replaces the current version of `c` and appends it to the case
  // history. `c.version` must be one more than the stored version (1 for a
  // new case): otherwise FAILED_PRECONDITION. INVALID_ARGUMENT for an empty
  // case_id or a referral partner id that is empty or contains ','.
  // Maintains the partner referrals and change log in the same transaction:
  // a partner added to `referrals` gets a referral (at `c.updated_at`) and a
  // change; a partner removed gets its referral deleted and a withdrawn
  // change; every other partner of `referrals` gets a change (custody
  // included: the referral follows `owner_region`).
  virtual absl::Status PutCase(const core::Case& c) = 0;
  // ALREADY_EXISTS when (principal, request_id) is already recorded.
  virtual absl::Status PutRequest(const RequestRecord& record) = 0;
  // Adds `delta` to the counter (table, key), creating it at 0.
  virtual absl::Status AddToAggregate(const std::string& table,
                                      const std::string& key,
                                      int64_t delta) = 0;
  // Deletes every counter of `table` (a recount starts from nothing).
  virtual absl::Status ClearAggregates(const std::string& table) = 0;

  // Appends `record` to the audit chain. Its index must be the head's length
  // (FAILED_PRECONDITION otherwise: another record took that place) and its
  // hash 32 bytes (INVALID_ARGUMENT). Any storage error fails the caller's
  // write function, whose changes then roll back with it: that is how a
  // change is never committed without its audit record.
  virtual absl::Status AppendAudit(const AuditRecord& record) = 0;
  // Stores (replacing any) the checkpoint held for `checkpoint.region`'s
  // chain. No checks here: the caller verifies the signature and decides
  // whether it supersedes the stored one. INVALID_ARGUMENT for an empty
  // region.
  virtual absl::Status PutPeerCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  // Records `checkpoint` (of this node's chain) as the last one sent to
  // `peer_region`, replacing the previous one.
  virtual absl::Status PutSentCheckpoint(const std::string& peer_region,
                                         const AuditCheckpoint& checkpoint) = 0;

  // Inserts or replaces the current transfer and appends it to its history
  // and to the change log. Its version (core::TransferVersionOf) must be
  // greater than the stored one (FAILED_PRECONDITION otherwise).
  virtual absl::Status PutTransfer(const core::Transfer& transfer) = 0;
  // Inserts or replaces the current service record (history kept). Its
  // version must be greater than the stored one, or equal with a different
  // author region (FAILED_PRECONDITION otherwise). When its provider is a
  // partner the case is referred to, a partner change is logged for it.
  virtual absl::Status PutService(const core::ServiceRecord& service) = 0;
  // Records that `case_id` is shared with `region` (no-op when it is).
  virtual absl::Status AddCaseShare(const std::string& case_id,
                                    const std::string& region) = 0;
  // Appends an unstamped event; returns its id.
  virtual absl::StatusOr<int64_t> AppendOutbox(const OutboxEvent& event) = 0;
  // Stamps event `id` with `sequence` and its exact `bytes`. The sequence
  // must be the destination's last stamped sequence + 1 (FAILED_PRECONDITION
  // otherwise).
  virtual absl::Status StampOutbox(int64_t id, int64_t sequence,
                                   const std::string& bytes) = 0;
  // Records the peer's acknowledgement (kept only if higher). Acknowledged
  // events of erased cases are reduced to their hash (see EraseCase).
  virtual absl::Status PutOutboxAck(const std::string& destination,
                                    int64_t applied_through) = 0;
  // Keeps a received batch and moves `origin`'s position to its last
  // sequence, which must be above the current position, and its first
  // sequence at most position + 1 (FAILED_PRECONDITION otherwise).
  virtual absl::Status PutInboxBatch(const InboxBatch& batch) = 0;

  // Gives every case carrying person ref `from` (every stored version of it)
  // the ref `to`, records `from` as an alias of `to` and re-points the
  // aliases of `from` at `to`, so that every alias names its root directly.
  // Returns the number of cases changed. INVALID_ARGUMENT when `from` and
  // `to` are equal or empty, or when `to` is itself an alias.
  virtual absl::StatusOr<int64_t> JoinPersonRef(const std::string& from,
                                                const std::string& to) = 0;
  // Erases `case_id` (DESIGN.md section 6) and records it as erased (by
  // `owner_region`, at `at`): deletes the case and its history, its
  // transfers (history and change log included), its services and its
  // share set; drops its outbox events not yet sent (unstamped); and keeps of
  // its sent-and-acknowledged outbox events and of its received inbox events
  // only their SHA-256 (what batch signatures cover). Events sent but not yet
  // acknowledged stay until the peer acknowledges them (PutOutboxAck then
  // reduces them to their hash): the peer may still need them. Audit
  // records, request records (ids and fingerprints only) and aggregate
  // counts stay. Every partner the case was referred to loses its referral
  // and its earlier changes of the case, and gets one withdrawn change.
  // ALREADY_EXISTS when the case is already erased.
  virtual absl::Status EraseCase(const std::string& case_id,
                                 const std::string& owner_region,
                                 absl::Time at) = 0;
  // Sets a node setting (replacing its value).
  virtual absl::Status PutSetting(const std::string& name,
                                  const std::string& value) = 0;

  // Inserts a new activity (activities are never changed): INVALID_ARGUMENT
  // without an activity_id or region, ALREADY_EXISTS when the id is taken.
  virtual absl::Status PutActivity(const core::Activity& activity) = 0;
};

class Store {
 public:
  // Completes every queued write (committing it) and read, then closes.
  virtual ~Store() = default;

  // Runs `fn` in a read transaction (a consistent snapshot) on a reader
  // thread, then calls `done` with fn's status, or with the store's error if
  // the transaction could not run.
  virtual void Read(std::function<absl::Status(ReadTxn&)> fn,
                    std::function<void(absl::Status)> done) = 0;

  // Queues `fn` for the writer. `done` is called after the group containing
  // `fn` has durably committed (OK) or with fn's error (its changes rolled
  // back), or with the store's error if the commit failed (nothing of the
  // group is kept). Functions of one group run one after another in queue
  // order, each seeing the changes of the ones before it. Once the store is
  // being destroyed and its writer has drained the queue, `done` is called at
  // once with UNAVAILABLE.
  virtual void Write(std::function<absl::Status(WriteTxn&)> fn,
                     std::function<void(absl::Status)> done) = 0;

  // Convenience blocking forms for tools and tests. Never call them from a
  // gRPC reactor or a `done` callback.
  absl::Status ReadSync(std::function<absl::Status(ReadTxn&)> fn);
  absl::Status WriteSync(std::function<absl::Status(WriteTxn&)> fn);
};

struct SqliteOptions {
  // Database file; created (mode 0600) if missing. Its parent directory
  // must exist.
  std::string path;
  // Reader connections (and reader threads). Default 2: one per core here.
  int reader_threads = 2;
  // Upper bound on write functions committed together in one transaction.
  int max_group_size = 256;
  // SQLite busy timeout for connections of this process.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Page cache of the writer's connection, in KiB; 0: SQLite's default
  // (2 MiB). Default 8192 (8 MiB): a federation catch-up's transactions
  // change thousands of pages of tables with random keys, which 2 MiB reads
  // from the file again and again (catch-up 10-15 % slower). Not larger:
  // while the database is under 1 GiB, SQLite 3.40 walks every page of the
  // cache at each commit that split a B-tree page (services/store/README.md),
  // which with 64 MiB cost small writes 20-40 % of their rate.
  int writer_cache_kib = 8 * 1024;
};

// Opens (creating if needed) the SQLite database at `options.path`, applies
// pending migrations, sets WAL and synchronous=FULL. NOT_FOUND when the parent
// directory does not exist; FAILED_PRECONDITION when the database was written
// by a newer schema version than this binary knows; INTERNAL on SQLite errors
// (message names the file and SQLite's reason).
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options);

// The schema version (number of the last migration) this binary brings a
// SQLite database to. A database at a higher version is refused on open.
int64_t SqliteSchemaVersion();

struct PostgresOptions {
  // libpq connection string (keyword/value or URI) WITHOUT the password,
  // e.g. "host=/var/run/postgresql dbname=ruta user=ruta". Default: empty,
  // i.e. libpq's defaults and PG* environment variables.
  std::string conninfo;
  // The role's password, kept apart so that it is never logged or shown in
  // an error. Default: empty, i.e. libpq's own means (peer authentication,
  // ~/.pgpass, PGPASSWORD).
  std::string password;
  // Reader connections (and reader threads), each running REPEATABLE READ,
  // READ ONLY transactions. Default 2: one per core here.
  int reader_connections = 2;
  // Upper bound on write functions committed together in one transaction.
  // Default 256, as for SQLite.
  int max_group_size = 256;
};

// Opens a store on the PostgreSQL database named by `options.conninfo`
// (which must exist) and applies pending migrations, inside one transaction
// under a session advisory lock so that replicas starting at once migrate
// it once. Semantics are those of the SQLite store (the same conformance
// suite passes on both), with these PostgreSQL specifics:
//  * Several Store objects, in one or several processes (replicas of one
//    node), may share one database. Every write transaction first takes a
//    transaction-scoped advisory lock (pg_advisory_xact_lock), so writers of
//    all of them serialize as SQLite's single writer does: audit indexes,
//    version checks and change-feed positions are assigned in commit order.
//  * Commits are durable (synchronous_commit=on) before `done` is called.
//  * A connection that breaks fails the transaction running on it
//    (UNAVAILABLE for the function or statement that met the break, ABORTED
//    for the other writes of its group) and is reopened for the next
//    transaction. When it breaks
//    during COMMIT the outcome is unknown to the client (the server may have
//    committed): `done` gets UNAVAILABLE, and a retry must be idempotent
//    (request records make the API's retries so).
// Errors: UNAVAILABLE when the server cannot be reached or refuses the
// connection (the message names the host and database, never the password);
// INVALID_ARGUMENT for a malformed conninfo or non-positive pool sizes;
// FAILED_PRECONDITION when the database was written by a newer schema
// version than this binary knows; INTERNAL otherwise.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresOptions& options);

// The schema version (number of the last migration) this binary brings a
// PostgreSQL database to; equal to SqliteSchemaVersion() (migrations of both
// dialects have the same numbers and meaning).
int64_t PostgresSchemaVersion();

}  // namespace ruta::store

#endif  // RUTA_STORE_STORE_H_
