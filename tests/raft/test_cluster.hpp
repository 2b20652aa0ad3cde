#pragma once
// A small synchronous harness for Raft core tests. Several cores live in one
// test; each has its own MemoryStorage. process() carries out the Ready
// contract in the documented order (persist, then send, then apply, then
// advance). Sent messages wait in one FIFO queue until deliver() hands them to
// their addressees; messages to or from an isolated node, or matching a drop
// filter, are lost on the way. Nothing here reads a clock: time is tick().

#include <conflux/raft/raft.hpp>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace conflux::raft::testing {

/// A message built by hand, for tests that drive one core directly.
inline Message msg(NodeId from, NodeId to, Term term, MessageBody body) {
  return Message{std::move(from), std::move(to), term, std::move(body)};
}

// Message bodies, written briefly.
inline AppendRequest append(Index prev, Term prev_term, std::vector<Entry> entries = {},
                            Index commit = 0) {
  return AppendRequest{.prev_log_index = prev,
                       .prev_log_term = prev_term,
                       .entries = std::move(entries),
                       .leader_commit = commit};
}

inline VoteRequest vote(Index last_index, Term last_term, bool pre_vote = false) {
  return VoteRequest{
      .pre_vote = pre_vote, .last_log_index = last_index, .last_log_term = last_term};
}

inline AppendResponse ack(Index match) {
  return AppendResponse{.success = true,
                        .match_index = match,
                        .rejected_index = 0,
                        .conflict_index = 0,
                        .conflict_term = 0};
}

/// Normal entries with the given terms at indices first, first + 1, ...
inline std::vector<Entry> entries_with_terms(std::initializer_list<Term> terms, Index first = 1) {
  std::vector<Entry> out;
  for (Term term : terms) {
    const Index index = first + out.size();
    out.push_back(Entry{term, index, EntryType::normal, Payload("e" + std::to_string(index))});
  }
  return out;
}

/// The term of every entry of `log`, in index order.
inline std::vector<Term> terms_of(const Log& log) {
  std::vector<Term> out;
  for (Index i = log.first_index(); i <= log.last_index(); ++i) out.push_back(log.at(i).term);
  return out;
}

/// The bodies of type Body among `messages` (only those to `to`, if given).
template <typename Body>
std::vector<Body> bodies_of(const std::vector<Message>& messages, const NodeId& to = "") {
  std::vector<Body> out;
  for (const auto& m : messages) {
    auto* body = std::get_if<Body>(&m.body);
    if (body && (to.empty() || m.to == to)) out.push_back(*body);
  }
  return out;
}

/// What an outsider can see of a core: unchanged by a refused message.
struct Observable {
  Role role;
  Term term;
  NodeId leader, vote;
  Index commit, last_index;
  Term last_term;
  bool operator==(const Observable&) const = default;
};

inline Observable observe(const Raft& raft) {
  const Status s = raft.status();
  return {s.role, s.term, s.leader, s.vote, s.commit, s.last_index, s.last_term};
}

class Cluster {
 public:
  using Tweak = std::function<void(Config&)>;
  using Filter = std::function<bool(const Message&)>;

  /// Every node starts as a follower in term 0 with an empty log. Seeds
  /// differ per node; `tweak` may change any option of every node's Config.
  explicit Cluster(std::vector<NodeId> ids, const Tweak& tweak = {}) {
    std::uint64_t seed = 1;
    for (const auto& id : ids) {
      Node& node = nodes_[id];
      node.config = Config{.id = id, .voters = ids, .seed = seed++};
      if (tweak) tweak(node.config);
      node.raft = std::make_unique<Raft>(node.config, node.storage);
    }
  }

  Raft& raft(const NodeId& id) { return *node(id).raft; }
  MemoryStorage& storage(const NodeId& id) { return node(id).storage; }
  /// Every committed entry handed to the node's application, no-ops included.
  const std::vector<Entry>& applied(const NodeId& id) { return node(id).applied; }

  /// Every read state the node's Ready has carried (Raft::read_index).
  const std::vector<ReadState>& reads(const NodeId& id) { return node(id).reads; }

  /// The payloads of the normal entries the node has applied, in order.
  std::vector<std::string> applied_payloads(const NodeId& id) {
    std::vector<std::string> out;
    for (const auto& e : applied(id)) {
      if (e.type == EntryType::normal) out.emplace_back(e.payload.view());
    }
    return out;
  }

  /// Replaces the node's durable state, then restarts it from there.
  void load(const NodeId& id, const HardState& state, const std::vector<Entry>& entries) {
    node(id).storage = MemoryStorage{};
    node(id).storage.save_hard_state(state);
    node(id).storage.append(entries);
    restart(id);
  }
  /// Rebuilds the core from its storage, as after a crash. The application
  /// restarts empty and is replayed the committed prefix.
  void restart(const NodeId& id) {
    Node& n = node(id);
    n.raft = std::make_unique<Raft>(n.config, n.storage);
    n.applied.clear();
    process(id);
  }
  /// Restarts the node with an empty disk (its log and vote are lost).
  void wipe(const NodeId& id) { load(id, HardState{}, {}); }

