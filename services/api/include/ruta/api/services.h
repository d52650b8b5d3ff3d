// The gRPC services of a ruta node (callback API). Each adapter
// authenticates and authorizes the caller (Authorizer), validates and converts
// the request, calls core, and converts the result; it never blocks in a
// reactor: core calls back when the store is done.
//
// RPCs that later work implements answer UNIMPLEMENTED with a message naming
// the method (after authorization, so callers learn nothing more than their
// certificate allows).
#ifndef RUTA_API_SERVICES_H_
#define RUTA_API_SERVICES_H_

#include <memory>

#include "grpcpp/impl/codegen/service_type.h"
#include "ruta/api/authorization.h"
#include "ruta/core/case_service.h"

namespace ruta::api {

// All services of a node, ready to register on a ServerBuilder. `authorizer`
// and `cases` must outlive the returned services and the server.
struct NodeServices {
  std::unique_ptr<grpc::Service> case_office;
  std::unique_ptr<grpc::Service> partner_status;
  std::unique_ptr<grpc::Service> dashboard;
  std::unique_ptr<grpc::Service> federation;
  std::unique_ptr<grpc::Service> admin;
};

NodeServices MakeNodeServices(const Authorizer* authorizer,
                              core::CaseService* cases);

}  // namespace ruta::api

#endif  // RUTA_API_SERVICES_H_
