#include "ruta/node/node.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backups.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "node_observability.h"
#include "restore_startup.h"
#include "ruta/api/authorization.h"
#include "ruta/api/checkpoints.h"
#include "ruta/api/services.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/activity_service.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/audit.h"
#include "ruta/core/case_service.h"
#include "ruta/core/change_notifier.h"
#include "ruta/core/federation.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/core/partner_service.h"
#include "ruta/core/person_links.h"
#include "ruta/core/privacy_service.h"
#include "ruta/core/pseudonym.h"
#include "ruta/core/transfer_service.h"
#include "ruta/federation/codec.h"
#include "ruta/federation/inbox.h"
#include "ruta/federation/relay.h"
#include "ruta/federation/restore.h"
#include "ruta/node/config.h"
#include "ruta/security/signing.h"
#include "ruta/security/tls.h"
#include "ruta/store/relay_lease.h"
#include "ruta/store/store.h"
#include "spdlog/spdlog.h"

namespace ruta::node {
namespace {

// Erases closed cases past retention (core::PrivacyService::PurgeExpiredSync)
// at start and then every `interval`, on its own thread.
class RetentionPurger final {
 public:
  RetentionPurger(core::PrivacyService* privacy, core::Actor actor,
                  absl::Duration interval)
      : privacy_(privacy),
        actor_(std::move(actor)),
        interval_(interval),
        thread_([this] { Run(); }) {}
  RetentionPurger(const RetentionPurger&) = delete;
  RetentionPurger& operator=(const RetentionPurger&) = delete;
  ~RetentionPurger() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

 private:
  void Run() {
    while (true) {
      absl::StatusOr<int64_t> purged =
          privacy_->PurgeExpiredSync(actor_, absl::Now());
      if (!purged.ok()) {
        spdlog::warn("retention purge failed (retried in {}s): {}",
                     absl::ToInt64Seconds(interval_),
                     std::string(purged.status().message()));
      } else if (*purged > 0) {
        spdlog::info("retention purge erased {} closed cases", *purged);
      }
      absl::MutexLock lock(&mu_);
      auto stopping = [this]()
                          ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
    }
  }

  core::PrivacyService* const privacy_;
  const core::Actor actor_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the members above exist
};

// Replicas on one PostgreSQL database: the change feeds (WatchTransfers,
// WatchReferredCases) are woken in-process after each local commit; commits
// of another replica are found by reading the feeds' last positions every
// `interval` (a few cheap reads), so a watcher on any replica sees every
// commit within about `interval`.
class ReplicaChangePoller final {
 public:
  ReplicaChangePoller(store::Store* store, core::ChangeNotifier* changes,
                      absl::Duration interval)
      : store_(store),
        changes_(changes),
        interval_(interval),
        thread_([this] { Run(); }) {}
  ReplicaChangePoller(const ReplicaChangePoller&) = delete;
  ReplicaChangePoller& operator=(const ReplicaChangePoller&) = delete;
  ~ReplicaChangePoller() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

 private:
  void Run() {
    int64_t seen_transfers = -1, seen_partners = -1;
    while (true) {
      int64_t transfers = 0, partners = 0;
      const absl::Status read = store_->ReadSync([&](store::ReadTxn& txn) {
        RUTA_ASSIGN_OR_RETURN(transfers, txn.LastTransferChange());
        RUTA_ASSIGN_OR_RETURN(partners, txn.LastPartnerChange());
        return absl::OkStatus();
      });
      if (read.ok()) {
        if ((seen_transfers >= 0 && transfers != seen_transfers) ||
            (seen_partners >= 0 && partners != seen_partners)) {
          changes_->Notify();
        }
        seen_transfers = transfers;
        seen_partners = partners;
      }
      absl::MutexLock lock(&mu_);
      auto stopping = [this]()
                          ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
    }
  }

