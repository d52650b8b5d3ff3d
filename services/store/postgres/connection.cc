#include "postgres/connection.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ruta/common/status_macros.h"

namespace ruta::store::postgres_internal {
namespace {

// PostgreSQL's type oid of BYTEA.
constexpr unsigned kByteaOid = 17;

// The beginning of a statement's text, to name it in an error. Statement
// texts hold placeholders, never values.
absl::string_view SqlHead(absl::string_view sql) {
  constexpr size_t kMax = 60;
  return sql.size() > kMax ? sql.substr(0, kMax) : sql;
}

// The first line of a server or libpq message, without the "ERROR:" prefix.
std::string FirstLine(absl::string_view message) {
  message = message.substr(0, message.find('\n'));
  for (absl::string_view prefix : {"ERROR:", "FATAL:"}) {
    if (absl::StartsWith(message, prefix)) message.remove_prefix(prefix.size());
  }
  return std::string(absl::StripAsciiWhitespace(message));
}

// Quotes a conninfo value (single quotes, backslash-escaped).
std::string QuoteConninfoValue(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// Percent-encodes everything but unreserved URI characters.
std::string PercentEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string DecodeBytea(absl::string_view text) {
  if (!absl::StartsWith(text, "\\x")) return std::string(text);
  return absl::HexStringToBytes(text.substr(2));
}

}  // namespace

std::string DescribeConninfo(const std::string& conninfo) {
  std::string db;
  std::string host;
  absl::string_view info = conninfo;
  if (absl::StartsWith(info, "postgresql://") ||
      absl::StartsWith(info, "postgres://")) {
    // postgresql://[user[:password]@][host][:port][/dbname][?params]
    info.remove_prefix(info.find("//") + 2);
    absl::string_view rest = info.substr(0, info.find('?'));
    size_t at = rest.rfind('@');
    if (at != absl::string_view::npos) rest.remove_prefix(at + 1);
    size_t slash = rest.find('/');
    host = std::string(rest.substr(0, slash));
    if (slash != absl::string_view::npos) {
      db = std::string(rest.substr(slash + 1));
    }
  } else {
    for (absl::string_view part : absl::StrSplit(info, absl::ByAnyChar(" \t\n"),
                                                 absl::SkipWhitespace())) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(part, absl::MaxSplits('=', 1));
      std::string value(kv.second);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
      }
      if (kv.first == "dbname") db = value;
      if (kv.first == "host" || kv.first == "hostaddr") host = value;
    }
  }
  if (db.empty()) db = "(default)";
  if (host.empty()) host = "(default host)";
  return absl::StrCat("database ", db, " on ", host);
}

std::string RewritePlaceholders(absl::string_view sql,
                                std::vector<int>* slots) {
  // First pass: which N are used.
  struct Placeholder {
    size_t begin;
    size_t end;
    int index;
  };
  std::vector<Placeholder> found;
  bool in_literal = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_literal = !in_literal;
    if (in_literal || c != '?' || i + 1 >= sql.size() ||
        !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) {
      ++j;
    }
    int index = 0;
    if (absl::SimpleAtoi(sql.substr(i + 1, j - i - 1), &index) && index > 0) {
      found.push_back({i, j, index});
    }
    i = j - 1;
  }
  int max_index = 0;
  for (const Placeholder& p : found) max_index = std::max(max_index, p.index);
  slots->assign(static_cast<size_t>(max_index) + 1, 0);
  for (const Placeholder& p : found) (*slots)[static_cast<size_t>(p.index)] = 1;
  int next = 0;
  for (int& slot : *slots) {
    if (slot != 0) slot = ++next;
  }
  std::string out;
  out.reserve(sql.size());
  size_t at = 0;
  for (const Placeholder& p : found) {
    absl::StrAppend(&out, sql.substr(at, p.begin - at), "$",
                    (*slots)[static_cast<size_t>(p.index)]);
    at = p.end;
  }
  absl::StrAppend(&out, sql.substr(at));
  return out;
}

// --- PgStatement
// ----------------------------------------------------------------

PgStatement::PgStatement(PgConnection* connection, std::string name,
                         std::string sql, std::vector<int> slots)
    : connection_(connection),
      name_(std::move(name)),
      sql_(std::move(sql)),
      slots_(std::move(slots)),
      params_(static_cast<size_t>(
          *std::max_element(slots_.begin(), slots_.end()))) {}

PgStatement::~PgStatement() = default;

void PgStatement::Set(int index, std::string value) {
  if (index >= 1 && static_cast<size_t>(index) < slots_.size() &&
      slots_[static_cast<size_t>(index)] == 0) {
    return;  // A placeholder this variant of the statement does not use.
  }
  if (index < 1 || static_cast<size_t>(index) >= slots_.size()) {
    if (bind_status_.ok()) {
      bind_status_ = absl::InternalError(absl::StrCat(
          "postgres: bind: no parameter ", index, " in [", SqlHead(sql_), "]"));
    }
    return;
  }
  params_[static_cast<size_t>(slots_[static_cast<size_t>(index)] - 1)] =
      std::move(value);
}

