#include "sessions.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace conflux::detail {
namespace {

using raft::max_wire_integer;

void put(std::string& out, std::string_view key, std::uint64_t value) {
  out += out.size() > 1 ? ",\"" : "\"";
  out += key;
  out += "\":";
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

std::uint64_t integer(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value) throw std::invalid_argument("a session entry lacks \"" + std::string(key) + "\"");
  std::optional<std::uint64_t> number;
  if (const auto* u = value->if_uint64()) number = *u;
  if (const auto* i = value->if_int64(); i && *i >= 0) number = static_cast<std::uint64_t>(*i);
  if (number && *number <= max_wire_integer) return *number;
  throw std::invalid_argument("a session entry's \"" + std::string(key) +
                              "\" is not an integer from 0 to 2^53-1");
}

std::string text(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value || !value->is_string()) {
    throw std::invalid_argument("a session entry's \"" + std::string(key) + "\" is not a string");
  }
  return std::string(value->get_string());
}

}  // namespace

std::string encode(const SessionEntry& entry, std::string_view action_text) {
  std::string out;
  out.reserve(action_text.size() + 96);
  out += "{";
  if (entry.kind == SessionEntry::Kind::open) {
    out += "\"open\":true";
    put(out, "time", entry.time);
    put(out, "timeout", entry.timeout);
    return out + "}";
  }
  put(out, "client", entry.client);
  put(out, "seq", entry.seq);
  put(out, "ack", entry.ack);
  put(out, "time", entry.time);
  if (entry.kind == SessionEntry::Kind::action) {
    return out.append(",\"action\":").append(action_text).append("}");
  }
  if (entry.code.empty()) return out + ",\"result\":null}";
  boost::json::object refusal{{"code", entry.code}, {"message", entry.message}};
  return out + ",\"result\":" + boost::json::serialize(refusal) + "}";
}

SessionEntry decode_session_entry(std::string_view payload) {
  boost::system::error_code ec;
  auto json = boost::json::parse(payload, ec);
  if (ec) throw std::invalid_argument("a session entry is not JSON: " + ec.message());
  auto* object = json.if_object();
  if (!object) throw std::invalid_argument("a session entry is not a JSON object");
  SessionEntry entry;
  entry.time = integer(*object, "time");
  if (object->contains("open")) {
    entry.kind = SessionEntry::Kind::open;
    entry.timeout = integer(*object, "timeout");
    return entry;
  }
  entry.client = integer(*object, "client");
  entry.seq = integer(*object, "seq");
  entry.ack = integer(*object, "ack");
  if (auto* action = object->if_contains("action")) {
    entry.action = std::move(*action);
    return entry;
  }
  const auto* result = object->if_contains("result");
  if (!result) throw std::invalid_argument("a session entry has neither an action nor a result");
  entry.kind = SessionEntry::Kind::result;
  if (result->is_null()) return entry;
  if (!result->is_object())
    throw std::invalid_argument("a session entry's result is not an object");
  entry.code = text(result->get_object(), "code");
  entry.message = text(result->get_object(), "message");
  return entry;
}

boost::json::value SessionResult::action() const {
  if (entry.empty() || !code.empty()) return nullptr;
  try {
    return decode_session_entry(entry.view()).action;
  } catch (const std::invalid_argument&) {
    return nullptr;  // cannot happen: the entry was applied as an action
  }
}

SessionTable::Admission SessionTable::admit(std::uint64_t client, std::uint64_t seq) const {
  const auto session = sessions_.find(client);
  if (session == sessions_.end()) return {Verdict::unknown, nullptr};
  if (seq < session->second.floor) return {Verdict::stale, nullptr};
  const auto result = session->second.results.find(seq);
  if (result != session->second.results.end()) return {Verdict::duplicate, &result->second};
  return {Verdict::fresh, nullptr};
}

std::vector<std::uint64_t> SessionTable::advance(std::uint64_t time) {
  now_ = std::max(now_, time);
  std::vector<std::uint64_t> expired;
  // A session expires once it has been idle for longer than its timeout.
  while (!deadlines_.empty() && deadlines_.begin()->first < now_) {
    const auto client = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    sessions_.erase(client);
    expired.push_back(client);
  }
  return expired;
}

