// Specification of the wire codec (conflux/transport/codec.hpp, docs/protocol.md):
// every message and handshake frame round-trips, actions travel as embedded JSON
// byte for byte, and every malformed input is refused with the right CodecErrc
// and a detail that names what was wrong.
#include <doctest/doctest.h>

#include <conflux/transport/codec.hpp>
#include <string>
#include <string_view>

using namespace conflux::transport;
using namespace conflux::raft;

namespace {

Message message_with(MessageBody body) {
  return Message{.from = "n1", .to = "n2", .term = 7, .body = std::move(body)};
}

Entry normal_entry(Term term, Index index, std::string action) {
  return Entry{term, index, EntryType::normal, Payload(std::move(action))};
}

Entry no_op_entry(Term term, Index index) {
  return Entry{term, index, EntryType::no_op, {}};
}

Configuration members() {
  return Configuration{.voters = {"n1", "n2"},
                       .outgoing = {"n1"},
                       .learners = {"n3"},
                       .addresses = {{"n1", "10.0.0.1:7000"}, {"n3", "ws \"3\"\n"}}};
}

Message round_trip(const Message& message) {
  auto decoded = decode(encode(message));
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  return decoded.value();
}

CodecError error_of(std::string_view json) {
  auto decoded = decode(json);
  REQUIRE_FALSE(decoded.ok());
  return decoded.error();
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// A vote request whose "term" field is written as `term` (any JSON text).
std::string vote_with_term(std::string_view term) {
  return R"({"type":"vote","from":"n1","to":"n2","term":)" + std::string(term) +
         R"(,"last_log_index":5,"last_log_term":2})";
}

/// An append whose one entry is written as `entry` (any JSON text).
std::string append_with_entry(std::string_view entry) {
  return R"({"type":"append","from":"n1","to":"n2","term":3,"prev_log_index":0,)"
         R"("prev_log_term":0,"leader_commit":0,"entries":[)" +
         std::string(entry) + "]}";
}

/// An append whose first entry's action is `levels` nested arrays.
std::string append_with_nested_action(int levels) {
  return append_with_entry(R"({"index":1,"term":3,"type":"normal","action":)" +
                           std::string(static_cast<std::size_t>(levels), '[') +
                           std::string(static_cast<std::size_t>(levels), ']') + "}");
}

}  // namespace

// ------------------------------------------------------------ round trips

TEST_CASE("a vote request encodes to one flat JSON object with every field") {
  const auto message =
      message_with(VoteRequest{.pre_vote = false, .last_log_index = 5, .last_log_term = 2});

  const auto json = encode(message);

  CHECK(json ==
        R"({"type":"vote","from":"n1","to":"n2","term":7,"last_log_index":5,"last_log_term":2})");
}

TEST_CASE("a vote request round-trips") {
  const auto message =
      message_with(VoteRequest{.pre_vote = false, .last_log_index = 5, .last_log_term = 2});
  CHECK(round_trip(message) == message);
}

TEST_CASE("a pre-vote request round-trips under the type pre_vote") {
  const auto message =
      message_with(VoteRequest{.pre_vote = true, .last_log_index = 9, .last_log_term = 4});

  const auto json = encode(message);

  CHECK(contains(json, R"("type":"pre_vote")"));
  CHECK(round_trip(message) == message);
}

TEST_CASE("a vote response round-trips whether granted or not") {
  const auto granted = message_with(VoteResponse{.pre_vote = false, .granted = true});
  const auto refused = message_with(VoteResponse{.pre_vote = false, .granted = false});

  CHECK(contains(encode(granted), R"("type":"vote_response")"));
  CHECK(round_trip(granted) == granted);
  CHECK(round_trip(refused) == refused);
}

TEST_CASE("a pre-vote response round-trips under the type pre_vote_response") {
  const auto message = message_with(VoteResponse{.pre_vote = true, .granted = true});

  CHECK(contains(encode(message), R"("type":"pre_vote_response")"));
  CHECK(round_trip(message) == message);
}

TEST_CASE("an append with normal and no_op entries round-trips") {
  const auto message = message_with(
      AppendRequest{.prev_log_index = 3,
                    .prev_log_term = 2,
                    .entries = {no_op_entry(7, 4), normal_entry(7, 5, R"({"op":"add","n":1})"),
                                normal_entry(7, 6, R"("just a string")")},
                    .leader_commit = 3});

  const auto decoded = round_trip(message);

  CHECK(decoded == message);
  REQUIRE(decoded.body.index() == 2);
  CHECK(std::get<AppendRequest>(decoded.body).entries[0].type == EntryType::no_op);
  CHECK(std::get<AppendRequest>(decoded.body).entries[1].payload.view() == R"({"op":"add","n":1})");
}

TEST_CASE(
    "a session entry carries its object byte for byte; one that is not an object is refused") {
  const std::string session = R"({"client":9,"seq":1,"ack":1,"time":17,"action":{"op":"add"}})";
  const auto message = message_with(AppendRequest{
      .prev_log_index = 3,
      .prev_log_term = 2,
      .entries = {Entry{7, 4, EntryType::session, Payload(session)}, normal_entry(7, 5, "1")},
      .leader_commit = 3});
  const auto json = encode(message);
  CHECK(json.find(R"("type":"session","session":)" + session) != std::string::npos);
  const auto decoded = round_trip(message);
  CHECK(decoded == message);

  const auto error =
      error_of(append_with_entry(R"({"index":1,"term":3,"type":"session","session":[1]})"));
  CHECK(error.code == CodecErrc::wrong_type);
  CHECK(contains(error.detail, "\"session\""));
  CHECK(error_of(append_with_entry(R"({"index":1,"term":3,"type":"session"})")).code ==
        CodecErrc::missing_field);
}

TEST_CASE("a heartbeat is an append with an empty entries array") {
  const auto message = message_with(
      AppendRequest{.prev_log_index = 8, .prev_log_term = 6, .entries = {}, .leader_commit = 8});

  const auto json = encode(message);

  CHECK(contains(json, R"("entries":[])"));
  CHECK(round_trip(message) == message);
}

TEST_CASE("a successful append response round-trips its match index") {
  const auto message = message_with(AppendResponse{.success = true,
                                                   .match_index = 12,
                                                   .rejected_index = 0,
                                                   .conflict_index = 0,
                                                   .conflict_term = 0});

  CHECK(contains(encode(message), R"("type":"append_response")"));
  CHECK(round_trip(message) == message);
}

TEST_CASE("an append's heartbeat round round-trips, and an absent one reads as 0") {
  AppendRequest request{
      .prev_log_index = 4, .prev_log_term = 2, .entries = {}, .leader_commit = 4, .round = 9};
  const auto append = message_with(request);
  CHECK(contains(encode(append), R"("round":9)"));
  CHECK(round_trip(append) == append);
  request.round = 0;
  CHECK_FALSE(contains(encode(message_with(request)), "round"));
  CHECK(round_trip(message_with(request)) == message_with(request));
  const auto answer = message_with(AppendResponse{.success = true,
                                                  .match_index = 4,
                                                  .rejected_index = 0,
                                                  .conflict_index = 0,
                                                  .conflict_term = 0,
                                                  .round = 9});
  CHECK(round_trip(answer) == answer);
}

TEST_CASE("read_index and read_index_response round-trip") {
  const auto asked = message_with(ReadIndexRequest{42});
  CHECK(contains(encode(asked), R"("type":"read_index")"));
  CHECK(round_trip(asked) == asked);
  const auto answered = message_with(ReadIndexResponse{42, 17});
  CHECK(contains(encode(answered), R"("type":"read_index_response")"));
  CHECK(round_trip(answered) == answered);
}

TEST_CASE("a rejecting append response round-trips its conflict hint") {
  const auto message = message_with(AppendResponse{.success = false,
                                                   .match_index = 0,
                                                   .rejected_index = 10,
                                                   .conflict_index = 7,
                                                   .conflict_term = 3});
  CHECK(round_trip(message) == message);
}

TEST_CASE("a snapshot chunk round-trips any bytes, carried as base64") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (const std::size_t length : {0u, 1u, 2u, 3u, 4u, 5u, 256u}) {
    CAPTURE(length);
    const auto message = message_with(SnapshotRequest{.index = 90,
                                                      .snapshot_term = 6,
                                                      .size = 1000,
                                                      .offset = 744,
                                                      .data = Payload(bytes.substr(0, length)),
                                                      .done = length == 256,
                                                      .configuration = members()});
    CHECK(contains(encode(message), R"("type":"snapshot")"));
    CHECK(round_trip(message) == message);
  }
  CHECK(contains(encode(message_with(SnapshotRequest{.index = 1,
                                                     .snapshot_term = 1,
                                                     .size = 3,
                                                     .offset = 0,
                                                     .data = Payload("ABC"),
                                                     .done = true,
                                                     .configuration = members()})),
                 R"("data":"QUJD")"));
}

