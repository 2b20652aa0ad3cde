// browser_guard.hpp: requests a browser makes for a page of another site
// (a cross-origin POST, a DNS-rebinding name) are refused; those of the
// server's own pages and of clients that are not browsers pass.

#include "browser_guard.hpp"

#include <doctest/doctest.h>

using conflux::server::foreign_browser_request;

TEST_CASE("browser guard: no Origin (curl, the nodes, conflux-bench) passes") {
  CHECK(foreign_browser_request("", "127.0.0.1:7001", "http", true).empty());
  CHECK(foreign_browser_request("", "", "http", true).empty());
  CHECK(foreign_browser_request("", "node1.example:7001", "https", false).empty());
}

TEST_CASE("browser guard: the server's own origin passes, any other is refused by name") {
  CHECK(foreign_browser_request("http://127.0.0.1:7001", "127.0.0.1:7001", "http", true).empty());
  CHECK(foreign_browser_request("https://[::1]:7001", "[::1]:7001", "https", true).empty());
  CHECK(foreign_browser_request("http://evil.example", "127.0.0.1:7001", "http", true) ==
        "a page of another origin (http://evil.example) sent it");
  CHECK_FALSE(foreign_browser_request("null", "127.0.0.1:7001", "http", true).empty());
  CHECK_FALSE(foreign_browser_request("https://127.0.0.1:7001", "127.0.0.1:7001", "http", true)
                  .empty());  // another scheme is another origin
  CHECK_FALSE(foreign_browser_request("http://127.0.0.1:7001", "", "http", true).empty());
  CHECK_FALSE(
      foreign_browser_request("http://x127.0.0.1:7001", "127.0.0.1:7001", "http", true).empty());
}

TEST_CASE("browser guard: on loopback, only this machine's names are served (DNS rebinding)") {
  CHECK(foreign_browser_request("", "localhost:7001", "http", true).empty());
  CHECK(foreign_browser_request("", "127.0.0.2", "http", true).empty());
  CHECK(foreign_browser_request("", "[::1]:7001", "http", true).empty());
  CHECK(foreign_browser_request("", "::1", "http", true).empty());  // bare, as some clients send
  CHECK(foreign_browser_request("", "LocalHost.:7001", "http", true).empty());
  CHECK(foreign_browser_request("", "app.localhost:7001", "http", true).empty());  // rfc 6761
  CHECK_FALSE(foreign_browser_request("", "localhost.evil.example", "http", true).empty());
  CHECK(foreign_browser_request("http://rebound.example:7001", "rebound.example:7001", "http",
                                true) ==
        "it names the host \"rebound.example:7001\", not this machine (DNS rebinding?)");
  // Beyond loopback the names vary; the token guards such a server.
  CHECK(foreign_browser_request("http://node1.example:7001", "node1.example:7001", "http", false)
            .empty());
}
