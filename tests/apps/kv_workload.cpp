#include "apps/kv_workload.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <map>
#include <sstream>

#include "apps/http_client.hpp"
#include "apps/poll_until.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

// Above the nodes' --perform-timeout (2 s), so that the node answers first.
constexpr std::chrono::milliseconds request_timeout{4000};

std::string put_key(std::size_t client, std::uint64_t seq) {
  return "c" + std::to_string(client) + "-" + std::to_string(seq);
}

std::string log_key(std::size_t client) {
  return "log-c" + std::to_string(client);
}

/// What a write's outcome allows: must it be there, must it be absent?
void expect_presence(const Write& write, bool present, const std::string& what,
                     std::vector<std::string>& problems) {
  const bool must = write.outcome == Outcome::acknowledged;
  const bool must_not =
      write.outcome == Outcome::not_committed || write.outcome == Outcome::not_delivered;
  if ((must && !present) || (must_not && present) || write.outcome == Outcome::unexpected) {
    problems.push_back(what + (present ? " is present" : " is missing") + " but the answer was " +
                       write.detail);
  }
}

/// The "<seq>," tokens of one client's append log, in order.
std::vector<std::uint64_t> appended(const json::value& state, std::size_t client) {
  std::vector<std::uint64_t> seqs;
  const auto* log = state.is_object() ? state.get_object().if_contains(log_key(client)) : nullptr;
  if (!log || !log->is_string()) return seqs;
  std::istringstream in{std::string(log->get_string())};
  for (std::string token; std::getline(in, token, ',');) seqs.push_back(std::stoull(token));
  return seqs;
}

void check_client(std::size_t client, const std::vector<Write>& writes, const json::value& state,
                  std::vector<std::string>& problems) {
  const auto log = appended(state, client);
  std::map<std::uint64_t, const Write*> appends;
  for (const auto& write : writes) {
    if (write.seq % 2 == 0) {
      const auto key = put_key(client, write.seq);
      const auto* value = state.is_object() ? state.get_object().if_contains(key) : nullptr;
      if (value && *value != write.seq)
        problems.push_back(key + " holds " + json::serialize(*value));
      expect_presence(write, value != nullptr, "put " + key, problems);
    } else {
      appends[write.seq] = &write;
      const bool present = std::find(log.begin(), log.end(), write.seq) != log.end();
      expect_presence(
          write, present,
          "append " + std::to_string(write.seq) + " of client " + std::to_string(client), problems);
    }
  }
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (!appends.count(log[i]) || (i > 0 && log[i] <= log[i - 1]))
      problems.push_back(log_key(client) + " holds " + std::to_string(log[i]) +
                         " out of order or never sent");
  }
}

}  // namespace

Outcome classify(const HttpReply& reply) {
  if (reply.status == 200) return Outcome::acknowledged;
  if (reply.status == 0)
    return reply.failure == HttpFailure::connect ? Outcome::not_delivered : Outcome::unknown;
  boost::system::error_code ec;
  const auto body = json::parse(reply.body, ec);
  if (ec || !body.is_object()) return Outcome::unexpected;
  const auto* code = body.get_object().if_contains("code");
  const auto* retryable = body.get_object().if_contains("retryable");
  if (reply.status == 503 && retryable && *retryable == true) return Outcome::not_committed;
  if (reply.status == 504 && code && (*code == "timeout" || *code == "outcome_unknown"))
    return Outcome::unknown;
  return Outcome::unexpected;
}

KvWorkload::KvWorkload(std::vector<std::uint16_t> http_ports, std::size_t clients,
                       std::uint64_t seed)
    : ports_(std::move(http_ports)), seed_(seed), in_flight_(ports_.size()), writes_(clients) {
  for (std::size_t k = 0; k < clients; ++k) {
    threads_.emplace_back([this, k](std::stop_token stop) { run(k, stop); });
  }
}

