#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <conflux/transport/codec.hpp>

#include "base64.hpp"
#include "client_codec.hpp"
#include "json_reader.hpp"
#include "json_spans.hpp"
#include "json_writer.hpp"

namespace conflux::transport {
namespace {

using detail::append_escaped;
using detail::append_key;
using detail::append_number;
using detail::fail;
using detail::field;

// ---------------------------------------------------------------- encoding

void encode_entry(std::string& out, const raft::Entry& entry) {
  out.append("{\"index\":");
  append_number(out, entry.index);
  field(out, "term", entry.term);
  field(out, "type", raft::to_string(entry.type));
  if (entry.type == raft::EntryType::normal) {
    out.push_back(',');
    append_key(out, "action");
    out.append(entry.payload.empty() ? std::string_view("null") : entry.payload.view());
  } else if (entry.type == raft::EntryType::configuration) {
    out.push_back(',');
    append_key(out, "configuration");
    out.append(entry.payload.view());  // JSON already (raft::encode)
  } else if (entry.type == raft::EntryType::session) {
    out.push_back(',');
    append_key(out, "session");
    out.append(entry.payload.view());  // a JSON object already (lib's sessions.hpp)
  }
  out.push_back('}');
}

void encode_body(std::string& out, const raft::VoteRequest& body) {
  field(out, "last_log_index", body.last_log_index);
  field(out, "last_log_term", body.last_log_term);
  if (body.transfer) field(out, "transfer", true);
}

void encode_body(std::string&, const raft::TimeoutNow&) {}

void encode_body(std::string& out, const raft::ReadIndexRequest& body) {
  field(out, "id", body.id);
}

void encode_body(std::string& out, const raft::ReadIndexResponse& body) {
  field(out, "id", body.id);
  field(out, "index", body.index);
}

void encode_body(std::string& out, const raft::VoteResponse& body) {
  field(out, "granted", body.granted);
}

void encode_body(std::string& out, const raft::AppendRequest& body) {
  field(out, "prev_log_index", body.prev_log_index);
  field(out, "prev_log_term", body.prev_log_term);
  field(out, "leader_commit", body.leader_commit);
  if (body.round != 0) field(out, "round", body.round);
  out.append(",\"entries\":[");
  for (std::size_t i = 0; i < body.entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    encode_entry(out, body.entries[i]);
  }
  out.push_back(']');
}

void encode_body(std::string& out, const raft::AppendResponse& body) {
  field(out, "success", body.success);
  field(out, "match_index", body.match_index);
  field(out, "rejected_index", body.rejected_index);
  field(out, "conflict_index", body.conflict_index);
  field(out, "conflict_term", body.conflict_term);
  if (body.round != 0) field(out, "round", body.round);
}

void encode_body(std::string& out, const raft::SnapshotRequest& body) {
  field(out, "index", body.index);
  field(out, "snapshot_term", body.snapshot_term);
  field(out, "size", body.size);
  field(out, "offset", body.offset);
  field(out, "done", body.done);
  out.push_back(',');
  append_key(out, "configuration");
  out.append(raft::encode(body.configuration));
  out.append(",\"data\":\"");
  detail::append_base64(out, body.data.view());
  out.push_back('"');
}

void encode_body(std::string& out, const raft::SnapshotResponse& body) {
  field(out, "index", body.index);
  field(out, "offset", body.offset);
  field(out, "match", body.match);
}

// ---------------------------------------------------------------- decoding

/// An integer field that may be absent (0 then).
std::uint64_t optional_integer(const boost::json::object& object, std::string_view key) {
  return object.contains(key) ? detail::read_integer(object, key) : 0;
}

/// Parses one JSON text, refusing nesting deeper than max_json_depth.
boost::json::value parse(std::string_view json, boost::json::storage_ptr storage) {
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec, std::move(storage), options);
  if (ec == boost::json::error::too_deep) fail(CodecErrc::too_deep, "nesting exceeds 32 levels");
  if (ec) fail(CodecErrc::invalid_json, ec.message());
  return value;
}

/// The configuration a sender wrote, which must be raft::encode's text
/// exactly (replicas must hold identical bytes).
raft::Configuration read_configuration(std::string_view text) {
  auto config = raft::decode_configuration(text);
  if (!config) {
    fail(CodecErrc::invalid_value,
         "field \"configuration\": not a valid configuration in canonical form");
  }
  return std::move(*config);
}

/// `texts`: the entry's members, exactly as the sender wrote them.
raft::Entry decode_entry(const boost::json::value& value, const detail::EntryTexts& texts) {
  const auto& object = detail::as_object(value, "an entry");
  raft::Entry entry;
  entry.index = detail::read_integer(object, "index");
  entry.term = detail::read_integer(object, "term");
  const auto type = detail::read_string(object, "type");
  if (type == "normal") {
    detail::require(object, "action");
    entry.payload = raft::Payload(texts.action);
  } else if (type == "no_op") {
    entry.type = raft::EntryType::no_op;
  } else if (type == "configuration") {
    detail::require(object, "configuration");
    read_configuration(texts.configuration);
    entry.type = raft::EntryType::configuration;
    entry.payload = raft::Payload(texts.configuration);
  } else if (type == "session") {
    // Its members are the application's (docs/protocol.md §4.5b): the state
    // machine checks them when it applies the entry, as it does an action.
    if (!detail::require(object, "session").is_object()) {
      fail(CodecErrc::wrong_type, "field \"session\": expected an object");
    }
    entry.type = raft::EntryType::session;
    entry.payload = raft::Payload(texts.session);
  } else {
    fail(CodecErrc::invalid_value, "unknown entry type \"" + std::string(type) + "\"");
  }
  return entry;
}

/// `json` is the whole message, from which actions are taken verbatim.
raft::AppendRequest decode_append(const boost::json::object& object, std::string_view json) {
  raft::AppendRequest body;
  body.prev_log_index = detail::read_integer(object, "prev_log_index");
  body.prev_log_term = detail::read_integer(object, "prev_log_term");
  body.leader_commit = detail::read_integer(object, "leader_commit");
  body.round = optional_integer(object, "round");
  const auto& entries = detail::require(object, "entries");
  if (!entries.is_array()) fail(CodecErrc::wrong_type, "field \"entries\": expected an array");
  const auto& array = entries.get_array();
  if (array.empty()) return body;
  const auto texts = detail::entry_texts(json);
  // The scanner and the parser agree on valid JSON; should they ever not, refuse.
  if (texts.size() != array.size()) {
    fail(CodecErrc::invalid_value, "entries could not be located");
  }
  body.entries.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    body.entries.push_back(decode_entry(array[i], texts[i]));
  }
  return body;
}

