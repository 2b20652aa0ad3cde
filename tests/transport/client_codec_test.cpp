// Specification of the client messages on the wire (conflux/transport/packet.hpp,
// docs/protocol.md §4.7): a forwarded perform and its reply round-trip through
// encode(Packet) / decode_packet, arguments travel as embedded JSON byte for
// byte, and malformed client messages are refused like any other.
#include <doctest/doctest.h>

#include <conflux/transport/codec.hpp>
#include <string>
#include <string_view>

using namespace conflux::transport;
using Outcome = PerformReply::Outcome;

namespace {

Packet perform(std::string args) {
  return ClientMessage{.from = "n2",
                       .to = "n1",
                       .body = PerformRequest{.id = 42, .method = "add", .args = std::move(args)}};
}

Packet reply_with(Outcome outcome) {
  return ClientMessage{
      .from = "n1",
      .to = "n2",
      .body = PerformReply{
          .id = 42, .outcome = outcome, .index = 0, .term = 0, .code = {}, .message = {}}};
}

Packet round_trip(const Packet& packet) {
  auto decoded = decode_packet(encode(packet));
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  return decoded.value();
}

CodecError error_of(std::string_view json) {
  auto decoded = decode_packet(json);
  REQUIRE_FALSE(decoded.ok());
  return decoded.error();
}

const PerformRequest& request_of(const Packet& packet) {
  return std::get<PerformRequest>(std::get<ClientMessage>(packet).body);
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// A perform whose "args" member is written as `args` (any JSON text).
std::string perform_with_args(std::string_view args) {
  return R"({"type":"perform","from":"n2","to":"n1","id":42,"method":"add","args":)" +
         std::string(args) + "}";
}

}  // namespace

TEST_CASE("a forwarded perform encodes to one flat JSON object with its arguments embedded") {
  const auto json = encode(perform(R"([1,{"by":"x"}])"));

  CHECK(json ==
        R"({"type":"perform","from":"n2","to":"n1","id":42,"method":"add","args":[1,{"by":"x"}]})");
}

TEST_CASE("a forwarded perform round-trips") {
  const auto packet = perform(R"(["a",2,null])");
  CHECK(round_trip(packet) == packet);
}

TEST_CASE("a perform in a client session carries client, seq and ack; without one, none") {
  const Packet in_session =
      ClientMessage{.from = "n2",
                    .to = "n1",
                    .body = PerformRequest{
                        .id = 42, .method = "add", .args = "[1]", .client = 9, .seq = 3, .ack = 2}};
  CHECK(encode(in_session).find(R"("client":9,"seq":3,"ack":2)") != std::string::npos);
  CHECK(round_trip(in_session) == in_session);
  CHECK(encode(perform("[1]")).find("client") == std::string::npos);
  const auto error = error_of(
      R"({"type":"perform","from":"n2","to":"n1","id":1,"method":"m","args":[],"client":9})");
  CHECK(error.code == CodecErrc::missing_field);
}

TEST_CASE("a perform without arguments is sent with an empty array") {
  const auto json = encode(perform(""));

  CHECK(contains(json, R"("args":[])"));
  CHECK(request_of(round_trip(perform(""))).args == "[]");
}

TEST_CASE("a perform's arguments keep the sender's bytes exactly") {
  const std::string args = R"([ 0.30000000000000004 , {"k" : "\u00e9"}, 1e400 ])";

  const auto decoded = decode_packet("  " + perform_with_args(args));

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(request_of(decoded.value()).args == args);
}

TEST_CASE("a perform reply round-trips with each outcome") {
  for (const auto outcome :
       {Outcome::proposed, Outcome::null_result, Outcome::failed, Outcome::not_leader}) {
    const auto packet = reply_with(outcome);
    CHECK(round_trip(packet) == packet);
  }
}

TEST_CASE("a proposed reply carries the index and term of the appended entry") {
  Packet packet = reply_with(Outcome::proposed);
  auto& reply = std::get<PerformReply>(std::get<ClientMessage>(packet).body);
  reply.index = 17;
  reply.term = 3;

  const auto json = encode(packet);

  CHECK(
      json ==
      R"({"type":"perform_reply","from":"n1","to":"n2","id":42,"outcome":"proposed","index":17,"term":3,"code":"","message":""})");
  CHECK(round_trip(packet) == packet);
}

TEST_CASE("a failed reply round-trips its code and an intact message") {
  Packet packet = reply_with(Outcome::failed);
  auto& reply = std::get<PerformReply>(std::get<ClientMessage>(packet).body);
  reply.code = "method_failed";
  reply.message = "balance \"low\"\n\\ refused";

  const auto json = encode(packet);

  CHECK(contains(json, R"("outcome":"failed")"));
  CHECK(round_trip(packet) == packet);
}

TEST_CASE("the null outcome is spelled null on the wire") {
  CHECK(contains(encode(reply_with(Outcome::null_result)), R"("outcome":"null")"));
  CHECK(contains(encode(reply_with(Outcome::not_leader)), R"("outcome":"not_leader")"));
}

TEST_CASE("decode_packet also decodes Raft messages, and decode refuses client messages") {
  const auto vote = R"({"type":"vote_response","from":"n1","to":"n2","term":1,"granted":true})";
  const auto client = encode(perform("[]"));

  const auto as_packet = decode_packet(vote);
  const auto as_message = decode(client);

  REQUIRE(as_packet.ok());
  CHECK(std::holds_alternative<conflux::raft::Message>(as_packet.value()));
  CHECK_FALSE(as_message.ok());
}

TEST_CASE("perform arguments that are not an array are wrong_type, naming the field") {
  const auto error = error_of(perform_with_args(R"({"a":1})"));

  CHECK(error.code == CodecErrc::wrong_type);
  CHECK(contains(error.detail, "\"args\""));
}

TEST_CASE("a perform without a method is missing_field, naming it") {
  const auto error = error_of(R"({"type":"perform","from":"n2","to":"n1","id":42,"args":[]})");

  CHECK(error.code == CodecErrc::missing_field);
  CHECK(contains(error.detail, "\"method\""));
}

TEST_CASE("a perform id follows the integer rules") {
  const auto error =
      error_of(R"({"type":"perform","from":"n2","to":"n1","id":-1,"method":"m","args":[]})");

  CHECK(error.code == CodecErrc::out_of_range);
  CHECK(contains(error.detail, "\"id\""));
}

TEST_CASE("an unknown outcome is invalid_value, naming it") {
  const auto error = error_of(
      R"({"type":"perform_reply","from":"n1","to":"n2","id":1,"outcome":"maybe","index":0,"term":0,"code":"","message":""})");

  CHECK(error.code == CodecErrc::invalid_value);
  CHECK(contains(error.detail, "\"maybe\""));
}

TEST_CASE("a client message with an empty sender is invalid_value") {
  const auto error =
      error_of(R"({"type":"perform","from":"","to":"n1","id":1,"method":"m","args":[]})");

  CHECK(error.code == CodecErrc::invalid_value);
  CHECK(contains(error.detail, "\"from\""));
}

TEST_CASE(
    "a perform whose arguments alone are not JSON is still decoded, with its arguments verbatim, "
    "so that the leader can answer it") {
  for (const std::string args : {R"(["k",Infinity])", R"(["k",NaN,"]"])", R"([[1,2],"\"",])"}) {
    CAPTURE(args);
    const auto decoded = decode_packet(perform_with_args(args));

    REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
    CHECK(request_of(decoded.value()).args == args);
    CHECK(request_of(decoded.value()).method == "add");
    CHECK(request_of(decoded.value()).id == 42);
  }
}

TEST_CASE("arguments too deep for the wire are still delivered for the leader to refuse") {
  const std::string args = "[" + std::string(40, '[') + std::string(40, ']') + "]";

  const auto decoded = decode_packet(perform_with_args(args));

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(request_of(decoded.value()).args == args);
}

TEST_CASE("a perform broken outside its arguments, or a broken Raft message, stays refused") {
  CHECK(
      error_of(R"({"type":"perform","from":"n2","to":"n1","id":4x,"method":"m","args":[]})").code ==
      CodecErrc::invalid_json);
  CHECK(error_of(R"({"type":"perform","from":"n2","to":"n1","id":4,"method":"m","args":[Infinity)")
            .code == CodecErrc::invalid_json);
  CHECK(error_of(R"({"type":"vote","from":"n2","to":"n1","term":Infinity,"args":[]})").code ==
        CodecErrc::invalid_json);
  CHECK(error_of(R"({"type":"perform_reply","from":"n1","to":"n2","args":[NaN]})").code ==
        CodecErrc::invalid_json);
}
