// The linearizability checker's own specification: histories known to be
// linearizable or not, open-ended operations, and a long history.
#include "support/linearizability.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <conflux/raft/random.hpp>
#include <map>

using namespace conflux::test;
using Kind = KvOperation::Kind;

namespace {

constexpr auto open = KvOperation::open;

KvOperation put(std::string key, std::string value, std::uint64_t call, std::uint64_t ret) {
  return {Kind::put, std::move(key), std::move(value), {}, {}, true, call, ret, 0};
}
KvOperation get(std::string key, std::optional<std::string> seen, std::uint64_t call,
                std::uint64_t ret) {
  return {Kind::get, std::move(key), {}, {}, std::move(seen), true, call, ret, 0};
}
KvOperation append(std::string key, std::string suffix, std::uint64_t call, std::uint64_t ret) {
  return {Kind::append, std::move(key), std::move(suffix), {}, {}, true, call, ret, 0};
}
KvOperation cas(std::string key, std::optional<std::string> expected, std::string value, bool ok,
                std::uint64_t call, std::uint64_t ret) {
  return {Kind::cas, std::move(key), std::move(value), std::move(expected), {}, ok, call, ret, 0};
}

bool ok(const std::vector<KvOperation>& history) {
  return check_linearizable(history).linearizable;
}

}  // namespace

TEST_CASE("sequential histories: legal when each read sees the last write") {
  CHECK(ok({put("k", "a", 1, 2), get("k", "a", 3, 4), append("k", "b", 5, 6), get("k", "ab", 7, 8),
            cas("k", "ab", "c", true, 9, 10), get("k", "c", 11, 12),
            cas("k", "zz", "d", false, 13, 14), get("k", "c", 15, 16)}));
  CHECK(ok({get("k", std::nullopt, 1, 2), cas("k", std::nullopt, "x", true, 3, 4)}));
  CHECK_FALSE(ok({put("k", "a", 1, 2), get("k", "b", 3, 4)}));  // never written
  CHECK_FALSE(ok({put("k", "a", 1, 2), cas("k", "a", "c", false, 3, 4)}));
  CHECK_FALSE(ok({put("k", "a", 1, 2), append("k", "b", 3, 4), get("k", "ba", 5, 6)}));
}

TEST_CASE("a read after a completed write must see it: the stale read") {
  const auto stale =
      check_linearizable({put("k", "old", 1, 2), put("k", "new", 3, 4), get("k", "old", 5, 6)});
  CHECK_FALSE(stale.linearizable);
  CHECK(stale.key == "k");
  CHECK(stale.explanation.find("get -> \"old\"") != std::string::npos);
}

TEST_CASE("concurrent operations may take effect in either order") {
  // The put overlaps both reads: either may see it, but once one read
  // has seen it a later read may not miss it.
  CHECK(ok({put("k", "a", 1, 10), get("k", std::nullopt, 2, 3), get("k", "a", 4, 5)}));
  CHECK(ok({put("k", "a", 1, 10), get("k", "a", 2, 3), get("k", "a", 4, 5)}));
  CHECK_FALSE(ok({put("k", "a", 1, 10), get("k", "a", 2, 3), get("k", std::nullopt, 4, 5)}));
  // Two concurrent appends: the read sees them in one order or the other.
  CHECK(ok({append("k", "x", 1, 5), append("k", "y", 2, 6), get("k", "yx", 7, 8)}));
  CHECK_FALSE(ok({append("k", "x", 1, 5), append("k", "y", 2, 6), get("k", "xyx", 7, 8)}));
}

TEST_CASE("an open-ended write took effect once or never, at any time after its call") {
  CHECK(ok({put("k", "a", 1, open), get("k", std::nullopt, 2, 3)}));
  CHECK(ok({put("k", "a", 1, open), get("k", "a", 2, 3)}));
  CHECK(ok({put("k", "a", 1, open), get("k", std::nullopt, 2, 3), get("k", "a", 4, 5)}));
  CHECK_FALSE(ok({put("k", "a", 1, open), get("k", "a", 2, 3), get("k", std::nullopt, 4, 5)}));
  CHECK_FALSE(ok({append("k", "x", 1, open), get("k", "xx", 2, 3)}));  // applied twice
  CHECK_FALSE(ok({put("k", "a", 5, open), get("k", "a", 1, 3)}));      // seen before its call
}

TEST_CASE("keys are checked apart; the failing key is named") {
  const auto result = check_linearizable(
      {put("a", "1", 1, 2), get("a", "1", 3, 4), put("b", "1", 1, 2), get("b", "2", 3, 4)});
  CHECK_FALSE(result.linearizable);
  CHECK(result.key == "b");
}

TEST_CASE("20,000 operations of 8 clients on 10 keys, taken from a real interleaving") {
  // Each operation takes effect at one instant inside [call, ret], in the
  // order generated, against a real register per key: the history is
  // linearizable by construction, with up to 8 operations overlapping.
  conflux::raft::Random random(20261203);
  std::map<std::string, std::optional<std::string>> registers;
  std::vector<KvOperation> history;
  std::vector<std::uint64_t> busy_until(8, 0);
  for (std::uint64_t effect = 100; history.size() < 20000; effect += 2) {
    std::vector<std::size_t> idle;
    for (std::size_t c = 0; c < busy_until.size(); ++c) {
      if (busy_until[c] < effect) idle.push_back(c);
    }
    if (idle.empty()) continue;
    const auto client = idle[random.uniform(0, idle.size() - 1)];
    const auto call = std::max(busy_until[client] + 1, effect - random.uniform(0, 20));
    const auto ret = effect + random.uniform(0, 20);
    busy_until[client] = ret;
    const auto key = "k" + std::to_string(random.uniform(0, 9));
    const auto n = std::to_string(history.size());
    auto& value = registers[key];
    KvOperation op;
    switch (random.uniform(0, 3)) {
      case 0:
        op = put(key, n, call, ret);
        value = n;
        break;
      case 1:
        op = get(key, value, call, ret);
        break;
      case 2:
        op = append(key, n.substr(n.size() - 1), call, ret);
        value = value.value_or("") + op.input;
        break;
      default:
        op = cas(key, value, n, true, call, ret);
        value = n;
        break;
    }
    op.client = client;
    history.push_back(std::move(op));
  }
  const auto started = std::chrono::steady_clock::now();
  const auto result = check_linearizable(history);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  MESSAGE("20,000 operations checked in ", took.count(), " s");
  CHECK_MESSAGE(result.linearizable, result.explanation);
  // One read changed to a value never written makes it illegal.
  for (auto& op : history) {
    if (op.kind != Kind::get) continue;
    op.output = "never written";
    break;
  }
  CHECK_FALSE(check_linearizable(history).linearizable);
}
