// The messages a node accepts from outside, for the fuzz target and its seed
// writer: the request type of every RPC of the ruta.v1 services, and the
// federation Event a peer sends. A fuzz input is one byte choosing the type
// (modulo their number) followed by the message's wire bytes.
#ifndef RUTA_TESTS_FUZZ_REQUEST_TYPES_H_
#define RUTA_TESTS_FUZZ_REQUEST_TYPES_H_

#include <set>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "ruta/v1/admin.pb.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/dashboard.pb.h"
#include "ruta/v1/federation.pb.h"
#include "ruta/v1/partner_status.pb.h"

namespace ruta::fuzz {

// Default instances, in a fixed order (files, services, methods as
// declared; each type once; Event last).
inline const std::vector<const google::protobuf::Message*>& RequestTypes() {
  static const auto* types = [] {
    // Referencing one message of each file links its descriptor in.
    const google::protobuf::FileDescriptor* files[] = {
        v1::OpenCaseRequest::descriptor()->file(),
        v1::ListReferredCasesRequest::descriptor()->file(),
        v1::GetTableRequest::descriptor()->file(),
        v1::RotateLinkageKeyRequest::descriptor()->file(),
        v1::Event::descriptor()->file(),
    };
    auto* out = new std::vector<const google::protobuf::Message*>();
    std::set<std::string> seen;
    auto* factory = google::protobuf::MessageFactory::generated_factory();
    for (const google::protobuf::FileDescriptor* file : files) {
      for (int s = 0; s < file->service_count(); ++s) {
        const google::protobuf::ServiceDescriptor* service = file->service(s);
        for (int m = 0; m < service->method_count(); ++m) {
          const google::protobuf::Descriptor* input =
              service->method(m)->input_type();
          if (seen.insert(input->full_name()).second) {
            out->push_back(factory->GetPrototype(input));
          }
        }
      }
    }
    out->push_back(&v1::Event::default_instance());
    return out;
  }();
  return *types;
}

// The index of `name` (a full message name) in RequestTypes(); -1 if absent.
inline int RequestTypeIndex(const std::string& name) {
  const auto& types = RequestTypes();
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i]->GetDescriptor()->full_name() == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace ruta::fuzz

#endif  // RUTA_TESTS_FUZZ_REQUEST_TYPES_H_
