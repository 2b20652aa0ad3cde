// perform() takes any Asio completion token.

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::value;
namespace asio = boost::asio;

namespace {

asio::awaitable<void> append_twice(Node& node, std::vector<value>& results, std::string& error) {
  const boost::json::array args{"awaited"};  // g++ 12: no braced list inside co_await
  results.push_back(co_await node.perform("append", args, asio::use_awaitable));
  try {
    const boost::json::array none;
    co_await node.perform("refuse", none, asio::use_awaitable);
  } catch (const Error& e) {
    error = e.what();
  }
}

}  // namespace

TEST_CASE("tokens: use_awaitable returns the action and throws conflux::Error") {
  NodeCluster c(1, Wire::in_process);
  std::vector<value> results;
  std::string error;
  bool done = false;
  asio::co_spawn(c.io, append_twice(c.node(0), results, error),
                 [&](std::exception_ptr) { done = true; });
  REQUIRE(run_until(c.io, [&] { return done; }));
  REQUIRE(results.size() == 1);
  CHECK(results[0].at("append") == "awaited");
  CHECK(error == "It is not your turn!");
}

TEST_CASE("tokens: use_future") {
  NodeCluster c(1, Wire::in_process);
  auto future = c.node(0).perform("append", {"future"}, asio::use_future);
  REQUIRE(run_until(
      c.io, [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }));
  CHECK(future.get().at("append") == "future");
  auto failing = c.node(0).perform("refuse", {}, asio::use_future);
  REQUIRE(run_until(c.io, [&] {
    return failing.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }));
  CHECK_THROWS_AS(failing.get(), Error);
}

TEST_CASE("tokens: deferred runs only when started") {
  NodeCluster c(1, Wire::in_process);
  auto operation = c.node(0).perform("append", {"deferred"}, asio::deferred);
  c.io.restart();
  c.io.poll();
  CHECK(c.node(0).state().as_array().empty());
  Result result;
  std::move(operation)(result.handler());
  REQUIRE(run_until(c.io, [&] { return result.done; }));
  CHECK(result.value.at("append") == "deferred");
}

TEST_CASE("tokens: a plain callback") {
  NodeCluster c(1, Wire::in_process);
  Result result;
  c.node(0).perform("append", {"callback"}, result.handler());
  REQUIRE(run_until(c.io, [&] { return result.done; }));
  CHECK_FALSE(result.error);
}
