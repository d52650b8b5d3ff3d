// Small HTTP helpers shared by the web clients (ruta-dashboard,
// ruta-console): HTML escaping, form and cookie parsing, the security
// headers every response carries, and listen-address parsing. No state.
#ifndef RUTA_WEB_HTTP_H_
#define RUTA_WEB_HTTP_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ruta::web {

// Content-Security-Policy of every page: scripts, styles and connections to
// the serving origin only, no framing, forms posting only to the origin.
inline constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
    "data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// `text` with & < > " ' replaced by entities (safe in element content and in
// quoted attribute values).
std::string HtmlEscape(absl::string_view text);

// A JSON string literal (quotes included), escaping as RFC 8259 requires
// and "<" as \u003c (never "</script>" in a document).
std::string JsonString(absl::string_view text);

// application/x-www-form-urlencoded decoding of one component ('+' is a
// space; a malformed %-escape is kept as is).
std::string UrlDecode(absl::string_view text);

// Fields of an application/x-www-form-urlencoded body. A repeated name keeps
// its last value (ParseFormMulti keeps them all).
std::map<std::string, std::string> ParseForm(absl::string_view body);
std::multimap<std::string, std::string> ParseFormMulti(absl::string_view body);

// The value of cookie `name` in the request's Cookie headers; "" if absent.
std::string Cookie(const httplib::Request& req, absl::string_view name);

// Cache-Control: no-store (and Pragma for old proxies): for every response
// that carries data or a token.
void NoStore(httplib::Response& res);

// Sets the default headers of `server`: the CSP above, X-Frame-Options DENY,
// nosniff, no referrer, same-origin opener, and HSTS when `secure`.
void SetSecurityHeaders(httplib::Server& server, bool secure);

// Serves `content` at GET `path` with `type`, revalidated on each use
// (Cache-Control: no-cache) against a strong ETag (a hash of the content):
// a browser that holds the file gets "304 Not Modified" without a body, so
// the script and stylesheet cross a slow link once per upgrade, not once
// per page. `content` is copied.
void ServeStatic(httplib::Server& server, const std::string& path,
                 std::string content, const std::string& type);

// Cookie attributes: "; HttpOnly; SameSite=Strict" and "; Secure" when
// `secure` (HTTPS).
std::string CookieAttributes(bool secure);

// Splits "host:port" or "[v6]:port". INVALID_ARGUMENT when malformed.
absl::Status SplitHostPort(const std::string& address, std::string* host,
                           int* port);

// Whether `host` is a loopback address: 127.0.0.0/8, ::1 or "localhost".
bool IsLoopbackHost(const std::string& host);

// How a web client's server is made (MakeWebServer).
struct WebServerOptions final {
  // HTTPS certificate chain and key (PEM); both empty = plain HTTP (the
  // caller checked that this is allowed).
  std::string tls_cert_file;
  std::string tls_key_file;
  // The folder of the static files, and their names, each served at
  // "/<name>" (ServeStatic); no data in them.
  std::string web_root;
  std::vector<std::string> static_files;
  // Read and write timeout of a connection.
  absl::Duration io_timeout = absl::Seconds(10);
};

// An HTTP(S) server ready for a web client's routes: the security headers
// (SetSecurityHeaders), bodies up to 16 KiB, TCP_NODELAY (headers and body
// leave in separate writes: without it Nagle's algorithm and the client's
// delayed ACK hold each answer ~40 ms), the static files, and an empty
// answer for /favicon.ico. FAILED_PRECONDITION when the certificate or key
// cannot be loaded or a static file is missing.
absl::StatusOr<std::unique_ptr<httplib::Server>> MakeWebServer(
    const WebServerOptions& options);

// The whole content of a file of the web root; FAILED_PRECONDITION naming
// it when it is missing or unreadable.
absl::StatusOr<std::string> ReadWebFile(const std::string& path);

// Binds `server` to host:port (port 0: any free port) and returns the port
// bound. UNAVAILABLE naming the address when it cannot be bound (in use, or
// not an address of this machine).
absl::StatusOr<int> BindServer(httplib::Server& server, const std::string& host,
                               int port);

// Writes `port` and a newline to `path` atomically (temporary file + rename):
// tests and scripts read back the port a server chose.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace ruta::web

#endif  // RUTA_WEB_HTTP_H_
