#pragma once
// What the core hands its driver, and what it reports about itself.

#include <conflux/raft/message.hpp>
#include <conflux/raft/progress.hpp>
#include <conflux/raft/types.hpp>
#include <optional>
#include <string>
#include <vector>

namespace conflux::raft {

/// One batch of work for the driver, to be carried out in this order:
///   1. send `early_messages` (at once, before step 2 is durable);
///   2. persist, in this order: `snapshot_chunks` (installing a snapshot
///      whose last chunk is here, see below), `hard_state` (if set) and
///      `entries` (Storage::append);
///   3. send `messages`, only once step 2 is durable;
///   4. apply `committed` to the state machine, in order;
///   5. call Raft::advance() with this Ready.
/// Installing snapshot S (a chunk with `done`; Raft §7): the driver makes
/// the whole snapshot durable, then drops every stored entry up to S.index,
/// and the entries after it too unless the stored entry at S.index has
/// S.term (the core's log did the same); the state machine is restored
/// from the snapshot, and `committed` then holds only entries after it.
/// The core decides which messages are early; the driver never looks at
/// their types.
/// Pipelining (etcd-io/raft's AsyncStorageWrites, thesis §10.2.1): the
/// driver may take the next Ready before it has advanced this one, so that
/// several writes are in flight while the node goes on stepping. Each Ready
/// carries only what no earlier one did (entries from where the last ended,
/// or from an overwritten tail; committed entries not yet handed out).
/// Readys are carried out and advanced in the order ready() returned them:
/// a Ready's `messages` leave, and its `committed` apply, only once its
/// writes and those of every earlier Ready are durable. advance(r) counts
/// r's entries as durable only if the log still holds them (Log Matching),
/// so the leader never counts a copy still in flight.
/// A read's index (thesis §6.4): the read `id` given to Raft::read_index()
/// may be served from the state machine once it has applied `index`. Index
/// 0: refused (no leader known, or leadership changed before the read was
/// confirmed); the driver may ask again.
struct ReadState {
  std::uint64_t id = 0;
  Index index = 0;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

struct Ready {
  std::vector<SnapshotChunk> snapshot_chunks;
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;
  /// May leave before hard_state and entries are durable: a leader's
  /// AppendEntries (thesis §10.2.1), so that its own fsync overlaps its
  /// followers'. Safe because the leader counts its own copy towards
  /// commitment only once advance() reports it persisted, and because the
  /// term they carry was made durable before the vote requests that won it
  /// were sent.
  std::vector<Message> early_messages;
  /// Only once hard_state and entries are durable: a vote or an
  /// acknowledgement must never outrun the disk (Raft §5, Figure 2,
  /// "updated on stable storage before responding to RPCs").
  std::vector<Message> messages;
  std::vector<Entry> committed;
  /// Reads whose index is known (or that were refused); these depend on no
  /// write of this Ready and may be handled at any step.
  std::vector<ReadState> reads;

  bool empty() const {
    return snapshot_chunks.empty() && !hard_state && entries.empty() && early_messages.empty() &&
           messages.empty() && committed.empty() && reads.empty();
  }
};

struct PeerStatus {
  NodeId id;
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::probe;
  std::size_t inflight = 0;
  bool recent_active = false;
  bool voter = true;  ///< false for a learner
};

struct Status {
  NodeId id;
  Role role = Role::follower;
  Term term = 0;
  NodeId leader;  ///< empty when unknown
  NodeId vote;    ///< empty when none in this term
  Index commit = 0;
  Index applied = 0;
  Index last_index = 0;
  Term last_term = 0;
  /// The newest snapshot this node holds (index 0: none), and the first
  /// index its log still holds.
  SnapshotMeta snapshot;
  Index first_index = 1;
  /// Elections this node started as a candidate, and times it became
  /// leader, since it was built (monitoring only).
  std::uint64_t elections = 0;
  std::uint64_t leaderships = 0;
  /// The newest configuration in the log (thesis §4.1), the index of its
  /// entry (0: the bootstrap one), and whether it is committed.
  Configuration configuration;
  Index configuration_index = 0;
  bool configuration_committed = true;
  /// Leader only: the voter it is handing leadership to (thesis §3.10).
  NodeId transfer_target;
  /// Replication progress of every other member; filled only on the leader.
  std::vector<PeerStatus> peers;
};

/// Result of Raft::propose().
/// Result of Raft::propose(), Raft::change_membership() and
/// Raft::transfer_leadership().
struct ProposeResult {
  bool accepted = false;
  Index index = 0;  ///< where the entry sits in the log, when accepted
  Term term = 0;    ///< the term it was proposed in, when accepted
  NodeId leader;    ///< when refused: the leader this node knows of, or empty
  /// When refused by a leader: why (a transfer or a membership change in
  /// progress, an unknown id, ...). Empty when refused for not leading.
  std::string refusal;
  /// Refused for now only: a membership change or a transfer is in
  /// progress, this leader has not committed an entry of its term yet, or
  /// a learner to promote has not caught up. Asking again later may work.
  bool busy = false;

  /// Empty when accepted; otherwise `refusal`, or "not leader, leader is
  /// <id>", or "not leader, leader unknown".
  std::string error() const;
  /// True when refused because this node does not lead.
  bool not_leader() const { return !accepted && refusal.empty(); }
};

enum class StepError : std::uint8_t {
  none,
  wrong_recipient,  ///< message addressed to another node
  unknown_sender,   ///< the sender is this node, or empty
  malformed,        ///< contents break the protocol's rules (see reason)
  term_too_large,   ///< term beyond max_term, or more than max_term_jump ahead
  /// A snapshot chunk at an offset this node does not expect, or of a
  /// snapshot it is not receiving: answered with the offset it expects, so
  /// that the leader resumes from there; nothing else changes.
  unexpected_chunk,
};

std::string_view to_string(StepError error);

/// Result of Raft::step(). A refused message changes nothing in the core
/// (unexpected_chunk: but for the answer).
struct StepResult {
  StepError error = StepError::none;
  std::string reason;
  bool ok() const { return error == StepError::none; }
};

}  // namespace conflux::raft
