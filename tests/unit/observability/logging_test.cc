// JSON log lines: shape, escaping of anything a message may hold, fields;
// each line is parsed back with protobuf's JSON parser.
#include "ruta/observability/logging.h"

#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/support/log.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"

namespace ruta::observability {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Formats one message as the JSON formatter does (logger `name`).
std::string Format(absl::string_view payload,
                   spdlog::level::level_enum level = spdlog::level::info,
                   absl::string_view name = "") {
  spdlog::details::log_msg msg(
      spdlog::string_view_t(name.data(), name.size()), level,
      spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  JsonLogFormatter().format(msg, buf);
  return std::string(buf.data(), buf.size());
}

// Parses one JSON object; fails the test when it is not one.
google::protobuf::Struct Parse(const std::string& line) {
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &out);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << line;
  return out;
}

std::string Field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "<missing>";
  return it->second.string_value();
}

TEST(JsonLogFormatterTest, ShapeOfOneLine) {
  const absl::Time before = absl::Now();
  const std::string line = Format("node started", spdlog::level::warn);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  google::protobuf::Struct s = Parse(line);
  EXPECT_EQ(s.fields_size(), 4);
  EXPECT_EQ(Field(s, "level"), "warn");
  EXPECT_EQ(Field(s, "logger"), "ruta");
  EXPECT_EQ(Field(s, "message"), "node started");
  const std::string time = Field(s, "time");
  EXPECT_THAT(time, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                                 "[0-9]{2}[.][0-9]{6}Z"));
  absl::Time parsed;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, time, &parsed, &err)) << err;
  EXPECT_GE(parsed, before - absl::Seconds(1));
  EXPECT_LE(parsed, absl::Now() + absl::Seconds(1));
}

TEST(JsonLogFormatterTest, LevelNamesAndLoggerName) {
  EXPECT_EQ(Field(Parse(Format("m", spdlog::level::err)), "level"), "error");
  EXPECT_EQ(Field(Parse(Format("m", spdlog::level::debug)), "level"), "debug");
  EXPECT_EQ(Field(Parse(Format("m", spdlog::level::critical)), "level"),
            "critical");
  EXPECT_EQ(Field(Parse(Format("m", spdlog::level::info, "grpc")), "logger"),
            "grpc");
}

TEST(JsonLogFormatterTest, EscapesQuotesBackslashesAndControls) {
  const std::string message =
      std::string("a \"quoted\" \\path\\ \n\r\t end ") + '\0' + "\x01\x1b\x7f";
  const std::string line = Format(message);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_THAT(line, HasSubstr(R"(\"quoted\")"));
  EXPECT_THAT(line, HasSubstr(R"(\\path\\)"));
  EXPECT_THAT(line, HasSubstr(R"(\u0000\u0001\u001b\u007f)"));
  EXPECT_EQ(Field(Parse(line), "message"), message);
}

TEST(JsonLogFormatterTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Field(Parse(Format("Madre de Dios: Ñaupa, 日本, 😀")), "message"),
            "Madre de Dios: Ñaupa, 日本, 😀");
  // A lone continuation byte, a truncated sequence, an overlong encoding of
  // '/', a surrogate, a code point above U+10FFFF, 0xff.
  for (const std::string& bad :
       {std::string("a\x80z"), std::string("a\xc3"), std::string("a\xc0\xafz"),
        std::string("a\xed\xa0\x80z"), std::string("a\xf4\x90\x80\x80z"),
        std::string("a\xffz")}) {
    const std::string line = Format(bad);
    const std::string message = Field(Parse(line), "message");
    EXPECT_THAT(message, HasSubstr("\xef\xbf\xbd")) << line;  // U+FFFD
    EXPECT_EQ(message.front(), 'a');
  }
}

TEST(JsonLogFormatterTest, RandomBytesAlwaysGiveOneValidLine) {
  std::mt19937 random(20261129);
  for (int i = 0; i < 2000; ++i) {
    std::string payload(random() % 64, '\0');
    for (char& c : payload) c = static_cast<char>(random() % 256);
    const std::string line = Format(payload);
    ASSERT_EQ(line.find('\n'), line.size() - 1) << i;
    google::protobuf::Struct s = Parse(line);
    ASSERT_TRUE(s.fields().count("message")) << i;
    ASSERT_TRUE(s.fields().count("time")) << i;
  }
}

TEST(JsonLogFormatterTest, FieldsBecomeMembers) {
  const std::string line = Format(EncodeFields(
      "rpc finished", {{"request_id", "0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b"},
                       {"method", "CaseOffice.GetCase"},
                       {"code", "OK"},
                       {"peer", "spiffe://cusco.ruta.pe/office/a \"b\""}}));
  google::protobuf::Struct s = Parse(line);
  EXPECT_EQ(s.fields_size(), 8);
  EXPECT_EQ(Field(s, "message"), "rpc finished");
  EXPECT_EQ(Field(s, "request_id"), "0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b");
  EXPECT_EQ(Field(s, "method"), "CaseOffice.GetCase");
  EXPECT_EQ(Field(s, "code"), "OK");
  EXPECT_EQ(Field(s, "peer"), "spiffe://cusco.ruta.pe/office/a \"b\"");
}