std::optional<std::uint64_t> SessionTable::open(std::uint64_t client, std::uint64_t timeout) {
  std::optional<std::uint64_t> dropped;
  if (sessions_.size() >= max_sessions && !deadlines_.empty()) {
    dropped = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    sessions_.erase(*dropped);
  }
  Session session{std::min(timeout, max_wire_integer), now_, 0, 0, {}};
  schedule(client, session);
  sessions_[client] = std::move(session);
  return dropped;
}

void SessionTable::touch(std::uint64_t client, std::uint64_t ack) {
  auto& session = sessions_.at(client);
  if (session.active != now_) {  // most entries share their millisecond with the last
    unschedule(client, session);
    session.active = now_;
    schedule(client, session);
  }
  if (ack > session.floor) forget_below(session, ack);
}

void SessionTable::record(std::uint64_t client, std::uint64_t seq, SessionResult result) {
  auto& session = sessions_.at(client);
  session.bytes += result.bytes();
  session.results.emplace(seq, std::move(result));
  while (session.results.size() > 1 && (session.results.size() > max_results_per_session ||
                                        session.bytes > max_result_bytes_per_session)) {
    forget_below(session, session.results.begin()->first + 1);
  }
}

// Every replica forgets the same results: their bytes are those of the
// entries' texts, which replicas hold identically (and snapshots carry).
void SessionTable::forget_below(Session& session, std::uint64_t seq) {
  session.floor = std::max(session.floor, seq);
  const auto end = session.results.lower_bound(seq);
  for (auto it = session.results.begin(); it != end; ++it) session.bytes -= it->second.bytes();
  session.results.erase(session.results.begin(), end);
}

void SessionTable::schedule(std::uint64_t client, const Session& session) {
  // Both are at most 2^53 (max_wire_integer): the sum cannot wrap.
  deadlines_.emplace(session.active + session.timeout, client);
}

void SessionTable::unschedule(std::uint64_t client, const Session& session) {
  deadlines_.erase({session.active + session.timeout, client});
}

boost::json::value SessionTable::to_json() const {
  boost::json::array sessions;
  for (const auto& [client, session] : sessions_) {
    boost::json::array results;
    for (const auto& [seq, result] : session.results) {
      boost::json::object item{
          {"seq", seq}, {"index", result.index}, {"entry", result.entry.view()}};
      if (!result.code.empty()) {
        item["code"] = result.code;
        item["message"] = result.message;
      }
      results.push_back(std::move(item));
    }
    sessions.push_back(boost::json::object{{"client", client},
                                           {"timeout", session.timeout},
                                           {"active", session.active},
                                           {"floor", session.floor},
                                           {"results", std::move(results)}});
  }
  return boost::json::object{{"now", now_}, {"sessions", std::move(sessions)}};
}

SessionTable SessionTable::from_json(const boost::json::value& json) {
  if (!json.is_object()) throw std::invalid_argument("the sessions are not a JSON object");
  SessionTable table;
  table.now_ = integer(json.get_object(), "now");
  const auto* sessions = json.get_object().if_contains("sessions");
  if (!sessions || !sessions->is_array()) throw std::invalid_argument("no \"sessions\" array");
  for (const auto& item : sessions->get_array()) {
    if (!item.is_object()) throw std::invalid_argument("a session is not a JSON object");
    const auto& object = item.get_object();
    Session session{
        integer(object, "timeout"), integer(object, "active"), integer(object, "floor"), 0, {}};
    const auto* results = object.if_contains("results");
    if (!results || !results->is_array()) throw std::invalid_argument("a session lacks results");
    for (const auto& r : results->get_array()) {
      if (!r.is_object()) throw std::invalid_argument("a session result is not a JSON object");
      const auto& fields = r.get_object();
      SessionResult result{integer(fields, "index"), raft::Payload(text(fields, "entry")), {}, {}};
      if (fields.contains("code")) {
        result.code = text(fields, "code");
        result.message = text(fields, "message");
      }
      session.bytes += result.bytes();
      session.results.emplace(integer(fields, "seq"), std::move(result));
    }
    const auto client = integer(object, "client");
    if (table.sessions_.count(client)) throw std::invalid_argument("a session is listed twice");
    table.schedule(client, session);
    table.sessions_[client] = std::move(session);
  }
  return table;
}

}  // namespace conflux::detail
