#include "stream.h"

#include <algorithm>

namespace ruta::cli {

grpc::Status AwaitConnection(Connection& connection, const Interrupt& interrupt,
                             bool* connected) {
  grpc::Channel& channel = connection.channel();
  const absl::Time connect_by = absl::Now() + connection.settings().timeout;
  *connected = false;
  while (!*connected && !interrupt.requested()) {
    const absl::Time slice =
        std::min(connect_by, absl::Now() + absl::Milliseconds(250));
    *connected = channel.WaitForConnected(absl::ToChronoTime(slice));
    if (*connected || absl::Now() >= connect_by ||
        channel.GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      break;
    }
  }
  if (interrupt.requested()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "stopped");
  }
  if (!*connected &&
      channel.GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "no connection to the node within --timeout");
  }
  return grpc::Status::OK;
}

}  // namespace ruta::cli
