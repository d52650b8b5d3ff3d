// Reading one server stream of the node (`ruta transfer watch`, `ruta
// partner watch`, `ruta admin audit export`), for FollowWithResume (watch.h)
// to follow across breaks (internal).
#ifndef RUTA_CLI_SRC_STREAM_H_
#define RUTA_CLI_SRC_STREAM_H_

#include <functional>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "grpcpp/support/sync_stream.h"
#include "interrupt.h"
#include "ruta/cli/connection.h"
#include "ruta/cli/watch.h"

namespace ruta::cli {

// Waits until the channel of `connection` is connected, at most --timeout
// (the TLS handshake included), in short slices so that a signal is
// noticed. OK when connected (`*connected` true), and also when the channel
// is in TRANSIENT_FAILURE: a call then fails at once with gRPC's reason
// (connection refused, handshake failed), which the error hints explain.
// CANCELLED when a signal came; DEADLINE_EXCEEDED when it did not connect
// within --timeout.
grpc::Status AwaitConnection(Connection& connection, const Interrupt& interrupt,
                             bool* connected);

// Starts the stream on `call` (e.g. stub.WatchTransfers(call, request)).
template <typename Response>
using StartStream =
    std::function<std::unique_ptr<grpc::ClientReaderInterface<Response>>(
        grpc::ClientContext* call)>;

// Opens one stream over `connection`: AwaitConnection, then `start` on a
// call whose deadline is `lifetime` from then and that a signal cancels.
// Hands every message to `sink` until the stream ends or `sink` returns
// false (the call is then cancelled: it ends CANCELLED). `renewed` when it
// ended by reaching its lifetime; `open_for` counts from the connection.
template <typename Response>
StreamEnd ReadStream(Connection& connection, Interrupt& interrupt,
                     absl::Duration lifetime,
                     const StartStream<Response>& start,
                     const std::function<bool(const Response&)>& sink) {
  bool connected = false;
  grpc::Status ready = AwaitConnection(connection, interrupt, &connected);
  if (!ready.ok()) return {ready};
  grpc::ClientContext call;
  const absl::Time opened = absl::Now();
  const absl::Time deadline = opened + lifetime;
  call.set_deadline(absl::ToChronoTime(deadline));
  interrupt.Watch(&call);
  std::unique_ptr<grpc::ClientReaderInterface<Response>> reader = start(&call);
  Response message;
  while (reader->Read(&message)) {
    if (!sink(message)) {
      call.TryCancel();
      while (reader->Read(&message)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  interrupt.Watch(nullptr);
  const absl::Time ended = absl::Now();
  // gRPC's timers may fire a little before the wall clock reaches the
  // deadline.
  const bool renewed =
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      ended >= deadline - absl::Seconds(1);
  return {status, renewed, connected ? ended - opened : absl::ZeroDuration()};
}

}  // namespace ruta::cli

#endif  // RUTA_CLI_SRC_STREAM_H_
