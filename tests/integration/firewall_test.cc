// The identifier firewall at the gRPC edge, over real mutual TLS against an
// in-process node, with the methods found in the contract's descriptors (so
// a method added later is covered): every unary CaseOffice method refuses an
// identifier in its first id or free-text field, and every method of every
// service a field this node does not know, which proves that each handler
// admits its request through the firewall; the identifiers of OpenCase still
// pass, and a note passes or is refused by the free-text rule end to end.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";
constexpr char kDni[] = "12345678";
constexpr char kDate[] = "12/03/2014";

class FirewallEdgeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = kMdd;
    // Transfers go to Cusco; nothing needs to reach it here.
    setup.peers = {{kCusco, "127.0.0.1:9"}};
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return MakeChannel(node_->address(), DevPki::Get().Office(kMdd), kMdd);
  }

  // One unary call of `method` with `request` through a generic stub.
  grpc::Status Call(const MethodDescriptor& method, const Message& request) {
    grpc::GenericStub stub(Channel());
    std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline();
    grpc::Slice slice(request.SerializeAsString());
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(
        context.get(),
        absl::StrCat("/", method.service()->full_name(), "/", method.name()),
        grpc::StubOptions(), &in, &out, [&status, &done](grpc::Status s) {
          status = std::move(s);
          done.Notify();
        });
    done.WaitForNotification();
    return status;
  }

  static InProcessNode* node_;
};
InProcessNode* FirewallEdgeTest::node_ = nullptr;

bool IsToken(const FieldDescriptor& field) {
  return field.name() == "page_token" || field.name() == "cursor";
}

// The first string field of `type` in declaration order, depth first,
// outside the identifiers; a token (page_token, cursor) only when there is
// no other, since a token's charset admits a digit run (see the unit test).
// Empty when there is none.
std::vector<const FieldDescriptor*> FirstStringField(const Descriptor* type,
                                                     bool tokens) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->type() == FieldDescriptor::TYPE_STRING &&
        (tokens || !IsToken(*field))) {
      return {field};
    }
    if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
        !field->is_repeated() &&
        field->message_type()->full_name() != "ruta.v1.PersonIdentifiers") {
      std::vector<const FieldDescriptor*> inner =
          FirstStringField(field->message_type(), tokens);
      if (!inner.empty()) {
        inner.insert(inner.begin(), field);
        return inner;
      }
    }
  }
  return {};
}

const google::protobuf::ServiceDescriptor* CaseOfficeService() {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::CaseOffice::service_full_name());
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
}

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }

