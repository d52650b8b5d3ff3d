#include "ruta/observability/logging.h"

#include <atomic>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ruta::observability {
namespace {

constexpr char kFieldsStart = '\x1d';
constexpr char kPairSeparator = '\x1e';
constexpr char kKeyValueSeparator = '\x1f';

std::atomic<bool> g_json{false};

// Starts the fields of an EncodeFields payload: the group separator around a
// random token of this process, so that text logged by other means (a
// peer's refusal reason, a certificate's subject) cannot pass for fields.
const std::string& FieldsMarker() {
  static const std::string* marker = [] {
    std::random_device device;
    return new std::string(absl::StrFormat("%c%08x%08x%c", kFieldsStart,
                                           device(), device(), kFieldsStart));
  }();
  return *marker;
}

bool IsFieldKey(absl::string_view key) {
  if (key.empty() || key.size() > 32) return false;
  for (char c : key) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return key != "time" && key != "level" && key != "logger" && key != "message";
}

// Length of the well-formed UTF-8 sequence at the start of `s` (0 if not).
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i, unsigned char lo = 0x80,
                        unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// The fields of an EncodeFields payload; false when it is not one.
bool SplitFields(
    absl::string_view encoded,
    std::vector<std::pair<absl::string_view, absl::string_view>>* fields) {
  if (encoded.empty()) return true;
  for (absl::string_view pair : absl::StrSplit(encoded, kPairSeparator)) {
    const size_t sep = pair.find(kKeyValueSeparator);
    if (sep == absl::string_view::npos) return false;
    absl::string_view key = pair.substr(0, sep);
    absl::string_view value = pair.substr(sep + 1);
    if (!IsFieldKey(key) ||
        value.find(kKeyValueSeparator) != absl::string_view::npos) {
      return false;
    }
    for (const auto& seen : *fields) {
      if (seen.first == key) return false;
    }
    fields->emplace_back(key, value);
  }
  return true;
}

// A field value for EncodeFields: the separators cannot occur in it.
std::string CleanValue(absl::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == kFieldsStart || c == kPairSeparator || c == kKeyValueSeparator) {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

absl::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text.empty() || text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", text, "\" is not a log format; use \"text\" or \"json\""));
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(
    absl::string_view text) {
  if (text.empty()) return spdlog::level::info;
  for (auto level :
       {spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
        spdlog::level::warn, spdlog::level::err, spdlog::level::critical}) {
    if (text == LevelName(level)) return level;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text,
                   "\" is not a log level; use trace, debug, info, warn, "
                   "error or critical"));
}

void AppendJsonString(std::string* out, absl::string_view text) {
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xf]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
    } else {
      out->append(text.data() + i, n);
      i += n;
    }
  }
  out->push_back('"');
}

std::string EncodeFields(absl::string_view message,
                         std::initializer_list<LogField> fields) {
  std::string out = CleanValue(message);
  bool first = true;
  for (const auto& [key, value] : fields) {
    if (!IsFieldKey(key)) continue;
    if (first) {
      out.append(FieldsMarker());
    } else {
      out.push_back(kPairSeparator);
    }
    first = false;
    absl::StrAppend(&out, key);
    out.push_back(kKeyValueSeparator);
    absl::StrAppend(&out, CleanValue(value));
  }
  return out;
}

void LogWithFields(spdlog::level::level_enum level, absl::string_view message,
                   std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(level)) return;
  std::string line;
  if (JsonLogging()) {
    line = EncodeFields(message, fields);
  } else {
    line = std::string(message);
    for (const auto& [key, value] : fields) {
      if (IsFieldKey(key)) absl::StrAppend(&line, " ", key, "=", value);
    }
  }
  logger->log(level, "{}", line);
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg,
                              spdlog::memory_buf_t& dest) {
  const absl::string_view payload(msg.payload.data(), msg.payload.size());
  absl::string_view message = payload;
  std::vector<std::pair<absl::string_view, absl::string_view>> fields;
  const size_t start = payload.find(FieldsMarker());
  if (start != absl::string_view::npos) {
    if (SplitFields(payload.substr(start + FieldsMarker().size()), &fields)) {
      message = payload.substr(0, start);
    } else {
      fields.clear();
    }
  }
  std::string line = "{\"time\":";
  AppendJsonString(
      &line, absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                              absl::FromChrono(msg.time), absl::UTCTimeZone()));
  line.append(",\"level\":");
  AppendJsonString(&line, LevelName(msg.level));
  line.append(",\"logger\":");
  AppendJsonString(&line, msg.logger_name.size() == 0
                              ? absl::string_view("ruta")
                              : absl::string_view(msg.logger_name.data(),
                                                  msg.logger_name.size()));
  line.append(",\"message\":");
  AppendJsonString(&line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendJsonString(&line, key);
    line.push_back(':');
    AppendJsonString(&line, value);
  }
  line.append("}\n");
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

bool JsonLogging() { return g_json.load(std::memory_order_relaxed); }

void ConfigureLogging(const LoggingOptions& options) {
  const bool json = options.format == LogFormat::kJson;
  g_json.store(json, std::memory_order_relaxed);
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  if (json) logger->set_formatter(std::make_unique<JsonLogFormatter>());
  logger->set_level(options.level);
  if (options.route_grpc_logs) RouteGrpcLogs();
}

}  // namespace ruta::observability