TEST_CASE("a snapshot response round-trips its offset and match") {
  const auto message = message_with(SnapshotResponse{.index = 90, .offset = 4096, .match = 0});
  CHECK(contains(encode(message), R"("type":"snapshot_response")"));
  CHECK(round_trip(message) == message);
  const auto installed = message_with(SnapshotResponse{.index = 90, .offset = 1000, .match = 90});
  CHECK(round_trip(installed) == installed);
}

TEST_CASE("integers up to 2^53-1 round-trip exactly") {
  const Index largest = max_wire_integer;
  auto message = message_with(AppendResponse{.success = true,
                                             .match_index = largest,
                                             .rejected_index = largest,
                                             .conflict_index = largest,
                                             .conflict_term = largest});
  message.term = largest;

  CHECK(contains(encode(message), "9007199254740991"));
  CHECK(round_trip(message) == message);
}

// ------------------------------------------------------------ actions

TEST_CASE("an entry's action is embedded as JSON, not as an escaped string") {
  const auto message =
      message_with(AppendRequest{.prev_log_index = 0,
                                 .prev_log_term = 0,
                                 .entries = {normal_entry(1, 1, R"({"op":"set","k":"x"})")},
                                 .leader_commit = 0});

  const auto json = encode(message);

  CHECK(contains(json, R"("action":{"op":"set","k":"x"})"));
  CHECK_FALSE(contains(json, R"(\")"));
}