void PgStatement::Bind(int index, int64_t value) {
  Set(index, absl::StrCat(value));
}

void PgStatement::Bind(int index, absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos && bind_status_.ok()) {
    bind_status_ = absl::InvalidArgumentError(
        absl::StrCat("postgres: bind: a text value contains a NUL byte [",
                     SqlHead(sql_), "]"));
    return;
  }
  Set(index, std::string(value));
}

void PgStatement::BindBlob(int index, absl::string_view bytes) {
  Set(index, absl::StrCat("\\x", absl::BytesToHexString(bytes)));
}

absl::StatusOr<bool> PgStatement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  if (result_ == nullptr) {
    RUTA_ASSIGN_OR_RETURN(
        pqxx::result result,
        connection_->ExecPrepared(name_, sql_, &prepared_generation_, params_));
    result_ = std::make_unique<pqxx::result>(std::move(result));
    row_ = -1;
  }
  ++row_;
  return row_ < static_cast<int64_t>(result_->size());
}

int64_t PgStatement::ColumnInt64(int column) const {
  const pqxx::field field =
      (*result_)[static_cast<pqxx::result::size_type>(row_)]
                [static_cast<pqxx::row::size_type>(column)];
  if (field.is_null()) return 0;
  int64_t value = 0;
  if (!absl::SimpleAtoi(field.c_str(), &value)) return 0;
  return value;
}

std::string PgStatement::ColumnText(int column) const {
  const pqxx::field field =
      (*result_)[static_cast<pqxx::result::size_type>(row_)]
                [static_cast<pqxx::row::size_type>(column)];
  if (field.is_null()) return std::string();
  absl::string_view text(field.c_str(), field.size());
  if (field.type() == kByteaOid) return DecodeBytea(text);
  return std::string(text);
}

std::string PgStatement::ColumnBlob(int column) const {
  const pqxx::field field =
      (*result_)[static_cast<pqxx::result::size_type>(row_)]
                [static_cast<pqxx::row::size_type>(column)];
  if (field.is_null()) return std::string();
  absl::string_view text(field.c_str(), field.size());
  return field.type() == kByteaOid ? DecodeBytea(text) : std::string(text);
}

bool PgStatement::ColumnIsNull(int column) const {
  return (*result_)[static_cast<pqxx::result::size_type>(row_)]
                   [static_cast<pqxx::row::size_type>(column)]
                       .is_null();
}

void PgStatement::Reset() {
  result_.reset();
  row_ = -1;
  for (auto& param : params_) param.reset();
  bind_status_ = absl::OkStatus();
}

// --- PgConnection
// ---------------------------------------------------------------

PgConnection::PgConnection(const PostgresOptions& options)
    : options_(options), description_(DescribeConninfo(options.conninfo)) {}

