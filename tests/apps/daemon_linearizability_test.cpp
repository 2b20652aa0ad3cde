// Linearizability of conflux-node under faults, checked by our own checker
// (tests/support/linearizability.hpp): concurrent clients put, append, cas
// (its refusals are reads too) and read (POST /query/get?consistency=
// linearizable) a few keys on random nodes of a 3-node cluster while a
// nemesis kills (-9), pauses and restarts nodes. Appends run in each
// client's session: one whose answer is lost is sent again with the same
// sequence number until answered, and must be applied once. The history must be linearizable, final
// reads included, so no acknowledged write may be missing.
//
// CONFLUX_NEMESIS_SECONDS sets how long the faults last (30 by default);
// CONFLUX_TEST_SEED replays a run's choices.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <conflux/raft/random.hpp>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "apps/daemon_cluster.hpp"
#include "apps/http_client.hpp"
#include "apps/kv_workload.hpp"
#include "apps/poll_until.hpp"
#include "support/linearizability.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;
using Kind = KvOperation::Kind;
using Clock = std::chrono::steady_clock;

constexpr std::size_t keys = 4;
constexpr auto request_timeout = std::chrono::milliseconds(4000);  // above --perform-timeout

std::chrono::seconds nemesis_seconds() {
  const char* text = std::getenv("CONFLUX_NEMESIS_SECONDS");
  return std::chrono::seconds(text ? std::stoll(text) : 30);
}

/// The history, shared by the clients; times in microseconds since start.
class Recorder {
 public:
  std::uint64_t now() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count());
  }
  void add(KvOperation op) {
    std::lock_guard lock(mutex_);
    history_.push_back(std::move(op));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return history_.size();
  }
  std::vector<KvOperation> history() const {
    std::lock_guard lock(mutex_);
    return history_;
  }

 private:
  Clock::time_point start_ = Clock::now();
  mutable std::mutex mutex_;
  std::vector<KvOperation> history_;
};

/// What a perform's answer says: done, certainly not done (a refusal, or
/// 503 retryable: nothing was proposed), or unknown.
enum class Answer { done, not_done, unknown };

Answer answer_of(const HttpReply& reply) {
  if (reply.status == 200) return Answer::done;
  if (reply.status == 0) {
    return reply.failure == HttpFailure::connect ? Answer::not_done : Answer::unknown;
  }
  if (reply.status == 504) return Answer::unknown;
  return Answer::not_done;  // 4xx refusals and 503 retryable: nothing appended
}

std::optional<std::string> as_value(const json::value& value) {
  if (value.is_null()) return std::nullopt;
  return std::string(value.as_string());
}

