// TabNode: the node engine (lib/src/engine) for a browser tab, compiled to
// WebAssembly and driven by conflux.mjs. It is the browser's driver of the
// engine, as node.cpp is the Asio one: the engine decides, this hands its
// decisions to JavaScript as JSON text, and JavaScript does the I/O (the
// WebSocket hub, IndexedDB, timers) and reports back.
//
// A round (conflux.mjs, `round`): step() until it says nothing is pending.
// A step that returns a `write` holds a Ready: JavaScript makes the write
// durable in IndexedDB, then calls persisted(), which returns the messages
// that had to wait for it (a vote, an acknowledgement: Raft §5, Figure 2).
// Methods and the reducer are JavaScript functions behind one callback
// that takes and returns JSON text, so that a throw in them never unwinds
// through C++ frames: it comes back as {"error": message}.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <conflux/transport/codec.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app_catalog.hpp"
#include "engine.hpp"
#include "snapshot_codec.hpp"
#include "tab_storage.hpp"

namespace conflux::browser {
namespace {

namespace json = boost::json;
using detail::Clock;

Clock::time_point at(double ms) {
  return Clock::time_point(std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)));
}

/// The value of a callback's {"ok": value} answer; throws Rejection with
/// the message of an {"error": message} one.
json::value unwrap(const std::string& answer) {
  auto parsed = json::parse(answer);
  auto& object = parsed.as_object();
  if (const auto* error = object.if_contains("error"))
    throw Rejection(std::string(error->as_string()));
  return object["ok"];
}

/// The options that `config` (TabNode's constructor says its fields) gives,
/// with no method and no reducer yet. Throws std::invalid_argument or
/// std::out_of_range (a missing field).
Options base_options(const json::object& config) {
  Options options;
  options.id = std::string(config.at("id").as_string());
  for (const auto& peer : config.at("peers").as_array())
    options.peers.push_back(Peer{std::string(peer.as_string()), ""});
  options.channel = WebSocketChannelOptions{std::string(config.at("hub").as_string())};
  const auto& election = config.at("electionTimeout").as_object();
  options.election_timeout = {std::chrono::milliseconds(election.at("min").to_number<int>()),
                              std::chrono::milliseconds(election.at("max").to_number<int>())};
  options.heartbeat_interval =
      std::chrono::milliseconds(config.at("heartbeatInterval").to_number<int>());
  options.perform_timeout = std::chrono::milliseconds(config.at("performTimeout").to_number<int>());
  if (const auto* snapshot = config.if_contains("snapshot")) {  // each field optional
    const auto& policy = snapshot->as_object();
    const auto set = [&](std::string_view key, std::uint64_t& field) {
      if (const auto* value = policy.if_contains(key)) field = value->to_number<std::uint64_t>();
    };
    set("entries", options.snapshot.entries);
    set("bytes", options.snapshot.bytes);
    set("trailing", options.snapshot.trailing_entries);
  }
  options.log = [](LogLevel level, std::string_view line) {
    if (level <= LogLevel::warning)
      emscripten::val::global("console").call<void>("warn", std::string(line));
  };
  return options;
}

/// Why `config` cannot make a node (the first problem, naming the option),
/// or "". conflux.mjs asks before it builds a TabNode.
std::string config_error(const std::string& config) {
  try {
    const auto parsed = json::parse(config);
    const auto& object = parsed.as_object();
    auto options = base_options(object);
    options.reduce = [](const json::value& state, const json::value&) { return state; };
    if (const auto* app = object.if_contains("app");
        app && !install_app(std::string(app->as_string()), options)) {
      return "\"app\": no app is called " + json::serialize(*app);
    }
    const auto errors = options.validate();
    return errors.empty() ? "" : errors.front();
  } catch (const std::exception& error) {
    return std::string("bad configuration: ") + error.what();
  }
}

/// Runs `body`; a C++ exception becomes a JavaScript Error with its message
/// (emscripten would otherwise hand JavaScript a bare pointer).
template <class Body>
auto to_js(Body body) -> decltype(body()) {
  std::string what;
  try {
    return body();
  } catch (const std::exception& error) {
    what = error.what();
  }
  emscripten::val::global("Error").new_(std::string("conflux: ") + what).throw_();
  __builtin_unreachable();
}

/// Why what IndexedDB held cannot be restored (say, a log that starts after
/// a snapshot this tab never persisted), or "". conflux.mjs asks before it
/// builds a TabNode.
std::string restore_error(const std::string& restored) {
  try {
    const TabStorage probe(restored);
    return "";
  } catch (const std::exception& error) {
    return error.what();
  }
}

}  // namespace

