#include "ruta/testing/node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ruta/node/config.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/security/tls.h"

namespace ruta::testing {

namespace {

// NodeSetup::backups: a private directory and a random key beside the node.
void WriteBackupSettings(const std::string& dir,
                         ruta::node::v1::NodeConfig* config) {
  const std::string backups = dir + "/backups";
  ::mkdir(backups.c_str(), 0700);
  const std::string key = dir + "/backup.key";
  if (::access(key.c_str(), F_OK) != 0) {
    unsigned char bytes[32];
    RAND_bytes(bytes, sizeof bytes);
    std::string hex;
    for (unsigned char b : bytes) hex += absl::StrFormat("%02x", b);
    std::ofstream(key) << hex << "\n";
    ::chmod(key.c_str(), 0600);
  }
  config->mutable_backup()->set_directory(backups);
  config->mutable_backup()->set_key_file(key);
}

}  // namespace

std::string WriteNodeConfig(const DevPki& pki, const NodeSetup& setup) {
  const std::string dir =
      setup.data_dir.empty() ? MakeTempDir(setup.region) : setup.data_dir;
  ruta::node::v1::NodeConfig config;
  config.set_region(setup.region);
  const std::vector<RegionInfo> regions =
      setup.regions.empty() ? std::vector<RegionInfo>{kCusco, kMadreDeDios}
                            : setup.regions;
  for (const RegionInfo& info : regions) {
    auto* region = config.add_regions();
    region->set_slug(info.slug);
    region->set_ubigeo_department(info.ubigeo_department);
    region->set_display_name(info.display_name);
    region->set_ca_file(pki.RootCa(info.slug));
    auto crls = setup.crl_files.find(info.slug);
    for (const std::string& crl :
         crls != setup.crl_files.end() ? crls->second : pki.Crls(info.slug)) {
      region->add_crl_files(crl);
    }
  }
  config.set_listen_address(
      setup.listen_address.empty() ? "127.0.0.1:0" : setup.listen_address);
  // Audit checkpoints: certs/pki.sh writes each region's signing key pair.
  config.set_signing_key_file(
      absl::StrCat(pki.dir(), "/", setup.region, "/signing/signing.key"));
  for (auto& region : *config.mutable_regions()) {
    region.set_signing_public_key_file(
        absl::StrCat(pki.dir(), "/trust/signing/", region.slug(), ".pub"));
  }
  config.mutable_audit()->set_checkpoint_interval_seconds(
      setup.checkpoint_interval_seconds);
  const KeyPair node = pki.Node(setup.region);
  config.mutable_tls()->set_cert_file(node.cert_file);
  config.mutable_tls()->set_key_file(node.key_file);
  config.mutable_tls()->set_trust_bundle_file(pki.TrustBundle());
  config.mutable_tls()->set_refresh_interval_seconds(
      setup.refresh_interval_seconds);
  config.mutable_storage()->set_database(
      setup.database.empty()
          ? absl::StrCat("sqlite:", dir, "/", setup.region, ".db")
          : setup.database);
  config.set_linkage_key_file(pki.LinkageKey());
  for (const std::string& name : setup.partners) {
    auto* partner = config.add_partners();
    partner->set_id(absl::StrCat(setup.region, "/", name));
    partner->set_name(name);
  }
  if (!setup.partners.empty()) config.set_partner_key_file(pki.PartnerKey());
  for (const auto& [region, address] : setup.peers) {
    auto* peer = config.add_peers();
    peer->set_region(region);
    peer->set_address(address);
  }
  config.mutable_limits()->set_shutdown_grace_seconds(2);
  auto* federation = config.mutable_federation();
  federation->set_initial_backoff_ms(setup.relay_initial_backoff_ms);
  federation->set_max_backoff_ms(setup.relay_max_backoff_ms);
  federation->set_ack_timeout_ms(setup.relay_ack_timeout_ms);
  federation->set_max_batch_events(setup.relay_max_batch_events);
  federation->set_relay_takeover_poll_ms(setup.relay_takeover_poll_ms);
  config.mutable_dashboard()->set_peer_counts_max_age_seconds(
      setup.dashboard_peer_counts_max_age_seconds);
  auto* observability = config.mutable_observability();
  observability->set_metrics_address(setup.metrics_address);
  observability->set_health_address(setup.health_address);
  observability->set_log_format(setup.log_format);
  observability->set_log_level(setup.log_level);
  config.set_port_file(dir + "/port");
  if (setup.backups) WriteBackupSettings(dir, &config);
  if (!setup.authorization_json.empty()) {
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        setup.authorization_json, config.mutable_authorization());
    if (!parsed.ok()) {
      ADD_FAILURE() << "NodeSetup.authorization_json: " << parsed.ToString();
    }
  }

  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(config, &json, options);
  const std::string path = dir + "/node.json";
  std::ofstream(path) << json;
  return path;
}

int PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::unique_ptr<InProcessNode> InProcessNode::Start(const NodeSetup& setup) {
  const DevPki& pki = setup.pki != nullptr ? *setup.pki : DevPki::Get();
  NodeSetup with_dir = setup;
  if (with_dir.data_dir.empty()) with_dir.data_dir = MakeTempDir(setup.region);
  const std::string path = WriteNodeConfig(pki, with_dir);
  absl::StatusOr<ruta::node::v1::NodeConfig> config =
      ruta::node::LoadConfig(path);
  if (!config.ok()) {
    ADD_FAILURE() << "test node config: " << config.status();
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<ruta::node::Node>> node =
      ruta::node::Node::Start(*config);
  if (!node.ok()) {
    ADD_FAILURE() << "test node start: " << node.status();
    return nullptr;
  }
  return std::unique_ptr<InProcessNode>(
      new InProcessNode(*std::move(node), with_dir.data_dir));
}

std::string InProcessNode::address() const {
  return absl::StrCat("127.0.0.1:", node_->port());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const KeyPair& client,
                                           const std::string& server_region) {
  return MakeChannel(address, client, server_region,
                     DevPki::Get().TrustBundle());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const KeyPair& client,
                                           const std::string& server_region,
                                           const std::string& ca_file) {
  security::ClientTlsOptions options;
  options.cert_file = client.cert_file;
  options.key_file = client.key_file;
  options.ca_file = ca_file;
  options.expected_server_region = server_region;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      security::MakeChannelCredentials(options);
  if (!credentials.ok()) {
    ADD_FAILURE() << "client credentials: " << credentials.status();
    return nullptr;
  }
  grpc::ChannelArguments args;
  // Each test channel gets its own connection (no subchannel sharing across
  // different client identities).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, *credentials, args);
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

}  // namespace ruta::testing
