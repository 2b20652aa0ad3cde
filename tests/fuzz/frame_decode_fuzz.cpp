// libFuzzer target: everything a peer can put on a connection. The input is
// one schedule byte followed by the byte stream; the stream is fed to a
// FrameDecoder in chunks whose sizes come from the schedule, as a socket
// would deliver it. Each frame is decoded as a Raft message, a packet (Raft
// or client message), a hello and a hello reply; whatever decodes must
// re-encode to text that decodes to the same value and encodes identically
// again, and embedded JSON (actions, perform arguments) must be kept as the
// exact bytes of the frame. Any violation aborts.
// Build and run: tests/fuzz/README.md.

#include <boost/json/parse.hpp>
#include <cmath>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/frame.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace conflux::transport;
namespace raft = conflux::raft;

namespace {

/// Inputs handled before the handshake is over use the handshake's limit.
constexpr std::size_t handshake_limit = 4096;

void require(bool condition, const char* what, std::string_view text) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed: %s\n  text: %.*s\n", what, static_cast<int>(text.size()),
               text.data());
  std::abort();
}

/// Whether two numbers are the same number, read by Boost.JSON 1.81. Its
/// parser is imprecise, and context-dependent: the same digits can give
/// doubles an ulp apart depending on the bytes that follow them, and "0e400"
/// reads as NaN. So non-finite numbers only match non-finite numbers, and
/// finite ones match within a relative 1e-9.
bool same_double(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b)) return !std::isfinite(a) && !std::isfinite(b);
  return std::fabs(a - b) <= 1e-9 * std::fmax(std::fabs(a), std::fabs(b));
}

/// Structural equality of JSON values: same kinds, same strings, same
/// integers, same members in arrays and objects; doubles as above.
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_double()) return same_double(a.get_double(), b.get_double());
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same_json(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const auto* other = y.if_contains(member.key());
      if (!other || !same_json(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

/// Embedded JSON (an action, a perform's arguments) must be kept as the
/// sender's bytes: one JSON text, found verbatim in the frame, with the value
/// the parser sees at `key` of `holder` there.
void check_embedded(std::string_view frame, std::string_view text, const boost::json::value& holder,
                    std::string_view key) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  require(!ec, "embedded JSON is not one JSON text", text);
  require(frame.find(text) != std::string_view::npos, "embedded JSON is not in its frame", frame);
  require(same_json(value, holder.at(key)), "embedded JSON differs from the frame's", frame);
}

boost::json::value parse_decoded(std::string_view frame) {
  boost::system::error_code ec;
  auto value = boost::json::parse(frame, ec);
  require(!ec, "a decoded frame does not parse", frame);
  return value;
}

void check_embedded_json(std::string_view frame, const raft::Message& message) {
  const auto* append = std::get_if<raft::AppendRequest>(&message.body);
  if (!append || append->entries.empty()) return;
  const auto value = parse_decoded(frame);
  const auto& entries = value.at("entries").as_array();
  for (std::size_t i = 0; i < append->entries.size(); ++i) {
    const auto& entry = append->entries[i];
    if (entry.type == raft::EntryType::normal) {
      check_embedded(frame, entry.payload.view(), entries[i], "action");
    }
  }
}

void check_embedded_json(std::string_view frame, const ClientMessage& message) {
  if (const auto* request = std::get_if<PerformRequest>(&message.body)) {
    check_embedded(frame, request->args, parse_decoded(frame), "args");
  }
}

void check_embedded_json(std::string_view frame, const Packet& packet) {
  std::visit([&](const auto& message) { check_embedded_json(frame, message); }, packet);
}

void check_embedded_json(std::string_view, const Hello&) {}
void check_embedded_json(std::string_view, const HelloReply&) {}

/// Whatever `decode_frame` accepts must keep its embedded JSON verbatim,
/// re-encode to text that decodes to an equal value, and encode stably.
template <class Decode>
void check_round_trip(std::string_view frame, Decode decode_frame) {
  const auto decoded = decode_frame(frame);
  if (!decoded.ok()) return;
  check_embedded_json(frame, decoded.value());
  const auto encoded = encode(decoded.value());
  const auto again = decode_frame(encoded);
  require(again.ok(), "a re-encoded frame does not decode", encoded);
  require(again.value() == decoded.value(), "a value changed in a round trip", encoded);
  require(encode(again.value()) == encoded, "an encoding is not stable", encoded);
}

void check_frame(std::string_view frame, std::size_t limit) {
  require(!frame.empty() && frame.size() <= limit, "a frame breaks the length rules", frame);
  check_round_trip(frame, [](std::string_view text) { return decode(text); });
  check_round_trip(frame, [](std::string_view text) { return decode_packet(text); });
  check_round_trip(frame, [](std::string_view text) { return decode_hello(text); });
  check_round_trip(frame, [](std::string_view text) { return decode_hello_reply(text); });
}

/// Chunk sizes 1..64 from a small generator seeded by the schedule byte.
class ChunkSizes {
 public:
  explicit ChunkSizes(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return 1 + state_ % 64;
  }

 private:
  std::uint32_t state_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ChunkSizes chunks(data[0]);
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  FrameDecoder decoder(handshake_limit);
  std::size_t limit = handshake_limit;
  for (std::size_t at = 0; at < stream.size();) {
    const auto chunk = stream.substr(at, chunks.next());
    at += chunk.size();
    decoder.feed(chunk);
    while (const auto frame = decoder.next()) {
      check_frame(*frame, limit);
      limit = default_max_frame_bytes;  // the handshake is over: the session's limit applies
      decoder.set_max_frame_bytes(limit);
    }
    if (decoder.error()) {
      require(!decoder.next().has_value(), "a frame after a frame error", stream);
      return 0;
    }
  }
  return 0;
}
