// The identifier firewall (api/firewall.h), table-driven over the contract's
// descriptors: every string field of every request of every ruta.v1 service
// (and of the federation Event, which the inbox checks) is found by
// reflection, so a field added later is covered without touching this test.
#include "ruta/api/firewall.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "ruta/core/ids.h"
#include "ruta/core/pseudonym.h"
#include "ruta/v1/admin.pb.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/dashboard.pb.h"
#include "ruta/v1/federation.pb.h"
#include "ruta/v1/partner_status.pb.h"

namespace ruta::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kIdentifiers[] = "ruta.v1.PersonIdentifiers";

// Values a clerk might type by habit; none is well-formed for any field.
const std::vector<std::string>& IdentifierShapedValues() {
  static const auto* values = new std::vector<std::string>{
      "12345678",        "+51 987 654 321", "987654321",
      "ana@example.org", "12/03/2014",      "2014-03-12"};
  return *values;
}

// Page tokens and cursors are opaque: the firewall checks only their charset
// (what they hold is decoded, and refused if this node did not issue it, by
// the handler; they are never stored). A digits-and-dashes value is in that
// charset; the other identifier shapes are not.
bool IsTokenField(const FieldDescriptor& field) {
  return field.name() == "page_token" || field.name() == "next_page_token" ||
         field.name() == "cursor";
}
bool InTokenCharset(const std::string& value) {
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

std::string Letters(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

std::string FreshUuid() {
  static int counter = 0;
  return absl::StrFormat("0b6e1f4a-3c2d-4e5f-8a9b-%012x", ++counter);
}

// A well-formed value for a string field, by what this test knows of the
// contract's formats (records.proto's list of identifier formats); any
// other field is free text.
std::string WellFormed(const FieldDescriptor& field) {
  const std::string& n = field.name();
  if (n == "request_id") return FreshUuid();
  if (n == "case_id") return core::NewCaseId();
  if (n == "transfer_id") return core::NewTransferId();
  if (n == "service_id") return core::NewServiceId();
  if (n == "event_id") return core::NewEventId();
  if (n == "activity_id") return "ac_" + Letters(20);
  if (n == "person_ref" || n == "kept_ref" || n == "merged_ref") {
    return core::RandomPersonRef();
  }
  if (n == "partner_case_ref") {
    std::string ref = "pc_";
    for (int i = 0; i < 32; ++i) ref.push_back(static_cast<char>('a' + i % 16));
    return ref;
  }
  if (IsTokenField(field)) return core::EncodePageToken(core::NewCaseId());
  if (n == "table" || n == "tables" || n == "dimensions") {
    return "cases_by_stage";
  }
  if (n == "partner_id" || n == "provider" || n == "referrals") {
    return "cusco/tdh";
  }
  if (n == "signing_key_id") return "cusco/ed25519";
  if (n == "holder") return "local/cusco";
  if (n == "province" || n == "origin_province" ||
      n == "destination_province") {
    return "1701";
  }
  if (n == "region" || n == "regions" ||
      (n.size() > 7 && n.substr(n.size() - 7) == "_region")) {
    return "madre-de-dios";
  }
  return "Niña de 12 años sin cupo en el albergue; 2 hermanos, año 2014";
}

// The message types a node checks: every method's input type of every
// service of the ruta.v1 files, and the federation Event.
std::vector<const Descriptor*> CheckedTypes() {
  const FileDescriptor* files[] = {
      v1::OpenCaseRequest::descriptor()->file(),
      v1::ListReferredCasesRequest::descriptor()->file(),
      v1::GetTableRequest::descriptor()->file(),
      v1::ExchangeRequest::descriptor()->file(),
      v1::VerifyAuditRequest::descriptor()->file(),
  };
  std::vector<const Descriptor*> types;
  std::set<const Descriptor*> seen;
  for (const FileDescriptor* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const Descriptor* input = file->service(s)->method(m)->input_type();
        if (seen.insert(input).second) types.push_back(input);
      }
    }
  }
  types.push_back(v1::Event::descriptor());
  return types;
}

// A string field reached from a root type: the fields on the way, the string
// field last.
using Leaf = std::vector<const FieldDescriptor*>;

