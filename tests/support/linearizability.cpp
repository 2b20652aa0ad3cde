#include "support/linearizability.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace conflux::test {
namespace {

using Value = std::optional<std::string>;  // nullopt: the key is absent
using Kind = KvOperation::Kind;

/// The register's sequential specification: the value after `op` from
/// `state`, or nullopt if what `op` observed cannot happen in `state`.
std::optional<Value> next_value(const Value& state, const KvOperation& op) {
  const bool known = op.ret != KvOperation::open;
  switch (op.kind) {
    case Kind::put:
      return Value(op.input);
    case Kind::append:
      return Value(state.value_or("") + op.input);
    case Kind::get:
      if (known && op.output != state) return std::nullopt;
      return state;
    case Kind::cas:
      if (state == op.expected) {
        if (known && !op.ok) return std::nullopt;
        return Value(op.input);
      }
      if (known && op.ok) return std::nullopt;
      return state;
  }
  return std::nullopt;
}

/// The linearized operations, one bit each.
struct Bits {
  std::vector<std::uint64_t> words;
  void flip(std::size_t i) { words[i / 64] ^= std::uint64_t{1} << (i % 64); }
  bool operator==(const Bits&) const = default;
  std::size_t hash() const {
    std::size_t h = 0;
    for (const auto w : words) h = h * 1000003 ^ std::hash<std::uint64_t>{}(w);
    return h;
  }
};

/// One key's history as a doubly linked list of call and return events in
/// time order (index 0: the head), so that a linearized operation's two
/// events can be lifted out and put back in O(1) (Wing & Gong).
class Events {
 public:
  explicit Events(const std::vector<const KvOperation*>& ops) {
    struct Stamp {
      std::uint64_t time;
      bool is_return;
      std::size_t op;
    };
    std::vector<Stamp> stamps;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      stamps.push_back({ops[i]->call, false, i});
      stamps.push_back({ops[i]->ret, true, i});
    }
    // At equal times a call comes first: the two overlap (the permissive reading).
    std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
      return a.time != b.time ? a.time < b.time : !a.is_return && b.is_return;
    });
    nodes_.resize(stamps.size() + 1);
    std::vector<std::size_t> call_at(ops.size());
    for (std::size_t i = 0; i < stamps.size(); ++i) {
      auto& node = nodes_[i + 1];
      node = {stamps[i].op, !stamps[i].is_return, i, i + 2, 0};
      if (node.is_call) {
        call_at[node.op] = i + 1;
      } else {
        node.match = call_at[node.op];
        nodes_[call_at[node.op]].match = i + 1;
      }
    }
    nodes_[0].next = 1;
    nodes_.back().next = 0;  // 0 ends the list
  }

  std::size_t first() const { return nodes_[0].next; }
  std::size_t next(std::size_t at) const { return nodes_[at].next; }
  bool is_call(std::size_t at) const { return nodes_[at].is_call; }
  std::size_t op(std::size_t at) const { return nodes_[at].op; }

  /// Takes a call and its return out of the list.
  void lift(std::size_t call) {
    unlink(call);
    unlink(nodes_[call].match);
  }
  /// Puts back what lift(call) took, in reverse order.
  void unlift(std::size_t call) {
    relink(nodes_[call].match);
    relink(call);
  }

 private:
  struct Node {
    std::size_t op = 0;
    bool is_call = false;
    std::size_t prev = 0, next = 0;
    std::size_t match = 0;  // the other event of the same operation
  };
  void unlink(std::size_t at) {
    nodes_[nodes_[at].prev].next = nodes_[at].next;
    if (nodes_[at].next != 0) nodes_[nodes_[at].next].prev = nodes_[at].prev;
  }
  void relink(std::size_t at) {
    nodes_[nodes_[at].prev].next = at;
    if (nodes_[at].next != 0) nodes_[nodes_[at].next].prev = at;
  }
  std::vector<Node> nodes_;
};

/// Where a failed search got furthest: how many operations it had
/// linearized, the operation whose return it could not pass, and the value.
struct Furthest {
  std::size_t depth = 0;
  std::optional<std::size_t> stuck_at;
  Value state;
};