  /// Drains the node's Ready queue in the documented order.
  void process(const NodeId& id) {
    Node& n = node(id);
    for (int budget = 10000; n.raft->has_ready(); --budget) {
      if (budget == 0) throw std::logic_error("Cluster::process: \"" + id + "\" is never done");
      Ready ready = n.raft->ready();
      queue_.insert(queue_.end(), ready.early_messages.begin(), ready.early_messages.end());
      for (const auto& chunk : ready.snapshot_chunks) n.storage.write_chunk(chunk);
      if (ready.hard_state) n.storage.save_hard_state(*ready.hard_state);
      n.storage.append(ready.entries);
      queue_.insert(queue_.end(), ready.messages.begin(), ready.messages.end());
      n.applied.insert(n.applied.end(), ready.committed.begin(), ready.committed.end());
      n.reads.insert(n.reads.end(), ready.reads.begin(), ready.reads.end());
      n.raft->advance(ready);
    }
  }
  void process_all() {
    for (auto& [id, n] : nodes_) process(id);
  }

  /// Steps one message into its addressee and processes the outcome.
  StepResult step(const Message& m) {
    StepResult result = raft(m.to).step(m);
    process(m.to);
    return result;
  }
  ProposeResult propose(const NodeId& id, std::string payload) {
    ProposeResult result = raft(id).propose(Payload(std::move(payload)));
    process(id);
    return result;
  }
  void tick(const NodeId& id, int times = 1) {
    for (int i = 0; i < times; ++i) {
      raft(id).tick();
      process(id);
    }
  }
  /// `rounds` times: tick every node once, then deliver until quiet.
  void tick_all(int rounds = 1) {
    for (int r = 0; r < rounds; ++r) {
      for (auto& [id, n] : nodes_) tick(id);
      deliver();
    }
  }

  /// Delivers queued messages, and those they provoke, until none is left.
  void deliver() {
    process_all();
    for (int budget = 100000; !queue_.empty(); --budget) {
      if (budget == 0) throw std::logic_error("Cluster::deliver: messages never stop");
      Message m = std::move(queue_.front());
      queue_.pop_front();
      if (blocked(m)) continue;
      delivered_.push_back(m);
      step(m);
    }
  }
  /// The messages waiting in the queue (after processing every node).
  std::vector<Message> queued() {
    process_all();
    return {queue_.begin(), queue_.end()};
  }
  /// Removes the queued messages, for a test to inspect or answer by hand.
  std::vector<Message> take_sent() {
    std::vector<Message> out = queued();
    queue_.clear();
    return out;
  }
  /// Every message deliver() has handed over so far, in order.
  const std::vector<Message>& delivered() const { return delivered_; }

  void isolate(const NodeId& id) { isolated_.insert(id); }
  void drop_if(Filter filter) { drop_ = std::move(filter); }
  void heal() {
    isolated_.clear();
    drop_ = nullptr;
  }

  /// The leader with the highest term, if any node leads.
  std::optional<NodeId> leader() {
    std::optional<NodeId> best;
    for (auto& [id, n] : nodes_) {
      if (n.raft->role() == Role::leader && (!best || n.raft->term() > raft(*best).term()))
        best = id;
    }
    return best;
  }

  /// Ticks only `id` (others stay still, so they are not competing) and
  /// delivers, until it leads. False if it did not win within two timeouts.
  bool elect(const NodeId& id) {
    for (int i = 0; i < 2 * node(id).config.election_ticks_max; ++i) {
      tick(id);
      deliver();
      if (raft(id).role() == Role::leader) return true;
    }
    return false;
  }

  /// Drives `id` through a (pre-)election by hand: ticks it until it
  /// campaigns, then grants every (pre-)vote it asks for. Nothing else is
  /// delivered: the other cores stay untouched, and the new leader's first
  /// AppendEntries are dropped. False if it did not end up leading.
  bool elect_by_hand(const NodeId& id) {
    for (int i = 0; i < node(id).config.election_ticks_max && raft(id).role() == Role::follower;
         ++i) {
      tick(id);
    }
    for (int round = 0; round < 2; ++round) {
      for (const auto& m : take_sent()) {
        if (auto* request = std::get_if<VoteRequest>(&m.body)) {
          step(msg(m.to, m.from, m.term,
                   VoteResponse{.pre_vote = request->pre_vote, .granted = true}));
        }
      }
    }
    take_sent();
    return raft(id).role() == Role::leader;
  }

 private:
  struct Node {
    Config config;
    MemoryStorage storage;  // durable: survives restart()
    std::unique_ptr<Raft> raft;
    std::vector<Entry> applied;
    std::vector<ReadState> reads;
  };

  Node& node(const NodeId& id) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) throw std::out_of_range("no node \"" + id + "\"");
    return it->second;
  }
  bool blocked(const Message& m) const {
    return isolated_.count(m.from) || isolated_.count(m.to) || (drop_ && drop_(m));
  }

  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::vector<Message> delivered_;
  std::set<NodeId> isolated_;
  Filter drop_;
};

}  // namespace conflux::raft::testing
