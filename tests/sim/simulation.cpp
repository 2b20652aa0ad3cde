#include "sim/simulation.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <optional>

#include "sim/cluster.hpp"

namespace conflux::sim {
namespace {

constexpr std::size_t cluster_sizes[] = {1, 3, 5, 7};
constexpr int liveness_tick_limit = 400;
constexpr int drain_budget = 20000;  // messages delivered in one tick after healing
constexpr int hostile_every = 97;    // steps between two messages with unusable terms
constexpr std::size_t spares = 2;    // nodes in join mode, for membership changes

class Simulation {
 public:
  Simulation(std::uint64_t seed, std::size_t size)
      : random_(seed), cluster_(size, spares, seed, random_) {}

  SimulationResult run(int steps);

 private:
  void random_step();
  std::optional<std::size_t> any_leader();
  std::string inject_hostile(int count);
  void propose();
  void change_membership();
  std::optional<raft::NodeId> pick(const std::function<bool(const raft::NodeId&)>& wanted);
  void fault();
  void partition();
  void restart_one();
  bool check(const std::string& where);
  int heal_and_commit();
  bool drain();
  bool committed_everywhere(raft::Index index, raft::Term term);

  raft::Random random_;
  Cluster cluster_;
  int proposals_ = 0;
  SimulationResult result_;
};

SimulationResult Simulation::run(int steps) {
  result_.nodes = cluster_.size();
  cluster_.process();
  for (int step = 1; step <= steps; ++step) {
    random_step();
    const auto where = "step " + std::to_string(step);
    if (step % hostile_every == 0) {
      if (auto problem = inject_hostile(step / hostile_every); !problem.empty()) {
        result_.ok = false;
        result_.failure = where + ": " + problem;
        return result_;
      }
    }
    if (!check(where)) return result_;
  }
  result_.liveness_ticks = heal_and_commit();
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    result_.max_term = std::max(result_.max_term, cluster_.node(i).raft->term());
  }
  result_.committed = cluster_.checker().committed();
  result_.installs = cluster_.checker().installs();
  result_.reads = cluster_.checker().reads();
  return result_;
}

void Simulation::random_step() {
  const auto roll = random_.uniform(0, 999);
  const auto any = [&] { return random_.uniform(0, cluster_.size() - 1); };
  if (roll < 500 && cluster_.network().in_flight() > 0) {
    if (auto message = cluster_.network().take_random()) cluster_.deliver(std::move(*message));
  } else if (roll < 750) {
    if (cluster_.leases()) {
      cluster_.advance_time();
    } else {
      cluster_.tick(any());
    }
  } else if (roll < 780) {
    cluster_.compact(any());
  } else if (roll < 795) {
    change_membership();
  } else if (roll < 850) {
    propose();
  } else if (roll < 900) {
    cluster_.read(random_.chance(1, 2) ? any_leader().value_or(any()) : any());
  } else {
    fault();
  }
  cluster_.process(2);
}

// A live node that believes it leads, deposed or not: reads are asked of
// stale leaders too, which must never answer them with a stale index.
std::optional<std::size_t> Simulation::any_leader() {
  std::vector<std::size_t> leaders;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    if (cluster_.alive(i) && cluster_.node(i).raft->role() == raft::Role::leader)
      leaders.push_back(i);
  }
  if (leaders.empty()) return std::nullopt;
  return leaders[random_.uniform(0, leaders.size() - 1)];
}

// A peer sends a message with a term no node may adopt: at the wire's
// maximum, at the largest usable term, or just beyond the allowed jump. It is
// refused and changes nothing. Chosen from the count, not the random stream,
// so that every seed replays as it did without these messages.
std::string Simulation::inject_hostile(int count) {
  const auto size = cluster_.size();
  if (size == 1) return {};  // a lone node has no peer to be hostile
  const auto to = static_cast<std::size_t>(count) % size;
  if (!cluster_.alive(to)) return {};
  const auto& ids = cluster_.ids();
  const raft::Term current = cluster_.node(to).raft->term();
  const raft::Term terms[] = {raft::max_wire_integer, raft::max_term,
                              current + raft::max_term_jump + 1};
  const raft::MessageBody bodies[] = {
      raft::AppendRequest{},
      raft::VoteRequest{.pre_vote = false, .last_log_index = 0, .last_log_term = 0},
      raft::VoteResponse{.pre_vote = true, .granted = true}, raft::AppendResponse{}};
  raft::Message message{ids[(to + 1) % size], ids[to], terms[count % 3], bodies[count / 3 % 4]};
  return cluster_.deliver_hostile(std::move(message));
}

