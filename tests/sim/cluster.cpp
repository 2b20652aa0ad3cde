#include "sim/cluster.hpp"

#include <algorithm>
#include <stdexcept>

namespace conflux::sim {
namespace {

// Clocks run within 10 % of real time, so the lease is bounded as config.hpp
// says: (election_ticks_min - 1) * (1 - rho) / (1 + rho) ticks.
constexpr std::uint64_t drift_per_mille = 100;
constexpr int election_ticks_min = 6;
constexpr int lease_ticks =
    (election_ticks_min - 1) * (1000 - drift_per_mille) / static_cast<int>(1000 + drift_per_mille);

}  // namespace

Cluster::Cluster(std::size_t size, std::size_t spares, std::uint64_t seed, raft::Random& random)
    : seed_(seed), founders_(size), random_(random), network_(random) {
  for (std::size_t i = 0; i < size + spares; ++i) ids_.push_back("n" + std::to_string(i + 1));
  nodes_.resize(ids_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].id = ids_[i];
    restart(i);
  }
}

raft::Config Cluster::config_for(std::size_t i) const {
  raft::Config config;
  config.id = ids_[i];
  if (i < founders_) config.voters.assign(ids_.begin(), ids_.begin() + founders_);
  config.election_ticks_min = election_ticks_min;
  config.election_ticks_max = 2 * election_ticks_min;
  if (leases()) config.lease_ticks = lease_ticks;
  config.heartbeat_ticks = 1;
  // Small and varied flow-control limits, so that batches split and
  // acknowledgements of old entries arrive apart from new ones.
  config.max_entries_per_message = std::size_t{1} << (seed_ / 4 % 4);  // 1, 2, 4 or 8
  config.max_inflight_messages = 1 + seed_ / 16 % 4;
  // Snapshots of a few hundred bytes travel in many chunks, a few in flight;
  // compaction keeps 0 to 7 entries behind the snapshot.
  config.max_bytes_per_message = std::size_t{32} << (seed_ / 64 % 3);
  config.max_inflight_chunks = 1 + seed_ / 192 % 3;
  config.trailing_entries = seed_ / 576 % 8;
  config.seed = seed_ * 7919 + i * 104729 + nodes_[i].lives;
  return config;
}

void Cluster::tick(std::size_t i) {
  if (alive(i)) nodes_[i].raft->tick();
}

void Cluster::advance_time() {
  const std::uint64_t tick_length = 1000 * nodes_.size();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!alive(i)) continue;
    auto& node = nodes_[i];
    node.clock_phase += node.clock_rate;
    for (; node.clock_phase >= tick_length; node.clock_phase -= tick_length) node.raft->tick();
  }
}

SimNode* Cluster::live_node(const raft::NodeId& id) {
  for (auto& node : nodes_) {
    if (node.id == id && node.raft) return &node;
  }
  return nullptr;
}

void Cluster::deliver(raft::Message message) {
  auto* node = live_node(message.to);
  if (!node) return;
  auto result = node->raft->step(std::move(message));
  // A chunk that arrives out of order (the network reorders) is answered
  // with the offset expected; any other refusal is a bug in the core.
  if (!result.ok() && result.error != raft::StepError::unexpected_chunk)
    throw std::logic_error("core refused a message: " + result.reason);
}

std::string Cluster::deliver_hostile(raft::Message message) {
  auto* node = live_node(message.to);
  if (!node) return {};
  const auto term = message.term;
  const auto before = node->raft->status();
  const auto result = node->raft->step(std::move(message));
  const auto after = node->raft->status();
  if (result.error != raft::StepError::term_too_large) {
    return "a message at term " + std::to_string(term) + " was not refused as term_too_large";
  }
  if (after.term != before.term || after.role != before.role || after.leader != before.leader ||
      after.vote != before.vote || after.commit != before.commit) {
    return "refusing a message at term " + std::to_string(term) + " changed " + node->id;
  }
  return {};
}

bool Cluster::propose(std::size_t i, std::string payload) {
  return alive(i) && nodes_[i].raft->propose(raft::Payload(std::move(payload))).accepted;
}

void Cluster::read(std::size_t i) {
  if (!alive(i)) return;
  committed_before_read_[++reads_asked_] = checker_.committed();
  nodes_[i].raft->read_index(reads_asked_);
}

// Refused reads (index 0) are asked no more; the others must be linearizable.
void Cluster::check_reads(std::size_t i, const std::vector<raft::ReadState>& reads) {
  for (const auto& read : reads) {
    auto asked = committed_before_read_.find(read.id);
    if (asked == committed_before_read_.end()) continue;  // asked in an earlier life
    if (read.index != 0) checker_.on_read(nodes_[i].id, asked->second, read.index);
    committed_before_read_.erase(asked);
  }
}

void Cluster::compact(std::size_t i) {
  if (!alive(i)) return;
  auto& node = nodes_[i];
  const auto index = node.raft->applied();
  if (index <= node.raft->snapshot().index) return;
  const raft::SnapshotMeta meta{index, *node.raft->log().term_at(index), node.state.size(),
                                node.raft->configuration_at(index)};
  node.storage.save_snapshot(meta, raft::Payload(node.state));
  node.raft->compact(meta);
}

void Cluster::crash(std::size_t i) {
  SimNode& node = nodes_[i];
  node.raft.reset();
  // Writes reach the disk in order (lib/'s driver writes them in order);
  // a snapshot install, written chunk by chunk, ends the prefix.
  auto reached = random_.uniform(0, node.writing.size());
  for (std::size_t k = 0; k < reached && node.writing[k].ready.snapshot_chunks.empty(); ++k)
    persist(node, node.writing[k].ready, node.writing[k].role);
  node.writing.clear();
}