/// Wing & Gong's search: linearize the first call in time order whose
/// operation the state allows and whose (set, state) is new (Lowe); at a
/// return whose call could not be linearized, backtrack.
bool linearizable(const std::vector<const KvOperation*>& ops, Furthest& furthest) {
  Events events(ops);
  Bits bits{std::vector<std::uint64_t>((ops.size() + 63) / 64)};
  std::unordered_map<std::size_t, std::vector<std::pair<Bits, Value>>> seen;
  struct Frame {
    std::size_t call;
    Value state;
  };
  std::vector<Frame> stack;
  Value state;
  std::size_t at = events.first();
  while (events.first() != 0) {
    if (at != 0 && events.is_call(at)) {
      const auto& op = *ops[events.op(at)];
      if (auto next = next_value(state, op)) {
        bits.flip(events.op(at));
        auto& bucket = seen[bits.hash()];
        const bool fresh = std::find_if(bucket.begin(), bucket.end(), [&](const auto& known) {
                             return known.first == bits && known.second == *next;
                           }) == bucket.end();
        if (fresh) {
          bucket.emplace_back(bits, *next);
          stack.push_back({at, std::move(state)});
          state = std::move(*next);
          events.lift(at);
          at = events.first();
          continue;
        }
        bits.flip(events.op(at));
      }
      at = events.next(at);
      continue;
    }
    if (stack.size() >= furthest.depth) {
      furthest = {stack.size(), at != 0 ? std::optional(events.op(at)) : std::nullopt, state};
    }
    if (stack.empty()) return false;  // a return, or the end, with nothing to undo
    auto frame = std::move(stack.back());
    stack.pop_back();
    bits.flip(events.op(frame.call));
    state = std::move(frame.state);
    events.unlift(frame.call);
    at = events.next(frame.call);
  }
  return true;
}

std::string text(const Value& v) {
  return v ? "\"" + *v + "\"" : std::string("absent");
}

void describe(std::ostream& out, const KvOperation& op) {
  out << "client " << op.client << " [" << op.call << ", "
      << (op.ret == KvOperation::open ? std::string("open") : std::to_string(op.ret)) << "] ";
  switch (op.kind) {
    case Kind::put:
      out << "put " << text(op.input);
      break;
    case Kind::append:
      out << "append " << text(op.input);
      break;
    case Kind::get:
      out << "get -> " << (op.ret == KvOperation::open ? "?" : text(op.output));
      break;
    case Kind::cas:
      out << "cas " << text(op.expected) << " -> " << text(op.input) << ": "
          << (op.ret == KvOperation::open ? "?"
              : op.ok                     ? "ok"
                                          : "refused");
      break;
  }
  out << '\n';
}

/// Where the search got stuck, and the operations around that point: those
/// called before the stuck operation returned and returning (or still open)
/// after one second before its call.
std::string describe(const std::vector<const KvOperation*>& ops, const Furthest& furthest) {
  std::ostringstream out;
  out << "at most " << furthest.depth << " of " << ops.size()
      << " operations linearize, leaving the value " << text(furthest.state) << "; ";
  if (!furthest.stuck_at) {
    out << "the end of the history cannot be reached\n";
    return out.str();
  }
  const auto& stuck = *ops[*furthest.stuck_at];
  out << "then this return cannot be passed:\n";
  describe(out, stuck);
  out << "operations around it:\n";
  const auto from = stuck.call > 1'000'000 ? stuck.call - 1'000'000 : 0;
  std::size_t shown = 0;
  for (const auto* op : ops) {
    if (op->call > stuck.ret || op->ret < from) continue;
    if (++shown > 80) {
      out << "...\n";
      break;
    }
    describe(out, *op);
  }
  return out.str();
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<KvOperation>& history) {
  std::map<std::string, std::vector<const KvOperation*>> by_key;
  for (const auto& op : history) {
    if (op.ret < op.call) throw std::invalid_argument("an operation returned before its call");
    by_key[op.key].push_back(&op);
  }
  for (auto& [key, ops] : by_key) {
    std::sort(ops.begin(), ops.end(),
              [](const KvOperation* a, const KvOperation* b) { return a->call < b->call; });
    Furthest furthest;
    if (!linearizable(ops, furthest)) return {false, key, describe(ops, furthest)};
  }
  return {};
}

}  // namespace conflux::test
