#pragma once
// The built-in apps of conflux-node and the demo: a method table and a
// reducer each.
//
//   kv       put(k, v), append(k, s), del(k), cas(k, expected, new), get(k)
//   counter  incr(n), decr(n)   (written with the typed API)
//   list     append(x)
//   bench-noop, bench-counter   write(payload): for conflux-bench; the reducer
//            ignores the action, or counts it

#include <conflux/options.hpp>
#include <map>
#include <optional>
#include <string>

namespace conflux::apps {

struct App {
  std::map<std::string, Method> methods;
  Reducer reduce;
};

/// A key-value store. get(k) appends an action carrying the value read on
/// the leader, so that the read is ordered through the log (linearizable);
/// the reducer ignores it.
App kv();
App counter();
App list();
App bench_noop();
App bench_counter();

/// The app called `name` (see above), or nullopt.
std::optional<App> by_name(const std::string& name);

}  // namespace conflux::apps
