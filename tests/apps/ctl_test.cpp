// conflux-ctl against live conflux-node clusters (processes on loopback):
// every command, its table and JSON output, failover across --endpoints
// when a node is killed, and each exit code.

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "apps/answer_dropper.hpp"
#include "apps/daemon_cluster.hpp"
#include "apps/poll_until.hpp"
#include "support/dev_certs.hpp"

using namespace conflux::test;
namespace json = boost::json;

namespace {

struct CtlResult {
  int code = -1;  ///< the exit code; -1 if it did not exit normally in time
  std::string out;
  std::string err;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// conflux-ctl, started with `args`; its output goes to files in the
/// cluster's directory.
class Ctl {
 public:
  Ctl(const DaemonCluster& cluster, const std::vector<std::string>& args)
      : out_(next_path(cluster, "out")),
        err_(next_path(cluster, "err")),
        process_(CONFLUX_CTL_BINARY, args, out_, err_) {}

  /// Waits for it to exit (killed at the deadline).
  CtlResult finish(std::chrono::milliseconds timeout = 30s) {
    const auto status = process_.wait_for_exit(timeout);
    if (!status) process_.kill();
    return {exit_code(status).value_or(-1), read_file(out_), read_file(err_)};
  }
  std::string output_so_far() const { return read_file(out_); }