std::size_t KvWorkload::pick(std::mt19937_64& random) {
  for (;;) {
    std::vector<std::size_t> allowed;
    const auto avoided = avoided_.load();
    for (std::size_t i = 0; i < ports_.size(); ++i) {
      if (!(avoided & (1U << i))) allowed.push_back(i);
    }
    const auto i = allowed.empty() ? random() % ports_.size() : allowed[random() % allowed.size()];
    // Counted first, then checked again: drain() either sees this request
    // in flight or this client sees the node avoided.
    ++in_flight_[i];
    if (allowed.empty() || !(avoided_.load() & (1U << i))) return i;
    --in_flight_[i];
  }
}

bool KvWorkload::drain(std::size_t i, std::chrono::milliseconds timeout) {
  avoid(i);
  return poll_until([&] { return in_flight_[i].load() == 0; }, timeout);
}

void KvWorkload::run(std::size_t client, std::stop_token stop) {
  std::mt19937_64 random(seed_ + client);
  for (std::uint64_t seq = 0; !stop.stop_requested(); ++seq) {
    const auto node = pick(random);
    const auto port = ports_[node];
    json::array args;
    if (seq % 2 == 0) {
      args = {json::value(put_key(client, seq)), json::value(seq)};
    } else {
      args = {json::value(log_key(client)), json::value(std::to_string(seq) + ",")};
    }
    const std::string target = seq % 2 == 0 ? "/perform/put" : "/perform/append";
    const auto reply = http_request(port, "POST", target, json::serialize(args), request_timeout);
    --in_flight_[node];
    std::ostringstream detail;
    detail << reply << " from port " << port;
    const auto outcome = classify(reply);
    writes_[client].push_back(Write{seq, outcome, reply.status, detail.str()});
    if (outcome == Outcome::acknowledged) ++acknowledged_;
  }
}

bool KvWorkload::wait_for_progress(std::uint64_t count, std::chrono::milliseconds timeout) const {
  const auto target = acknowledged() + count;
  return poll_until([&] { return acknowledged() >= target; }, timeout);
}

void KvWorkload::stop() {
  for (auto& thread : threads_) thread.request_stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::vector<std::string> KvWorkload::problems(const json::value& state) const {
  std::vector<std::string> found;
  for (std::size_t k = 0; k < writes_.size(); ++k) check_client(k, writes_[k], state, found);
  return found;
}

std::vector<Write> KvWorkload::unacknowledged() const {
  std::vector<Write> failed;
  for (const auto& writes : writes_) {
    for (const auto& write : writes) {
      if (write.outcome != Outcome::acknowledged) failed.push_back(write);
    }
  }
  return failed;
}

std::vector<KvWorkload::Failures> KvWorkload::failures_per_client() const {
  std::vector<Failures> counts;
  for (const auto& writes : writes_) {
    Failures failures;
    for (const auto& write : writes) {
      if (write.outcome != Outcome::not_committed && write.outcome != Outcome::unknown) continue;
      ++(write.status == 0 ? failures.lost : failures.answered);
    }
    counts.push_back(failures);
  }
  return counts;
}

std::string KvWorkload::summary() const {
  std::ostringstream out;
  for (std::size_t k = 0; k < writes_.size(); ++k) {
    out << "client " << k << ": " << writes_[k].size() << " writes;";
    for (const auto& write : writes_[k]) {
      if (write.outcome != Outcome::acknowledged)
        out << " [" << write.seq << ": " << write.detail << ']';
    }
    out << '\n';
  }
  return out.str();
}

std::uint64_t test_seed() {
  if (const char* text = std::getenv("CONFLUX_TEST_SEED")) return std::stoull(text);
  return std::random_device{}();
}

void check_every_write(const KvWorkload& workload, const json::value& state) {
  INFO(workload.summary());
  for (const auto& problem : workload.problems(state)) FAIL_CHECK(problem);
  CHECK_FALSE(workload.problems(json::object{}).empty());  // the checker can fail
}

}  // namespace conflux::test