TEST_CASE("a no_op entry carries no action on the wire") {
  const auto message = message_with(AppendRequest{
      .prev_log_index = 0, .prev_log_term = 0, .entries = {no_op_entry(2, 1)}, .leader_commit = 0});

  const auto json = encode(message);

  CHECK(contains(json, R"({"index":1,"term":2,"type":"no_op"})"));
  CHECK_FALSE(contains(json, "action"));
}

TEST_CASE("a decoded action keeps the sender's bytes exactly, numbers and spacing included") {
  // Re-serializing would rewrite these numbers (and may change their value by
  // one ulp, since Boost.JSON 1.81 parses doubles imprecisely): replicas would
  // then apply different actions.
  const std::string action = R"({ "b" : [1.0, 0.30000000000000004, 1e400, 5.409760742964738E124],
  "a" : "\u00e9\n" })";
  const auto json =
      append_with_entry(R"({"index":1,"term":3,"type":"normal","action":)" + action + "}");

  const auto decoded = decode(json);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  const auto& entries = std::get<AppendRequest>(decoded.value().body).entries;
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].payload.view() == action);
}

TEST_CASE("when an entry repeats its action field, the last one is the action") {
  const auto json =
      append_with_entry(R"({"action":1,"index":1,"term":3,"type":"normal","action" :  [2] })");

  const auto decoded = decode(json);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(std::get<AppendRequest>(decoded.value().body).entries[0].payload.view() == "[2]");
}

