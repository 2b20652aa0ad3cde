#pragma once
// The Raft consensus core: a pure, deterministic state machine.
//
// It performs no I/O, reads no clock and owns no thread. The driver feeds it
// three kinds of input and carries out what it asks for:
//
//   inputs   tick()      one unit of logical time has passed
//            step(m)     a message arrived from a peer
//            propose(p)  the application wants `p` appended (leader only)
//            compact(s)  the driver stored snapshot `s` of its state machine
//   outputs  while has_ready(): r = ready(); send r.early_messages;
//            persist r.hard_state and r.entries; once they are durable,
//            send r.messages; then apply r.committed; then advance(r)
//            (ready.hpp says why the core lets some messages out early).
//
// Between ready() and advance() the driver may keep calling tick(), step()
// and propose() (their effects wait for the next Ready), and it may take
// the next Ready before advancing this one: several writes in flight
// (ready.hpp, "Pipelining"). Given the same Config (seed included), the same
// restored storage and the same sequence of calls, the core produces the same
// outputs on every platform.
//
// Paper references: "Raft §" is Ongaro & Ousterhout, In Search of an
// Understandable Consensus Algorithm (2014); "thesis §" is Ongaro's PhD
// thesis, Consensus: Bridging Theory and Practice (2014).

#include <conflux/raft/config.hpp>
#include <conflux/raft/log.hpp>
#include <conflux/raft/message.hpp>
#include <conflux/raft/progress.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/raft/ready.hpp>
#include <conflux/raft/storage.hpp>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace conflux::raft {

class Raft {
 public:
  /// Restores the node from `storage` (hard state, snapshot and log) as a
  /// follower. Throws std::invalid_argument if `config` is invalid or the
  /// stored state is inconsistent (commit beyond the last entry, a gap in
  /// the log). The core keeps a reference to `storage`, to read the chunks
  /// of the snapshots it sends: the storage must outlive it.
  Raft(Config config, const Storage& storage);

  /// Advances logical time by one tick: election timeouts for followers and
  /// candidates; heartbeats and check-quorum for leaders. With lease reads
  /// (Config::lease_ticks), ticks must follow a clock that keeps counting
  /// while the process is stopped: the driver delivers the ticks it missed
  /// before it steps a message or asks for a read.
  void tick();

  /// Handles one message from a peer. Messages that break the protocol's
  /// rules, come from unknown senders, are addressed elsewhere or carry an
  /// unusable term (types.hpp: max_term, max_term_jump) are refused with a
  /// reason naming the message, its sender and its term, and change nothing.
  /// Throws std::logic_error if the message would make this node replace a
  /// committed entry (state machine safety broken elsewhere): the driver
  /// must then stop the node.
  StepResult step(Message message);

  /// Appends `payload` as an entry of `type` (normal or session: the
  /// application's) when this node leads; otherwise refuses, naming the
  /// leader if known. An accepted entry is committed only if the entry at
  /// result.index still has result.term once the commit index reaches it
  /// (leadership can change before that). Throws std::invalid_argument for
  /// the core's own types.
  ProposeResult propose(Payload payload, EntryType type = EntryType::normal);

  /// Appends a configuration entry making `changes` (membership.hpp), in
  /// effect at once (thesis §4.1); a change of voters goes through a joint
  /// configuration, which this leader leaves by itself once it commits
  /// (thesis §4.3). Refused, with a reason, unless this node leads, has
  /// committed an entry of its term, no other change is in progress, no
  /// transfer is, every change applies, and every learner to promote has
  /// caught up (holds every committed entry; thesis §4.2.1).
  ProposeResult change_membership(const std::vector<MembershipChange>& changes);

  /// Thesis §3.10: hands leadership to voter `target`. This leader stops
  /// accepting proposals, brings the target's log up to date, then sends it
  /// TimeoutNow; the transfer is abandoned after an election timeout.
  /// Refused, with a reason, unless this node leads and `target` is another
  /// voter of the newest configuration.
  ProposeResult transfer_leadership(const NodeId& target);

  /// Thesis §6.4 (ReadIndex): asks for the index at which read `id` (the
  /// driver's number for it) may be served linearizably. A leader takes its
  /// commit index once it has committed an entry of its term, then confirms
  /// that it still leads by a heartbeat round that a quorum answers;
  /// concurrent reads share a round. A leader holding a lease
  /// (Config::lease_ticks, thesis §6.4.1) skips the round: its reads, and
  /// those its followers ask for, are answered at once. A follower asks its
  /// leader. The answer
  /// comes in a later Ready's `reads`, index 0 if refused: no leader known,
  /// or leadership lost first (a deposed leader never answers a read).
  void read_index(std::uint64_t id);

