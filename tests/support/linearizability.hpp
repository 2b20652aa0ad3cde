#pragma once
// A linearizability checker for histories of key-value operations: Wing &
// Gong's search with Lowe's memoization of (linearized set, state), run on
// each key apart (a history is linearizable iff each key's is: P-
// compositionality, Herlihy & Wing §3.3), as porcupine does.
//
// An operation was called at `call` and returned at `ret` (times from one
// clock, any unit). One whose outcome is unknown (a timeout, a lost
// connection) has `ret` = `open`: it may have taken effect at any point
// after its call, or never, and its output constrains nothing.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace conflux::test {

struct KvOperation {
  enum class Kind {
    put,     ///< value := input
    get,     ///< output = value (nullopt: absent)
    append,  ///< value := value + input (absent counts as "")
    cas,     ///< if value == expected: value := input, ok; else not ok
  };
  static constexpr std::uint64_t open = std::numeric_limits<std::uint64_t>::max();

  Kind kind = Kind::get;
  std::string key;
  std::string input;                    ///< put, append, cas: the value written
  std::optional<std::string> expected;  ///< cas: the value required (nullopt: absent)
  std::optional<std::string> output;    ///< get: the value read (nullopt: absent)
  bool ok = true;                       ///< cas: whether it swapped
  std::uint64_t call = 0;
  std::uint64_t ret = open;
  std::size_t client = 0;  ///< for messages
};

struct LinearizabilityResult {
  bool linearizable = true;
  std::string key;          ///< the first key whose history is not
  std::string explanation;  ///< the operations of that key, for the failure message
};

/// Checks `history`. Operations with ret < call are a caller error
/// (std::invalid_argument).
LinearizabilityResult check_linearizable(const std::vector<KvOperation>& history);

}  // namespace conflux::test
