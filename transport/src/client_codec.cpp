#include "client_codec.hpp"

#include <conflux/transport/json_text.hpp>

#include "json_reader.hpp"
#include "json_spans.hpp"
#include "json_writer.hpp"

namespace conflux::transport::detail {
namespace {

using Outcome = PerformReply::Outcome;

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::proposed:
      return "proposed";
    case Outcome::null_result:
      return "null";
    case Outcome::failed:
      return "failed";
    case Outcome::not_leader:
      return "not_leader";
  }
  return "failed";
}

Outcome read_outcome(const boost::json::object& object) {
  const auto name = read_string(object, "outcome");
  for (const auto outcome :
       {Outcome::proposed, Outcome::null_result, Outcome::failed, Outcome::not_leader}) {
    if (name == outcome_name(outcome)) return outcome;
  }
  fail(CodecErrc::invalid_value,
       "field \"outcome\": unknown outcome \"" + std::string(name) + "\"");
}

void encode_body(std::string& out, const PerformRequest& request) {
  field(out, "id", request.id);
  field(out, "method", request.method);
  if (request.client != 0) {
    field(out, "client", request.client);
    field(out, "seq", request.seq);
    field(out, "ack", request.ack);
  }
  out.push_back(',');
  append_key(out, "args");
  out.append(request.args.empty() ? std::string_view("[]") : std::string_view(request.args));
}

void encode_body(std::string& out, const PerformReply& reply) {
  field(out, "id", reply.id);
  field(out, "outcome", outcome_name(reply.outcome));
  field(out, "index", reply.index);
  field(out, "term", reply.term);
  field(out, "code", reply.code);
  field(out, "message", reply.message);
}

PerformRequest decode_request(const boost::json::object& object, std::string_view json) {
  PerformRequest request;
  request.id = read_integer(object, "id");
  request.method = std::string(read_string(object, "method"));
  if (!require(object, "args").is_array())
    fail(CodecErrc::wrong_type, "field \"args\": expected an array");
  request.args = std::string(member_text(json, "args"));
  if (object.contains("client")) {
    request.client = read_integer(object, "client");
    request.seq = read_integer(object, "seq");
    request.ack = read_integer(object, "ack");
  }
  return request;
}

PerformReply decode_reply(const boost::json::object& object) {
  PerformReply reply;
  reply.id = read_integer(object, "id");
  reply.outcome = read_outcome(object);
  reply.index = read_integer(object, "index");
  reply.term = read_integer(object, "term");
  reply.code = std::string(read_string(object, "code"));
  reply.message = std::string(read_string(object, "message"));
  return reply;
}

constexpr auto npos = std::string_view::npos;

/// `at` is an opening bracket: the position just past its match, or npos.
std::size_t container_end(std::string_view json, std::size_t at) {
  int depth = 0;
  while (at < json.size()) {
    if (json[at] == '"') {
      at = json_string_end(json, at);
      if (at == npos) return npos;
      continue;
    }
    if (json[at] == '[' || json[at] == '{') ++depth;
    if ((json[at] == ']' || json[at] == '}') && --depth == 0) return at + 1;
    ++at;
  }
  return npos;
}

/// If a "args" key starts at `at` and is followed by ':' and '[', the span of
/// that array.
std::optional<std::pair<std::size_t, std::size_t>> array_after_key(std::string_view json,
                                                                   std::size_t at,
                                                                   std::size_t key_end) {
  if (json.substr(at, key_end - at) != "\"args\"") return std::nullopt;
  auto colon = skip_space(json, key_end);
  if (colon >= json.size() || json[colon] != ':') return std::nullopt;
  const auto open = skip_space(json, colon + 1);
  if (open >= json.size() || json[open] != '[') return std::nullopt;
  const auto close = container_end(json, open);
  if (close == npos) return std::nullopt;
  return std::pair{open, close};
}

}  // namespace

std::optional<std::pair<std::size_t, std::size_t>> args_span(std::string_view json) {
  int depth = 0;
  for (std::size_t at = 0; at < json.size();) {
    if (json[at] == '"') {
      const auto end = json_string_end(json, at);
      if (end == npos) return std::nullopt;
      if (depth == 1) {
        if (auto span = array_after_key(json, at, end)) return span;
      }
      at = end;
      continue;
    }
    if (json[at] == '{' || json[at] == '[') ++depth;
    if (json[at] == '}' || json[at] == ']') --depth;
    ++at;
  }
  return std::nullopt;
}

bool is_client_type(std::string_view type) {
  return type == "perform" || type == "perform_reply";
}

void encode_client(std::string& out, const ClientMessage& message) {
  const bool request = std::holds_alternative<PerformRequest>(message.body);
  out.append(request ? "{\"type\":\"perform\"" : "{\"type\":\"perform_reply\"");
  field(out, "from", message.from);
  field(out, "to", message.to);
  std::visit([&](const auto& body) { encode_body(out, body); }, message.body);
  out.push_back('}');
}

ClientMessage decode_client(std::string_view type, const boost::json::object& object,
                            std::string_view json) {
  ClientMessage message;
  message.from = read_id(object, "from");
  message.to = read_id(object, "to");
  if (type == "perform") {
    message.body = decode_request(object, json);
  } else {
    message.body = decode_reply(object);
  }
  return message;
}

}  // namespace conflux::transport::detail