// Calls `method` of any kind through a generic stub: sends `request` as the
// one message (half-closing after it), reads until the end, returns the
// final status.
grpc::Status CallAnyKind(const std::shared_ptr<grpc::Channel>& channel,
                         const MethodDescriptor& method,
                         const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline();
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
      context.get(),
      absl::StrCat("/", method.service()->full_name(), "/", method.name()),
      &cq);
  const auto await = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    const bool got = cq.Next(&tag, &ok);
    EXPECT_TRUE(got);
    EXPECT_EQ(tag, Tag(expected));
    return got && ok;
  };
  call->StartCall(Tag(1));
  if (await(1)) {
    grpc::Slice slice(request);
    call->WriteLast(grpc::ByteBuffer(&slice, 1), grpc::WriteOptions(), Tag(2));
    if (await(2)) {
      for (;;) {
        grpc::ByteBuffer response;
        call->Read(&response, Tag(3));
        if (!await(3)) break;
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, Tag(4));
  await(4);
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST_F(FirewallEdgeTest, EveryUnaryCaseOfficeMethodRefusesAnIdentifier) {
  const google::protobuf::ServiceDescriptor* service = CaseOfficeService();
  ASSERT_NE(service, nullptr);
  int checked = 0;
  std::vector<std::string> without_field;
  std::set<std::string> tokens_only;  // methods with no other string field
  for (int m = 0; m < service->method_count(); ++m) {
    const MethodDescriptor& method = *service->method(m);
    if (method.client_streaming() || method.server_streaming()) continue;
    SCOPED_TRACE(method.full_name());
    std::vector<const FieldDescriptor*> leaf =
        FirstStringField(method.input_type(), /*tokens=*/false);
    if (leaf.empty()) leaf = FirstStringField(method.input_type(), true);
    if (leaf.empty()) {
      without_field.push_back(method.name());
      continue;
    }
    std::unique_ptr<Message> request = NewMessage(method.input_type());
    Message* holder = request.get();
    std::string path;
    for (size_t i = 0; i + 1 < leaf.size(); ++i) {
      holder = holder->GetReflection()->MutableMessage(holder, leaf[i]);
      absl::StrAppend(&path, leaf[i]->name(), ".");
    }
    // A date for a token: outside its charset, as a DNI is not.
    const bool token = IsToken(*leaf.back());
    if (token) tokens_only.insert(method.name());
    const std::string value = token ? kDate : kDni;
    holder->GetReflection()->SetString(holder, leaf.back(), value);
    absl::StrAppend(&path, leaf.back()->name());
    const grpc::Status status = Call(method, *request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), StartsWith(path + " "));
    EXPECT_THAT(status.error_message(), Not(HasSubstr(value)));
    ++checked;
  }
  // FindPerson carries only the identifiers, which are exempt.
  EXPECT_THAT(without_field, ::testing::ElementsAre("FindPerson"));
  EXPECT_GE(checked, 19);
  EXPECT_TRUE(tokens_only.count("ListActivities"));
}

// Only the firewall looks at unknown fields: a refusal naming one proves
// that the handler admitted the request through it. Every method of every
// service (from the contract's descriptors), unary or streaming, each with a
// caller its service admits, FindPerson and the methods not implemented yet
// included.
TEST_F(FirewallEdgeTest, EveryMethodOfEveryServiceRefusesAnUnknownField) {
  const std::map<std::string, testing::KeyPair> callers = {
      {"ruta.v1.CaseOffice", DevPki::Get().Office(kMdd)},
      {"ruta.v1.PartnerStatus", DevPki::Get().Leaf(kMdd, "partner", "tdh")},
      {"ruta.v1.Dashboard", DevPki::Get().Leaf(kMdd, "dashboard", "mayors")},
      {"ruta.v1.Admin", DevPki::Get().Leaf(kMdd, "admin", "operator")},
      {"ruta.v1.Federation", DevPki::Get().Node(kCusco)},
  };
  int checked = 0;
  for (const google::protobuf::FileDescriptor* file :
       {v1::OpenCaseRequest::descriptor()->file(),
        v1::GetCaseStatusRequest::descriptor()->file(),
        v1::GetTableRequest::descriptor()->file(),
        v1::PutCrlRequest::descriptor()->file(),
        v1::VerifyAuditRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor& service = *file->service(s);
      auto caller = callers.find(service.full_name());
      ASSERT_NE(caller, callers.end()) << service.full_name();
      const std::shared_ptr<grpc::Channel> channel =
          MakeChannel(node_->address(), caller->second, kMdd);
      for (int m = 0; m < service.method_count(); ++m) {
        const MethodDescriptor& method = *service.method(m);
        SCOPED_TRACE(method.full_name());
        std::unique_ptr<Message> request = NewMessage(method.input_type());
        request->GetReflection()
            ->MutableUnknownFields(request.get())
            ->AddVarint(999, 1);
        const grpc::Status status =
            CallAnyKind(channel, method, request->SerializeAsString());
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(status.error_message(),
                  absl::StrCat("unknown field number 999 in ",
                               method.input_type()->full_name(),
                               ": this node does not know it; upgrade the "
                               "client or drop the field"));
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 39);
}

TEST_F(FirewallEdgeTest, AnUnauthorizedCallerIsRefusedBeforeTheFirewall) {
  // A partner may not call CaseOffice: it learns nothing of its request.
  auto stub = v1::CaseOffice::NewStub(MakeChannel(
      node_->address(), DevPki::Get().Leaf(kMdd, "partner", "tdh"), kMdd));
  v1::GetCaseRequest get;
  get.set_case_id(kDni);
  v1::GetCaseResponse response;
  const grpc::Status status =
      stub->GetCase(ContextWithDeadline().get(), get, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(FirewallEdgeTest, OpenCaseWithADniPasses) {
  auto stub = v1::CaseOffice::NewStub(Channel());
  v1::OpenCaseResponse opened;
  const grpc::Status status =
      stub->OpenCase(ContextWithDeadline().get(),
                     testing::VictimOpenCaseRequest(
                         "7f0e1d2c-3b4a-4596-8877-665544332211", kDni),
                     &opened);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(opened.case_().person_ref(),
              ::testing::MatchesRegex("pr[0-9]+_[a-p]{32}"));
}

TEST_F(FirewallEdgeTest, ANoteIsFreeTextWithoutIdentifiers) {
  testing::OfficeClient office(node_->address(), kMdd);
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  absl::StatusOr<v1::Case> c = office.OpenCaseInCare(salt, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<v1::Transfer> t = office.Request(
      testing::RequestIdFor(salt, 100), c->case_id(), kCusco, "0801");
  ASSERT_TRUE(t.ok()) << t.status();

  v1::CancelTransferRequest cancel;
  cancel.set_request_id(testing::RequestIdFor(salt, 101));
  cancel.set_transfer_id(t->transfer_id());
  cancel.set_note("llamar a la tía al 987 654 321");
  v1::CancelTransferResponse response;
  grpc::Status status = office.stub().CancelTransfer(
      ContextWithDeadline().get(), cancel, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "note looks like it holds a phone number; free text must not "
            "carry identifiers (DNI, phone, e-mail, dates)");

  // Numbers that identify nobody are ordinary text.
  cancel.set_request_id(testing::RequestIdFor(salt, 102));
  cancel.set_note("la familia se mudó en 2014; 2 hermanos, a 120 km");
  status = office.stub().CancelTransfer(ContextWithDeadline().get(), cancel,
                                        &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.transfer().note(), cancel.note());
}

}  // namespace
}  // namespace ruta