  store::Store* const store_;
  core::ChangeNotifier* const changes_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the members above exist
};

// How often a replica on PostgreSQL looks for other replicas' commits.
constexpr absl::Duration kReplicaChangePollInterval = absl::Milliseconds(250);

// Opens the configured store: SQLite, or PostgreSQL with the password from
// storage.password_file or RUTA_DATABASE_PASSWORD.
absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(
    const ruta::node::v1::NodeConfig& config) {
  if (!IsPostgres(config.storage().database())) {
    RUTA_ASSIGN_OR_RETURN(std::string db_path,
                          SqlitePath(config.storage().database()));
    store::SqliteOptions options;
    options.path = db_path;
    return store::OpenSqliteStore(options);
  }
  store::PostgresOptions options;
  RUTA_ASSIGN_OR_RETURN(options.conninfo,
                        PostgresConninfo(config.storage().database()));
  RUTA_ASSIGN_OR_RETURN(options.password, DatabasePassword(config.storage()));
  return store::OpenPostgresStore(options);
}

// The node-private directory of its installed TLS identity: next to a
// SQLite database; for PostgreSQL (several replicas, maybe on one host) a
// fresh directory of this process in the temporary directory, removed at
// shutdown.
absl::StatusOr<std::string> TlsActiveDir(
    const ruta::node::v1::NodeConfig& config, bool* remove_at_exit) {
  *remove_at_exit = false;
  if (!IsPostgres(config.storage().database())) {
    RUTA_ASSIGN_OR_RETURN(std::string db_path,
                          SqlitePath(config.storage().database()));
    return absl::StrCat(db_path, ".tls");
  }
  std::error_code ec;
  std::string pattern =
      (std::filesystem::temp_directory_path(ec) / "ruta-node-tls-XXXXXX")
          .string();
  if (ec || mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        "cannot create the node's private TLS directory in the temporary "
        "directory (set TMPDIR to a writable directory)");
  }
  *remove_at_exit = true;
  return pattern;
}

// The linkage keys: the key file, and the current version the store keeps
// (set by Admin.RotateLinkageKey; the file's highest version on first start).
absl::StatusOr<std::unique_ptr<core::LinkageKeys>> LoadLinkageKeys(
    const std::string& path, store::Store* store) {
  RUTA_ASSIGN_OR_RETURN(core::LinkageKeyring keyring,
                        core::LinkageKeyring::LoadFromFile(path));
  std::optional<std::string> stored;
  RUTA_RETURN_IF_ERROR(store->ReadSync([&](store::ReadTxn& txn) {
    RUTA_ASSIGN_OR_RETURN(stored,
                          txn.GetSetting(core::kLinkageKeyVersionSetting));
    return absl::OkStatus();
  }));
  uint32_t current = keyring.current_version();
  if (stored.has_value()) {
    if (!absl::SimpleAtoi(*stored, &current) || !keyring.has_version(current)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "linkage key version ", *stored,
          " is current in this node's store, but ", path,
          " does not hold it; restore that key to the file (never remove a "
          "key version still in use)"));
    }
  } else {
    RUTA_RETURN_IF_ERROR(store->WriteSync([&](store::WriteTxn& txn) {
      return txn.PutSetting(core::kLinkageKeyVersionSetting,
                            absl::StrCat(current));
    }));
  }
  return std::make_unique<core::LinkageKeys>(
      std::make_shared<const core::LinkageKeyring>(std::move(keyring)),
      current);
}

}  // namespace

