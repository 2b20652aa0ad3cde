// Configurations, joint quorums and membership changes (thesis ch. 4).
#include <algorithm>
#include <conflux/raft/membership.hpp>
#include <limits>
#include <set>

namespace conflux::raft {
namespace {

bool contains(const std::vector<NodeId>& ids, const NodeId& id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void insert_sorted(std::vector<NodeId>& ids, const NodeId& id) {
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id), id);
}

void erase(std::vector<NodeId>& ids, const NodeId& id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

// The voter sets that must each agree (thesis §4.3): C_new, and C_old too
// while the configuration is joint.
std::vector<const std::vector<NodeId>*> halves(const Configuration& config) {
  if (config.joint()) return {&config.voters, &config.outgoing};
  return {&config.voters};
}

bool majority(const std::vector<NodeId>& voters, const std::function<bool(const NodeId&)>& yes) {
  std::size_t count = 0;
  for (const auto& id : voters) count += yes(id) ? 1 : 0;
  return count >= voters.size() / 2 + 1;
}

Index majority_index(const std::vector<NodeId>& voters,
                     const std::function<Index(const NodeId&)>& match) {
  std::vector<Index> matches;
  for (const auto& id : voters) matches.push_back(match(id));
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[voters.size() / 2];
}

// ------------------------------------------------------------- the text

void append_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      out.append("\\u00");
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_list(std::string& out, std::string_view key, const std::vector<NodeId>& ids) {
  out.append("\"").append(key).append("\":[");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_string(out, ids[i]);
  }
  out.push_back(']');
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Reads the canonical text only; decode_configuration re-encodes what it
// read and compares, so this reader may be lenient about what it skips.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool literal(std::string_view expected) {
    if (text_.substr(at_, expected.size()) != expected) return false;
    at_ += expected.size();
    return true;
  }
  bool peek(char c) const { return at_ < text_.size() && text_[at_] == c; }
  bool done() const { return at_ == text_.size(); }
  std::optional<std::string> string() {
    if (!literal("\"")) return std::nullopt;
    std::string out;
    while (at_ < text_.size() && text_[at_] != '"') {
      char c = text_[at_++];
      if (c == '\\') {
        if (at_ >= text_.size()) return std::nullopt;
        c = text_[at_++];
        if (c == 'u') {
          if (text_.size() - at_ < 4 || text_.substr(at_, 2) != "00") return std::nullopt;
          const int high = hex_digit(text_[at_ + 2]);
          const int low = hex_digit(text_[at_ + 3]);
          if (high < 0 || low < 0) return std::nullopt;
          c = static_cast<char>(high * 16 + low);
          at_ += 4;
        }
      }
      out.push_back(c);
    }
    if (!literal("\"")) return std::nullopt;
    return out;
  }
  bool list(std::vector<NodeId>& out) {
    if (!literal("[")) return false;
    while (!peek(']')) {
      if (!out.empty() && !literal(",")) return false;
      auto id = string();
      if (!id) return false;
      out.push_back(std::move(*id));
    }
    return literal("]");
  }
  bool addresses(std::map<NodeId, std::string>& out) {
    if (!literal("{")) return false;
    while (!peek('}')) {
      if (!out.empty() && !literal(",")) return false;
      auto id = string();
      if (!id || !literal(":")) return false;
      auto address = string();
      if (!address) return false;
      out[std::move(*id)] = std::move(*address);
    }
    return literal("}");
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

bool Configuration::is_voter(const NodeId& id) const {
  return contains(voters, id) || contains(outgoing, id);
}

bool Configuration::is_learner(const NodeId& id) const {
  return contains(learners, id);
}

std::vector<NodeId> Configuration::members() const {
  std::set<NodeId> all(voters.begin(), voters.end());
  all.insert(outgoing.begin(), outgoing.end());
  all.insert(learners.begin(), learners.end());
  return {all.begin(), all.end()};
}

std::vector<std::string> Configuration::validate() const {
  std::vector<std::string> errors;
  if (voters.empty()) errors.push_back("a configuration needs at least one voter");
  for (const auto* list : {&voters, &outgoing, &learners}) {
    if (!std::is_sorted(list->begin(), list->end()) ||
        std::adjacent_find(list->begin(), list->end()) != list->end()) {
      errors.push_back("a member list is not sorted or repeats an id");
    }
  }
  for (const auto& id : members()) {
    if (id.empty() || id.size() > max_member_id_bytes) {
      errors.push_back("a member id must have 1 to 256 bytes");
    }
  }
  for (const auto& id : learners) {
    if (contains(voters, id)) errors.push_back("\"" + id + "\" is both a voter and a learner");
  }
  for (const auto& [id, address] : addresses) {
    if (address.size() > max_member_address_bytes) {
      errors.push_back("the address of \"" + id + "\" exceeds 1024 bytes");
    }
    if (!is_voter(id) && !is_learner(id)) {
      errors.push_back("an address is given for \"" + id + "\", which is not a member");
    }
  }
  return errors;
}

bool has_quorum(const Configuration& config, const std::function<bool(const NodeId&)>& yes) {
  if (config.voters.empty()) return false;
  for (const auto* voters : halves(config)) {
    if (!majority(*voters, yes)) return false;
  }
  return true;
}

Index quorum_index(const Configuration& config, const std::function<Index(const NodeId&)>& match) {
  if (config.voters.empty()) return 0;
  Index agreed = std::numeric_limits<Index>::max();
  for (const auto* voters : halves(config))
    agreed = std::min(agreed, majority_index(*voters, match));
  return agreed;
}

std::string_view to_string(MembershipChange::Kind kind) {
  switch (kind) {
    case MembershipChange::Kind::add_voter:
      return "add_voter";
    case MembershipChange::Kind::add_learner:
      return "add_learner";
    case MembershipChange::Kind::promote:
      return "promote";
    case MembershipChange::Kind::remove:
      return "remove";
  }
  return "unknown";
}

ChangeOutcome apply_changes(const Configuration& current,
                            const std::vector<MembershipChange>& changes) {
  ChangeOutcome out{current, {}};
  Configuration& next = out.next;
  auto refuse = [&](const MembershipChange& change, const std::string& why) {
    out.error = std::string(to_string(change.kind)) + " \"" + change.id + "\": " + why;
    return out;
  };
  for (const auto& change : changes) {
    const bool member = contains(next.voters, change.id) || next.is_learner(change.id);
    using Kind = MembershipChange::Kind;
    if (change.id.empty() || change.id.size() > max_member_id_bytes) {
      return refuse(change, "a member id must have 1 to 256 bytes");
    }
    if (change.kind == Kind::add_voter || change.kind == Kind::add_learner) {
      if (member) return refuse(change, "already a member");
      if (change.address.size() > max_member_address_bytes) {
        return refuse(change, "the address exceeds 1024 bytes");
      }
      insert_sorted(change.kind == Kind::add_voter ? next.voters : next.learners, change.id);
      if (!change.address.empty()) next.addresses[change.id] = change.address;
    } else if (change.kind == Kind::promote) {
      if (!next.is_learner(change.id)) return refuse(change, "not a learner of the configuration");
      erase(next.learners, change.id);
      insert_sorted(next.voters, change.id);
    } else {
      if (!member) return refuse(change, "not a member of the configuration");
      if (next.voters.size() == 1 && next.voters.front() == change.id) {
        return refuse(change, "it is the last voter");
      }
      erase(next.voters, change.id);
      erase(next.learners, change.id);
      next.addresses.erase(change.id);
    }
  }
  // Thesis §4.3: a change of voters goes through C_old,new; learners never
  // count, so a change of learners alone needs no joint phase.
  if (next.voters != current.voters) {
    next.outgoing = current.voters;
    for (const auto& id : current.voters) {
      if (!next.addresses.count(id) && current.addresses.count(id)) {
        next.addresses[id] = current.addresses.at(id);  // C_old still needs to reach it
      }
    }
  }
  if (auto problems = next.validate(); !problems.empty()) out.error = problems.front();
  return out;
}

Configuration leave_joint(const Configuration& joint) {
  Configuration next = joint;
  next.outgoing.clear();
  for (auto it = next.addresses.begin(); it != next.addresses.end();) {
    it = next.is_voter(it->first) || next.is_learner(it->first) ? std::next(it)
                                                                : next.addresses.erase(it);
  }
  return next;
}

std::string encode(const Configuration& config) {
  std::string out = "{";
  append_list(out, "voters", config.voters);
  out.push_back(',');
  append_list(out, "outgoing", config.outgoing);
  out.push_back(',');
  append_list(out, "learners", config.learners);
  out.append(",\"addresses\":{");
  bool first = true;
  for (const auto& [id, address] : config.addresses) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, id);
    out.push_back(':');
    append_string(out, address);
  }
  out.append("}}");
  return out;
}