TEST_CASE("each entry keeps its own action, even with brackets and quotes inside strings") {
  const std::string tricky = R"({"s":"]},\"action\":[{","t":["}"]})";
  const auto json = R"({"type":"append","from":"n1","to":"n2","term":3,"prev_log_index":0,)"
                    R"("prev_log_term":0,"leader_commit":0,"entries":[)"
                    R"({"index":1,"term":3,"type":"normal","action":)" +
                    tricky +
                    R"(},{"index":2,"term":3,"type":"no_op","action":"ignored"},)"
                    R"({"index":3,"term":3,"type":"normal","\u0061ction":-0.5e-3}]})";

  const auto decoded = decode(json);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  const auto& entries = std::get<AppendRequest>(decoded.value().body).entries;
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].payload.view() == tricky);
  CHECK(entries[1].payload.empty());
  CHECK(entries[2].payload.view() == "-0.5e-3");
}

TEST_CASE("an append whose \"entries\" key is spelled with escapes keeps each action exactly") {
  const auto json = R"({"type":"append","from":"n1","to":"n2","term":3,"prev_log_index":0,)"
                    R"("prev_log_term":0,"leader_commit":0,"\u0065ntries":[)"
                    R"({"index":1,"term":3,"type":"normal","action":{"w": 1.50}}]})";

  const auto decoded = decode(json);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  const auto& entries = std::get<AppendRequest>(decoded.value().body).entries;
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].payload.view() == R"({"w": 1.50})");
}

TEST_CASE("whitespace around the message and between its tokens leaves actions exact") {
  const auto json =
      " \n\t{ \"entries\" : [ { \"action\" : [ 1 , 2 ] , \"index\" : 1 , \"term\" : 3 ,"
      " \"type\" : \"normal\" } ] , \"type\" : \"append\" , \"from\" : \"n1\" , "
      "\"to\" : \"n2\" , \"term\" : 3 , \"prev_log_index\" : 0 , \"prev_log_term\" : 0 ,"
      " \"leader_commit\" : 0 }\r\n";

  const auto decoded = decode(json);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(std::get<AppendRequest>(decoded.value().body).entries[0].payload.view() == "[ 1 , 2 ]");
}

TEST_CASE("a null action is kept as the JSON text null") {
  const auto decoded =
      decode(append_with_entry(R"({"index":1,"term":3,"type":"normal","action":null})"));

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(std::get<AppendRequest>(decoded.value().body).entries[0].payload.view() == "null");
}

TEST_CASE("unknown fields are ignored, at the top level and in entries") {
  const auto json = append_with_entry(R"({"index":1,"term":3,"type":"no_op","note":{"x":[1]}})");
  const auto with_extra = json.substr(0, json.size() - 1) + R"(,"future_field":true})";

  const auto decoded = decode(with_extra);

  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message());
  CHECK(std::get<AppendRequest>(decoded.value().body).entries ==
        std::vector<Entry>{no_op_entry(3, 1)});
}

// ------------------------------------------------------------ escaping

TEST_CASE("node ids with quotes, backslashes, control and non-ASCII characters round-trip") {
  auto message = message_with(VoteResponse{.pre_vote = false, .granted = true});
  message.from = "a\"b\\c";
  message.to = std::string("tab\tnl\nnul") + '\0' + "\x01\x1f" + "n\xc5\x93ud";

  const auto json = encode(message);

  CHECK(contains(json, R"("from":"a\"b\\c")"));
  CHECK(contains(json, R"(tab\u0009nl\u000anul\u0000\u0001\u001fn)"));
  CHECK(round_trip(message) == message);
}

TEST_CASE("a refusal reason and a cluster name with odd characters round-trip") {
  const HelloReply reply{.accepted = false, .reason = "cluster \"a\\b\"\n is not \"c\""};
  const Hello hello{.version = protocol_version, .cluster = "q\"\\\x02", .from = "n1", .to = "n2"};

  const auto decoded_reply = decode_hello_reply(encode(reply));
  const auto decoded_hello = decode_hello(encode(hello));

  REQUIRE(decoded_reply.ok());
  REQUIRE(decoded_hello.ok());
  CHECK(decoded_reply.value() == reply);
  CHECK(decoded_hello.value() == hello);
}

TEST_CASE("a hello's token round-trips, and a hello without one has none") {
  Hello hello{.version = protocol_version, .cluster = "c", .from = "n1", .to = "hub"};
  CHECK_FALSE(contains(encode(hello), "token"));
  hello.token = "s3cret\"token";
  const auto decoded = decode_hello(encode(hello));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == hello);
}

