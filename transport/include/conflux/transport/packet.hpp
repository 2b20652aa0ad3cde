#pragma once
// What a channel carries: Raft's own messages, and the client messages with
// which a follower forwards a perform to the leader and hears the outcome.

#include <conflux/raft/message.hpp>
#include <cstdint>
#include <string>
#include <variant>

namespace conflux::transport {

/// A perform forwarded by the node it was called on to the leader.
struct PerformRequest {
  std::uint64_t id = 0;  ///< chosen by the sender; echoed in the reply
  std::string method;
  std::string args;  ///< the arguments: one JSON array, as text
  /// The client session it belongs to (thesis §6.3), or 0 for none; its
  /// sequence number in that session, and the lowest sequence number whose
  /// answer the client has not received yet.
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;
  friend bool operator==(const PerformRequest&, const PerformRequest&) = default;
};

/// The leader's answer to a PerformRequest.
struct PerformReply {
  enum class Outcome : std::uint8_t {
    proposed,     ///< appended at (index, term): the sender completes once it applies that index
    null_result,  ///< the method returned null: nothing was appended
    failed,       ///< the method (or the reducer) refused: see code and message
    not_leader,   ///< the receiver is not the leader (any more): nothing was appended
  };
  std::uint64_t id = 0;
  Outcome outcome = Outcome::failed;
  raft::Index index = 0;
  raft::Term term = 0;
  std::string code;     ///< when failed: the error code's name, e.g. "method_failed"
  std::string message;  ///< when failed: the message, intact
  friend bool operator==(const PerformReply&, const PerformReply&) = default;
};

struct ClientMessage {
  raft::NodeId from;
  raft::NodeId to;
  std::variant<PerformRequest, PerformReply> body;
  friend bool operator==(const ClientMessage&, const ClientMessage&) = default;
};

using Packet = std::variant<raft::Message, ClientMessage>;

inline const raft::NodeId& sender(const Packet& packet) {
  return std::visit([](const auto& p) -> const raft::NodeId& { return p.from; }, packet);
}
inline const raft::NodeId& recipient(const Packet& packet) {
  return std::visit([](const auto& p) -> const raft::NodeId& { return p.to; }, packet);
}

}  // namespace conflux::transport