class TabNode {
 public:
  /// `config`: {id, peers, hub, electionTimeout: {min, max}, heartbeatInterval,
  /// performTimeout, optionally snapshot: {entries, bytes, trailing} (each
  /// optional; Options::SnapshotPolicy), and app (a registered C++ app's name)
  /// or methods (the names of the page's)}, which config_error() accepted; `restored`: what
  /// IndexedDB holds (TabStorage's form); `call(kind, name, stateText, argumentText)` runs a method
  /// ("method") or the reducer ("reduce") and answers {"ok": ...} or {"error": message}.
  /// `now_ms` is performance.now(), `wall_ms` Date.now().
  TabNode(const std::string& config, const std::string& restored, emscripten::val call,
          double now_ms, double wall_ms)
      : storage_(restored),
        call_(std::move(call)),
        now_(at(now_ms)),
        wall_ms_(static_cast<std::uint64_t>(wall_ms)) {
    auto options = options_from(json::parse(config).as_object());
    engine_ = std::make_unique<detail::Engine>(
        options, detail::tick_interval(options), storage_,
        // Each load its own range of perform ids, so that a reply to a
        // perform of the previous load never completes one of this load.
        static_cast<std::uint64_t>(wall_ms) * 1000,
        detail::EngineHooks{
            .reachable = [this](const raft::NodeId& peer) { return present_.count(peer) > 0; },
            .now = [this] { return now_; },
            .wall_clock = [this] { return wall_ms_; }});
    storage_.release_restored();
    engine_->subscribe([this](const json::value&, const json::value& action) {
      commits_.push_back(json::serialize(action));
    });
    tick_ms_ = static_cast<double>(detail::tick_interval(options).count());
  }

  double tick_ms() const { return tick_ms_; }
  void clock(double now_ms, double wall_ms) {
    now_ = at(now_ms);
    wall_ms_ = static_cast<std::uint64_t>(wall_ms);
  }
  void tick() {
    to_js([&] { engine_->tick(); });
  }
  /// A packet's text from the hub; why it was dropped ("" when delivered).
  /// As on every native channel, it must be for this node and come from a
  /// member (whoever reaches the hub may send anything).
  std::string receive(const std::string& text) {
    return to_js([&]() -> std::string {
      auto decoded = transport::decode_packet(text);
      if (!decoded.ok()) return decoded.error().message();
      const auto& packet = decoded.value();
      if (transport::recipient(packet) != engine_->raft().id())
        return "addressed to \"" + transport::recipient(packet) + "\"";
      if (!member(transport::sender(packet)))
        return "\"" + transport::sender(packet) + "\" is not a member";
      engine_->receive(std::move(decoded.value()));
      return "";
    });
  }
  /// The ids the hub lists as connected (docs/protocol.md §7.2), as JSON.
  void set_present(const std::string& ids) {
    to_js([&] {
      const auto list = json::parse(ids);  // named: the loop reads into it
      present_.clear();
      for (const auto& id : list.as_array()) present_.emplace(id.as_string());
    });
  }
  double perform(const std::string& method, const std::string& args, double timeout_ms) {
    return to_js([&] {
      return static_cast<double>(engine_->perform(method, json::parse(args).as_array(), now_,
                                                  now_ + at(timeout_ms).time_since_epoch()));
    });
  }

  std::string step() {
    return to_js([&] { return next_step(); });
  }
  std::string persisted() {
    return to_js([&] { return apply_pending(); });
  }
  std::string state() const { return json::serialize(engine_->state()); }
  std::string provisional_state() const { return json::serialize(engine_->provisional_state()); }
  std::string status() const;
  /// Fails every pending perform; the outputs say which.
  std::string close() {
    engine_->fail_all(errc::closed, "the node was closed");
    return take_outputs();
  }

 private:
  Options options_from(const json::object& config);
  bool member(const raft::NodeId& id) const {
    const auto& config = engine_->raft().configuration();
    const auto in = [&](const std::vector<raft::NodeId>& ids) {
      return std::binary_search(ids.begin(), ids.end(), id);  // sorted (membership.hpp)
    };
    return in(config.voters) || in(config.outgoing) || in(config.learners);
  }
  std::string next_step();
  static std::string pending_write(json::array early, json::object write);
  std::optional<json::object> take_snapshot();
  std::string apply_pending();
  std::string take_outputs();

  TabStorage storage_;
  emscripten::val call_;
  Clock::time_point now_;
  std::uint64_t wall_ms_ = 0;
  double tick_ms_ = 0;
  std::set<raft::NodeId> present_;
  std::unique_ptr<detail::Engine> engine_;
  std::optional<raft::Ready> pending_;       // handed out, not yet durable
  std::optional<raft::SnapshotMeta> taken_;  // a snapshot handed out, not yet durable
  std::vector<std::string> commits_;         // actions applied since the last outputs
};

// A C++ app by name, or the page's JavaScript methods and reducer.
Options TabNode::options_from(const json::object& config) {
  auto options = base_options(config);
  if (const auto* app = config.if_contains("app")) {
    if (!install_app(std::string(app->as_string()), options))
      throw std::invalid_argument("\"app\": no app is called " + json::serialize(*app));
    return options;
  }
  for (const auto& name : config.at("methods").as_array()) {
    const std::string method(name.as_string());
    options.methods[method] = [this, method](const json::value& state, const json::array& args) {
      return unwrap(
          call_(std::string("method"), method, json::serialize(state), json::serialize(args))
              .as<std::string>());
    };
  }
  options.reduce = [this](const json::value& state, const json::value& action) {
    return unwrap(
        call_(std::string("reduce"), std::string(), json::serialize(state), json::serialize(action))
            .as<std::string>());
  };
  return options;
}

