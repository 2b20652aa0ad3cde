#include "join.hpp"

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls_context.hpp>
#include <memory>

#include "http_exchange.hpp"

namespace conflux::daemon {
namespace {

namespace asio = boost::asio;
using transport::as_tuple_awaitable;

/// POST /members to `member`: over HTTPS when this node has certificates
/// (it presents its own, which the member takes for the token).
asio::awaitable<client::HttpAnswer> post_members(const std::string& member, const std::string& body,
                                                 const JoinCredentials& credentials) {
  std::shared_ptr<asio::ssl::context> context;
  if (credentials.tls.enabled()) context = transport::detail::make_tls_context(credentials.tls);
  client::HttpCall call{"POST", "/members", body, {}};
  if (!credentials.token.empty())
    call.headers.emplace_back("Authorization", "Bearer " + credentials.token);
  const std::chrono::milliseconds timeout = std::chrono::seconds(60);  // a voter's catch-up
  co_return co_await client::http_exchange(member, context.get(), std::move(call), timeout);
}

}  // namespace

asio::awaitable<void> ask_to_join(std::string member, std::string id, std::string address,
                                  JoinCredentials credentials, LogSink log) {
  const auto body = boost::json::serialize(
      boost::json::value{{"id", id}, {"address", address}, {"learner", false}});
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (auto wait = std::chrono::seconds(1);; wait = std::min(wait * 2, std::chrono::seconds(10))) {
    const auto answer = co_await post_members(member, body, credentials);
    if (answer.status == 200) {
      log(LogLevel::info, "joined the cluster through " + member);
      co_return;
    }
    if (answer.status >= 400 && answer.status < 500 && answer.status != 409) {
      log(LogLevel::warning, "the cluster did not add this node (" + member + " answered " +
                                 std::to_string(answer.status) + "): " + answer.body);
      co_return;
    }
    const auto why =
        answer.status ? std::to_string(answer.status) + " " + answer.body : answer.problem;
    log(LogLevel::warning, "asking " + member + " to add this node: " + why + "; trying again");
    pause.expires_after(wait);
    co_await pause.async_wait(as_tuple_awaitable);
  }
}

}  // namespace conflux::daemon