void Simulation::propose() {
  const int leader = cluster_.leader();
  const auto target = leader >= 0 && random_.chance(7, 10)
                          ? static_cast<std::size_t>(leader)
                          : random_.uniform(0, cluster_.size() - 1);
  cluster_.propose(target, "p" + std::to_string(++proposals_));
}

std::optional<raft::NodeId> Simulation::pick(
    const std::function<bool(const raft::NodeId&)>& wanted) {
  std::vector<raft::NodeId> found;
  for (const auto& id : cluster_.ids()) {
    if (wanted(id)) found.push_back(id);
  }
  if (found.empty()) return std::nullopt;
  return found[random_.uniform(0, found.size() - 1)];
}

// Membership changes at the leader (thesis ch. 4): learners added and
// promoted, voters added, removed and replaced, one or two at a time (two
// voters at once is where only the joint quorum of §4.3 keeps majorities
// overlapping), and leadership transfers (§3.10). Refusals are expected.
void Simulation::change_membership() {
  const int leader = cluster_.leader();
  if (leader < 0) return;
  auto& raft = *cluster_.node(static_cast<std::size_t>(leader)).raft;
  const raft::Configuration config = raft.configuration();
  const auto outsider = [&](const raft::NodeId& id) {
    return !config.is_voter(id) && !config.is_learner(id);
  };
  const auto voter = [&](const raft::NodeId& id) { return config.is_voter(id); };
  using Kind = raft::MembershipChange::Kind;
  std::vector<raft::MembershipChange> changes;
  const auto add = [&](Kind kind, const std::function<bool(const raft::NodeId&)>& wanted) {
    if (auto id = pick(wanted)) changes.push_back({kind, *id, "sim://" + *id});
  };
  switch (random_.uniform(0, 5)) {
    case 0:
      add(Kind::add_learner, outsider);
      break;
    case 1:
      add(Kind::add_voter, outsider);
      if (random_.chance(1, 2))
        add(Kind::add_voter, [&](const raft::NodeId& id) {
          return outsider(id) && (changes.empty() || id != changes.front().id);
        });
      break;
    case 2:
      add(Kind::promote, [&](const raft::NodeId& id) { return config.is_learner(id); });
      break;
    case 3:
      add(Kind::remove, [&](const raft::NodeId& id) { return voter(id) || config.is_learner(id); });
      break;
    case 4:  // replace a voter in one step
      add(Kind::remove, voter);
      add(Kind::add_voter, outsider);
      break;
    default:
      if (auto target = pick(voter)) raft.transfer_leadership(*target);
      return;
  }
  raft.change_membership(changes);
}

void Simulation::fault() {
  const auto i = random_.uniform(0, cluster_.size() - 1);
  auto& network = cluster_.network();
  const int leader = cluster_.leader();
  switch (random_.uniform(0, 6)) {
    case 0:
      if (cluster_.alive(i) && cluster_.live_count() > 1) cluster_.crash(i);
      break;
    case 6:  // leaders crash soon after election: the Figure 8 situations (Raft §5.4.2)
      if (leader >= 0) cluster_.crash(static_cast<std::size_t>(leader));
      break;
    case 1:
      restart_one();
      break;
    case 2:
      if (leader >= 0) network.isolate(cluster_.ids()[leader], cluster_.ids());
      break;
    case 3:
      partition();
      break;
    case 4:
      network.heal();
      break;
    default:
      network.set_faults({random_.uniform(0, 400), random_.uniform(0, 100)});
  }
}

