// Small reactor helpers shared by the service adapters (private to api).
#ifndef RUTA_API_REACTORS_H_
#define RUTA_API_REACTORS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "ruta/api/authorization.h"
#include "ruta/api/conversions.h"

namespace ruta::api::internal {

inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

inline grpc::Status NotYetAvailable(absl::string_view method) {
  return grpc::Status(
      grpc::StatusCode::UNIMPLEMENTED,
      absl::StrCat(method, " is not available on this node version yet"));
}

// Authorization first, so that an unauthorized caller gets PERMISSION_DENIED
// whether or not the method exists yet.
inline grpc::Status NotYetStatus(const Authorizer& authorizer,
                                 grpc::CallbackServerContext* ctx,
                                 absl::string_view method) {
  absl::StatusOr<core::Actor> actor = authorizer.Authorize(*ctx, method);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  return NotYetAvailable(method);
}

// A server-streaming reactor that finishes at once with `status`.
template <typename Response>
class FinishedWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedWriter(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// A bidirectional reactor that finishes at once with `status`.
template <typename Request, typename Response>
class FinishedBidi final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit FinishedBidi(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace ruta::api::internal

// Declares a unary override that authorizes, then answers UNIMPLEMENTED.
#define RUTA_UNARY_NOT_YET(Service, Method)                                  \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,         \
                                   const ::ruta::v1::Method##Request*,       \
                                   ::ruta::v1::Method##Response*) override { \
    return ::ruta::api::internal::FinishUnary(                               \
        ctx, ::ruta::api::internal::NotYetStatus(*authorizer_, ctx,          \
                                                 #Service "." #Method));     \
  }

// The same for a server-streaming method.
#define RUTA_STREAM_NOT_YET(Service, Method)                                \
  grpc::ServerWriteReactor<::ruta::v1::Method##Response>* Method(           \
      grpc::CallbackServerContext* ctx, const ::ruta::v1::Method##Request*) \
      override {                                                            \
    return new ::ruta::api::internal::FinishedWriter<                       \
        ::ruta::v1::Method##Response>(::ruta::api::internal::NotYetStatus(  \
        *authorizer_, ctx, #Service "." #Method));                          \
  }

#endif  // RUTA_API_REACTORS_H_
