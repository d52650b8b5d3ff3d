#include "ruta/web/http.h"

#include <httplib.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace ruta::web {
namespace {

TEST(HttpTest, EscapesHtml) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
}

TEST(HttpTest, ParsesForms) {
  std::map<std::string, std::string> form =
      ParseForm("a=1&b=Madre+de+Dios&c=%C3%B1&c=last&d=%zz&e");
  EXPECT_EQ(form["a"], "1");
  EXPECT_EQ(form["b"], "Madre de Dios");
  EXPECT_EQ(form["c"], "last");
  EXPECT_EQ(form["d"], "%zz");
  EXPECT_EQ(form.count("e"), 1u);
  std::multimap<std::string, std::string> multi = ParseFormMulti("s=1&s=2&t=3");
  EXPECT_EQ(multi.count("s"), 2u);
}

TEST(HttpTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.org"));
  EXPECT_FALSE(IsLoopbackHost("::"));
}

TEST(HttpTest, SplitHostPort) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(SplitHostPort("[::1]:8443", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  EXPECT_FALSE(SplitHostPort("host:99999", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":80", &host, &port).ok());
}

TEST(HttpTest, StaticFilesAreRevalidatedWithAnETag) {
  httplib::Server server;
  ServeStatic(server, "/app.js", "console.log(1);", "text/javascript");
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  httplib::Client client("127.0.0.1", port);
  auto first = client.Get("/app.js");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "console.log(1);");
  EXPECT_EQ(first->get_header_value("Cache-Control"), "no-cache");
  const std::string etag = first->get_header_value("ETag");
  EXPECT_EQ(etag.size(), 34u);  // quoted 128-bit hex digest
  auto again = client.Get("/app.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto stale = client.Get("/app.js", {{"If-None-Match", "\"other\""}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body, "console.log(1);");
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace ruta::web
