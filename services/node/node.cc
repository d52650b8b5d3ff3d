#include "ruta/node/node.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "ruta/api/authorization.h"
#include "ruta/api/services.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/case_service.h"
#include "ruta/core/pseudonym.h"
#include "ruta/node/config.h"
#include "ruta/security/tls.h"
#include "ruta/store/store.h"

namespace ruta::node {

// Members are declared in dependency order: destroyed in reverse, the server
// goes before the services, core and store it uses.
struct Node::State {
  ruta::node::v1::NodeConfig config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<core::LinkageKeyring> keyring;
  std::unique_ptr<core::CaseService> cases;
  std::unique_ptr<api::Authorizer> authorizer;
  api::NodeServices services;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

absl::StatusOr<std::unique_ptr<Node>> Node::Start(
    const ruta::node::v1::NodeConfig& config) {
  auto state = std::make_unique<State>();
  state->config = config;

  RUTA_ASSIGN_OR_RETURN(std::string db_path,
                        SqlitePath(config.storage().database()));
  store::SqliteOptions store_options;
  store_options.path = db_path;
  RUTA_ASSIGN_OR_RETURN(state->store, store::OpenSqliteStore(store_options));

  RUTA_ASSIGN_OR_RETURN(
      core::LinkageKeyring keyring,
      core::LinkageKeyring::LoadFromFile(config.linkage_key_file()));
  state->keyring = std::make_unique<core::LinkageKeyring>(std::move(keyring));

  core::CaseServiceOptions case_options;
  case_options.region = config.region();
  state->cases = std::make_unique<core::CaseService>(
      case_options, state->store.get(), state->keyring.get());

  api::AuthorizerOptions authorizer_options;
  authorizer_options.node_region = config.region();
  for (const auto& region : config.regions()) {
    authorizer_options.known_regions.push_back(region.slug());
  }
  for (const auto& peer : config.peers()) {
    authorizer_options.peer_regions.push_back(peer.region());
  }
  state->authorizer =
      std::make_unique<api::Authorizer>(std::move(authorizer_options));
  state->services =
      api::MakeNodeServices(state->authorizer.get(), state->cases.get());

  security::ServerTlsOptions tls;
  tls.cert_file = config.tls().cert_file();
  tls.key_file = config.tls().key_file();
  tls.trust_bundle_file = config.tls().trust_bundle_file();
  for (const auto& region : config.regions()) {
    tls.accepted_regions.push_back(region.slug());
  }
  tls.refresh_interval = absl::Seconds(config.tls().refresh_interval_seconds());
  RUTA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                        security::MakeServerCredentials(tls));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address(), credentials, &state->port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(config.limits().max_message_bytes()));
  builder.SetMaxSendMessageSize(
      static_cast<int>(config.limits().max_message_bytes()));
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
  return std::unique_ptr<Node>(new Node(std::move(state)));
}

Node::Node(std::unique_ptr<State> state) : state_(std::move(state)) {}

Node::~Node() {
  Shutdown(absl::Seconds(state_->config.limits().shutdown_grace_seconds()));
}

int Node::port() const { return state_->port; }

const std::string& Node::region() const { return state_->config.region(); }

void Node::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->shut_down) return;
    state_->shut_down = true;
  }
  state_->server->GetHealthCheckService()->SetServingStatus(false);
  state_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  state_->server->Wait();
  // Destroying the store completes queued writes before returning.
  state_->store.reset();
}

}  // namespace ruta::node