PgConnection::~PgConnection() {
  statements_.clear();
  Drop();
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(
    const PostgresOptions& options) {
  std::unique_ptr<PgConnection> connection(new PgConnection(options));
  RUTA_RETURN_IF_ERROR(connection->Connect());
  return connection;
}

void PgConnection::Drop() {
  in_transaction_ = false;
  work_.reset();
  connection_.reset();
}

absl::Status PgConnection::Connect() {
  Drop();
  std::string conninfo = options_.conninfo;
  if (!options_.password.empty()) {
    absl::StrAppend(&conninfo, conninfo.empty() ? "" : " ",
                    "password=", QuoteConninfoValue(options_.password));
  }
  if (absl::StartsWith(options_.conninfo, "postgres") &&
      !options_.password.empty()) {
    // A URI takes the password as a query parameter instead.
    conninfo = absl::StrCat(
        options_.conninfo,
        options_.conninfo.find('?') == std::string::npos ? "?" : "&",
        "password=", PercentEncode(options_.password));
  }
  try {
    connection_ = std::make_unique<pqxx::connection>(conninfo);
    work_ = std::make_unique<pqxx::nontransaction>(*connection_);
    // Durable commits, whatever the server's default; notices (e.g. "already
    // exists, skipping") not printed; one time zone for every replica.
    work_->exec(
        "SET synchronous_commit = on; SET client_min_messages = warning; "
        "SET TIME ZONE 'UTC'");
  } catch (const pqxx::sql_error& e) {
    Drop();
    // Authentication and missing databases arrive here on some versions.
    return ConnectError(
        absl::StrCat(FirstLine(e.what()), " (SQLSTATE ", e.sqlstate(), ")"));
  } catch (const std::exception& e) {
    Drop();
    return ConnectError(FirstLine(e.what()));
  }
  ++generation_;
  return absl::OkStatus();
}

absl::Status PgConnection::ConnectError(const std::string& reason) const {
  // libpq rejects a malformed conninfo before trying to connect.
  for (absl::string_view malformed :
       {"invalid connection option", "missing \"=\"",
        "unterminated quoted string", "invalid URI", "invalid integer value"}) {
    if (absl::StrContains(reason, malformed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("postgres: malformed connection string for ",
                       description_, ": ", reason));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("postgres: cannot connect to ", description_, ": ", reason));
}

absl::Status PgConnection::EnsureConnected() {
  if (connection_ != nullptr && connection_->is_open()) return absl::OkStatus();
  return Connect();
}

absl::Status PgConnection::Error(const std::exception& e,
                                 absl::string_view operation) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    Drop();
    return absl::UnavailableError(
        absl::StrCat("postgres: ", operation, ": lost the connection to ",
                     description_, ": ", FirstLine(e.what())));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    // Class 22 (data exception) messages quote the offending input.
    std::string reason = absl::StartsWith(state, "22")
                             ? std::string("invalid value")
                             : FirstLine(e.what());
    std::string message = absl::StrCat("postgres: ", operation, ": ", reason,
                                       " (SQLSTATE ", state, ")");
    if (state == "23505") return absl::AlreadyExistsError(message);
    if (state == "40001" || state == "40P01") {
      return absl::AbortedError(message);
    }
    if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
        state == "57P03") {
      Drop();
      return absl::UnavailableError(message);
    }
    if (absl::StartsWith(state, "53")) {
      return absl::ResourceExhaustedError(message);
    }
    return absl::InternalError(message);
  }
  if (connection_ != nullptr && !connection_->is_open()) Drop();
  return absl::InternalError(
      absl::StrCat("postgres: ", operation, ": ", FirstLine(e.what())));
}

absl::StatusOr<Statement> PgConnection::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    std::vector<int> slots;
    std::string pg_sql = RewritePlaceholders(sql, &slots);
    std::string name = absl::StrCat("ruta_", statements_.size() + 1);
    it = statements_
             .emplace(sql, std::make_unique<PgStatement>(this, std::move(name),
                                                         std::move(pg_sql),
                                                         std::move(slots)))
             .first;
  }
  return Statement(it->second.get());
}

absl::StatusOr<pqxx::result> PgConnection::ExecPrepared(
    const std::string& name, const std::string& sql, int64_t* generation,
    const std::vector<std::optional<std::string>>& params) {
  if (work_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "postgres: not connected to ", description_, " [", SqlHead(sql), "]"));
  }
  try {
    if (*generation != generation_) {
      connection_->prepare(name, sql);
      *generation = generation_;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params) {
      values.push_back(param.has_value() ? param->c_str() : nullptr);
    }
    pqxx::result result =
        work_->exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
    changes_ = static_cast<int64_t>(result.affected_rows());
    return result;
  } catch (const std::exception& e) {
    return Error(e, absl::StrCat("[", SqlHead(sql), "]"));
  }
}

absl::Status PgConnection::Exec(const std::string& sql,
                                absl::string_view operation) {
  if (work_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "postgres: ", operation, ": not connected to ", description_));
  }
  try {
    pqxx::result result = work_->exec(sql);
    changes_ = static_cast<int64_t>(result.affected_rows());
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Error(e, operation);
  }
}

absl::Status PgConnection::Run(const std::string& sql) {
  absl::Status status = Exec(sql, sql);
  // The transaction boundaries this connection is told about.
  if (absl::StartsWith(sql, "COMMIT") ||
      (absl::StartsWith(sql, "ROLLBACK") &&
       !absl::StartsWith(sql, "ROLLBACK TO"))) {
    in_transaction_ = false;
  }
  return status;
}

absl::Status PgConnection::BeginWrite() {
  RUTA_RETURN_IF_ERROR(EnsureConnected());
  // READ COMMITTED whatever the server's default: each statement sees what
  // was committed before it, so after the lock below the writer sees every
  // write of the lock's previous holders (a REPEATABLE READ snapshot would
  // be taken by the lock statement itself, before the wait).
  RUTA_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL READ COMMITTED", "begin"));
  in_transaction_ = true;
  // Writers of every process sharing this database serialize here, until
  // COMMIT or ROLLBACK, as SQLite's single writer does.
  return Exec(
      absl::StrCat("SELECT pg_advisory_xact_lock(", kWriterLockKey, ")"),
      "take the writers' lock");
}

absl::Status PgConnection::BeginRead() {
  RUTA_RETURN_IF_ERROR(EnsureConnected());
  RUTA_RETURN_IF_ERROR(
      Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin read"));
  in_transaction_ = true;
  return absl::OkStatus();
}

}  // namespace ruta::store::postgres_internal
