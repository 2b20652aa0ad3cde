#pragma once
// Cluster membership (thesis ch. 4): who votes, who only listens, and how a
// configuration changes through the log by joint consensus (thesis §4.3).
//
// A configuration is either simple (`voters`) or joint (`voters` is C_new
// and `outgoing` is C_old): while joint, elections and commitment need a
// majority of each (thesis §4.3). Learners receive the log but never count
// (thesis §4.2.1). A node uses the newest configuration in its log, whether
// committed or not (thesis §4.1: "a server always uses the latest
// configuration in its log").

#include <conflux/raft/types.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::raft {

/// Longest node id the core accepts in a configuration (as the wire's codec).
inline constexpr std::size_t max_member_id_bytes = 256;
/// Longest address kept for one member.
inline constexpr std::size_t max_member_address_bytes = 1024;

struct Configuration {
  std::vector<NodeId> voters;    ///< C_new, or the configuration when simple; sorted
  std::vector<NodeId> outgoing;  ///< C_old while joint; empty otherwise; sorted
  std::vector<NodeId> learners;  ///< sorted; never voters in C_new
  /// Each member's address, for the driver (the core never reads them).
  std::map<NodeId, std::string> addresses;

  bool empty() const { return voters.empty(); }
  bool joint() const { return !outgoing.empty(); }
  /// A voter of C_new or, while joint, of C_old.
  bool is_voter(const NodeId& id) const;
  bool is_learner(const NodeId& id) const;
  /// Every member in any role, sorted, without duplicates.
  std::vector<NodeId> members() const;

  /// Empty when valid; otherwise one message per problem.
  std::vector<std::string> validate() const;
  friend bool operator==(const Configuration&, const Configuration&) = default;
};

/// True when the nodes for which `yes` holds are a majority of `voters`
/// and, while joint, of `outgoing` too (thesis §4.3).
bool has_quorum(const Configuration& config, const std::function<bool(const NodeId&)>& yes);

/// The largest index that a majority of `voters` (and, while joint, of
/// `outgoing`) has reached, where `match(id)` is what each has reached.
Index quorum_index(const Configuration& config, const std::function<Index(const NodeId&)>& match);

/// One requested change; several may be asked for at once.
struct MembershipChange {
  enum class Kind : std::uint8_t { add_voter, add_learner, promote, remove };
  Kind kind = Kind::add_voter;
  NodeId id;
  std::string address;  ///< add_voter and add_learner only
};

std::string_view to_string(MembershipChange::Kind kind);

/// The configuration after `changes`, applied in order to `current`
/// (which must be simple): joint when the voters change (thesis §4.3),
/// simple when only learners do (they never count, so no overlap is
/// needed). Returns an error naming the first change that cannot apply:
/// an unknown id, an id already a member, a promotion of a non-learner, or
/// removing the last voter.
struct ChangeOutcome {
  Configuration next;
  std::string error;  ///< empty on success
};
ChangeOutcome apply_changes(const Configuration& current,
                            const std::vector<MembershipChange>& changes);

/// The simple configuration C_new that ends joint configuration `joint`.
Configuration leave_joint(const Configuration& joint);

/// Canonical text of a configuration entry's payload: compact JSON,
/// {"voters":[...],"outgoing":[...],"learners":[...],"addresses":{...}},
/// lists sorted, strings escaped only where JSON requires it (control
/// characters as \u00XX).
std::string encode(const Configuration& config);
/// Reads a configuration entry's payload; nullopt unless `text` is exactly
/// the canonical encoding of a valid configuration. (A peer that sends any
/// other spelling is refused: replicas must hold identical bytes.)
std::optional<Configuration> decode_configuration(std::string_view text);

/// The configurations in a node's log (thesis §4.1): the one in force at
/// the base (the snapshot's, or the bootstrap one) and one per
/// configuration entry after it. Invariant: entries ascend by index.
class ConfigurationLog {
 public:
  ConfigurationLog() = default;
  /// `logged`: `config` was read from a snapshot, not the bootstrap list.
  ConfigurationLog(Index base, Configuration config, bool logged)
      : base_index_(base), base_(std::move(config)), logged_(logged) {}

  /// The newest configuration, and the index of its entry (base: its index).
  const Configuration& latest() const { return entries_.empty() ? base_ : entries_.back().second; }
  Index latest_index() const { return entries_.empty() ? base_index_ : entries_.back().first; }
  /// The configuration in force at `index`. Precondition: index >= base.
  const Configuration& at(Index index) const;
  /// Whether `id` is a voter of the configuration in force at `index` or
  /// of any later one. Precondition: index >= base.
  bool voter_since(Index index, const NodeId& id) const;
  /// True once some entry (or a snapshot) has recorded a configuration:
  /// false while a cluster still runs on its bootstrap configuration.
  bool logged() const { return logged_ || !entries_.empty(); }

  void append(Index index, Configuration config) {
    entries_.emplace_back(index, std::move(config));
  }
  /// A follower removed the log's entries from `index` on (Raft §5.3): the
  /// configurations they held are undone (thesis §4.1).
  void truncate_from(Index index);
  /// `index` became the base (compaction or a snapshot's install), with
  /// `config` in force there, as recorded in the snapshot; entries after it
  /// stay.
  void rebase(Index index, Configuration config);

 private:
  Index base_index_ = 0;
  Configuration base_;
  bool logged_ = false;
  std::vector<std::pair<Index, Configuration>> entries_;
};

}  // namespace conflux::raft