// ------------------------------------------------------------ handshake

TEST_CASE("a hello round-trips and announces protocol version 1") {
  const Hello hello{.version = protocol_version, .cluster = "prod", .from = "n1", .to = "n2"};

  const auto json = encode(hello);
  const auto decoded = decode_hello(json);

  CHECK(json == R"({"type":"hello","version":1,"cluster":"prod","from":"n1","to":"n2"})");
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == hello);
}

TEST_CASE("a hello with another version still decodes, so the acceptor can refuse it") {
  const auto decoded =
      decode_hello(R"({"type":"hello","version":2,"cluster":"c","from":"a","to":"b"})");

  REQUIRE(decoded.ok());
  CHECK(decoded.value().version == 2);
}

TEST_CASE("a welcome round-trips as accepted with no reason") {
  const HelloReply welcome{.accepted = true, .reason = {}};

  const auto json = encode(welcome);
  const auto decoded = decode_hello_reply(json);

  CHECK(json == R"({"type":"welcome"})");
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == welcome);
}

TEST_CASE("a refusal round-trips with its reason") {
  const HelloReply refused{.accepted = false, .reason = "protocol version 2 is not 1"};

  const auto json = encode(refused);
  const auto decoded = decode_hello_reply(json);

  CHECK(json == R"({"type":"refused","reason":"protocol version 2 is not 1"})");
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == refused);
}

TEST_CASE("a first frame that is not a hello is refused as unknown_type") {
  const auto vote = encode(message_with(VoteResponse{.pre_vote = false, .granted = true}));

  const auto decoded = decode_hello(vote);

  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == CodecErrc::unknown_type);
  CHECK(contains(decoded.error().detail, "hello"));
}

TEST_CASE("a hello reply that is neither welcome nor refused is unknown_type") {
  const auto decoded = decode_hello_reply(R"({"type":"hello"})");

  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == CodecErrc::unknown_type);
}

TEST_CASE("a hello missing its cluster is a missing_field error naming it") {
  const auto decoded = decode_hello(R"({"type":"hello","version":1,"from":"a","to":"b"})");

  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == CodecErrc::missing_field);
  CHECK(contains(decoded.error().detail, "\"cluster\""));
}

TEST_CASE("a refusal without a reason is a missing_field error") {
  const auto decoded = decode_hello_reply(R"({"type":"refused"})");

  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == CodecErrc::missing_field);
  CHECK(contains(decoded.error().detail, "\"reason\""));
}

// ------------------------------------------------------------ errors

TEST_CASE("text that is not JSON is invalid_json") {
  CHECK(error_of(R"({"type":"vote",)").code == CodecErrc::invalid_json);
  CHECK(error_of("").code == CodecErrc::invalid_json);
  CHECK(error_of("{'type':'vote'}").code == CodecErrc::invalid_json);
  CHECK_FALSE(error_of(R"({"type":"vote",)").detail.empty());
}

TEST_CASE("trailing garbage after the object is invalid_json") {
  const auto valid = vote_with_term("3");
  REQUIRE(decode(valid).ok());

  CHECK(error_of(valid + " x").code == CodecErrc::invalid_json);
  CHECK(error_of(valid + valid).code == CodecErrc::invalid_json);
  CHECK(decode(" " + valid + "\n").ok());
}

TEST_CASE("invalid UTF-8 in a string is invalid_json") {
  CHECK(error_of("{\"type\":\"vote\",\"from\":\"\xff\"}").code == CodecErrc::invalid_json);
}