// Hands out the next write: a Ready's (settling first when there is none),
// with the messages that may leave before it is durable, or a snapshot this
// tab took. With neither, the round's sends, completions and commits.
std::string TabNode::next_step() {
  if (!pending_) pending_ = engine_->next_ready();
  if (!pending_) {
    engine_->settle();
    pending_ = engine_->next_ready();
  }
  if (!pending_) {
    if (auto write = take_snapshot()) return pending_write({}, std::move(*write));
    return take_outputs();
  }
  json::array early;
  for (const auto& message : pending_->early_messages)
    early.push_back(json::string(transport::encode(message)));
  return pending_write(std::move(early), storage_.apply(*pending_));
}

std::string TabNode::pending_write(json::array early, json::object write) {
  return json::serialize(
      json::object{{"pending", true}, {"early", std::move(early)}, {"write", std::move(write)}});
}

// A snapshot the engine wants (its thresholds), written here at once: the
// tab has no worker, and the state is in memory already. The core compacts
// once IndexedDB holds it (persisted()).
std::optional<json::object> TabNode::take_snapshot() {
  auto job = engine_->take_snapshot_job();
  if (!job) return std::nullopt;
  const auto writer = storage_.begin_snapshot(job->identity);
  detail::write_snapshot(job->content, *writer);
  const auto meta = writer->finish();
  if (!storage_.adopt_snapshot(*writer)) {
    engine_->snapshot_taken(std::nullopt, 0);
    return std::nullopt;
  }
  taken_ = meta;
  return storage_.adopted_write();
}

// The pending write is durable: a Ready's messages, and the engine applies
// it; or the core compacts to the snapshot just stored.
std::string TabNode::apply_pending() {
  json::array messages;
  if (taken_) {
    engine_->snapshot_taken(taken_, 0);
    taken_.reset();
  } else if (pending_) {
    for (const auto& message : pending_->messages)
      messages.push_back(json::string(transport::encode(message)));
    engine_->persisted(*pending_);
    pending_.reset();
  } else {
    throw std::logic_error("persisted() without a pending write");
  }
  return json::serialize(json::object{{"messages", std::move(messages)}});
}

std::string TabNode::take_outputs() {
  json::array sends;
  for (const auto& packet : engine_->take_sends())
    sends.push_back(json::string(transport::encode(packet)));
  json::array done;
  for (auto& completion : engine_->take_completions()) {
    json::object one{{"id", completion.id}};
    if (completion.error) {
      try {
        std::rethrow_exception(completion.error);
      } catch (const Error& error) {
        one["error"] = {{"code", to_string(error.code())}, {"message", error.what()}};
      } catch (const std::exception& error) {
        one["error"] = {{"code", "method_failed"}, {"message", error.what()}};
      }
    } else {
      one["result"] = std::move(completion.result);
    }
    done.push_back(std::move(one));
  }
  json::array commits;
  for (auto& action : commits_) commits.push_back(json::string(action));
  commits_.clear();
  return json::serialize(json::object{{"pending", false},
                                      {"sends", std::move(sends)},
                                      {"completions", std::move(done)},
                                      {"commits", std::move(commits)}});
}

std::string TabNode::status() const {
  const auto s = engine_->raft().status();
  return json::serialize(json::object{{"id", s.id},
                                      {"role", raft::to_string(s.role)},
                                      {"term", s.term},
                                      {"leader", s.leader},
                                      {"commit", s.commit},
                                      {"applied", s.applied}});
}

/// A TabNode, or a JavaScript Error saying why not (a saved snapshot whose
/// content cannot be read, say).
TabNode* make_tab_node(const std::string& config, const std::string& restored, emscripten::val call,
                       double now_ms, double wall_ms) {
  return to_js([&] { return new TabNode(config, restored, std::move(call), now_ms, wall_ms); });
}

EMSCRIPTEN_BINDINGS(conflux) {
  emscripten::function("configError", &config_error);
  emscripten::function("restoreError", &restore_error);
  emscripten::class_<TabNode>("TabNode")
      .constructor(&make_tab_node, emscripten::allow_raw_pointers())
      .function("tickMs", &TabNode::tick_ms)
      .function("clock", &TabNode::clock)
      .function("tick", &TabNode::tick)
      .function("receive", &TabNode::receive)
      .function("setPresent", &TabNode::set_present)
      .function("perform", &TabNode::perform)
      .function("step", &TabNode::step)
      .function("persisted", &TabNode::persisted)
      .function("state", &TabNode::state)
      .function("provisionalState", &TabNode::provisional_state)
      .function("status", &TabNode::status)
      .function("close", &TabNode::close);
}

}  // namespace conflux::browser
