// Every invalid option is refused, with a message naming the option and the rule.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>

using namespace conflux;

namespace {

transport::InProcessNetwork network;

Options valid() {
  Options options;
  options.id = "a";
  options.peers = {{"a", ""}, {"b", ""}};
  options.channel = InProcessChannelOptions{&network};
  options.reduce = [](const boost::json::value& s, const boost::json::value&) { return s; };
  return options;
}

std::string error_of(const Options& options) {
  const auto errors = options.validate();
  return errors.empty() ? std::string() : errors.front();
}

}  // namespace

TEST_CASE("options: a valid set passes") {
  CHECK(valid().validate().empty());
}

TEST_CASE("options: each broken rule names its option") {
  auto o = valid();
  o.id = "";
  CHECK(error_of(o) == "\"id\" must not be empty");
  o = valid();
  o.peers.push_back({"b", ""});
  CHECK(error_of(o) == "\"peers\" lists \"b\" twice");
  o = valid();
  o.id = "z";
  CHECK(error_of(o) == "\"id\" (\"z\") must be one of \"peers\"");
  o = valid();
  o.peers.clear();
  CHECK(error_of(o) == "\"peers\" must list at least one node");
  o = valid();
  o.reduce = nullptr;
  CHECK(error_of(o) == "a reducer is required: set \"reduce\" or \"reduce_in_place\"");
  o.reduce_in_place = [](boost::json::value&, const boost::json::value&) {};
  CHECK(error_of(o).empty());
  o = valid();
  o.reduce_in_place = [](boost::json::value&, const boost::json::value&) {};
  CHECK(error_of(o) == "\"reduce\" and \"reduce_in_place\" exclude each other: set one");
  o = valid();
  o.election_timeout = {std::chrono::milliseconds(500), std::chrono::milliseconds(300)};
  CHECK(error_of(o) ==
        "\"election_timeout.max\" must be larger than or equal to \"election_timeout.min\"");
  o = valid();
  o.heartbeat_interval = std::chrono::milliseconds(300);
  CHECK(error_of(o) == "\"heartbeat_interval\" must be smaller than \"election_timeout.min\"");
  o = valid();
  o.channel = TcpChannelOptions{"127.0.0.1:0", "c"};
  CHECK(error_of(o) == "\"peers\": \"b\" needs an address for the tcp channel");
  o = valid();
  o.channel = std::monostate{};
  CHECK(error_of(o) ==
        "\"channel\" must be chosen: InProcessChannelOptions, TcpChannelOptions, "
        "WebSocketChannelOptions or RedisChannelOptions");
  o = valid();
  o.channel = WebSocketChannelOptions{"http://h:1/c"};
  CHECK(error_of(o) ==
        "\"channel\": hub URL \"http://h:1/c\" is not ws://host:port/<cluster> or "
        "wss://host:port/<cluster>");
  o = valid();
  o.channel = RedisChannelOptions{"redis://h:1", "a:b"};
  CHECK(error_of(o) == "\"channel\": the Redis cluster name must be non-empty, without ':'");
  o.channel = RedisChannelOptions{"redis:/h"};
  CHECK(error_of(o) ==
        "\"channel\": Redis URL \"redis:/h\": must start with redis:// (rediss:// and unix "
        "sockets are not supported)");
  o.channel = RedisChannelOptions{"redis://h", "c", 1000};
  CHECK(error_of(o) == "\"channel\": the Redis max_in_flight_bytes must be at least 64 KiB");
  o = valid();
  o.read_lease.max_clock_drift = 0.5;
  CHECK(error_of(o) == "\"read_lease.max_clock_drift\" must be at least 0 and below 0.5");
  o = valid();
  o.perform_timeout = std::chrono::milliseconds(-1);
  CHECK(error_of(o) == "\"perform_timeout\" must not be negative");
  o = valid();
  o.methods["m"] = nullptr;
  CHECK(error_of(o) == "\"methods\": \"m\" has no function");
}

TEST_CASE("options: the node refuses invalid options with every message") {
  boost::asio::io_context io;
  auto o = valid();
  o.id = "";
  o.reduce = nullptr;
  try {
    Node node(io.get_executor(), o);
    FAIL("no exception");
  } catch (const std::invalid_argument& error) {
    const std::string what = error.what();
    CHECK(what.find("\"id\" must not be empty") != std::string::npos);
    CHECK(what.find("a reducer is required") != std::string::npos);
  }
}