void Cluster::restart(std::size_t i) {
  SimNode& node = nodes_[i];
  ++node.lives;
  if (leases()) node.clock_rate = random_.uniform(1000 - drift_per_mille, 1000 + drift_per_mille);
  node.raft = std::make_unique<raft::Raft>(config_for(i), node.storage);
  node.state = std::string(node.storage.snapshot_data().view());
  checker_.on_restart(node.id, node.storage.snapshot(), node.state);
}

void Cluster::process(std::uint64_t crash_per_mille) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {  // writes in flight finish now, or later
    while (alive(i) && !nodes_[i].writing.empty() && random_.chance(1, 2)) {
      auto done = std::move(nodes_[i].writing.front());
      nodes_[i].writing.pop_front();
      finish_ready(i, done.ready, done.role, crash_per_mille);
    }
  }
  int rounds = 0;
  for (bool busy = true; busy;) {
    if (++rounds > 10000) throw std::logic_error("the cluster never went quiet: livelock");
    busy = false;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (alive(i) && nodes_[i].writing.size() < max_in_flight() && nodes_[i].raft->has_ready()) {
        handle_ready(i, crash_per_mille);
        busy = true;
      }
    }
  }
}

// Drives one Ready as lib/ does, by the core's word alone: the early
// messages leave first; the write then may stay in flight (as with lib/'s
// fsync worker) while the node keeps stepping and taking Readys, or be lost
// to a crash; the other messages leave only once it is durable. A Ready
// behind one in flight waits for it: they complete in order.
void Cluster::handle_ready(std::size_t i, std::uint64_t crash_per_mille) {
  SimNode& node = nodes_[i];
  raft::Ready ready = node.raft->ready();
  const auto role = node.raft->role();
  check_reads(i, ready.reads);
  for (auto& message : ready.early_messages) network_.send(std::move(message));
  ready.early_messages.clear();
  if (ready.hard_state || !ready.entries.empty() || !ready.snapshot_chunks.empty()) {
    if (random_.chance(crash_per_mille, 1000)) return crash(i);  // sent, never persisted
  }
  if (!node.writing.empty() || (!ready.entries.empty() && random_.chance(1, 2))) {
    node.writing.push_back({std::move(ready), role});  // the write stays in flight
    return;
  }
  finish_ready(i, ready, role, crash_per_mille);
}

void Cluster::finish_ready(std::size_t i, raft::Ready& ready, raft::Role role,
                           std::uint64_t crash_per_mille) {
  SimNode& node = nodes_[i];
  if (!write_chunks(i, ready, crash_per_mille)) return;
  // An installed snapshot is durable before the hard state: a crash may come
  // in between, leaving a snapshot of a term the hard state lacks.
  if (!ready.snapshot_chunks.empty() && ready.hard_state && random_.chance(crash_per_mille, 1000)) {
    node.writing.clear();
    crash(i);
    return;
  }
  checker_.on_persist(node.id, role, node.storage, ready);
  if (ready.hard_state) node.storage.save_hard_state(*ready.hard_state);
  // lib/'s FileStorage makes a term or vote durable at once, before the
  // entries: a crash may come in between (and nothing later reached the disk).
  if (ready.hard_state && !ready.entries.empty() && random_.chance(crash_per_mille, 1000)) {
    node.writing.clear();
    crash(i);
    return;
  }
  node.storage.append(ready.entries);
  if (random_.chance(crash_per_mille, 1000)) {
    crash(i);  // persisted, but nothing (more) sent or applied
    return;
  }
  for (auto& message : ready.messages) network_.send(std::move(message));
  checker_.on_apply(node.id, ready.committed);
  for (const auto& entry : ready.committed) node.state += encode_applied(entry);
  node.raft->advance(ready);
}

void Cluster::persist(SimNode& node, const raft::Ready& ready, raft::Role role) {
  checker_.on_persist(node.id, role, node.storage, ready);
  if (ready.hard_state) node.storage.save_hard_state(*ready.hard_state);
  node.storage.append(ready.entries);
}

// Writes the Ready's snapshot chunks; the node may crash between two of
// them (mid-install). An installed snapshot replaces the state machine,
// which must equal the committed prefix replayed (the checker's view).
bool Cluster::write_chunks(std::size_t i, const raft::Ready& ready, std::uint64_t crash_per_mille) {
  SimNode& node = nodes_[i];
  for (const auto& chunk : ready.snapshot_chunks) {
    if (random_.chance(crash_per_mille, 1000)) {
      crash(i);
      return false;
    }
    node.storage.write_chunk(chunk);
    if (!chunk.done) continue;
    node.state = std::string(node.storage.snapshot_data().view());
    checker_.on_received(node.id, chunk.meta, node.state);
  }
  return true;
}

void Cluster::check() {
  std::vector<const raft::Raft*> live;
  for (const auto& node : nodes_) {
    if (node.raft) live.push_back(node.raft.get());
  }
  checker_.after_step(live);
}

int Cluster::leader() const {
  int best = -1;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& raft = nodes_[i].raft;
    if (raft && raft->role() == raft::Role::leader &&
        (best < 0 || raft->term() > nodes_[best].raft->term())) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

std::size_t Cluster::live_count() const {
  std::size_t count = 0;
  for (const auto& node : nodes_) count += node.raft ? 1 : 0;
  return count;
}

}  // namespace conflux::sim