void CollectLeaves(const Descriptor* type, Leaf* prefix,
                   std::vector<const Descriptor*>* stack,
                   std::vector<Leaf>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    prefix->push_back(field);
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      out->push_back(*prefix);
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      const Descriptor* sub = field->message_type();
      bool cycle = false;
      for (const Descriptor* d : *stack) cycle = cycle || d == sub;
      if (sub->full_name() != kIdentifiers && !cycle) {
        stack->push_back(sub);
        CollectLeaves(sub, prefix, stack, out);
        stack->pop_back();
      }
    }
    prefix->pop_back();
  }
}

// Fills every field of `message` with a well-formed value (repeated fields
// with two elements; the identifiers with a DNI). In a oneof, the member on
// the way to `target` (from `depth`) is chosen, else the first.
void Fill(Message* message, const Leaf* target, size_t depth,
          std::vector<const Descriptor*>* stack) {
  const Descriptor* type = message->GetDescriptor();
  const Reflection* r = message->GetReflection();
  if (type->full_name() == kIdentifiers) {
    r->SetString(message, type->FindFieldByName("dni"), "12345678");
    return;
  }
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const bool on_target = target != nullptr && depth < target->size() &&
                           (*target)[depth] == field;
    if (const auto* oneof = field->real_containing_oneof()) {
      const FieldDescriptor* chosen = oneof->field(0);
      if (target != nullptr && depth < target->size() &&
          (*target)[depth]->real_containing_oneof() == oneof) {
        chosen = (*target)[depth];
      }
      if (field != chosen) continue;
    }
    const int copies = field->is_repeated() ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          const std::string value = field->type() == FieldDescriptor::TYPE_BYTES
                                        ? std::string("\x01\x02", 2)
                                        : WellFormed(*field);
          if (field->is_repeated()) {
            r->AddString(message, field, value);
          } else {
            r->SetString(message, field, value);
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: {
          const auto* last =
              field->enum_type()->value(field->enum_type()->value_count() - 1);
          if (field->is_repeated()) {
            r->AddEnum(message, field, last);
          } else {
            r->SetEnum(message, field, last);
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          const Descriptor* sub = field->message_type();
          bool cycle = false;
          for (const Descriptor* d : *stack) cycle = cycle || d == sub;
          if (cycle) break;
          Message* child = field->is_repeated()
                               ? r->AddMessage(message, field)
                               : r->MutableMessage(message, field);
          stack->push_back(sub);
          Fill(child, on_target ? target : nullptr, depth + 1, stack);
          stack->pop_back();
          break;
        }
        default:
          break;  // numbers and booleans: their defaults
      }
    }
  }
}

std::unique_ptr<Message> Filled(const Descriptor* type, const Leaf* target) {
  std::unique_ptr<Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
  std::vector<const Descriptor*> stack = {type};
  Fill(message.get(), target, 0, &stack);
  return message;
}

// Sets the leaf's string (the last element of a repeated one) to `value`;
// returns its path as the firewall names it.
std::string SetLeaf(Message* root, const Leaf& leaf, const std::string& value) {
  Message* message = root;
  std::string path;
  for (size_t i = 0; i < leaf.size(); ++i) {
    const FieldDescriptor* field = leaf[i];
    const Reflection* r = message->GetReflection();
    absl::StrAppend(&path, path.empty() ? "" : ".", field->name());
    const bool last = i + 1 == leaf.size();
    if (field->is_repeated()) {
      const int index = r->FieldSize(*message, field) - 1;
      absl::StrAppend(&path, "[", index, "]");
      if (last) {
        r->SetRepeatedString(message, field, index, value);
      } else {
        message = r->MutableRepeatedMessage(message, field, index);
      }
    } else if (last) {
      r->SetString(message, field, value);
    } else {
      message = r->MutableMessage(message, field);
    }
  }
  return path;
}

std::string Name(const Leaf& leaf) {
  std::string name = leaf.front()->containing_type()->full_name();
  for (const FieldDescriptor* f : leaf) absl::StrAppend(&name, ".", f->name());
  return name;
}