raft::AppendResponse decode_append_response(const boost::json::object& object) {
  return raft::AppendResponse{.success = detail::read_bool(object, "success"),
                              .match_index = detail::read_integer(object, "match_index"),
                              .rejected_index = detail::read_integer(object, "rejected_index"),
                              .conflict_index = detail::read_integer(object, "conflict_index"),
                              .conflict_term = detail::read_integer(object, "conflict_term"),
                              .round = optional_integer(object, "round")};
}

raft::SnapshotRequest decode_snapshot(const boost::json::object& object, std::string_view json) {
  auto data = detail::decode_base64(detail::read_string(object, "data"));
  if (!data) fail(CodecErrc::invalid_value, "field \"data\": not base64");
  detail::require(object, "configuration");
  return raft::SnapshotRequest{
      .index = detail::read_integer(object, "index"),
      .snapshot_term = detail::read_integer(object, "snapshot_term"),
      .size = detail::read_integer(object, "size"),
      .offset = detail::read_integer(object, "offset"),
      .data = raft::Payload(*data),
      .done = detail::read_bool(object, "done"),
      .configuration = read_configuration(detail::member_text(json, "configuration"))};
}

raft::MessageBody decode_body(std::string_view type, const boost::json::object& object,
                              std::string_view json) {
  if (type == "append") return decode_append(object, json);
  if (type == "append_response") return decode_append_response(object);
  if (type == "snapshot") return decode_snapshot(object, json);
  if (type == "timeout_now") return raft::TimeoutNow{};
  if (type == "read_index") return raft::ReadIndexRequest{detail::read_integer(object, "id")};
  if (type == "read_index_response") {
    return raft::ReadIndexResponse{detail::read_integer(object, "id"),
                                   detail::read_integer(object, "index")};
  }
  if (type == "snapshot_response") {
    return raft::SnapshotResponse{.index = detail::read_integer(object, "index"),
                                  .offset = detail::read_integer(object, "offset"),
                                  .match = detail::read_integer(object, "match")};
  }
  if (type == "vote" || type == "pre_vote") {
    return raft::VoteRequest{
        .pre_vote = type == "pre_vote",
        .last_log_index = detail::read_integer(object, "last_log_index"),
        .last_log_term = detail::read_integer(object, "last_log_term"),
        .transfer = object.contains("transfer") && detail::read_bool(object, "transfer")};
  }
  if (type == "vote_response" || type == "pre_vote_response") {
    return raft::VoteResponse{.pre_vote = type == "pre_vote_response",
                              .granted = detail::read_bool(object, "granted")};
  }
  fail(CodecErrc::unknown_type, "unknown message type \"" + std::string(type) + "\"");
}

