#pragma once
// The wire codec: one JSON object per Raft message (docs/protocol.md), plus
// the handshake that opens every connection. Decoding never throws and never
// trusts its input: every failure comes back as a CodecError value naming
// what was wrong.

#include <conflux/raft/message.hpp>
#include <conflux/transport/packet.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace conflux::transport {

/// Version of the wire protocol spoken by this build. Peers must match.
inline constexpr std::int64_t protocol_version = 1;

enum class CodecErrc : std::uint8_t {
  invalid_json,   ///< not JSON at all, or trailing garbage
  too_deep,       ///< nesting deeper than max_json_depth
  not_an_object,  ///< the message (or an entry) is not a JSON object
  missing_field,  ///< a required field is absent
  wrong_type,     ///< a field has the wrong JSON type
  out_of_range,   ///< a number is negative, fractional or above 2^53-1
  invalid_value,  ///< a value breaks a rule (empty id, unknown entry type...)
  unknown_type,   ///< "type" names no message this protocol knows
};

std::string_view to_string(CodecErrc code);

/// Every codec error is fatal to the connection that produced it: the frame
/// boundary is intact, but a peer that sends one cannot be trusted further.
struct CodecError {
  CodecErrc code = CodecErrc::invalid_json;
  std::string detail;  ///< e.g. "field \"term\": expected an integer"
  std::string message() const;
};

inline constexpr int max_json_depth = 32;
inline constexpr std::size_t max_node_id_bytes = 256;

/// A value, or the error that prevented it.
template <class T>
class Decoded {
 public:
  Decoded(T value) : value_(std::move(value)) {}
  Decoded(CodecError error) : value_(std::move(error)) {}

  bool ok() const { return value_.index() == 0; }
  T& value() { return std::get<0>(value_); }
  const T& value() const { return std::get<0>(value_); }
  const CodecError& error() const { return std::get<1>(value_); }

 private:
  std::variant<T, CodecError> value_;
};

/// Encodes `message` as one JSON object. Precondition: the payload of every
/// normal entry is exactly one JSON text (lib/ guarantees it); it is spliced
/// in as is, so the action appears as JSON, not as an escaped string.
std::string encode(const raft::Message& message);
/// Appends the encoding of `message` to `out` (no intermediate string).
void encode_to(std::string& out, const raft::Message& message);
Decoded<raft::Message> decode(std::string_view json);

/// A Raft message or a client message (a forwarded perform, or its reply).
std::string encode(const Packet& packet);
void encode_to(std::string& out, const Packet& packet);
Decoded<Packet> decode_packet(std::string_view json);

/// First frame on every connection, from the side that dialled.
struct Hello {
  std::int64_t version = protocol_version;
  std::string cluster;
  raft::NodeId from;
  raft::NodeId to;
  /// Where the sender listens (TCP): a node in join mode, which knows no
  /// address yet, answers there until the log gives it the configuration.
  /// Empty: not given.
  std::string listen = {};
  /// The cluster's token, which a hub may require (protocol.md §7.1).
  /// Empty: none given.
  std::string token = {};
  friend bool operator==(const Hello&, const Hello&) = default;
};

/// The answer to a Hello: accepted, or refused with a reason.
struct HelloReply {
  bool accepted = false;
  std::string reason;  ///< why it was refused; empty when accepted
  friend bool operator==(const HelloReply&, const HelloReply&) = default;
};

std::string encode(const Hello& hello);
std::string encode(const HelloReply& reply);
Decoded<Hello> decode_hello(std::string_view json);
Decoded<HelloReply> decode_hello_reply(std::string_view json);

}  // namespace conflux::transport