  /// The driver has stored `snapshot`, its state machine's state after
  /// applying every entry up to snapshot.index, readable through
  /// Storage::read_snapshot (Raft §7). The core drops its entries up to
  /// snapshot.index - trailing_entries and sends this snapshot to followers
  /// that need an entry it no longer holds. Ignored unless newer than
  /// snapshot(). Throws std::invalid_argument when snapshot.index is beyond
  /// the applied index, its term is not the entry's, or its size is 0.
  void compact(const SnapshotMeta& snapshot);

  /// True when a Ready has work in it: work that no Ready handed out so far
  /// carries, whether or not those were advanced.
  bool has_ready() const;
  /// Precondition: has_ready().
  Ready ready();
  /// Reports that `ready`, the oldest Ready not yet advanced, has been
  /// carried out. Throws std::logic_error when none is outstanding.
  void advance(const Ready& ready);

  Status status() const;
  const Log& log() const { return log_; }
  const Config& config() const { return config_; }
  const NodeId& id() const { return config_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  const NodeId& leader() const { return leader_; }
  Index commit() const { return commit_; }
  Index applied() const { return applied_; }
  /// The newest snapshot this node holds (taken, installed or restored).
  const SnapshotMeta& snapshot() const { return snapshot_; }
  /// The newest configuration in the log, committed or not (thesis §4.1).
  const Configuration& configuration() const { return configs_.latest(); }
  /// The configuration in force at `index`, for the driver to store in a
  /// snapshot taken there. Precondition: snapshot().index <= index.
  const Configuration& configuration_at(Index index) const { return configs_.at(index); }

 private:
  // raft.cpp: term rules and role transitions (Raft §5.1, §5.2)
  StepResult validate(const Message& message) const;
  bool should_ignore_higher_term(const Message& message) const;
  void handle_stale_term(const Message& message);
  StepResult dispatch(Message& message);
  void become_follower(Term term, const NodeId& leader);
  void become_pre_candidate();
  void become_candidate(bool transfer = false);
  void become_leader();
  void reset_election_timer();
  void send(const NodeId& to, MessageBody body);
  void send(const NodeId& to, Term term, MessageBody body);
  std::optional<ProposeResult> refuse_proposal() const;

  // election.cpp: elections and votes (Raft §5.2, §5.4.1; thesis §9.6)
  bool may_campaign() const;
  void tick_election();
  void campaign(bool pre_vote, bool transfer);
  bool heard_from_leader_recently() const;
  void handle_vote_request(const Message& message, const VoteRequest& request);
  void handle_vote_response(const Message& message, const VoteResponse& response);

  // replication.cpp: log replication (Raft §5.3, §5.4.2, §8; thesis §6.2, §10.2.1)
  void tick_heartbeat();
  void check_quorum();
  void append_local(EntryType type, Payload payload);
  void handle_append_request(const Message& message, AppendRequest request);
  AppendResponse reject_append(Index prev_log_index) const;
  void handle_append_response(const Message& message, const AppendResponse& response);
  Index resume_index(const AppendResponse& response) const;
  void maybe_commit();
  bool wants_to_send(const Progress& progress) const;
  bool needs_commit_news(const Progress& progress) const;
  bool needs_message(const Progress& progress) const;
  void send_append(const NodeId& to, Progress& progress, bool heartbeat);
  void skip_compacted(const Message& m, AppendRequest& request) const;
  void flush_appends();

  // snapshot.cpp: sending and installing snapshots (Raft §7)
  void send_chunk(const NodeId& to, Progress& progress);
  StepResult handle_snapshot_request(const Message& message, const SnapshotRequest& request);
  void install(const SnapshotMeta& snapshot);
  void handle_snapshot_response(const Message& message, const SnapshotResponse& response);

  // reads.cpp: linearizable reads (thesis §6.4)
  void queue_read(std::uint64_t id, const NodeId& from);
  void start_read_rounds();
  void broadcast_read_round();
  void confirm_reads();
  void release_read(std::uint64_t id, const NodeId& from, Index index);
  void abandon_reads();
  void expire_forwarded_reads();
  void handle_read_index(const Message& message, const ReadIndexRequest& request);
  void handle_read_index_response(const Message& message, const ReadIndexResponse& response);
  bool holds_lease() const;
  void extend_lease();

  // reconfiguration.cpp: configurations and leadership transfer
  // (thesis §3.10, ch. 4)
  void restore_configurations();
  void append_configuration(const Configuration& config);
  void configuration_changed();
  void after_commit();
  std::string refuse_change(const std::vector<MembershipChange>& changes) const;
  void maybe_send_timeout_now(const NodeId& peer, const Progress& progress);
  void tick_transfer();
  void handle_timeout_now(const Message& message);

  Config config_;
  const Storage& storage_;     // read only for the chunks of snapshots sent
  std::vector<NodeId> peers_;  // every member of configuration() but this node
  Random random_;

  // Persistent state (Raft Figure 2); handed to the driver through Ready.
  Term term_ = 0;
  NodeId vote_;  // invariant: empty, or the only vote cast in term_
  Log log_;
  // The configurations of the log from the snapshot's index on (thesis
  // §4.1). Invariant: one per configuration entry after the snapshot, the
  // newest in force.
  ConfigurationLog configs_;

  // The newest snapshot held. Invariant: log_.base_index() <=
  // snapshot_.index <= applied_ (entries up to the base are in it).
  SnapshotMeta snapshot_;
  // A snapshot this follower is receiving: from which leader, in which
  // term, and how many of its bytes it holds (Raft §7).
  struct Incoming {
    SnapshotMeta meta;
    NodeId leader;
    Term term = 0;
    std::uint64_t received = 0;
  };
  std::optional<Incoming> incoming_;

  // Volatile state. Invariants: applied_ <= applying_ <= commit_ <=
  // log_.last_index(); snapshot_.index <= stable_ <= handed_ <=
  // log_.last_index() (entries up to the snapshot are durable in it);
  // commit_ and term_ never decrease.
  Index commit_ = 0;
  Index applied_ = 0;            // last entry the driver has applied (via advance)
  Index applying_ = 0;           // last committed entry handed out in a Ready
  Index stable_ = 0;             // last entry known to be persisted locally
  Index handed_ = 0;             // last entry handed out in a Ready to persist
  HardState saved_hard_state_;   // as last handed out in a Ready
  std::size_t outstanding_ = 0;  // Readys handed out and not yet advanced

  Role role_ = Role::follower;
  NodeId leader_;  // empty when unknown
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_ticks_ = 0;
  std::uint64_t elections_ = 0;    // monitoring: candidacies since construction
  std::uint64_t leaderships_ = 0;  // monitoring: times this node became leader

  std::map<NodeId, bool> votes_;         // candidate and pre-candidate only
  std::map<NodeId, Progress> progress_;  // leader only: one per peer
  Index term_start_ = 0;                 // leader only: its first entry of term_
  // Leader only: a leadership transfer in progress (thesis §3.10).
  NodeId transfer_target_;
  int transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;
  // Leader only: reads waiting for a quorum to answer round `round` (0: not
  // yet given an index, until an entry of term_ commits, thesis §6.4), in
  // the order they arrived, so rounds never decrease along the queue.
  // `from` is the follower that asked, empty for this node's own.
  struct PendingRead {
    std::uint64_t id = 0;
    NodeId from;
    Index index = 0;
    std::uint64_t round = 0;
  };
  std::vector<PendingRead> reads_;
  std::uint64_t round_ = 0;                   // leader only: its last heartbeat round
  bool round_wanted_ = false;                 // leader only: a read waits for a new round
  std::map<NodeId, std::uint64_t> answered_;  // leader only: each peer's last round answered
  // Leader only, with lease reads (thesis §6.4.1): when each round not yet
  // answered by a quorum was sent, as (round, tick), oldest first; the tick
  // before which the lease holds; and whether a TimeoutNow went out in this
  // term (its election ignores the lease, so none is held for the term).
  // Invariant: lease_until_ <= ticks_ + config_.lease_ticks.
  std::deque<std::pair<std::uint64_t, std::uint64_t>> rounds_sent_;
  std::uint64_t lease_until_ = 0;
  bool lease_forfeited_ = false;
  // Follower: reads asked of leader_, by id, with the tick they were asked
  // at: one unanswered for an election timeout (a message lost) is refused,
  // so that the driver asks again.
  struct ForwardedRead {
    NodeId leader;
    std::uint64_t asked_at = 0;
  };
  std::map<std::uint64_t, ForwardedRead> forwarded_reads_;
  std::uint64_t ticks_ = 0;             // ticks since construction
  Term restored_term_ = 0;              // the term read from storage at construction
  Term durable_term_ = 0;               // the newest term known durable (restored or advanced)
  std::vector<ReadState> read_states_;  // outbox for Ready::reads
  // Outboxes, emptied by ready(): snapshot chunks to persist, what may leave
  // before this Ready's writes are durable, and what must wait for them
  // (ready.hpp).
  std::vector<SnapshotChunk> chunks_;
  std::vector<Message> early_messages_;
  std::vector<Message> messages_;
};

}  // namespace conflux::raft