TEST(FirewallTest, EveryStringFieldOfEveryRequestRefusesIdentifiers) {
  std::set<std::string> paths_seen;
  int leaves = 0;
  int refusals = 0;
  for (const Descriptor* type : CheckedTypes()) {
    std::vector<Leaf> found;
    Leaf prefix;
    std::vector<const Descriptor*> stack = {type};
    CollectLeaves(type, &prefix, &stack, &found);
    for (const Leaf& leaf : found) {
      SCOPED_TRACE(Name(leaf));
      ++leaves;
      // (a) Every string well-formed for its format: accepted.
      std::unique_ptr<Message> message = Filled(type, &leaf);
      const absl::Status clean = CheckMessage(*message);
      EXPECT_TRUE(clean.ok()) << clean.message();
      // (b) This one field identifier-shaped: refused, naming it.
      for (const std::string& value : IdentifierShapedValues()) {
        SCOPED_TRACE(value);
        if (IsTokenField(*leaf.back()) && InTokenCharset(value)) continue;
        const std::string path = SetLeaf(message.get(), leaf, value);
        paths_seen.insert(path);
        const absl::Status s = CheckMessage(*message);
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_THAT(std::string(s.message()), StartsWith(path + " "));
        EXPECT_THAT(s.message(), Not(HasSubstr(value)));
        ++refusals;
      }
    }
  }
  // The walk found the contract's fields (85 string fields, 8 of them tokens,
  // when this was written; fields are only ever added).
  EXPECT_GE(leaves, 85);
  EXPECT_GE(refusals, 85 * 6 - 8 * 3);
  // Nested, repeated and oneof fields among them.
  for (const char* path :
       {"note", "request_id", "profile.origin_province", "awareness.campaign",
        "training.province", "regions[1]", "tables[1]", "partner_id",
        "kept_ref", "partner_case_ref", "hello.origin_region",
        "batch.signing_key_id", "checkpoint.region", "transfer_changed.note",
        "case_shared.referrals[1]", "service_changed.provider",
        "persons_merged.merged_ref"}) {
    EXPECT_TRUE(paths_seen.count(path)) << path;
  }
}

TEST(FirewallTest, IdentifiersOfAPersonPassOnlyInPersonIdentifiers) {
  v1::OpenCaseRequest open;
  open.set_request_id(FreshUuid());
  v1::PersonIdentifiers* id = open.mutable_identifiers();
  id->set_dni("12345678");
  id->set_cnv("123456789012");
  id->set_given_names("Ana María");
  id->set_surnames("Quispe Ñaupa");
  id->mutable_birth_date()->set_year(2014);
  id->set_birth_district("080901");
  EXPECT_TRUE(CheckMessage(open).ok());
  EXPECT_TRUE(CheckMessage(*id).ok());
  v1::FindPersonRequest find;
  *find.mutable_identifiers() = *id;
  EXPECT_TRUE(CheckMessage(find).ok());

  // Not an exemption from unknown fields: a newer client's identifier that
  // this node would ignore would derive another person_ref.
  id->GetReflection()->MutableUnknownFields(id)->AddVarint(42, 1);
  const absl::Status s = CheckMessage(open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("unknown field number 42 in ruta.v1.PersonIdentifiers "
                        "(identifiers)"));
}

TEST(FirewallTest, UnknownFieldsAreRefusedAtAnyDepth) {
  v1::OpenCaseRequest open;
  open.GetReflection()->MutableUnknownFields(&open)->AddVarint(99, 7);
  absl::Status s = CheckMessage(open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "unknown field number 99 in ruta.v1.OpenCaseRequest: this node "
            "does not know it; upgrade the client or drop the field");

  v1::Event event;
  v1::Transfer* transfer = event.mutable_transfer_changed();
  transfer->GetReflection()->MutableUnknownFields(transfer)->AddLengthDelimited(
      30, "12345678");
  s = CheckMessage(event);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown field number 30 in "
                                     "ruta.v1.Transfer (transfer_changed)"));
  EXPECT_THAT(s.message(), Not(HasSubstr("12345678")));

  // As a parser keeps them: a field from a newer contract.
  v1::GetCaseRequest get;
  get.set_case_id(core::NewCaseId());
  std::string wire = get.SerializeAsString();
  wire += std::string("\xA0\x06\x01", 3);  // field 100, varint 1
  v1::GetCaseRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_THAT(CheckMessage(parsed).message(),
              HasSubstr("unknown field number 100 in ruta.v1.GetCaseRequest"));
}

TEST(FirewallTest, EnumNumbersOutsideTheEnumAreRefused) {
  v1::OpenCaseRequest open;
  open.set_kind(v1::CASE_KIND_VICTIM);
  open.mutable_profile()->add_exploitation_forms(v1::EXPLOITATION_FORM_SEXUAL);
  EXPECT_TRUE(CheckMessage(open).ok());

  open.set_kind(static_cast<v1::CaseKind>(42));
  absl::Status s = CheckMessage(open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "kind holds a number that is not a ruta.v1.CaseKind "
            "value");

  open.set_kind(v1::CASE_KIND_VICTIM);
  open.mutable_profile()->add_exploitation_forms(
      static_cast<v1::ExploitationForm>(12345678));
  s = CheckMessage(open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("profile.exploitation_forms[1] holds"));
  EXPECT_THAT(s.message(), Not(HasSubstr("12345678")));
}

