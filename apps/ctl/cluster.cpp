#include "cluster.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <thread>

namespace conflux::ctl {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string authorization(const Connection& connection) {
  return connection.token.empty() ? std::string() : "Bearer " + connection.token;
}

/// The error body's {"code", "retryable"}, or {"", false}.
std::pair<std::string, bool> error_of(const Reply& reply) {
  boost::system::error_code ec;
  const auto body = json::parse(reply.body, ec);
  if (ec || !body.is_object()) return {"", false};
  const auto* code = body.get_object().if_contains("code");
  const auto* retryable = body.get_object().if_contains("retryable");
  return {code && code->is_string() ? std::string(code->get_string()) : "",
          retryable && retryable->is_bool() && retryable->get_bool()};
}

/// 503 "closed": the node shut down before it knew the outcome.
bool closing(const Reply& reply) {
  return reply.status == 503 && error_of(reply).first == "closed";
}

}  // namespace

bool retry_elsewhere(const Reply& reply) {
  if (reply.reach != Reply::Reach::answered || reply.status == 504 || closing(reply)) return true;
  return reply.status >= 400 && error_of(reply).second;
}

bool unknown_outcome(const Reply& reply) {
  if (reply.reach == Reply::Reach::sent) return true;
  return reply.reach == Reply::Reach::answered && (reply.status == 504 || closing(reply));
}

Outcome Cluster::ask_one(const std::string& endpoint, const Request& request) const {
  auto sent = request;
  if (const auto bearer = authorization(connection_); !bearer.empty())
    sent.headers.emplace_back("Authorization", bearer);
  Outcome outcome{false, endpoint, exchange(connection_, endpoint, sent, connection_.timeout), {}};
  outcome.answered = outcome.reply.reach == Reply::Reach::answered;
  if (!outcome.answered) outcome.problems = endpoint + ": " + outcome.reply.problem;
  return outcome;
}

Outcome Cluster::ask(const Request& request, bool repeatable) {
  const auto& endpoints = connection_.endpoints;
  const auto deadline = Clock::now() + 2 * connection_.timeout;
  Outcome last;
  std::string problems;
  for (std::size_t attempt = 0;; ++attempt) {
    const auto at = (next_ + attempt) % endpoints.size();
    last = ask_one(endpoints[at], request);
    if (!retry_elsewhere(last.reply)) {
      next_ = at;
      return last;
    }
    const auto why = last.answered ? endpoints[at] + ": " + last.reply.body : last.problems;
    if (problems.find(why) == std::string::npos) problems += (problems.empty() ? "" : "; ") + why;
    if (unknown_outcome(last.reply) && !repeatable) {
      last.problems = why + " (it may or may not have been done)";
      return last;
    }
    if (Clock::now() >= deadline) break;
    // A whole round without an answer: the cluster may be electing.
    if ((attempt + 1) % endpoints.size() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  last.problems = problems;
  return last;
}

Outcome Cluster::perform(const std::string& method, const json::array& args) {
  // The session outlives every retry of this call (within 3 × --timeout:
  // the last attempt starts before 2 × --timeout) by a minute.
  const auto idle = 3 * connection_.timeout + std::chrono::minutes(1);
  const json::object settings{{"idle_timeout_ms", idle.count()}};
  auto opened = ask({"POST", "/sessions", json::serialize(settings)});
  if (!opened.answered || opened.reply.status != 200) return opened;
  boost::system::error_code ec;
  const auto session = json::parse(opened.reply.body, ec);
  const auto* client =
      !ec && session.is_object() ? session.get_object().if_contains("client") : nullptr;
  if (!client || !client->is_number()) {
    opened.answered = false;
    opened.problems = opened.endpoint + ": POST /sessions answered " + opened.reply.body;
    return opened;
  }
  const Request call{"POST",
                     "/perform/" + method,
                     json::serialize(args),
                     {{"Conflux-Client", json::serialize(*client)}, {"Conflux-Seq", "1"}}};
  return ask(call, true);
}

}  // namespace conflux::ctl
