// conflux-demo --scenario failover: a scripted tour of a leader failure.
#include "failover.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <functional>

#include "status_table.hpp"

namespace conflux::demo {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr auto step_limit = 15s;

using Call = std::pair<std::string, json::array>;  // a method and its arguments

/// Polls `condition` every 20 ms until it holds (true) or `limit` passes.
asio::awaitable<bool> wait_for(const std::function<bool()>& condition,
                               std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(20ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

/// Any running node other than `avoid`.
std::size_t some_running_node(DemoCluster& cluster, std::size_t avoid) {
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i != avoid && cluster.running(i)) return i;
  }
  throw std::runtime_error("no node is running");
}

/// Performs `method` on node `at`, retrying the errors after which a retry
/// is safe (no leader yet, leadership lost). Throws on any other error.
asio::awaitable<json::value> perform(DemoCluster& cluster, std::size_t at, const Call& call,
                                     std::ostream& out) {
  const auto& [method, args] = call;
  for (int attempt = 1;; ++attempt) {
    auto [failure, result] =
        co_await cluster.node(at)->perform(method, args, asio::as_tuple(asio::use_awaitable));
    if (!failure) {
      out << "  " << cluster.id(at) << " <- " << method << json::serialize(args) << " = "
          << json::serialize(result) << '\n';
      co_return result;
    }
    try {
      std::rethrow_exception(failure);
    } catch (const Error& error) {
      if (!error.retryable() || attempt == 5) throw;
      out << "  " << method << " on " << cluster.id(at) << ": " << error.what() << " (retrying)\n";
    }
  }
}

/// wait_for(), throwing when the limit passes. g++ 12 destroys temporaries
/// in a co_await expression too early: callers pass named conditions and a
/// const char*.
asio::awaitable<void> wait_or_throw(const std::function<bool()>& condition, const char* what) {
  const bool held = co_await wait_for(condition, step_limit);
  if (!held) throw std::runtime_error(std::string("timed out waiting for ") + what);
}

}  // namespace

asio::awaitable<bool> run_failover(DemoCluster& cluster, std::ostream& out) {
  out << "1. waiting for a leader, then performing a few actions\n";
  const std::function<bool()> has_leader = [&] { return cluster.leader() >= 0; };
  co_await wait_or_throw(has_leader, "a leader");
  const auto first = static_cast<std::size_t>(cluster.leader());
  const auto client = some_running_node(cluster, first);  // a follower: performs are forwarded
  const std::vector<Call> before = {
      {"put", {"greeting", "hello"}}, {"append", {"greeting", ", world"}}, {"put", {"count", 1}}};
  for (const auto& call : before) co_await perform(cluster, client, call, out);
  out << status_table(cluster);

  out << "2. killing the leader, " << cluster.id(first) << '\n';
  const auto killed_at = std::chrono::steady_clock::now();
  bool killed = false;
  cluster.kill(first, [&] { killed = true; });
  const std::function<bool()> was_killed = [&] { return killed; };
  co_await wait_or_throw(was_killed, "the kill");
  co_await wait_or_throw(has_leader, "a new leader");
  const auto second = static_cast<std::size_t>(cluster.leader());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  out << "   " << cluster.id(second) << " was elected in term "
      << cluster.node(second)->status().term << ", " << took.count() << " ms after the kill\n"
      << status_table(cluster);

  out << "3. performing again\n";
  const Call cas = {"cas", {"count", 1, 2}};
  const Call put = {"put", {"after", "failover"}};
  co_await perform(cluster, some_running_node(cluster, second), cas, out);
  co_await perform(cluster, second, put, out);

  out << "4. restarting " << cluster.id(first) << " on its data directory\n";
  cluster.restart(first);
  const std::function<bool()> caught_up = [&] {
    const auto* leader = cluster.node(second);
    return leader && cluster.node(first)->status().applied >= leader->status().commit &&
           cluster.node(first)->state() == leader->state();
  };
  co_await wait_or_throw(caught_up, "the restarted node to catch up");
  out << "   " << cluster.id(first) << " caught up to index "
      << cluster.node(first)->status().applied << '\n'
      << status_table(cluster);

  out << "5. comparing the state of every node\n";
  const json::value expected = {{"greeting", "hello, world"}, {"count", 2}, {"after", "failover"}};
  bool agree = true;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto& state = cluster.node(i)->state();
    out << "   " << cluster.id(i) << ": " << json::serialize(state) << '\n';
    agree = agree && state == expected;
  }
  out << (agree ? "every node holds the same state: failover scenario passed\n"
                : "the nodes disagree: failover scenario FAILED\n");
  co_return agree;
}

}  // namespace conflux::demo
