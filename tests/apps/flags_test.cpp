// conflux-node's command line: every flag, and every way to get one wrong.

#include "flags.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace conflux;
using conflux::daemon::FlagError;
using conflux::daemon::parse_flags;

namespace {

std::vector<std::string> base() {
  return {"--id", "a", "--listen", "127.0.0.1:7001", "--http", "127.0.0.1:8001"};
}

std::vector<std::string> with(std::vector<std::string> extra) {
  auto args = base();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_flags(args);
  } catch (const FlagError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("flags: defaults, and this node added to the peers with its listen address") {
  const auto flags = parse_flags(with({"--peer", "b=10.0.0.2:7001"}));
  CHECK(flags.app == "kv");
  CHECK(flags.data_dir == "./a.conflux");
  CHECK_FALSE(flags.in_memory);
  CHECK(flags.fsync == storage::FsyncPolicy::always);
  CHECK(flags.election_min.count() == 300);
  CHECK(flags.log_level == LogLevel::info);
  REQUIRE(flags.peers.size() == 2);
  CHECK(flags.peers[1].id == "a");
  CHECK(flags.peers[1].address == "127.0.0.1:7001");
}

TEST_CASE("flags: every valued flag, in both spellings") {
  const auto flags = parse_flags(with({"--peer=a=h:1",
                                       "--peer",
                                       "b=[::1]:2",
                                       "--app",
                                       "counter",
                                       "--data-dir=/d",
                                       "--election-timeout",
                                       "150-300",
                                       "--heartbeat=30",
                                       "--perform-timeout",
                                       "900",
                                       "--http-timeout",
                                       "500",
                                       "--max-body",
                                       "1024",
                                       "--log-level",
                                       "debug",
                                       "--fsync",
                                       "never",
                                       "--cluster",
                                       "c"}));
  CHECK(flags.peers.size() == 2);  // a is listed: not added again
  CHECK(flags.peers[1].address == "[::1]:2");
  CHECK(flags.app == "counter");
  CHECK(flags.data_dir == "/d");
  CHECK(flags.election_min.count() == 150);
  CHECK(flags.election_max.count() == 300);
  CHECK(flags.heartbeat.count() == 30);
  CHECK(flags.perform_timeout.count() == 900);
  CHECK(flags.http_timeout.count() == 500);
  CHECK(flags.max_body == 1024);
  CHECK(flags.log_level == LogLevel::debug);
  CHECK(flags.fsync == storage::FsyncPolicy::never);
  CHECK(flags.cluster == "c");
}

TEST_CASE("flags: --read-lease turns lease reads on, with the clock drift they assume") {
  CHECK_FALSE(parse_flags(base()).read_lease.enabled);
  const auto flags = parse_flags(with({"--read-lease", "--max-clock-drift", "0.2"}));
  CHECK(flags.read_lease.enabled);
  CHECK(flags.read_lease.max_clock_drift == doctest::Approx(0.2));
  CHECK(error_of(with({"--read-lease=yes"})) == "--read-lease takes no value");
  for (const char* bad : {"0.5", "-0.1", "x", "0.1x", ""}) {
    CAPTURE(bad);
    CHECK(error_of(with({"--max-clock-drift", bad})) ==
          std::string("--max-clock-drift: \"") + bad + "\" is not a fraction in [0, 0.5)");
  }
}

TEST_CASE("flags: --help and --version stop parsing where they appear") {
  CHECK_THROWS_AS(parse_flags({"--bogus", "--help"}), FlagError);
  CHECK(parse_flags({"--help", "--bogus"}).help);
  CHECK(parse_flags({"-h"}).help);
  CHECK(parse_flags({"--version"}).version);
}

TEST_CASE("flags: each mistake is named") {
  CHECK(error_of({"--bogus"}) == "unknown flag \"--bogus\"");
  CHECK(error_of({"--listen", "127.0.0.1:1", "--http", "127.0.0.1:2"}) == "--id is required");
  CHECK(error_of({"--id", "a", "--http", "127.0.0.1:2"}) ==
        "--listen is required (or --channel ws)");
  CHECK(error_of({"--id", "a", "--listen", "127.0.0.1:2"}) == "--http is required");
  CHECK(error_of({"--id"}) == "--id needs a value");
  CHECK(error_of(with({"--listen", "nonsense"})) == "--listen: \"nonsense\" is not host:port");
  CHECK(error_of(with({"--http", "h:99999"})) == "--http: \"h:99999\" is not host:port");
  CHECK(error_of(with({"--peer", "b"})) == "--peer: \"b\" is not id=host:port");
  CHECK(error_of(with({"--peer", "b=h:1", "--peer", "b=h:2"})) == "--peer: \"b\" is given twice");
  CHECK(error_of(with({"--app", "chess"})) ==
        "--app: \"chess\" is not one of kv, counter, list, tictactoe, bench-noop, "
        "bench-counter, bench-map, bench-map-copy");
  CHECK(error_of(with({"--election-timeout", "300"})) ==
        "--election-timeout: \"300\" is not MIN-MAX in ms (e.g. 300-500)");
  CHECK(error_of(with({"--election-timeout", "500-300"})) ==
        "--election-timeout: MAX must not be below MIN in \"500-300\"");
  CHECK(error_of(with({"--heartbeat", "x"})) == "--heartbeat: \"x\" is not a whole number");
  CHECK(error_of(with({"--heartbeat", "0"})) == "--heartbeat: 0 ms is out of range (1 to 3600000)");
  CHECK(error_of(with({"--heartbeat", "400"})) ==
        "--heartbeat must be below the election timeout's MIN");
  CHECK(error_of(with({"--log-level", "loud"})) ==
        "--log-level: \"loud\" is not one of error, warning, info, debug");
  CHECK(error_of(with({"--fsync", "sometimes"})) ==
        "--fsync: \"sometimes\" is not always or never");
  CHECK(error_of(with({"--in-memory=yes"})) == "--in-memory takes no value");
  CHECK(error_of(with({"--in-memory", "--data-dir", "/d"})) ==
        "--in-memory and --data-dir exclude each other");
  CHECK(error_of(with({"--max-body", "0"})) == "--max-body: must be positive");
  CHECK(error_of(with({"--channel", "udp"})) == "--channel: \"udp\" is not tcp, ws or redis");
  CHECK(error_of(with({"--channel", "ws"})) == "--channel ws needs --hub");
  CHECK(error_of(with({"--channel", "redis"})) == "--channel redis needs --redis");
  CHECK(error_of(with({"--redis", "redis://h:99999"})) ==
        "--redis: Redis URL \"redis://h:99999\": the port must be a number from 1 to 65535");
  CHECK(error_of(with({"--channel", "redis", "--redis", "redis://h", "--cluster", "a:b"})) ==
        "--channel redis: --id and --cluster must not contain ':'");
  CHECK(error_of(with({"--hub", "ws://h:1"})) ==
        "--hub: hub URL \"ws://h:1\" is not ws://host:port/<cluster> or wss://host:port/<cluster>");
}

TEST_CASE("flags: over Redis, peers are ids and --listen is not needed") {
  const auto flags = parse_flags({"--id", "a", "--http", "127.0.0.1:0", "--peer", "b", "--channel",
                                  "redis", "--redis", "redis://:pw@127.0.0.1:6379/2"});
  CHECK(flags.channel == "redis");
  CHECK(flags.redis == "redis://:pw@127.0.0.1:6379/2");
  CHECK(flags.redis_in_flight == 4 << 20);
  CHECK(parse_flags({"--id", "a", "--http", "127.0.0.1:0", "--channel", "redis", "--redis",
                     "redis://h", "--redis-in-flight", "65536"})
            .redis_in_flight == 65536);
  REQUIRE(flags.peers.size() == 2);
  CHECK(flags.peers[0].id == "b");
  CHECK(flags.peers[1].address.empty());
}

TEST_CASE("flags: over a WebSocket hub, peers are ids and --listen is not needed") {
  const auto flags =
      parse_flags({"--id", "a", "--http", "127.0.0.1:0", "--peer", "b", "--channel", "ws", "--hub",
                   "ws://127.0.0.1:9000/prod", "--ws-hub", "127.0.0.1:9000"});
  CHECK(flags.channel == "ws");
  CHECK(flags.hub == "ws://127.0.0.1:9000/prod");
  CHECK(flags.ws_hub == "127.0.0.1:9000");
  REQUIRE(flags.peers.size() == 2);
  CHECK(flags.peers[0].id == "b");
  CHECK(flags.peers[1].id == "a");
  CHECK(flags.peers[1].address.empty());
}

TEST_CASE("flags: an address without a host is on loopback") {
  const auto flags = parse_flags({"--id", "a", "--listen", "7001", "--http", ":8001"});
  CHECK(flags.listen == "127.0.0.1:7001");
  CHECK(flags.http == "127.0.0.1:8001");
  CHECK(flags.peers.front().address == "127.0.0.1:7001");
}

TEST_CASE("flags: security, and each way to get it wrong") {
  CHECK(error_of(with({"--tls-cert", "a.pem"})) ==
        "--tls-cert, --tls-key and --tls-ca go together: give all three or none");
  CHECK(error_of(with({"--tls-cert", "/nonexistent/a.pem", "--tls-key", "/nonexistent/a.key",
                       "--tls-ca", "/nonexistent/ca.pem"}))
            .starts_with("the TLS certificate /nonexistent/a.pem: "));
  CHECK(error_of(with({"--public-reads"})) ==
        "--public-reads needs --token-file (without a token every request is served)");
  CHECK(error_of(with({"--token-file", "/nonexistent/token"})) ==
        "--token-file: cannot read /nonexistent/token");
  CHECK(error_of(with({"--insecure=1"})) == "--insecure takes no value");
  const auto file = std::filesystem::temp_directory_path() / "conflux-flags-test-token";
  std::ofstream(file) << "has&an#ampersand-and-more\n";
  CHECK(error_of(with({"--token-file", file.string()})) ==
        "--token-file: the token in " + file.string() +
            " must be one line of at least 16 characters, each a letter, a digit or one of "
            "-._~+/=");
  std::ofstream(file) << "c2VjcmV0LXRva2VuLWZvci10ZXN0cw==\n";
  CHECK(parse_flags(with({"--token-file", file.string()})).token ==
        "c2VjcmV0LXRva2VuLWZvci10ZXN0cw==");
  std::filesystem::remove(file);
  const auto flags = parse_flags(with({"--insecure"}));
  CHECK(flags.insecure);
  CHECK_FALSE(flags.tls.enabled());
  CHECK(flags.token.empty());
}
