#include "ruta/web/http.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ruta::web {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

std::string UrlDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::multimap<std::string, std::string> ParseFormMulti(absl::string_view body) {
  std::multimap<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    out.emplace(UrlDecode(kv.first), UrlDecode(kv.second));
  }
  return out;
}

std::map<std::string, std::string> ParseForm(absl::string_view body) {
  std::map<std::string, std::string> out;
  for (auto& [name, value] : ParseFormMulti(body)) out[name] = value;
  return out;
}

std::string Cookie(const httplib::Request& req, absl::string_view name) {
  for (size_t i = 0, n = req.get_header_value_count("Cookie"); i < n; ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    for (absl::string_view part : absl::StrSplit(header, ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
        return std::string(part);
      }
    }
  }
  return "";
}

void NoStore(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
}

void SetSecurityHeaders(httplib::Server& server, bool secure) {
  httplib::Headers headers = {
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Frame-Options", "DENY"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
  if (secure) {
    headers.emplace("Strict-Transport-Security", "max-age=31536000");
  }
  server.set_default_headers(headers);
}

void ServeStatic(httplib::Server& server, const std::string& path,
                 std::string content, const std::string& type) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(content.data()),
                     content.size(), nullptr, 0);
  std::string etag = "\"";
  for (unsigned char b : digest) etag += absl::StrFormat("%02x", b);
  etag += "\"";
  auto body = std::make_shared<const std::string>(std::move(content));
  server.Get(path, [body, etag, type](const httplib::Request& req,
                                      httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.set_content(*body, type.c_str());
  });
}

std::string CookieAttributes(bool secure) {
  return secure ? "; HttpOnly; SameSite=Strict; Secure"
                : "; HttpOnly; SameSite=Strict";
}

absl::Status SplitHostPort(const std::string& address, std::string* host,
                           int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", address, "' must be host:port (e.g. 127.0.0.1:8443)"));
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  int p = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p < 0 || p > 65535 ||
      h.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", address, "' must be host:port with a port 0-65535"));
  }
  *host = h;
  *port = p;
  return absl::OkStatus();
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  return false;
}

absl::StatusOr<std::string> ReadWebFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("web file ", path, " is missing or unreadable"));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::unique_ptr<httplib::Server>> MakeWebServer(
    const WebServerOptions& options) {
  const bool secure = !options.tls_cert_file.empty();
  std::unique_ptr<httplib::Server> server;
  if (secure) {
    auto ssl = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot load the HTTPS certificate ",
                       options.tls_cert_file, " or key ", options.tls_key_file,
                       " (PEM files, the key matching the certificate)"));
    }
    server = std::move(ssl);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  SetSecurityHeaders(*server, secure);
  server->set_payload_max_length(16 * 1024);
  server->set_tcp_nodelay(true);
  const auto timeout = absl::ToChronoMicroseconds(options.io_timeout);
  server->set_read_timeout(timeout);
  server->set_write_timeout(timeout);
  for (const std::string& file : options.static_files) {
    absl::StatusOr<std::string> content =
        ReadWebFile(absl::StrCat(options.web_root, "/", file));
    if (!content.ok()) return content.status();
    ServeStatic(*server, absl::StrCat("/", file), *std::move(content),
                absl::EndsWith(file, ".js") ? "text/javascript; charset=utf-8"
                                            : "text/css; charset=utf-8");
  }
  // No icon: answered without a body rather than with a 404.
  server->Get("/favicon.ico", [](const httplib::Request&,
                                 httplib::Response& res) { res.status = 204; });
  return server;
}

absl::StatusOr<int> BindServer(httplib::Server& server, const std::string& host,
                               int port) {
  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host.c_str());
  } else if (!server.bind_to_port(host.c_str(), port)) {
    bound = 0;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port,
                     " (address in use, or not an address of this machine)"));
  }
  return bound;
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out.flush()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write the port file ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':  // never "</script>" or "<!--" in a JSON document
        out += "\\u003c";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace ruta::web
