#include <algorithm>
#include <conflux/raft/config.hpp>
#include <set>

namespace conflux::raft {

std::vector<std::string> Config::validate() const {
  std::vector<std::string> errors;
  if (id.empty()) errors.push_back("\"id\" must not be empty");
  std::set<NodeId> seen;
  for (const auto& voter : voters) {
    if (voter.empty()) errors.push_back("\"voters\" must not contain an empty id");
    if (!seen.insert(voter).second) errors.push_back("\"voters\" lists \"" + voter + "\" twice");
  }
  if (!id.empty() && !voters.empty() &&
      std::find(voters.begin(), voters.end(), id) == voters.end()) {
    errors.push_back("\"id\" (\"" + id + "\") must be one of \"voters\"");
  }
  for (const auto& [member, address] : addresses) {
    if (std::find(voters.begin(), voters.end(), member) == voters.end()) {
      errors.push_back("\"addresses\" names \"" + member + "\", which is not one of \"voters\"");
    }
  }
  if (heartbeat_ticks < 1) errors.push_back("\"heartbeat_ticks\" must be at least 1");
  if (election_ticks_min <= heartbeat_ticks) {
    errors.push_back("\"election_ticks_min\" must be larger than \"heartbeat_ticks\"");
  }
  if (election_ticks_max < election_ticks_min) {
    errors.push_back("\"election_ticks_max\" must be at least \"election_ticks_min\"");
  }
  if (lease_ticks < 0 || lease_ticks >= election_ticks_min) {
    errors.push_back("\"lease_ticks\" must be at least 0 and below \"election_ticks_min\"");
  }
  if (lease_ticks > 0 && !check_quorum) {
    errors.push_back("\"lease_ticks\" needs \"check_quorum\": followers keep a leader's lease");
  }
  if (max_entries_per_message < 1)
    errors.push_back("\"max_entries_per_message\" must be at least 1");
  if (max_inflight_messages < 1) errors.push_back("\"max_inflight_messages\" must be at least 1");
  if (max_inflight_chunks < 1) errors.push_back("\"max_inflight_chunks\" must be at least 1");
  if (max_bytes_per_message < 1) errors.push_back("\"max_bytes_per_message\" must be at least 1");
  return errors;
}

}  // namespace conflux::raft