// Members are declared in dependency order: destroyed in reverse, the server
// goes before the services, core and store it uses.
struct Node::State {
  ruta::node::v1::NodeConfig config;
  std::unique_ptr<store::Store> store;
  // Metrics, their endpoint and the health-only port (stops reading the store
  // before it closes; outlives the authorizer, which hands out its metrics).
  std::unique_ptr<NodeObservability> observability;
  // Flushed (on destruction) before the store closes.
  std::unique_ptr<core::AuditLog> audit;
  std::unique_ptr<api::CheckpointExchange> checkpoints;
  std::unique_ptr<core::LinkageKeys> linkage_keys;
  federation::ProtoEventEncoder encoder;
  core::ChangeNotifier transfer_changes;
  // Set once the relay exists; the outbox's commit hook reads it.
  std::atomic<federation::Relay*> relay_ptr{nullptr};
  std::unique_ptr<core::Outbox> outbox;
  std::unique_ptr<core::CaseService> cases;
  std::unique_ptr<core::PrivacyService> privacy;
  std::unique_ptr<core::ActivityService> activities;
  // Stopped before the store closes.
  std::unique_ptr<RetentionPurger> purger;
  std::unique_ptr<core::TransferService> transfers;
  // Set when partners are configured.
  std::unique_ptr<core::PartnerPseudonyms> partner_pseudonyms;
  std::unique_ptr<core::PartnerService> partners;
  std::unique_ptr<federation::Inbox> inbox;
  // Stopped (its streams ended, threads joined) before the store closes.
  std::unique_ptr<federation::Relay> relay;
  // Which replica relays (ruta/store/relay_lease.h): switches the relay on
  // and off. Released before the relay stops.
  std::unique_ptr<store::RelayLease> relay_lease;
  // PostgreSQL only: wakes the change feeds on other replicas' commits.
  std::unique_ptr<ReplicaChangePoller> change_poller;
  // Removed at shutdown when the node created it (PostgreSQL).
  std::string tls_dir_to_remove;
  // Recovery after a restored backup; starts the relay and the checkpoint
  // exchange once done. Stopped before them.
  std::unique_ptr<federation::RestoreRecovery> recovery;
  std::unique_ptr<api::Authorizer> authorizer;
  // The peers' dashboard counts (null without peers).
  std::unique_ptr<api::PeerCounts> peer_counts;
  // Admin.Backup (null when not configured); outlives the server, whose
  // calls it finishes.
  std::unique_ptr<backup::BackupRunner> backups;
  api::NodeServices services;
  std::unique_ptr<security::ServerTls> tls;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

namespace {

// Creates the audit log (into `log`), loads the region signing keys and
// creates the checkpoint exchange with the peers (into `exchange`; started
// once serving), DESIGN.md §5. Returns what the services need of them.
absl::StatusOr<api::AuditServices> StartAudit(
    const ruta::node::v1::NodeConfig& config, store::Store* store,
    std::unique_ptr<core::AuditLog>* log,
    std::unique_ptr<api::CheckpointExchange>* exchange_out) {
  core::AuditLogOptions log_options;
  log_options.flush_interval =
      absl::Milliseconds(config.audit().flush_interval_ms());
  *log = std::make_unique<core::AuditLog>(store, log_options);

  api::AuditServices audit;
  audit.log = log->get();
  audit.store = store;
  audit.region = config.region();
  for (const auto& region : config.regions()) {
    if (region.signing_public_key_file().empty()) continue;
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<security::SignatureVerifier> key,
                          security::SignatureVerifier::LoadFromFile(
                              region.signing_public_key_file()));
    audit.signing_keys[region.slug()] = std::move(key);
  }