TEST_CASE("an append with an action that is not JSON is refused whole") {
  const auto entry = [](std::string_view action) {
    return R"({"index":1,"term":3,"type":"normal","action":)" + std::string(action) + "}";
  };
  REQUIRE(decode(append_with_entry(entry(R"("fine")"))).ok());
  CHECK(error_of(append_with_entry(entry("\"\xff\""))).code == CodecErrc::invalid_json);
  CHECK(error_of(append_with_entry(entry("{\"a\":}"))).code == CodecErrc::invalid_json);
  CHECK(error_of(append_with_entry(entry("[1,]"))).code == CodecErrc::invalid_json);
  CHECK(error_of(append_with_entry(entry("\"fine\"")) + "]").code == CodecErrc::invalid_json);
  const auto truncated = append_with_entry(entry(R"({"w":"abc"})"));
  CHECK(error_of(truncated.substr(0, truncated.size() - 8)).code == CodecErrc::invalid_json);
}

TEST_CASE("a field of the wrong JSON type is wrong_type, naming the field") {
  const auto term_as_string = error_of(vote_with_term(R"("3")"));
  const auto granted_as_number =
      error_of(R"({"type":"vote_response","from":"n1","to":"n2","term":1,"granted":1})");
  const auto from_as_number =
      error_of(R"({"type":"vote_response","from":1,"to":"n2","term":1,"granted":true})");

  CHECK(term_as_string.code == CodecErrc::wrong_type);
  CHECK(contains(term_as_string.detail, "\"term\""));
  CHECK(granted_as_number.code == CodecErrc::wrong_type);
  CHECK(contains(granted_as_number.detail, "\"granted\""));
  CHECK(from_as_number.code == CodecErrc::wrong_type);
  CHECK(contains(from_as_number.detail, "\"from\""));
}

TEST_CASE("a missing field is missing_field, naming the field") {
  const auto no_last_log_term =
      error_of(R"({"type":"vote","from":"n1","to":"n2","term":3,"last_log_index":5})");
  const auto no_type = error_of(R"({"from":"n1","to":"n2","term":3})");

  CHECK(no_last_log_term.code == CodecErrc::missing_field);
  CHECK(contains(no_last_log_term.detail, "\"last_log_term\""));
  CHECK(no_type.code == CodecErrc::missing_field);
  CHECK(contains(no_type.detail, "\"type\""));
}

TEST_CASE("an unknown message type is unknown_type, naming the type") {
  const auto error = error_of(R"({"type":"gossip","from":"n1","to":"n2","term":3})");

  CHECK(error.code == CodecErrc::unknown_type);
  CHECK(contains(error.detail, "\"gossip\""));
}

TEST_CASE("a snapshot chunk whose data is not canonical base64 is invalid_value, naming data") {
  for (const std::string_view data : {"QUJD=", "QUJ", "QU*D", "QR==", "QUJ="}) {
    CAPTURE(data);
    const auto error = error_of(
        std::string(R"({"type":"snapshot","from":"n1","to":"n2","term":3,"index":9,)") +
        R"("snapshot_term":2,"size":3,"offset":0,"done":true,"configuration":{"voters":["n1"],)"
        R"("outgoing":[],"learners":[],"addresses":{}},"data":")" +
        std::string(data) + "\"}");
    CHECK(error.code == CodecErrc::invalid_value);
    CHECK(contains(error.detail, "\"data\""));
  }
}

TEST_CASE("a negative integer is out_of_range, naming the field") {
  const auto error = error_of(vote_with_term("-1"));

  CHECK(error.code == CodecErrc::out_of_range);
  CHECK(contains(error.detail, "\"term\""));
  CHECK(contains(error.detail, "negative"));
}

TEST_CASE("a fractional number where an integer belongs is out_of_range, naming the field") {
  const auto error = error_of(vote_with_term("1.5"));

  CHECK(error.code == CodecErrc::out_of_range);
  CHECK(contains(error.detail, "\"term\""));
}

TEST_CASE("an integer written with a fraction or exponent is out_of_range") {
  CHECK(error_of(vote_with_term("1.0")).code == CodecErrc::out_of_range);
  CHECK(error_of(vote_with_term("1e3")).code == CodecErrc::out_of_range);
  CHECK(error_of(vote_with_term("-1.5")).code == CodecErrc::out_of_range);
}