void Simulation::restart_one() {
  std::vector<std::size_t> crashed;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    if (!cluster_.alive(i)) crashed.push_back(i);
  }
  if (!crashed.empty()) cluster_.restart(crashed[random_.uniform(0, crashed.size() - 1)]);
}

// Splits the nodes into two random sides, and sometimes leaves one node
// connected to both (a bridge).
void Simulation::partition() {
  auto ids = cluster_.ids();
  for (std::size_t i = ids.size(); i > 1; --i)
    std::swap(ids[i - 1], ids[random_.uniform(0, i - 1)]);
  const auto split = random_.uniform(0, ids.size());
  const bool bridge = random_.chance(1, 3);
  for (std::size_t a = 0; a < split; ++a) {
    for (std::size_t b = split; b < ids.size(); ++b) {
      if (bridge && (a == 0 || b == split)) continue;
      cluster_.network().cut(ids[a], ids[b]);
    }
  }
}

bool Simulation::check(const std::string& where) {
  cluster_.check();
  if (cluster_.checker().ok()) return true;
  result_.ok = false;
  result_.failure = where + ": " + cluster_.checker().failure();
  return false;
}

// Liveness: with every node up and the network healed, a leader is elected
// and a new proposal commits on every node within liveness_tick_limit ticks.
int Simulation::heal_and_commit() {
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    if (!cluster_.alive(i)) cluster_.restart(i);
  }
  cluster_.network().heal();
  cluster_.network().set_faults({});
  raft::ProposeResult proposal;
  for (int tick = 1; tick <= liveness_tick_limit; ++tick) {
    for (std::size_t i = 0; i < cluster_.size(); ++i) cluster_.tick(i);
    if (!drain()) {
      result_.ok = false;
      result_.failure = "liveness tick " + std::to_string(tick) + ": more than " +
                        std::to_string(drain_budget) + " messages without going quiet";
      return tick;
    }
    if (!check("liveness tick " + std::to_string(tick))) return tick;
    const int leader = cluster_.leader();
    if (leader >= 0 &&
        (!proposal.accepted || proposal.term != cluster_.node(leader).raft->term())) {
      proposal = cluster_.node(leader).raft->propose(raft::Payload("liveness"));
    }
    if (proposal.accepted && committed_everywhere(proposal.index, proposal.term)) return tick;
  }
  result_.ok = false;
  result_.failure = "liveness: no proposal committed on every node within " +
                    std::to_string(liveness_tick_limit) + " ticks after healing";
  return liveness_tick_limit;
}

// Delivers every message in flight, and those they cause, in order. False
// when that never ends: a healed cluster exchanges a few messages per node
// and tick, so drain_budget means a message storm.
bool Simulation::drain() {
  cluster_.process();
  for (int budget = drain_budget; cluster_.network().in_flight() > 0; --budget) {
    if (budget == 0) return false;
    if (auto message = cluster_.network().take_oldest()) cluster_.deliver(std::move(*message));
    cluster_.process();
  }
  return true;
}

// On every member of the leader's configuration: removed nodes and spares
// never added do not hear of new entries.
bool Simulation::committed_everywhere(raft::Index index, raft::Term term) {
  const int leader = cluster_.leader();
  if (leader < 0) return false;
  const auto& members = cluster_.node(static_cast<std::size_t>(leader)).raft->configuration();
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    const auto& raft = *cluster_.node(i).raft;
    if (!members.is_voter(raft.id()) && !members.is_learner(raft.id())) continue;
    if (raft.status().applied < index || raft.log().term_at(index) != term) return false;
  }
  return true;
}

}  // namespace

SimulationResult run_simulation(std::uint64_t seed, int steps) {
  const std::size_t size = cluster_sizes[seed % 4];
  Simulation simulation(seed, size);
  try {
    return simulation.run(steps);
  } catch (const std::exception& error) {
    SimulationResult result;
    result.ok = false;
    result.nodes = size;
    result.failure = std::string("exception: ") + error.what();
    return result;
  }
}

}  // namespace conflux::sim