  api::CheckpointExchangeOptions exchange;
  exchange.region = config.region();
  exchange.tls.cert_file = config.tls().cert_file();
  exchange.tls.key_file = config.tls().key_file();
  exchange.tls.ca_file = config.tls().trust_bundle_file();
  for (const auto& peer : config.peers()) {
    api::CheckpointPeer endpoint{peer.region(), peer.address(), ""};
    // A peer's node must chain to that peer region's own CA.
    for (const auto& region : config.regions()) {
      if (region.slug() == peer.region()) endpoint.ca_file = region.ca_file();
    }
    exchange.peers.push_back(std::move(endpoint));
  }
  if (!config.signing_key_file().empty()) {
    RUTA_ASSIGN_OR_RETURN(
        std::unique_ptr<security::Signer> signer,
        security::Signer::LoadFromFile(config.signing_key_file()));
    exchange.signer = std::move(signer);
  } else if (!config.peers().empty()) {
    spdlog::warn(
        "audit: no signing_key_file is configured: no checkpoint of the audit "
        "chain is sent to the peers, so removal of the log's tail would go "
        "undetected");
  }
  exchange.interval =
      absl::Seconds(config.audit().checkpoint_interval_seconds());
  exchange.rpc_timeout = absl::Seconds(config.audit().peer_timeout_seconds());
  RUTA_ASSIGN_OR_RETURN(*exchange_out, api::CheckpointExchange::Create(
                                           std::move(exchange), store));
  audit.exchange = exchange_out->get();
  return audit;
}

// The transfer service, the inbox of peer batches and the relay to the
// peers (DESIGN.md section 7). The relay is started once the node serves.
absl::Status StartFederation(const ruta::node::v1::NodeConfig& config,
                             Node::State* state) {
  core::TransferServiceOptions transfer_options;
  transfer_options.region = config.region();
  for (const auto& peer : config.peers()) {
    for (const auto& region : config.regions()) {
      if (region.slug() == peer.region()) {
        transfer_options.peer_departments[peer.region()] =
            region.ubigeo_department();
      }
    }
  }
  state->transfers = std::make_unique<core::TransferService>(
      transfer_options, state->store.get(), state->outbox.get());

  federation::InboxOptions inbox_options;
  inbox_options.region = config.region();
  for (const auto& region : config.regions()) {
    if (region.signing_public_key_file().empty() ||
        region.slug() == config.region()) {
      continue;
    }
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<security::SignatureVerifier> key,
                          security::SignatureVerifier::LoadFromFile(
                              region.signing_public_key_file()));
    inbox_options.signing_keys[region.slug()] = std::move(key);
  }
  core::ChangeNotifier* changes = &state->transfer_changes;
  inbox_options.on_applied = [changes] { changes->Notify(); };
  state->inbox = std::make_unique<federation::Inbox>(std::move(inbox_options),
                                                     state->store.get());

  if (config.peers().empty()) return absl::OkStatus();
  federation::RelayOptions relay;
  relay.region = config.region();
  relay.tls.cert_file = config.tls().cert_file();
  relay.tls.key_file = config.tls().key_file();
  relay.tls.ca_file = config.tls().trust_bundle_file();
  for (const auto& peer : config.peers()) {
    federation::RelayPeer endpoint{peer.region(), peer.address(), ""};
    for (const auto& region : config.regions()) {
      if (region.slug() == peer.region()) endpoint.ca_file = region.ca_file();
    }
    relay.peers.push_back(std::move(endpoint));
  }
  if (config.signing_key_file().empty()) {
    return absl::FailedPreconditionError(
        "signing_key_file is required when peers are configured: every "
        "federation batch sent to a peer is signed with the region's key");
  }
  RUTA_ASSIGN_OR_RETURN(
      std::unique_ptr<security::Signer> signer,
      security::Signer::LoadFromFile(config.signing_key_file()));
  relay.signer = std::move(signer);
  relay.signing_key_id = absl::StrCat(config.region(), "/ed25519");
  const auto& settings = config.federation();
  relay.max_batch_events = static_cast<int>(settings.max_batch_events());
  relay.max_events_in_flight =
      static_cast<int>(settings.max_events_in_flight());
  relay.initial_backoff = absl::Milliseconds(settings.initial_backoff_ms());
  relay.max_backoff = absl::Milliseconds(settings.max_backoff_ms());
  relay.ack_timeout = absl::Milliseconds(settings.ack_timeout_ms());
  // Relaying starts once this replica holds the relay lease (StartRelayLease).
  relay.start_relaying = false;
  RUTA_ASSIGN_OR_RETURN(
      state->relay,
      federation::Relay::Create(std::move(relay), state->store.get()));
  state->relay_ptr.store(state->relay.get());
  return absl::OkStatus();
}

