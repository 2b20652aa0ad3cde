// conflux-ctl's command line (apps/ctl/ctl_flags.hpp), without processes.

#include "ctl_flags.hpp"

#include <doctest/doctest.h>

#include "flag_reader.hpp"

using namespace conflux::ctl;
using conflux::cli::FlagError;

TEST_CASE("ctl flags: a command, its arguments and global flags in any order") {
  const auto flags = parse_ctl_flags({"get", "k", "--endpoints", "a:1,b:2", "-o", "json",
                                      "--timeout", "500ms", "--consistency=local"});
  CHECK(flags.command == "get");
  CHECK(flags.args == std::vector<std::string>{"k"});
  CHECK(flags.connection.endpoints == std::vector<std::string>{"a:1", "b:2"});
  CHECK(flags.output == Output::json);
  CHECK(flags.connection.timeout == std::chrono::milliseconds(500));
  CHECK_FALSE(flags.linearizable);
}

TEST_CASE("ctl flags: defaults, and CONFLUX_ENDPOINTS under --endpoints") {
  const auto plain = parse_ctl_flags({"status"});
  CHECK(plain.connection.endpoints == std::vector<std::string>{"127.0.0.1:8001"});
  CHECK(plain.connection.timeout == std::chrono::seconds(5));
  CHECK(plain.output == Output::table);
  CHECK(plain.linearizable);
  CHECK(parse_ctl_flags({"status"}, "x:1,y:2").connection.endpoints ==
        std::vector<std::string>{"x:1", "y:2"});
  CHECK(parse_ctl_flags({"status", "--endpoints", "z:3"}, "x:1").connection.endpoints ==
        std::vector<std::string>{"z:3"});
  CHECK(parse_ctl_flags({"--timeout", "2s", "status"}).connection.timeout ==
        std::chrono::seconds(2));
}

TEST_CASE("ctl flags: a perform's arguments may look like flags when they are numbers") {
  const auto flags = parse_ctl_flags({"perform", "add", "-5", "{\"a\":1}"});
  CHECK(flags.args == std::vector<std::string>{"add", "-5", "{\"a\":1}"});
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"get", "-5"}), "unknown flag -5", FlagError);
}

TEST_CASE("ctl flags: what cannot be run is refused by name") {
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"frob"}), "unknown command \"frob\"", FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"put", "k"}), "put takes put <key> <value>", FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"status", "extra"}), "status takes status", FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"get", "--learner"}), "--learner is not an option of get",
                       FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"watch", "--from=-1"}),
                       "--from takes an integer from 0 to 2^53-1, not \"-1\"", FlagError);
  CHECK_THROWS_AS(parse_ctl_flags({"status", "--timeout", "5h"}), FlagError);
  CHECK_THROWS_AS(parse_ctl_flags({"status", "--timeout", "0s"}), FlagError);
  CHECK_THROWS_AS(parse_ctl_flags({"status", "-o", "yaml"}), FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"status", "--cert", "c.pem"}),
                       "--cert and --key go together", FlagError);
  CHECK_THROWS_AS(parse_ctl_flags({"status", "--cert", "c.pem", "--key", "k.pem"}), FlagError);
  CHECK_THROWS_WITH_AS(parse_ctl_flags({"status", "--endpoints", ","}),
                       "--endpoints names no endpoint", FlagError);
  CHECK_THROWS_AS(parse_ctl_flags({"status", "--token-file", "/nonexistent/token"}), FlagError);
}

TEST_CASE("ctl flags: --help for every command, before its arguments are checked") {
  const auto flags = parse_ctl_flags({"put", "--help"});
  CHECK(flags.help);
  CHECK(flags.command == "put");
  for (const auto* command : {"status", "perform", "get", "put", "state", "watch", "members", "add",
                              "remove", "promote", "transfer", "snapshot", "help"}) {
    CHECK(known_command(command));
    CHECK(command_usage(command).starts_with(std::string("usage: conflux-ctl ") + command));
  }
  CHECK(usage().find("Exit codes") != std::string::npos);
}
