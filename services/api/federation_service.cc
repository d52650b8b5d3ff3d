// Federation: declared by the contract; implemented by later work.
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta::api {
namespace {

class FederationService final : public v1::Federation::CallbackService {
 public:
  explicit FederationService(const Authorizer* authorizer)
      : authorizer_(authorizer) {}

  grpc::ServerBidiReactor<v1::ExchangeRequest, v1::ExchangeResponse>* Exchange(
      grpc::CallbackServerContext* ctx) override {
    return new internal::FinishedBidi<v1::ExchangeRequest,
                                      v1::ExchangeResponse>(
        internal::NotYetStatus(*authorizer_, ctx, "Federation.Exchange"));
  }
  RUTA_UNARY_NOT_YET(Federation, GetAggregateCounts)
  RUTA_UNARY_NOT_YET(Federation, PutCheckpoint)
  RUTA_UNARY_NOT_YET(Federation, PutCrl)

 private:
  const Authorizer* const authorizer_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewFederationService(
    const Authorizer* authorizer) {
  return std::make_unique<FederationService>(authorizer);
}

}  // namespace ruta::api