raft::Message decode_message(std::string_view type, const boost::json::object& object,
                             std::string_view json) {
  raft::Message message;
  message.from = detail::read_id(object, "from");
  message.to = detail::read_id(object, "to");
  message.term = detail::read_integer(object, "term");
  message.body = decode_body(type, object, json);
  return message;
}

/// Runs `decoder` over the parsed object; a Failure becomes the error value.
template <class T, class Decoder>
Decoded<T> decode_with(std::string_view json, Decoder decoder) {
  try {
    unsigned char buffer[4096];
    boost::json::monotonic_resource resource(buffer, sizeof buffer);
    const auto value = parse(json, &resource);
    return decoder(detail::as_object(value, "the message"));
  } catch (const detail::Failure& failure) {
    return failure.error;
  } catch (const std::bad_alloc&) {
    return CodecError{CodecErrc::invalid_value, "message too large to decode"};
  }
}

}  // namespace

std::string_view to_string(CodecErrc code) {
  switch (code) {
    case CodecErrc::invalid_json:
      return "invalid_json";
    case CodecErrc::too_deep:
      return "too_deep";
    case CodecErrc::not_an_object:
      return "not_an_object";
    case CodecErrc::missing_field:
      return "missing_field";
    case CodecErrc::wrong_type:
      return "wrong_type";
    case CodecErrc::out_of_range:
      return "out_of_range";
    case CodecErrc::invalid_value:
      return "invalid_value";
    case CodecErrc::unknown_type:
      return "unknown_type";
  }
  return "unknown";
}

std::string CodecError::message() const {
  return std::string(to_string(code)) + ": " + detail;
}

void encode_to(std::string& out, const raft::Message& message) {
  out.append("{\"type\":");
  append_escaped(out, raft::type_name(message));
  field(out, "from", message.from);
  field(out, "to", message.to);
  field(out, "term", message.term);
  std::visit([&](const auto& body) { encode_body(out, body); }, message.body);
  out.push_back('}');
}

std::string encode(const raft::Message& message) {
  std::string out;
  encode_to(out, message);
  return out;
}

Decoded<raft::Message> decode(std::string_view json) {
  return decode_with<raft::Message>(json, [json](const boost::json::object& object) {
    return decode_message(detail::read_string(object, "type"), object, json);
  });
}