// Switches the (started) relay on while this replica holds the relay lease:
// always for SQLite; for PostgreSQL while it holds the advisory lock, tried
// every federation.relay_takeover_poll_ms. Also starts the change poller of
// a PostgreSQL node.
absl::Status StartRelayLease(const ruta::node::v1::NodeConfig& config,
                             Node::State* state) {
  const bool postgres = IsPostgres(config.storage().database());
  if (postgres) {
    state->change_poller = std::make_unique<ReplicaChangePoller>(
        state->store.get(), &state->transfer_changes,
        kReplicaChangePollInterval);
  }
  federation::Relay* relay = state->relay.get();
  if (relay == nullptr) return absl::OkStatus();  // no peers
  store::RelayLeaseOptions lease;
  lease.region = config.region();
  lease.on_gained = [relay] { relay->SetRelaying(true); };
  lease.on_lost = [relay] { relay->SetRelaying(false); };
  lease.poll_interval =
      absl::Milliseconds(config.federation().relay_takeover_poll_ms());
  if (!postgres) {
    state->relay_lease = store::MakeExclusiveRelayLease(std::move(lease));
    return absl::OkStatus();
  }
  store::PostgresRelayLeaseOptions options;
  RUTA_ASSIGN_OR_RETURN(options.conninfo,
                        PostgresConninfo(config.storage().database()));
  RUTA_ASSIGN_OR_RETURN(options.password, DatabasePassword(config.storage()));
  options.lease = std::move(lease);
  RUTA_ASSIGN_OR_RETURN(state->relay_lease,
                        store::OpenPostgresRelayLease(std::move(options)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Start(
    const ruta::node::v1::NodeConfig& config) {
  auto state = std::make_unique<State>();
  state->config = config;

  RUTA_ASSIGN_OR_RETURN(state->store, OpenStore(config));
  state->observability = std::make_unique<NodeObservability>(config);
  RUTA_ASSIGN_OR_RETURN(api::AuditServices audit_services,
                        StartAudit(config, state->store.get(), &state->audit,
                                   &state->checkpoints));

  RUTA_ASSIGN_OR_RETURN(
      state->linkage_keys,
      LoadLinkageKeys(config.linkage_key_file(), state->store.get()));
  // Dashboard counters of a database written by an older version (other
  // keys or tables) are recounted from the stored records.
  RUTA_ASSIGN_OR_RETURN(bool recounted,
                        core::RecountAggregatesIfOutdated(*state->store));
  if (recounted) {
    spdlog::info(
        "dashboard counters recounted from the stored records "
        "(aggregates version {})",
        std::string(core::kAggregatesVersion));
  }

  State* raw = state.get();
  state->outbox =
      std::make_unique<core::Outbox>(config.region(), &state->encoder, [raw] {
        if (federation::Relay* relay = raw->relay_ptr.load()) relay->Notify();
        raw->transfer_changes.Notify();
      });
  core::CaseServiceOptions case_options;
  case_options.region = config.region();
  for (const auto& partner : config.partners()) {
    case_options.partners.push_back(partner.id());
  }
  state->cases = std::make_unique<core::CaseService>(
      case_options, state->store.get(),
      static_cast<const core::LinkageKeys*>(state->linkage_keys.get()),
      state->outbox.get());
  core::PrivacyServiceOptions privacy_options;
  privacy_options.region = config.region();
  privacy_options.reload_keyring = [path = config.linkage_key_file()] {
    return core::LinkageKeyring::LoadFromFile(path);
  };
  privacy_options.retention =
      absl::Hours(24) * static_cast<int64_t>(config.privacy().retention_days());
  state->privacy = std::make_unique<core::PrivacyService>(
      std::move(privacy_options), state->store.get(), state->linkage_keys.get(),
      state->outbox.get());
  // Activities (DESIGN.md section 4): provinces of the region's own
  // department.
  core::ActivityServiceOptions activity_options;
  activity_options.region = config.region();
  for (const auto& region : config.regions()) {
    if (region.slug() == config.region()) {
      activity_options.department = region.ubigeo_department();
    }
  }
  state->activities = std::make_unique<core::ActivityService>(
      std::move(activity_options), state->store.get());
  RUTA_RETURN_IF_ERROR(StartFederation(config, state.get()));

  // NGO partners (DESIGN.md sections 2 and 6).
  if (!config.partner_key_file().empty()) {
    absl::StatusOr<core::PartnerPseudonyms> pseudonyms =
        core::PartnerPseudonyms::LoadFromFile(config.partner_key_file());
    if (!pseudonyms.ok()) {
      return absl::Status(
          pseudonyms.status().code(),
          absl::StrCat("partner_key_file: ", pseudonyms.status().message()));
    }
    state->partner_pseudonyms =
        std::make_unique<core::PartnerPseudonyms>(*std::move(pseudonyms));
  } else if (config.partners_size() > 0) {
    return absl::FailedPreconditionError(
        "partner_key_file is required when partners are configured");
  }
  core::PartnerServiceOptions partner_options;
  partner_options.region = config.region();
  partner_options.partners = case_options.partners;
  state->partners = std::make_unique<core::PartnerService>(
      std::move(partner_options), state->store.get(),
      state->partner_pseudonyms.get(), state->transfers.get());

  api::AuthorizerOptions authorizer_options;
  authorizer_options.node_region = config.region();
  for (const auto& region : config.regions()) {
    authorizer_options.known_regions.push_back(region.slug());
  }
  for (const auto& peer : config.peers()) {
    authorizer_options.peer_regions.push_back(peer.region());
  }
  RUTA_ASSIGN_OR_RETURN(authorizer_options.policy,
                        api::AuthorizationPolicy::ForNodeConfig(config));
  authorizer_options.metrics = state->observability->metrics();
  state->authorizer =
      std::make_unique<api::Authorizer>(std::move(authorizer_options));
  api::TransferServices transfer_services;
  transfer_services.transfers = state->transfers.get();
  transfer_services.changes = &state->transfer_changes;
  transfer_services.inbox = state->inbox.get();
  transfer_services.relay = state->relay.get();
  transfer_services.region = config.region();
  RUTA_ASSIGN_OR_RETURN(state->recovery,
                        MakeRestoreRecovery(config, state->store.get(), [raw] {
                          raw->checkpoints->Start();
                          if (raw->relay != nullptr) raw->relay->Start();
                        }));
  transfer_services.federation_ready = [recovery = state->recovery.get()] {
    return recovery->Ready();
  };
  api::DashboardServices dashboard;
  dashboard.threshold = config.dashboard().threshold();
  dashboard.stalled.transfer_acceptance_due_days =
      static_cast<int>(config.dashboard().transfer_acceptance_due_days());
  dashboard.stalled.follow_up_due_days =
      static_cast<int>(config.dashboard().follow_up_due_days());
  for (const auto& region : config.regions()) {
    dashboard.regions.push_back(region.slug());
  }
  if (!config.peers().empty()) {
    api::PeerCountsOptions peer_counts;
    peer_counts.tls.cert_file = config.tls().cert_file();
    peer_counts.tls.key_file = config.tls().key_file();
    peer_counts.tls.ca_file = config.tls().trust_bundle_file();
    for (const auto& peer : config.peers()) {
      api::CheckpointPeer endpoint{peer.region(), peer.address(), ""};
      for (const auto& region : config.regions()) {
        if (region.slug() == peer.region()) endpoint.ca_file = region.ca_file();
      }
      peer_counts.peers.push_back(std::move(endpoint));
    }
    peer_counts.max_age =
        absl::Seconds(config.dashboard().peer_counts_max_age_seconds());
    RUTA_ASSIGN_OR_RETURN(state->peer_counts,
                          api::PeerCounts::Create(std::move(peer_counts)));
    dashboard.peer_counts = state->peer_counts.get();
  }
  RUTA_ASSIGN_OR_RETURN(state->backups, MakeBackupRunner(config));
  state->services = api::MakeNodeServices(
      state->authorizer.get(), state->cases.get(), state->privacy.get(),
      transfer_services, audit_services, state->activities.get(), dashboard,
      state->partners.get(), state->backups.get());

  security::ServerTlsOptions tls;
  tls.cert_file = config.tls().cert_file();
  tls.key_file = config.tls().key_file();
  // Checked pairs of the node's key and certificate are installed here, next
  // to the database (see ruta/security/identity_installer.h).
  bool remove_tls_dir = false;
  RUTA_ASSIGN_OR_RETURN(tls.active_dir, TlsActiveDir(config, &remove_tls_dir));
  if (remove_tls_dir) state->tls_dir_to_remove = tls.active_dir;
  for (const auto& region : config.regions()) {
    tls.regions.push_back(
        {region.slug(),
         region.ca_file(),
         {region.crl_files().begin(), region.crl_files().end()}});
  }
  tls.refresh_interval = absl::Seconds(config.tls().refresh_interval_seconds());
  RUTA_ASSIGN_OR_RETURN(state->tls, security::ServerTls::Start(tls));
  std::shared_ptr<grpc::ServerCredentials> credentials =
      state->tls->credentials();

  RUTA_RETURN_IF_ERROR(state->observability->Start(state->store.get()));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address(), credentials, &state->port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(config.limits().max_message_bytes()));
  builder.SetMaxSendMessageSize(
      static_cast<int>(config.limits().max_message_bytes()));
  // Peers' relays ping every 10 s under an open stream to detect a dead
  // link; allow it.
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.RegisterService(state->services.case_office.get());
  builder.RegisterService(state->services.partner_status.get());
  builder.RegisterService(state->services.dashboard.get());
  builder.RegisterService(state->services.federation.get());
  builder.RegisterService(state->services.admin.get());
  state->server = builder.BuildAndStart();
  if (state->server == nullptr || state->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address(),
                     " (address in use or not local?)"));
  }
  state->server->GetHealthCheckService()->SetServingStatus(true);
  state->observability->SetServing(true);
  // The relay and the checkpoint exchange start once a pending recovery
  // from a restored backup has completed (at once when none is pending);
  // the relay then sends while this replica holds the relay lease.
  state->recovery->Start();
  RUTA_RETURN_IF_ERROR(StartRelayLease(config, state.get()));
  state->purger = std::make_unique<RetentionPurger>(
      state->privacy.get(),
      core::Actor{absl::StrCat("node:", config.region(), "/retention"),
                  config.region(), ""},
      absl::Seconds(config.privacy().purge_interval_seconds()));
  return std::unique_ptr<Node>(new Node(std::move(state)));
}