json::value as_json(const std::optional<std::string>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

/// A client session of its own, opened on any node that answers (nullopt
/// if none does before `stop`).
std::optional<std::string> open_session(const std::vector<std::uint16_t>& ports,
                                        raft::Random& random, const std::atomic<bool>& stop) {
  while (!stop) {
    const auto reply = http_request(ports[random.uniform(0, ports.size() - 1)], "POST", "/sessions",
                                    "", request_timeout);
    if (reply.status == 200) {
      return std::to_string(json::parse(reply.body).at("client").to_number<std::uint64_t>());
    }
  }
  return std::nullopt;
}

/// An append in the client's session: asked again, of random nodes, with
/// the same sequence number, until the session answers (a success or a
/// refusal) or the clients stop. An attempt that reached no leader (503)
/// proves nothing once an earlier one may have been applied: it is asked
/// again too, and the append ends unknown (504) if the clients stop first.
/// Exactly-once makes the retries safe; were it broken, the text would hold
/// the value twice and the checker would say so.
HttpReply append_in_session(const std::vector<std::uint16_t>& ports, raft::Random& random,
                            const std::string& body, const HttpHeaders& session,
                            const std::atomic<bool>& stop) {
  bool maybe_applied = false;
  for (;;) {
    const auto port = ports[random.uniform(0, ports.size() - 1)];
    auto reply = http_request(port, "POST", "/perform/append", body, request_timeout, session);
    const bool answered = reply.status == 200 || (reply.status >= 400 && reply.status < 500);
    if (answered) return reply;
    maybe_applied = maybe_applied || answer_of(reply) == Answer::unknown;
    if (stop) {
      if (maybe_applied) reply.status = 504;
      return reply;
    }
  }
}

/// One client: one request at a time to a random node.
void run_client(std::size_t client, const std::vector<std::uint16_t>& ports, std::uint64_t seed,
                Recorder& recorder, const std::atomic<bool>& stop) {
  raft::Random random(seed + client);
  const auto session = open_session(ports, random, stop);
  std::uint64_t session_seq = 0;
  std::vector<std::optional<std::string>> last_read(keys);
  for (std::uint64_t seq = 0; !stop; ++seq) {
    const auto port = ports[random.uniform(0, ports.size() - 1)];
    const auto k = random.uniform(0, keys - 1);
    KvOperation op;
    op.key = "k" + std::to_string(k);
    op.client = client;
    const auto value = "c" + std::to_string(client) + "." + std::to_string(seq) + ";";
    std::string target;
    json::array args{json::value(op.key)};
    switch (const auto choice = random.uniform(0, 3)) {
      case 0:
      case 1:
        op.kind = choice == 0 ? Kind::put : Kind::append;
        op.input = value;
        target = choice == 0 ? "/perform/put" : "/perform/append";
        args.push_back(json::value(value));
        break;
      case 2:
        op.kind = Kind::cas;
        op.expected = last_read[k];
        op.input = value;
        target = "/perform/cas";
        args.push_back(as_json(op.expected));
        args.push_back(json::value(value));
        break;
      default:
        op.kind = Kind::get;
        target = "/query/get?consistency=linearizable";
        break;
    }
    op.call = recorder.now();
    HttpReply reply;
    if (op.kind == Kind::append && session) {
      const auto n = std::to_string(++session_seq);
      const HttpHeaders headers{
          {"Conflux-Client", *session}, {"Conflux-Seq", n}, {"Conflux-Ack", n}};
      reply = append_in_session(ports, random, json::serialize(args), headers, stop);
    } else {
      reply = http_request(port, "POST", target, json::serialize(args), request_timeout);
    }
    op.ret = recorder.now();
    const auto answer = answer_of(reply);
    if (op.kind == Kind::get) {
      if (answer != Answer::done) continue;  // a failed read changes nothing
      op.output = as_value(json::parse(reply.body).at("result"));
      last_read[k] = op.output;
    } else if (op.kind == Kind::cas && reply.status == 409) {
      op.ok = false;  // refused: a read that found another value (observations.cpp)
    } else if (answer == Answer::not_done) {
      continue;  // nothing was appended
    } else if (answer == Answer::unknown) {
      op.ret = KvOperation::open;
    }
    recorder.add(std::move(op));
  }
}

/// The nemesis: one fault at a time on one node, never two nodes down at
/// once, each lasting until the clients have recorded a few hundred more
/// operations (or 3 s, when the fault stalls them), then healed.
void run_nemesis(DaemonCluster& cluster, const Recorder& recorder, std::uint64_t seed,
                 std::chrono::seconds duration) {
  raft::Random random(seed);
  const auto end = Clock::now() + duration;
  while (Clock::now() < end) {
    const auto victim = random.uniform(0, cluster.size() - 1);
    const auto until = recorder.size() + 100 + random.uniform(0, 900);
    const auto last = [&] {
      poll_until([&] { return recorder.size() >= until; }, std::chrono::seconds(3));
    };
    switch (random.uniform(0, 2)) {
      case 0:
        cluster.process(victim).kill();
        last();
        cluster.start(victim);
        break;
      case 1:
        cluster.process(victim).pause();
        last();
        cluster.process(victim).resume();
        break;
      default:
        last();  // a quiet spell
        break;
    }
    REQUIRE(cluster.wait_for_leader(std::chrono::seconds(15)));
  }
}

/// Runs the clients and the nemesis against 3 nodes started with `flags`
/// for `seconds`, then checks the history.
void check_under_nemesis(const std::vector<std::string>& flags, std::chrono::seconds seconds) {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  DaemonCluster cluster(3, flags);
  Recorder recorder;
  {
    INFO(cluster.logs());  // for a failure in this block only: MESSAGE would print it too
    REQUIRE(cluster.wait_for_leader());
    std::atomic<bool> stop{false};
    std::vector<std::jthread> clients;
    const auto ports = cluster.http_ports();
    for (std::size_t c = 0; c < 6; ++c) {
      clients.emplace_back([&, c] { run_client(c, ports, seed, recorder, stop); });
    }
    run_nemesis(cluster, recorder, seed, seconds);
    stop = true;
    clients.clear();  // joined

    // Final reads, after every fault: each acknowledged write must show.
    REQUIRE(cluster.wait_for_same_state(std::chrono::seconds(20)));
    for (std::size_t k = 0; k < keys; ++k) {
      KvOperation op{Kind::get, "k" + std::to_string(k), {}, {}, {}, true, recorder.now(), 0, 99};
      const auto reply =
          http_request(cluster.http_port(k % 3), "POST", "/query/get?consistency=linearizable",
                       json::serialize(json::array{json::value(op.key)}));
      REQUIRE_MESSAGE(reply.status == 200, reply);
      op.output = as_value(json::parse(reply.body).at("result"));
      op.ret = recorder.now();
      recorder.add(std::move(op));
    }
  }
  const auto history = recorder.history();
  std::size_t acknowledged = 0, reads = 0;
  for (const auto& op : history) {
    acknowledged += op.kind != Kind::get && op.ret != KvOperation::open;
    reads += op.kind == Kind::get;
  }
  MESSAGE(history.size(), " operations: ", acknowledged, " acknowledged writes, ", reads,
          " linearizable reads");
  CHECK(acknowledged > 100);
  CHECK(reads > 100);
  const auto result = check_linearizable(history);
  CHECK_MESSAGE(result.linearizable, "key " << result.key << " is not linearizable:\n"
                                            << result.explanation);
}

}  // namespace

TEST_CASE("linearizable under kill -9 and pauses: puts, appends, cas and linearizable reads") {
  check_under_nemesis({}, nemesis_seconds());
}

// Pauses last up to 3 s, far past the lease (about 230 ms here): a leader
// resumed from one must not answer a read from its old lease.
TEST_CASE("linearizable under kill -9 and pauses, with reads served from leader leases") {
  check_under_nemesis({"--read-lease"}, nemesis_seconds() / 2);
}

}  // namespace conflux::test