TEST_CASE("an integer above 2^53-1 is out_of_range, and 2^53-1 itself is accepted") {
  const auto just_above = error_of(vote_with_term("9007199254740992"));

  CHECK(just_above.code == CodecErrc::out_of_range);
  CHECK(contains(just_above.detail, "\"term\""));
  CHECK(error_of(vote_with_term("18446744073709551615")).code == CodecErrc::out_of_range);
  CHECK(error_of(vote_with_term("18446744073709551616")).code == CodecErrc::out_of_range);
  CHECK(error_of(vote_with_term("1e300")).code == CodecErrc::out_of_range);
  CHECK(decode(vote_with_term("9007199254740991")).ok());
}

TEST_CASE("nesting of 32 levels decodes and 33 levels is too_deep") {
  // message object, entries array and entry object are three levels.
  CHECK(decode(append_with_nested_action(29)).ok());

  const auto error = error_of(append_with_nested_action(30));

  CHECK(error.code == CodecErrc::too_deep);
  CHECK(contains(error.detail, "32"));
}

TEST_CASE("deeply nested garbage is refused without exhausting the stack") {
  const std::string deep(100000, '[');
  CHECK(error_of(deep).code == CodecErrc::too_deep);
}

TEST_CASE("an empty node id is invalid_value, naming the field") {
  const auto error =
      error_of(R"({"type":"vote_response","from":"","to":"n2","term":1,"granted":true})");

  CHECK(error.code == CodecErrc::invalid_value);
  CHECK(contains(error.detail, "\"from\""));
}

TEST_CASE("a node id of 257 bytes is invalid_value, and 256 bytes is accepted") {
  const auto json_with_to = [](std::size_t bytes) {
    return R"({"type":"vote_response","from":"n1","to":")" + std::string(bytes, 'x') +
           R"(","term":1,"granted":true})";
  };

  const auto error = error_of(json_with_to(257));

  CHECK(error.code == CodecErrc::invalid_value);
  CHECK(contains(error.detail, "\"to\""));
  CHECK(decode(json_with_to(256)).ok());
}

TEST_CASE("a message that is not a JSON object is not_an_object") {
  CHECK(error_of("[1,2]").code == CodecErrc::not_an_object);
  CHECK(error_of(R"("vote")").code == CodecErrc::not_an_object);
  CHECK(error_of("null").code == CodecErrc::not_an_object);
  CHECK(error_of("42").code == CodecErrc::not_an_object);
}

TEST_CASE("entries that are not an array are wrong_type, naming the field") {
  const auto json = R"({"type":"append","from":"n1","to":"n2","term":3,"prev_log_index":0,)"
                    R"("prev_log_term":0,"leader_commit":0,"entries":{}})";

  const auto error = error_of(json);

  CHECK(error.code == CodecErrc::wrong_type);
  CHECK(contains(error.detail, "\"entries\""));
}

TEST_CASE("an entry that is not an object is not_an_object") {
  const auto error = error_of(append_with_entry("1"));

  CHECK(error.code == CodecErrc::not_an_object);
  CHECK(contains(error.detail, "entry"));
}

TEST_CASE("an unknown entry type is invalid_value, naming the type") {
  const auto error = error_of(append_with_entry(R"({"index":1,"term":3,"type":"config"})"));

  CHECK(error.code == CodecErrc::invalid_value);
  CHECK(contains(error.detail, "entry type \"config\""));
}

TEST_CASE("a normal entry without an action is missing_field, naming it") {
  const auto error = error_of(append_with_entry(R"({"index":1,"term":3,"type":"normal"})"));

  CHECK(error.code == CodecErrc::missing_field);
  CHECK(contains(error.detail, "\"action\""));
}

TEST_CASE("an entry's index is held to the integer rules like any other field") {
  const auto error = error_of(append_with_entry(R"({"index":-4,"term":3,"type":"no_op"})"));

  CHECK(error.code == CodecErrc::out_of_range);
  CHECK(contains(error.detail, "\"index\""));
}

TEST_CASE("an error's message starts with its category") {
  const auto error = error_of(vote_with_term("-1"));
  CHECK(error.message() == "out_of_range: " + error.detail);
}
