#pragma once
// The built-in apps of conflux-node and the demo: a method table and a
// reducer each.
//
//   kv       put(k, v), append(k, s), del(k), cas(k, expected, new);
//            the query get(k)
//   counter  incr(n), decr(n)   (written with the typed API)
//   list     append(x)
//   tictactoe  join(), claim(player, cell), forfeit(player), tie(player):
//            the original's demo game (tictactoe.cpp says its rules)
//   bench-noop, bench-counter, bench-map, bench-map-copy
//            write(payload): for conflux-bench; the reducer ignores the
//            action, counts it, or stores it under one of 10,000 keys (in
//            place, or copying the state as a Reducer does)

#include <conflux/options.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace conflux::apps {

struct App {
  std::map<std::string, Method> methods;
  /// Reads: (state, args) -> result, run on a node's committed state and
  /// never appended (conflux-node serves them at POST /query/<name>).
  std::map<std::string, Method> queries;
  /// One of the two is set (see Options).
  Reducer reduce;
  InPlaceReducer reduce_in_place;

  /// Copies the methods and the reducer into `options`.
  void install(Options& options) const {
    options.methods = methods;
    options.reduce = reduce;
    options.reduce_in_place = reduce_in_place;
  }
};

/// A key-value store of JSON values. The query get(k) returns the value
/// under k, or null. A value is at most kv_max_value_bytes serialized, so
/// that any stored value can be written again with cas, which carries the
/// expected and the new value in one perform (8 MiB at most when forwarded).
App kv();
inline constexpr std::size_t kv_max_value_bytes = 3 << 20;
App counter();
App list();
App tictactoe();
App bench_noop();
App bench_counter();
App bench_map();
App bench_map_copy();

/// The app called `name` (see above), or nullopt.
std::optional<App> by_name(const std::string& name);
/// Every name by_name() knows, comma-separated, for messages.
std::string names();

}  // namespace conflux::apps