TEST(FirewallTest, FreeTextIsLimitedInCharacters) {
  v1::CancelTransferRequest cancel;
  cancel.set_transfer_id(core::NewTransferId());
  cancel.set_note(std::string(kDefaultFreeTextChars, 'a'));
  EXPECT_TRUE(CheckMessage(cancel).ok());
  cancel.set_note(std::string(kDefaultFreeTextChars + 1, 'a'));
  absl::Status s = CheckMessage(cancel);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "note has 281 characters; at most 280 are allowed");

  // A campaign name is shorter.
  v1::RecordActivityRequest record;
  record.mutable_awareness()->set_campaign(std::string(120, 'b'));
  EXPECT_TRUE(CheckMessage(record).ok());
  record.mutable_awareness()->set_campaign(std::string(121, 'b'));
  s = CheckMessage(record);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "awareness.campaign has 121 characters; at most 120 are allowed");
}

TEST(FirewallTest, InvalidUtf8IsRefused) {
  // The parser of a proto3 string refuses invalid UTF-8, but a message
  // built in process (a decoded event, a test) need not have been parsed.
  v1::RejectTransferRequest reject;
  const FieldDescriptor* note = reject.GetDescriptor()->FindFieldByName("note");
  reject.GetReflection()->SetString(&reject, note, "ni\xF1o");
  absl::Status s = CheckMessage(reject);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "note is not valid UTF-8 text");

  // In a formatted field it is not the format either.
  v1::GetTableRequest table;
  table.add_regions("cusco");
  table.add_regions("cu\xC3sco");
  s = CheckMessage(table);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("regions[1] must be a region slug"));
}

TEST(FirewallTest, FormatsAreCheckedAndEmptyOptionalIdsPass) {
  v1::ListTransfersRequest list;  // case_id is optional here
  EXPECT_TRUE(CheckMessage(list).ok());
  list.set_case_id("cs_ABCDEFGHIJKLMNOPQRST");
  EXPECT_EQ(CheckMessage(list).message(),
            "case_id must be \"cs_\" followed by 20 lowercase letters");

  v1::RequestTransferRequest request;
  request.set_request_id(FreshUuid());
  request.set_case_id(core::NewCaseId());
  request.set_to_region("cusco");
  request.set_destination_province("0899");  // 4 digits, not in the catalogue
  EXPECT_THAT(CheckMessage(request).message(),
              HasSubstr("destination_province must be a UBIGEO province"));
  request.set_destination_province("0812");
  EXPECT_TRUE(CheckMessage(request).ok());
  request.set_to_region("Cusco");
  EXPECT_THAT(CheckMessage(request).message(),
              HasSubstr("to_region must be a region slug"));

  // A name may hold digits, not a DNI.
  v1::AddServiceRequest add;
  add.set_provider("cusco/tdh2");
  EXPECT_TRUE(CheckMessage(add).ok());
  add.set_provider("cusco/ong-12345678");
  EXPECT_THAT(CheckMessage(add).message(),
              HasSubstr("provider looks like it holds a long number"));
  add.set_provider("tdh");
  EXPECT_THAT(CheckMessage(add).message(),
              HasSubstr("provider must be a partner id"));

  // An element of a list is never optional.
  v1::GetAggregateCountsRequest counts;
  counts.add_tables("");
  EXPECT_THAT(CheckMessage(counts).message(),
              HasSubstr("tables[0] must be a name"));
}

TEST(FirewallTest, BytesAreCappedInLengthOnly) {
  v1::ExchangeRequest exchange;
  v1::EventBatch* batch = exchange.mutable_batch();
  batch->add_events(std::string(64 * 1024, '\0'));
  batch->set_signature(std::string(64, '\xff'));
  EXPECT_TRUE(CheckMessage(exchange).ok());
  batch->add_events(std::string(64 * 1024 + 1, '1'));
  EXPECT_EQ(CheckMessage(exchange).message(),
            "batch.events[1] has 65537 bytes; at most 65536 are allowed");

  v1::PutCrlRequest crl;
  crl.add_crls_der(std::string(512 * 1024, '\x30'));
  EXPECT_TRUE(CheckMessage(crl).ok());
}

}  // namespace
}  // namespace ruta::api
