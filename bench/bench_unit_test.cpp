// The pure parts of conflux-bench: the latency histogram, the HTTP answer
// parser, the command line and the readiness rule.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "bench_flags.hpp"
#include "cluster_ready.hpp"
#include "http_response.hpp"
#include "latency.hpp"

using namespace conflux::bench;

TEST_CASE("every value falls in a bucket whose midpoint is within 1/256 of it") {
  for (std::uint64_t v :
       {0ull, 1ull, 255ull, 256ull, 257ull, 1000ull, 123456ull, 1ull << 40, (1ull << 63) + 12345}) {
    const auto b = LatencyHistogram::bucket_of(v);
    const auto low = LatencyHistogram::bucket_low(b);
    const auto width = LatencyHistogram::bucket_width(b);
    CHECK(low <= v);
    CHECK(v - low < width);
    const double mid = static_cast<double>(low) + static_cast<double>(width) / 2;
    CHECK(std::abs(mid - static_cast<double>(v)) <= std::max(1.0, static_cast<double>(v) / 256));
  }
}

TEST_CASE("quantiles of a histogram stay within 1% of the exact ones") {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(12, 1);  // ~160 us median, long tail
  std::vector<std::uint64_t> samples;
  LatencyHistogram histogram;
  for (int i = 0; i < 100000; ++i) {
    samples.push_back(static_cast<std::uint64_t>(latency(random)));
    histogram.record(samples.back());
  }
  std::sort(samples.begin(), samples.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    const auto exact = static_cast<double>(samples[rank - 1]);
    CHECK(std::abs(static_cast<double>(histogram.quantile(q)) - exact) <= exact * 0.01);
  }
  CHECK(histogram.quantile(1.0) == samples.back());
  CHECK(histogram.max() == samples.back());
  CHECK(histogram.count() == samples.size());
}

TEST_CASE("an empty histogram reports zeros") {
  const LatencyHistogram histogram;
  CHECK(histogram.quantile(0.5) == 0);
  CHECK(histogram.mean() == 0);
}

TEST_CASE("a response head is parsed only once whole, Content-Length in any case") {
  ResponseHead head;
  const std::string answer =
      "HTTP/1.1 503 Service Unavailable\r\nServer: conflux\r\ncontent-LENGTH:  12 "
      "\r\n\r\n{\"code\":\"x\"}";
  CHECK(parse_response_head(answer.substr(0, 40), head) == HeadParse::incomplete);
  REQUIRE(parse_response_head(answer, head) == HeadParse::complete);
  CHECK(head.status == 503);
  CHECK(head.content_length == 12);
  CHECK(head.header_bytes == answer.size() - 12);
}

TEST_CASE("a response without Content-Length or with a bad status line is malformed") {
  ResponseHead head;
  CHECK(parse_response_head("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", head) == HeadParse::malformed);
  CHECK(parse_response_head("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", head) ==
        HeadParse::malformed);
  CHECK(parse_response_head("SSH-2.0\r\n\r\n", head) == HeadParse::malformed);
}

TEST_CASE("a perform request carries the payload as a JSON string argument") {
  const auto body = write_arguments(20);
  CHECK(body.size() == 24);
  CHECK(body.starts_with("[\"abcdefghij"));
  const auto request = perform_request("127.0.0.1:8001", "write", body);
  CHECK(request.starts_with("POST /perform/write HTTP/1.1\r\nHost: 127.0.0.1:8001\r\n"));
  CHECK(request.find("Content-Length: 24\r\n\r\n[\"") != std::string::npos);
  CHECK(request.ends_with("\"]"));
}

TEST_CASE("flags: defaults, both spellings, and clear refusals") {
  const auto flags = parse_bench_flags({"--mode=tcp", "--nodes", "5", "--payload", "1024"});
  CHECK(flags.mode == Mode::tcp);
  CHECK(flags.nodes == 5);
  CHECK(flags.payload == 1024);
  CHECK(flags.duration == 5);
  CHECK_THROWS_WITH_AS(parse_bench_flags({"--nodes", "4"}), doctest::Contains("odd"), FlagError);
  CHECK_THROWS_WITH_AS(parse_bench_flags({"--concurrency", "0"}), doctest::Contains("out of range"),
                       FlagError);
  CHECK_THROWS_WITH_AS(parse_bench_flags({"--payload", "8"}), doctest::Contains("out of range"),
                       FlagError);
  CHECK_THROWS_AS(parse_bench_flags({"--duration", "1", "--count", "5"}), FlagError);
  CHECK_THROWS_AS(parse_bench_flags({"--fsync", "never"}), FlagError);
  CHECK_THROWS_AS(parse_bench_flags({"--mode", "udp"}), FlagError);
  CHECK_THROWS_AS(parse_bench_flags({"--connect", "a:1"}), FlagError);  // needs --mode tcp
  CHECK(parse_bench_flags({"--mode", "tcp", "--connect", "a:1,b:2,c:3"}).nodes == 3);
  CHECK(parse_bench_flags({"--mode", "embedded"}).mode == Mode::embedded);
  CHECK(parse_bench_flags({"--mode", "redis", "--redis-binary", "/usr/bin/redis-server"}).mode ==
        Mode::redis);
  CHECK_THROWS_WITH_AS(parse_bench_flags({"--mode", "tcp", "--redis-binary", "/x"}),
                       "--redis-binary applies to --mode redis only", FlagError);
  CHECK_THROWS_WITH_AS(parse_bench_flags({"--mode", "embedded", "--target", "all"}),
                       doctest::Contains("n1, the leader"), FlagError);
  CHECK_THROWS_AS(parse_bench_flags({"--mode", "embedded", "--connect", "a:1"}), FlagError);
}

namespace {

conflux::NodeStatus status(std::string id, std::string role, std::string leader,
                           std::vector<conflux::PeerProgress> peers = {}) {
  conflux::NodeStatus s;
  s.id = std::move(id);
  s.role = std::move(role);
  s.leader = std::move(leader);
  s.peers = std::move(peers);
  return s;
}

}  // namespace

TEST_CASE("a cluster is ready when every node names the leader and it sees every peer") {
  auto leader = status("n1", "leader", "n1", {{"n2", true, 1}, {"n3", true, 1}});
  const auto follower = status("n2", "follower", "n1");
  const auto lost = status("n3", "follower", "");
  CHECK(ready_leader({follower, leader, follower}) == 1);
  CHECK_FALSE(ready_leader({leader, follower, lost}));
  CHECK_FALSE(ready_leader({leader, follower, std::nullopt}));
  leader.peers[1].connected = false;
  CHECK_FALSE(ready_leader({leader, follower, follower}));
}
