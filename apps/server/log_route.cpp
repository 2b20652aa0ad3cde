// GET /log: the committed entries of this node's log after an index, waiting
// for the next commit when asked (long polling). conflux-ctl watch follows a
// cluster with it.
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <conflux/raft/types.hpp>
#include <conflux/transport/awaitable.hpp>
#include <tuple>

#include "api_replies.hpp"
#include "node_api.hpp"

namespace conflux::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t max_log_bytes = 4 << 20;  ///< of actions in one answer, about

struct LogQuery {
  std::uint64_t after = 0;
  std::uint64_t limit = 1000;
  std::uint64_t wait_ms = 0;
};

std::variant<LogQuery, HttpResponse> log_query_in(std::map<std::string, std::string> params) {
  LogQuery out;
  using Field = std::tuple<std::string, std::uint64_t*, std::uint64_t, std::uint64_t>;
  const std::array<Field, 3> fields{{{"after", &out.after, 0, raft::max_wire_integer},
                                     {"limit", &out.limit, 1, NodeApi::max_log_limit},
                                     {"wait_ms", &out.wait_ms, 0, NodeApi::max_log_wait_ms}}};
  for (const auto& [name, field, min, max] : fields) {
    const auto found = params.find(name);
    if (found == params.end()) continue;
    const auto value = integer_in(found->second, min);
    if (!value || *value > max) {
      return error(400, "bad_query",
                   name + "=" + found->second + " is not an integer from " + std::to_string(min) +
                       " to " + std::to_string(max));
    }
    *field = *value;
    params.erase(found);
  }
  if (!params.empty()) {
    return error(400, "bad_query",
                 "unknown parameter \"" + params.begin()->first + "\"; use after, limit, wait_ms");
  }
  return out;
}

/// {"index", "term", "action"} (null for an entry that carries none: a new
/// leader's no-op, a session's opening), plus "configuration" for a
/// membership entry.
json::value entry_json(const LogEntryView& entry) {
  json::object out{{"index", entry.index}, {"term", entry.term}, {"action", nullptr}};
  boost::system::error_code ec;
  if (!entry.action.empty()) out["action"] = json::parse(entry.action, ec);
  if (!entry.configuration.empty()) out["configuration"] = json::parse(entry.configuration, ec);
  return out;
}

/// Up to `limit` committed entries after `after`, read a few at a time,
/// and no more once they hold max_log_bytes (but at least one): an action
/// may be 8 MiB.
json::array committed_entries(const Node& node, std::uint64_t after, std::uint64_t commit,
                              std::uint64_t limit) {
  json::array out;
  std::size_t bytes = 0;
  for (auto next = after + 1; next <= commit && out.size() < limit && bytes < max_log_bytes;) {
    const auto batch = node.log_entries(next, std::min<std::uint64_t>(64, commit - next + 1));
    if (batch.empty()) break;  // never: the 410 check keeps `next` within the log
    for (const auto& entry : batch) {
      if (out.size() == limit || bytes >= max_log_bytes) break;
      bytes += entry.action.size() + entry.configuration.size();
      out.push_back(entry_json(entry));
      next = entry.index + 1;
    }
  }
  return out;
}

}  // namespace

// ?after=N (default 0), limit=K (1 to max_log_limit, default 1000),
// wait_ms=T (0 to max_log_wait_ms, default 0): up to K committed entries
// from N+1 on (fewer past 4 MiB of actions); with T, waits up to T ms for
// one when there is none yet.
asio::awaitable<HttpResponse> NodeApi::committed_log(const std::string& query) {
  const auto parsed = log_query_in(parameters(query));
  if (const auto* refusal = std::get_if<HttpResponse>(&parsed)) co_return *refusal;
  const auto asked = std::get<LogQuery>(parsed);
  const std::chrono::milliseconds wait(asked.wait_ms);  // named: g++ 12 and co_await
  co_await wait_for_commit_after(asked.after, wait);
  const auto status = node_.status();
  if (asked.after < status.commit && asked.after + 1 < status.first_index) {
    co_return error(410, "compacted",
                    "entries before " + std::to_string(status.first_index) +
                        " are compacted into a snapshot; read GET /state and follow from its "
                        "Conflux-Applied header");
  }
  auto entries = committed_entries(node_, asked.after, status.commit, asked.limit);
  co_return json_response(200, {{"entries", std::move(entries)},
                                {"commit", status.commit},
                                {"first_index", status.first_index}});
}

// Each action applied (one subscription for all) wakes the waiters it
// satisfies, those waiting past an index below the commit: one status() per
// action while anyone waits, none per waiter, so a thousand polls parked far
// ahead cost the commit path nothing more. Configuration entries and no-ops
// wake no one, and show at the next action or when `wait` ends.
// stop_waiting() ends every wait.
asio::awaitable<void> NodeApi::wait_for_commit_after(std::uint64_t after,
                                                     std::chrono::milliseconds wait) {
  if (wait.count() == 0) co_return;
  if (!wakes_waiters_) {
    wakes_waiters_.emplace(node_.subscribe([this](const auto&, const auto&) {
      if (waiters_.empty()) return;
      const auto commit = node_.status().commit;
      for (auto it = waiters_.begin(); it != waiters_.end() && it->first < commit; ++it) {
        it->second->cancel();
      }
    }));
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping_ && node_.status().commit <= after &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_at(deadline);
    const auto parked = waiters_.emplace(after, &timer);
    co_await timer.async_wait(transport::as_tuple_awaitable);
    // (Not in a guard: a frame destroyed with its io_context may outlive this
    // NodeApi, and must not touch it then.)
    waiters_.erase(parked);
  }
}

void NodeApi::stop_waiting() {
  stopping_ = true;
  for (const auto& [after, waiter] : waiters_) waiter->cancel();
}

}  // namespace conflux::server