Node::Node(std::unique_ptr<State> state) : state_(std::move(state)) {}

Node::~Node() {
  Shutdown(absl::Seconds(state_->config.limits().shutdown_grace_seconds()));
}

int Node::port() const { return state_->port; }

int Node::metrics_port() const { return state_->observability->metrics_port(); }

int Node::health_port() const { return state_->observability->health_port(); }

const std::string& Node::region() const { return state_->config.region(); }

const api::Authorizer& Node::authorizer() const { return *state_->authorizer; }

absl::Status Node::ReloadAuthorization(
    const ruta::node::v1::NodeConfig& config) {
  if (config.region() != state_->config.region()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the configuration is for region ", config.region(),
                     " but this node serves ", state_->config.region(),
                     " (restart the node to change its region)"));
  }
  RUTA_ASSIGN_OR_RETURN(api::AuthorizationPolicy policy,
                        api::AuthorizationPolicy::ForNodeConfig(config));
  state_->authorizer->SetPolicy(std::move(policy));
  return absl::OkStatus();
}

void Node::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->shut_down) return;
    state_->shut_down = true;
  }
  state_->server->GetHealthCheckService()->SetServingStatus(false);
  state_->observability->SetServing(false);
  state_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  state_->server->Wait();
  state_->tls->Stop();
  // No call is left: stop relaying (it writes acknowledgements to the
  // store), stop publishing checkpoints, commit the queued audit records,
  // then close the store.
  state_->purger.reset();
  state_->recovery.reset();
  state_->change_poller.reset();
  // Relaying stops before the lease is released to another replica.
  if (state_->relay != nullptr) state_->relay->SetRelaying(false);
  state_->relay_lease.reset();
  state_->relay_ptr.store(nullptr);
  state_->relay.reset();
  state_->checkpoints.reset();
  state_->audit.reset();
  state_->observability->StopReadingStore();
  // Destroying the store completes queued writes before returning.
  state_->store.reset();
  if (!state_->tls_dir_to_remove.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(state_->tls_dir_to_remove, ec);
  }
  state_->observability->Stop();
}

}  // namespace ruta::node