std::optional<Configuration> decode_configuration(std::string_view text) {
  Reader in(text);
  Configuration config;
  const bool read = in.literal("{\"voters\":") && in.list(config.voters) &&
                    in.literal(",\"outgoing\":") && in.list(config.outgoing) &&
                    in.literal(",\"learners\":") && in.list(config.learners) &&
                    in.literal(",\"addresses\":") && in.addresses(config.addresses) &&
                    in.literal("}") && in.done();
  if (!read || !config.validate().empty() || encode(config) != text) return std::nullopt;
  return config;
}

const Configuration& ConfigurationLog::at(Index index) const {
  const Configuration* found = &base_;
  for (const auto& [at, config] : entries_) {
    if (at > index) break;
    found = &config;
  }
  return *found;
}

bool ConfigurationLog::voter_since(Index index, const NodeId& id) const {
  if (at(index).is_voter(id)) return true;
  for (const auto& [entry_index, config] : entries_) {
    if (entry_index > index && config.is_voter(id)) return true;
  }
  return false;
}

void ConfigurationLog::truncate_from(Index index) {
  while (!entries_.empty() && entries_.back().first >= index) entries_.pop_back();
}

void ConfigurationLog::rebase(Index index, Configuration config) {
  base_index_ = index;
  logged_ = logged_ || !config.empty();
  base_ = std::move(config);
  entries_.erase(entries_.begin(),
                 std::find_if(entries_.begin(), entries_.end(),
                              [index](const auto& entry) { return entry.first > index; }));
}

}  // namespace conflux::raft
