// The node's recovery after a restored backup (docs/restore.md): built from
// the node config, kept apart from node.cc.
#ifndef RUTA_NODE_RESTORE_STARTUP_H_
#define RUTA_NODE_RESTORE_STARTUP_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "ruta/federation/restore.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/store/store.h"

namespace ruta::node {

// The recovery of the node of `config` over `store`; `on_recovered` runs
// once recovery completed (at once when none is pending) and must start the
// relay and the checkpoint exchange. Errors of RestoreRecovery::Create and
// of loading the region's signing keys.
absl::StatusOr<std::unique_ptr<federation::RestoreRecovery>>
MakeRestoreRecovery(const ruta::node::v1::NodeConfig& config,
                    store::Store* store, std::function<void()> on_recovered);

}  // namespace ruta::node

#endif  // RUTA_NODE_RESTORE_STARTUP_H_