void encode_to(std::string& out, const Packet& packet) {
  if (const auto* message = std::get_if<raft::Message>(&packet)) return encode_to(out, *message);
  detail::encode_client(out, std::get<ClientMessage>(packet));
}

std::string encode(const Packet& packet) {
  std::string out;
  encode_to(out, packet);
  return out;
}

namespace {

Decoded<Packet> decode_valid_packet(std::string_view json) {
  return decode_with<Packet>(json, [json](const boost::json::object& object) -> Packet {
    const auto type = detail::read_string(object, "type");
    if (detail::is_client_type(type)) return detail::decode_client(type, object, json);
    return decode_message(type, object, json);
  });
}

/// A perform whose arguments alone do not parse (a peer wrote Infinity, or
/// nested them too deeply) still reaches the leader, with those arguments
/// verbatim: it answers with an error naming the problem, and the sender's
/// link stays up. Anything else that does not parse stays refused.
std::optional<Packet> perform_with_unreadable_args(std::string_view json) {
  const auto span = detail::args_span(json);
  if (!span) return std::nullopt;
  std::string patched(json.substr(0, span->first));
  patched.append("[]").append(json.substr(span->second));
  auto decoded = decode_valid_packet(patched);
  if (!decoded.ok()) return std::nullopt;
  auto* client = std::get_if<ClientMessage>(&decoded.value());
  auto* request = client ? std::get_if<PerformRequest>(&client->body) : nullptr;
  if (!request) return std::nullopt;
  request->args = std::string(json.substr(span->first, span->second - span->first));
  return std::move(decoded.value());
}

}  // namespace

Decoded<Packet> decode_packet(std::string_view json) {
  auto decoded = decode_valid_packet(json);
  if (decoded.ok()) return decoded;
  const auto code = decoded.error().code;
  if (code == CodecErrc::invalid_json || code == CodecErrc::too_deep) {
    if (auto request = perform_with_unreadable_args(json)) return std::move(*request);
  }
  return decoded;
}

std::string encode(const Hello& hello) {
  std::string out = "{\"type\":\"hello\"";
  field(out, "version", static_cast<std::uint64_t>(hello.version));
  field(out, "cluster", hello.cluster);
  field(out, "from", hello.from);
  field(out, "to", hello.to);
  if (!hello.listen.empty()) field(out, "listen", hello.listen);
  if (!hello.token.empty()) field(out, "token", hello.token);
  out.push_back('}');
  return out;
}

std::string encode(const HelloReply& reply) {
  if (reply.accepted) return "{\"type\":\"welcome\"}";
  std::string out = "{\"type\":\"refused\"";
  field(out, "reason", reply.reason);
  out.push_back('}');
  return out;
}

Decoded<Hello> decode_hello(std::string_view json) {
  return decode_with<Hello>(json, [](const boost::json::object& object) {
    if (detail::read_string(object, "type") != "hello") {
      fail(CodecErrc::unknown_type, "expected a \"hello\" frame first");
    }
    return Hello{
        .version = static_cast<std::int64_t>(detail::read_integer(object, "version")),
        .cluster = std::string(detail::read_string(object, "cluster")),
        .from = detail::read_id(object, "from"),
        .to = detail::read_id(object, "to"),
        .listen = object.contains("listen") ? std::string(detail::read_string(object, "listen"))
                                            : std::string(),
        .token = object.contains("token") ? std::string(detail::read_string(object, "token"))
                                          : std::string()};
  });
}

Decoded<HelloReply> decode_hello_reply(std::string_view json) {
  return decode_with<HelloReply>(json, [](const boost::json::object& object) {
    const auto type = detail::read_string(object, "type");
    if (type == "welcome") return HelloReply{.accepted = true, .reason = {}};
    if (type == "refused") {
      return HelloReply{.accepted = false,
                        .reason = std::string(detail::read_string(object, "reason"))};
    }
    fail(CodecErrc::unknown_type, "expected \"welcome\" or \"refused\"");
  });
}

}  // namespace conflux::transport