TEST(JsonLogFormatterTest, FieldsCannotReplaceTheLineOwnKeys) {
  // Reserved and malformed keys are dropped when encoding...
  google::protobuf::Struct s = Parse(Format(EncodeFields(
      "m", {{"message", "forged"}, {"level", "x"}, {"Bad Key", "v"}})));
  EXPECT_EQ(s.fields_size(), 4);
  EXPECT_EQ(Field(s, "message"), "m");
  EXPECT_EQ(Field(s, "level"), "info");
  // ... and a payload that only looks encoded is a message, whole.
  const std::string forged =
      "m\x1dmessage\x1f"
      "forged";
  s = Parse(Format(forged));
  EXPECT_EQ(s.fields_size(), 4);
  EXPECT_EQ(Field(s, "message"), forged);
  const std::string twice = "m\x1dkey\x1fone\x1ekey\x1ftwo";
  EXPECT_EQ(Field(Parse(Format(twice)), "message"), twice);
  // Only this process's marker starts fields: a guessed one is text.
  const std::string guessed =
      "m\x1d"
      "0123456789abcdef\x1d"
      "code\x1fOK";
  s = Parse(Format(guessed));
  EXPECT_EQ(s.fields_size(), 4);
  EXPECT_EQ(Field(s, "message"), guessed);
  // An encoded payload's fields, then text around them, is text too.
  const std::string encoded = EncodeFields("m", {{"code", "OK"}});
  EXPECT_EQ(Parse(Format(encoded)).fields_size(), 5);
  EXPECT_EQ(Parse(Format(encoded + "\x1fx")).fields_size(), 4);
}

TEST(JsonLogFormatterTest, SeparatorsInValuesAreNeutralized) {
  google::protobuf::Struct s =
      Parse(Format(EncodeFields("m\x1d", {{"request_id",
                                           "a\x1e"
                                           "b\x1f"
                                           "c"}})));
  EXPECT_EQ(Field(s, "message"), "m ");
  EXPECT_EQ(Field(s, "request_id"), "a b c");
}

// The whole path: ConfigureLogging, LogWithFields and gRPC core's log, into
// a captured sink, each line parsed back.
TEST(LoggingTest, JsonLinesFromSpdlogAndGrpcCore) {
  auto out = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("", sink));
  LoggingOptions options;
  options.format = LogFormat::kJson;
  options.level = spdlog::level::debug;
  ConfigureLogging(options);
  ASSERT_TRUE(JsonLogging());

  gpr_log_verbosity_init();  // what grpc_init does (GRPC_VERBOSITY)
  spdlog::info("plain {}", "line");
  LogWithFields(spdlog::level::debug, "rpc finished",
                {{"request_id", "call-00000000000000ff"}, {"code", "OK"}});
  gpr_log(GPR_ERROR, "core says %s", "\"hi\"");
  spdlog::trace("not logged below debug");

  std::vector<std::string> lines =
      absl::StrSplit(out->str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << out->str();
  google::protobuf::Struct plain = Parse(lines[0]);
  EXPECT_EQ(Field(plain, "message"), "plain line");
  EXPECT_EQ(Field(plain, "logger"), "ruta");
  google::protobuf::Struct rpc = Parse(lines[1]);
  EXPECT_EQ(Field(rpc, "level"), "debug");
  EXPECT_EQ(Field(rpc, "request_id"), "call-00000000000000ff");
  EXPECT_EQ(Field(rpc, "code"), "OK");
  google::protobuf::Struct core = Parse(lines[2]);
  EXPECT_EQ(Field(core, "logger"), "grpc");
  EXPECT_EQ(Field(core, "level"), "error");
  EXPECT_EQ(Field(core, "message"), "core says \"hi\"");
  EXPECT_THAT(Field(core, "file"), HasSubstr("logging_test.cc"));
  EXPECT_NE(Field(core, "line"), "<missing>");

  // Text again: fields follow the message as key=value.
  options.format = LogFormat::kText;
  std::ostringstream text;
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::ostream_sink_mt>(text)));
  ConfigureLogging(options);
  EXPECT_FALSE(JsonLogging());
  LogWithFields(spdlog::level::info, "rpc finished", {{"code", "OK"}});
  EXPECT_THAT(text.str(), HasSubstr("[info] rpc finished code=OK"));
  EXPECT_THAT(text.str(), ::testing::Not(HasSubstr("{\"time\"")));
  spdlog::set_default_logger(previous);
  RouteGrpcLogs();
}

TEST(LoggingTest, ParsesFormatAndLevel) {
  EXPECT_EQ(*ParseLogFormat(""), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_THAT(ParseLogFormat("JSON").status().message(),
              HasSubstr("use \"text\" or \"json\""));
  EXPECT_EQ(*ParseLogLevel(""), spdlog::level::info);
  EXPECT_EQ(*ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*ParseLogLevel("error"), spdlog::level::err);
  EXPECT_EQ(*ParseLogLevel("warn"), spdlog::level::warn);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
}

}  // namespace
}  // namespace ruta::observability
