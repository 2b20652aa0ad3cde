#pragma once
// The messages Raft nodes exchange (Raft §5, Figure 2; pre-vote from thesis
// §9.6). Every message carries the sender's current term; a message's body
// says which RPC it is. The transport layer maps each body to one JSON shape.

#include <conflux/raft/snapshot.hpp>
#include <conflux/raft/types.hpp>
#include <string_view>
#include <variant>
#include <vector>

namespace conflux::raft {

/// RequestVote (Raft §5.2). With `pre_vote` set it is the thesis §9.6
/// pre-vote: `term` is the term the sender *would* campaign in, and neither
/// side changes its term or vote because of it.
/// `transfer` marks the election a TimeoutNow started (thesis §3.10): the
/// leader itself asked for it, so receivers set the leader lease aside.
struct VoteRequest {
  bool pre_vote = false;
  Index last_log_index = 0;
  Term last_log_term = 0;
  bool transfer = false;
  friend bool operator==(const VoteRequest&, const VoteRequest&) = default;
};

struct VoteResponse {
  bool pre_vote = false;
  bool granted = false;
  friend bool operator==(const VoteResponse&, const VoteResponse&) = default;
};

/// AppendEntries (Raft §5.3). Heartbeats are AppendEntries without entries;
/// the receiver checks prev_log_index/prev_log_term on every one of them.
/// Invariant (checked on receipt): entries[i].index == prev_log_index + 1 + i.
/// `round` is the leader's heartbeat round when it sent the request; the
/// reply echoes it, so that the leader knows which of its rounds a follower
/// has answered (ReadIndex, thesis §6.4).
struct AppendRequest {
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  std::vector<Entry> entries;
  Index leader_commit = 0;
  std::uint64_t round = 0;
  friend bool operator==(const AppendRequest&, const AppendRequest&) = default;
};

/// Reply to AppendEntries. On success, `match_index` is the last index the
/// follower now knows to match the leader (prev_log_index + entries). On
/// rejection, `rejected_index` echoes the request's prev_log_index, and the
/// conflict hint lets the leader skip a whole term at a time (Raft §5.3,
/// "the follower can include the term of the conflicting entry and the first
/// index it stores for that term"):
///   conflict_term == 0: the follower's log ends before rejected_index, and
///                       conflict_index is its last index + 1;
///   otherwise:          conflict_term is the term of the follower's entry at
///                       rejected_index, and conflict_index the first index
///                       the follower holds with that term.
struct AppendResponse {
  bool success = false;
  Index match_index = 0;
  Index rejected_index = 0;
  Index conflict_index = 0;
  Term conflict_term = 0;
  std::uint64_t round = 0;  ///< the request's round, echoed
  friend bool operator==(const AppendResponse&, const AppendResponse&) = default;
};

/// InstallSnapshot (Raft §7, Figure 13), one chunk at a time, by byte
/// offset as in LogCabin: bytes [offset, offset + data.size()) of the
/// leader's snapshot covering entries up to `index` (whose term is
/// `snapshot_term`), `size` bytes in all. Invariants (checked on receipt):
/// index >= 1, size >= 1, offset + data.size() <= size, and done exactly
/// when the chunk ends the snapshot.
/// Every chunk carries the configuration at `index` (thesis §5.1), so that
/// a node joining with an empty log learns its cluster from the snapshot.
struct SnapshotRequest {
  Index index = 0;
  Term snapshot_term = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  Payload data;
  bool done = false;
  Configuration configuration = {};
  friend bool operator==(const SnapshotRequest&, const SnapshotRequest&) = default;
};

/// Reply to a snapshot chunk. While the snapshot is incomplete, `offset` is
/// how many of its bytes the follower holds: where the next chunk must start
/// (so a leader resumes after a lost chunk, or from 0 after the follower
/// restarted). `match`, once nonzero, is the index up to which the
/// follower's log now matches the leader's: the snapshot's index once it is
/// installed, or the follower's commit index when it already had everything
/// the snapshot covers (Raft §7: "if ... lastIncludedIndex <= commitIndex").
struct SnapshotResponse {
  Index index = 0;  ///< the snapshot this answers
  std::uint64_t offset = 0;
  Index match = 0;
  friend bool operator==(const SnapshotResponse&, const SnapshotResponse&) = default;
};

/// Leadership transfer (thesis §3.10): the leader has brought the receiver's
/// log up to date and asks it to start an election at once.
struct TimeoutNow {
  friend bool operator==(const TimeoutNow&, const TimeoutNow&) = default;
};

/// ReadIndex from a follower (thesis §6.4): it asks its leader for a read
/// index on behalf of its read `id` (the follower's own number for it).
struct ReadIndexRequest {
  std::uint64_t id = 0;
  friend bool operator==(const ReadIndexRequest&, const ReadIndexRequest&) = default;
};

/// The leader's answer: `index` is its commit index when the request
/// arrived, confirmed since by a quorum answering a heartbeat round; 0 when
/// it can no longer serve the read (it stopped leading).
struct ReadIndexResponse {
  std::uint64_t id = 0;
  Index index = 0;
  friend bool operator==(const ReadIndexResponse&, const ReadIndexResponse&) = default;
};

using MessageBody =
    std::variant<VoteRequest, VoteResponse, AppendRequest, AppendResponse, SnapshotRequest,
                 SnapshotResponse, TimeoutNow, ReadIndexRequest, ReadIndexResponse>;

struct Message {
  NodeId from;
  NodeId to;
  Term term = 0;
  MessageBody body;
  friend bool operator==(const Message&, const Message&) = default;
};

/// Short name of the message's RPC, for logs: "vote", "pre_vote",
/// "vote_response", "pre_vote_response", "append", "append_response",
/// "snapshot", "snapshot_response", "timeout_now", "read_index",
/// "read_index_response".
std::string_view type_name(const Message& message);

}  // namespace conflux::raft