 private:
  static std::filesystem::path next_path(const DaemonCluster& cluster, const std::string& kind) {
    static int count = 0;
    return cluster.directory() / ("ctl-" + std::to_string(count++) + "." + kind);
  }
  std::filesystem::path out_;
  std::filesystem::path err_;
  ChildProcess process_;
};

std::string endpoints(const DaemonCluster& cluster) {
  std::string list;
  for (const auto port : cluster.http_ports()) {
    list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port);
  }
  return list;
}

CtlResult ctl(const DaemonCluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoints", endpoints(cluster)});
  return Ctl(cluster, args).finish();
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("conflux-ctl: each command against a live cluster, as a table and as JSON") {
  DaemonCluster cluster(3);
  REQUIRE(cluster.wait_for_leader());
  INFO(cluster.logs());

  auto status = ctl(cluster, {"status"});
  CHECK(status.code == 0);
  CHECK(count_of(status.out, "  leader  ") == 1);
  CHECK(count_of(status.out, "  follower  ") == 2);

  CHECK(ctl(cluster, {"put", "greeting", "hello"}).out == "OK\n");
  CHECK(ctl(cluster, {"get", "greeting"}).out == "hello\n");
  CHECK(ctl(cluster, {"get", "absent"}).out.empty());
  CHECK(ctl(cluster, {"perform", "append", "greeting", "\" world\""}).out ==
        "{\"op\":\"append\",\"k\":\"greeting\",\"v\":\" world\"}\n");
  CHECK(ctl(cluster, {"perform", "put", "n", "42"}).code == 0);  // 42 as a number
  const auto all = ctl(cluster, {"-o", "json", "get"});
  CHECK(json::parse(all.out) == json::parse(R"({"greeting":"hello world","n":42})"));
  CHECK(ctl(cluster, {"get", "--consistency", "local"}).out.find("greeting  hello world") !=
        std::string::npos);
  CHECK(json::parse(ctl(cluster, {"state"}).out) == json::parse(all.out));
  CHECK(json::parse(ctl(cluster, {"state", "--provisional"}).out).is_object());

  const auto members = ctl(cluster, {"-o", "json", "members"});
  CHECK(json::parse(members.out).at("voters").as_array().size() == 3);
  CHECK(count_of(ctl(cluster, {"members"}).out, "voter") == 3);

  // Every entry with an action, in order, exactly once.
  const auto watched = ctl(cluster, {"watch", "--from", "0", "--count", "4"});
  CHECK(watched.code == 0);
  CHECK(count_of(watched.out, "\n") == 4);  // the first configuration, then three actions
  CHECK(watched.out.find("\"v\":\"hello\"") < watched.out.find("\"v\":\" world\""));
  const auto watched_json = ctl(cluster, {"-o", "json", "watch", "--from", "0", "--count", "1"});
  CHECK(json::parse(watched_json.out).at("configuration").at("voters").as_array().size() == 3);

  const auto snapshot = ctl(cluster, {"-o", "json", "snapshot"});
  REQUIRE(snapshot.code == 0);
  const auto rows = json::parse(snapshot.out);
  for (const auto& row : rows.as_array()) {
    CHECK(row.at("snapshot_index").to_number<std::uint64_t>() >= 5);
  }
}

TEST_CASE("conflux-ctl: membership changes and leadership transfer") {
  DaemonCluster cluster(3);
  REQUIRE(cluster.wait_for_leader());
  INFO(cluster.logs());
  // n4 waits in join mode, asking an address where nothing listens: only
  // conflux-ctl adds it.
  const auto n4 = cluster.join_through("127.0.0.1:1");
  const auto address = "127.0.0.1:" + std::to_string(cluster.peer_port(n4));
  const auto added = ctl(cluster, {"add", "n4", address, "--learner"});
  CHECK(added.code == 0);
  CHECK(ctl(cluster, {"add", "n4", address, "--learner"}).code == 0);  // again: no change
  CHECK(ctl(cluster, {"members"}).out.find("n4  " + address + "  learner") != std::string::npos);
  CHECK(ctl(cluster, {"promote", "n4"}).code == 0);
  CHECK(count_of(ctl(cluster, {"members"}).out, "voter") == 4);

  CHECK(ctl(cluster, {"transfer", "n4"}).code == 0);
  CHECK(
      poll_until([&] { return cluster.status(n4) && cluster.status(n4)->role == "leader"; }, 10s));
  const auto removed = ctl(cluster, {"remove", "n1"});
  CHECK_MESSAGE(removed.code == 0, removed.err);
  // Removed through its own endpoint: n1 may never learn that its removal
  // committed (thesis §4.2.2), so conflux-ctl settled it by asking the others.
  cluster.process(0).kill();  // as an operator would, once removed
  CHECK(ctl(cluster, {"members"}).out.find("n1 ") == std::string::npos);

  const auto refused = ctl(cluster, {"remove", "n9"});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("membership_refused") != std::string::npos);
}

TEST_CASE("conflux-ctl: fails over across --endpoints when a node is killed") {
  DaemonCluster cluster(3);
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  INFO(cluster.logs());
  // The leader first in the list, and a watch following from there.
  std::vector<std::string> list{"127.0.0.1:" + std::to_string(cluster.http_port(*leader))};
  for (std::size_t i = 0; i < 3; ++i) {
    if (i != *leader) list.push_back("127.0.0.1:" + std::to_string(cluster.http_port(i)));
  }
  const auto leader_first = list[0] + "," + list[1] + "," + list[2];
  const auto from = std::to_string(cluster.status(*leader)->commit);
  Ctl watch(cluster, {"--endpoints", leader_first, "watch", "--from", from, "--count", "4"});
  CHECK(ctl(cluster, {"put", "before", "1"}).code == 0);
  REQUIRE(
      poll_until([&] { return watch.output_so_far().find("before") != std::string::npos; }, 10s));
  cluster.process(*leader).kill();

  for (const auto* key : {"after1", "after2", "after3"}) {
    const auto put = Ctl(cluster, {"--endpoints", leader_first, "put", key, "v"}).finish();
    CHECK_MESSAGE(put.code == 0, put.err);
  }
  const auto watched = watch.finish();
  CHECK(watched.code == 0);
  for (const auto* key : {"before", "after1", "after2", "after3"}) {
    CHECK_MESSAGE(count_of(watched.out, "\"k\":\"" + std::string(key) + "\"") == 1, watched.out);
  }
  const auto get =
      Ctl(cluster, {"--endpoints", leader_first, "-o", "json", "get", "after3"}).finish();
  CHECK(json::parse(get.out).at("result") == "v");

  // status names the dead endpoint and still exits 0: the others answered.
  const auto status = Ctl(cluster, {"--endpoints", leader_first, "status"}).finish();
  CHECK(status.code == 0);
  CHECK(status.out.find("cannot connect") != std::string::npos);
}

TEST_CASE("conflux-ctl: a perform whose answer is lost is sent again elsewhere and applied once") {
  DaemonCluster cluster(3);
  REQUIRE(cluster.wait_for_leader());
  INFO(cluster.logs());
  REQUIRE(ctl(cluster, {"put", "k", "v"}).code == 0);
  // First in the list: an endpoint that passes the perform on to n1 and
  // drops n1's answer.
  AnswerDropper dropper(cluster.http_port(0));
  const auto list = "127.0.0.1:" + std::to_string(dropper.port()) + "," + endpoints(cluster);
  const auto appended =
      Ctl(cluster, {"--endpoints", list, "perform", "append", "k", "+x"}).finish();
  CHECK_MESSAGE(appended.code == 0, appended.err);
  CHECK(dropper.dropped() == 1);
  CHECK(ctl(cluster, {"get", "k"}).out == "v+x\n");
}

TEST_CASE("conflux-ctl over HTTPS: the token or a member's certificate, else refused; --join too") {
  const std::string token = "a-token-for-the-ctl-tests";
  auto& certs = made_once([&](DevCerts& made) {
    made.make("n1 n2 n3 n4");
    std::ofstream(made.path("token")) << token << "\n";
  });
  const auto ca = certs.path("ca.pem").string();
  DaemonClient client;
  client.tls.authority = ca;
  client.token = token;
  DaemonCluster cluster(
      3,
      {"--tls-cert", certs.path("{id}.pem").string(), "--tls-key", certs.path("{id}.key").string(),
       "--tls-ca", ca, "--token-file", certs.path("token").string()},
      client);
  REQUIRE(cluster.wait_for_leader(15s));
  INFO(cluster.logs());

  const auto anonymous = ctl(cluster, {"--cacert", ca, "put", "k", "v"});
  CHECK(anonymous.code == 1);
  CHECK(anonymous.err.find("401 unauthorized") != std::string::npos);
  const auto by_token =
      ctl(cluster, {"--cacert", ca, "--token-file", certs.path("token").string(), "put", "k", "v"});
  CHECK_MESSAGE(by_token.code == 0, by_token.err);
  const auto n1 = certs.files("n1");
  const auto by_member =
      ctl(cluster, {"--cacert", ca, "--cert", n1.certificate, "--key", n1.private_key, "get", "k"});
  CHECK(by_member.out == "v\n");
  // Plain HTTP to an HTTPS port gets no answer from any endpoint.
  const auto plain = ctl(cluster, {"--timeout", "1s", "get", "k"});
  CHECK(plain.code == 3);

  // n4 asks n1, over HTTPS and with the token, to add it (apps/client).
  const auto n4 = cluster.join(0);
  const std::vector<std::string> as_member{
      "--cacert", ca, "--cert", n1.certificate, "--key", n1.private_key, "members"};
  CHECK(poll_until([&] { return count_of(ctl(cluster, as_member).out, "voter") == 4; }, 30s));
  CHECK(cluster.status(n4));
}

TEST_CASE("conflux-ctl: exit codes for usage errors, refusals and an unreachable cluster") {
  DaemonCluster cluster(1);
  REQUIRE(cluster.wait_for_leader());
  const auto bad_command = ctl(cluster, {"frobnicate"});
  CHECK(bad_command.code == 2);
  CHECK(bad_command.err.find("unknown command \"frobnicate\"") != std::string::npos);
  CHECK(ctl(cluster, {"put", "only-a-key"}).code == 2);
  CHECK(ctl(cluster, {"get", "--learner"}).code == 2);
  CHECK(ctl(cluster, {"status", "--timeout", "never"}).code == 2);

  const auto refused = ctl(cluster, {"perform", "cas", "k", "expected", "new"});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("409 method_failed") != std::string::npos);
  CHECK(ctl(cluster, {"perform", "no_such_method"}).code == 1);

  const auto help = ctl(cluster, {"watch", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.starts_with("usage: conflux-ctl watch"));
  CHECK(ctl(cluster, {"help", "put"}).out.starts_with("usage: conflux-ctl put"));

  cluster.process(0).kill();
  const auto gone = ctl(cluster, {"--timeout", "500ms", "get", "k"});
  CHECK(gone.code == 3);
  CHECK(gone.err.find("unavailable") != std::string::npos);
  CHECK(ctl(cluster, {"--timeout", "500ms", "status"}).code == 3);
}
