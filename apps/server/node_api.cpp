#include "node_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "api_replies.hpp"
#include "prometheus.hpp"
#include "wide_integers.hpp"

namespace conflux::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// `consistency` in `params`: true for "linearizable", false for "local"
/// or absent; an error response for anything else.
std::variant<bool, HttpResponse> linearizable_in(const std::map<std::string, std::string>& params) {
  const auto found = params.find("consistency");
  if (found == params.end() || found->second == "local") return false;
  if (found->second == "linearizable") return true;
  return error(400, "bad_query",
               "consistency=" + found->second + " is unknown; use linearizable or local");
}

bool holds_double(const json::value& value) {
  if (value.is_double()) return true;
  if (value.is_array()) {
    for (const auto& item : value.get_array()) {
      if (holds_double(item)) return true;
    }
  } else if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      if (holds_double(member.value())) return true;
    }
  }
  return false;
}

/// The arguments in a request body (a JSON array; empty body: none), or the
/// answer that refuses them.
std::variant<json::array, HttpResponse> arguments_in(const std::string& body) {
  if (body.empty()) return json::array{};
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec) return error(400, "bad_json", "the body is not JSON: " + ec.message());
  if (!parsed.is_array())
    return error(400, "not_an_array", "the body must be a JSON array of arguments");
  // Only a body that parsed to a double can hold a too wide integer.
  if (holds_double(parsed)) {
    if (auto wide = first_wide_integer(body)) {
      return error(400, "bad_arguments",
                   "the integer " + *wide + " does not fit in 64 bits; send it as a string");
    }
  }
  return std::move(parsed.as_array());
}

/// The caller's client session a perform names (Conflux-Client, Conflux-Seq
/// and Conflux-Ack), none, or the answer that refuses the headers.
std::variant<std::optional<SessionCall>, HttpResponse> session_in(const HttpRequest& request) {
  const auto* client = request.header("Conflux-Client");
  const auto* seq = request.header("Conflux-Seq");
  const auto* ack = request.header("Conflux-Ack");
  if (!client && !seq && !ack) return std::optional<SessionCall>();
  if (!client || !seq) {
    return error(400, "bad_session", "Conflux-Client and Conflux-Seq must be sent together");
  }
  const auto c = integer_in(*client, 1);
  const auto s = integer_in(*seq, 1);
  const auto a = ack ? integer_in(*ack, 0) : std::optional<std::uint64_t>(0);
  if (!c || !s || !a) {
    const auto* name = !c ? "Conflux-Client" : !s ? "Conflux-Seq" : "Conflux-Ack";
    return error(400, "bad_session",
                 std::string("the ") + name + " header must be an integer from " + (a ? "1" : "0") +
                     " to 2^53-1");
  }
  return std::optional<SessionCall>(SessionCall{*c, *s, *a});
}

}  // namespace

json::value status_json(const NodeStatus& status) {
  json::array peers;
  for (const auto& peer : status.peers) {
    json::value match = nullptr;
    if (peer.match) match = *peer.match;
    peers.push_back({{"id", peer.id}, {"connected", peer.connected}, {"match", match}});
  }
  json::object refusals;
  for (const auto& [reason, count] : status.refusals) refusals[reason] = count;
  json::array links;
  for (const auto& link : status.links) {
    links.push_back({{"name", link.name},
                     {"endpoint", link.endpoint},
                     {"up", link.up},
                     {"connects", link.connects},
                     {"last_error", link.last_error.empty() ? json::value(nullptr)
                                                            : json::value(link.last_error)}});
  }
  return {{"id", status.id},
          {"role", status.role},
          {"term", status.term},
          {"leader", status.leader.empty() ? json::value(nullptr) : json::value(status.leader)},
          {"commit", status.commit},
          {"applied", status.applied},
          {"last_index", status.last_index},
          {"first_index", status.first_index},
          {"snapshot",
           {{"index", status.snapshot_index},
            {"term", status.snapshot_term},
            {"bytes", status.snapshot_bytes}}},
          {"error", status.error.empty() ? json::value(nullptr) : json::value(status.error)},
          {"isolated", status.isolated},
          {"peers", std::move(peers)},
          {"links", std::move(links)},
          {"refusals", std::move(refusals)}};
}

unsigned http_status_for(errc code) {
  switch (code) {
    case errc::unknown_method:
      return 404;
    case errc::method_failed:
    case errc::reducer_failed:
      return 409;
    case errc::bad_arguments:
    case errc::membership_refused:
      return 400;
    case errc::change_in_progress:
    case errc::stale_sequence:
      return 409;
    case errc::session_expired:
      return 410;
    case errc::leadership_lost:
    case errc::no_leader:
    case errc::closed:
      return 503;
    case errc::timeout:
    case errc::outcome_unknown:
      return 504;
  }
  return 500;
}

NodeApi::NodeApi(Node& node, std::function<const HttpCounters*()> http,
                 std::map<std::string, Method> queries)
    : node_(node), http_(std::move(http)), queries_(std::move(queries)) {}

asio::awaitable<HttpResponse> NodeApi::operator()(HttpRequest request) {
  const auto [path, query] = split_target(request.target);
  const bool get = request.method == "GET";
  if (path.starts_with("/perform/")) {
    if (request.method != "POST") co_return method_not_allowed(path, "POST");
    auto session = session_in(request);
    if (auto* refusal = std::get_if<HttpResponse>(&session)) co_return std::move(*refusal);
    const auto method = path.substr(9);  // named: g++ 12 and temporaries in co_await
    const auto call = std::get<std::optional<SessionCall>>(session);
    co_return co_await perform(method, request.body, call);
  }
  if (path == "/sessions") {
    if (request.method != "POST") co_return method_not_allowed(path, "POST");
    co_return co_await open_session(request.body);
  }
  if (path.starts_with("/query/")) {
    if (request.method != "POST") co_return method_not_allowed(path, "POST");
    const auto name = path.substr(7);
    co_return co_await this->query(name, query, request.body);
  }
  if (path == "/state") {
    if (!get) co_return method_not_allowed(path, "GET");
    co_return co_await state(query);
  }
  if (path == "/status")
    co_return get ? json_response(200, status_json(node_.status()))
                  : method_not_allowed(path, "GET");
  if (path == "/metrics") co_return get ? metrics() : method_not_allowed(path, "GET");
  if (path == "/log") {
    if (!get) co_return method_not_allowed(path, "GET");
    co_return co_await committed_log(query);
  }
  if (path == "/members" || path.starts_with("/members/") || path == "/leader/transfer") {
    co_return co_await membership(request.method, path, request.body);
  }
  if (path == "/admin/snapshot") {
    if (request.method != "POST") co_return method_not_allowed(path, "POST");
    node_.request_snapshot();
    co_return json_response(
        202, {{"requested", true}, {"snapshot_index", node_.status().snapshot_index}});
  }
  co_return error(404, "not_found", "no route " + request.method + " " + path);
}

// The body is a JSON array of arguments (empty body: no arguments).
asio::awaitable<HttpResponse> NodeApi::perform(const std::string& method, const std::string& body,
                                               std::optional<SessionCall> session) {
  if (method.empty()) co_return error(404, "unknown_method", "no method named in the path");
  auto parsed = arguments_in(body);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) co_return std::move(*refusal);
  co_return co_await run(method, std::move(std::get<json::array>(parsed)), session);
}

// POST /sessions: the body may be {"idle_timeout_ms": N} (default one hour).
asio::awaitable<HttpResponse> NodeApi::open_session(const std::string& body) {
  std::uint64_t timeout = 3'600'000;
  if (!body.empty()) {
    boost::system::error_code ec;
    const auto parsed = json::parse(body, ec);
    const auto* object = ec ? nullptr : parsed.if_object();
    const auto* given = object ? object->if_contains("idle_timeout_ms") : nullptr;
    const auto* number = given ? given->if_uint64() : nullptr;
    const auto* signed_number = given ? given->if_int64() : nullptr;
    if (!object || (given && !number && !(signed_number && *signed_number > 0))) {
      co_return error(400, "bad_session",
                      "the body must be {\"idle_timeout_ms\": an integer from 1000 to 2^53-1}");
    }
    if (given) timeout = number ? *number : static_cast<std::uint64_t>(*signed_number);
    if (timeout < 1000 || timeout > raft::max_wire_integer) {
      co_return error(400, "bad_session", "idle_timeout_ms must be from 1000 to 2^53-1");
    }
  }
  json::array args{timeout};
  const std::string method(reserved::method_open_session);  // named: g++ 12 and co_await
  auto reply = co_await run(method, std::move(args), std::nullopt);
  if (reply.status != 200) co_return reply;
  const auto client = json::parse(reply.body).at("result");
  co_return json_response(200, {{"client", client}, {"idle_timeout_ms", timeout}});
}

asio::awaitable<HttpResponse> NodeApi::run(const std::string& method, json::array args,
                                           std::optional<SessionCall> session) {
  const auto timeout = node_.default_timeout();
  auto [failure, result] = co_await node_.perform(method, std::move(args), session, timeout,
                                                  asio::as_tuple(asio::use_awaitable));
  if (!failure) {
    json::object answer;
    answer["result"] = std::move(result);
    co_return json_response(200, answer);
  }
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    co_return error(http_status_for(e.code()), to_string(e.code()), e.what(), e.retryable());
  }
}

json::value members_json(const Members& members) {
  const auto list = [](const std::vector<Peer>& peers) {
    json::array out;
    for (const auto& peer : peers) out.push_back({{"id", peer.id}, {"address", peer.address}});
    return out;
  };
  json::array outgoing;
  for (const auto& id : members.outgoing) outgoing.push_back(json::string(id));
  return {{"voters", list(members.voters)},
          {"learners", list(members.learners)},
          {"outgoing", std::move(outgoing)},
          {"joint", !members.outgoing.empty()},
          {"committed", members.committed}};
}

// Membership (thesis ch. 4, §3.10), each a reserved perform run on the
// leader (Node::add_member and the others):
//   GET    /members
//   POST   /members              {"id", "address", "learner": false}
//   DELETE /members/<id>
//   POST   /members/<id>/promote
//   POST   /leader/transfer      {"id"}
asio::awaitable<HttpResponse> NodeApi::membership(const std::string& verb, const std::string& path,
                                                  const std::string& body) {
  if (path == "/members" && verb == "GET")
    co_return json_response(200, members_json(node_.members()));
  if (path.starts_with("/members/")) {
    auto id = path.substr(9);
    const bool promote = id.ends_with("/promote");
    if (promote) id.resize(id.size() - 8);
    if (id.empty() || id.find('/') != std::string::npos) {
      co_return error(404, "not_found", "no route " + verb + " " + path);
    }
    // Named locals, not temporaries, across co_await (g++ 12).
    const std::string wanted = promote ? "POST" : "DELETE";
    if (verb != wanted) co_return method_not_allowed(path, wanted);
    std::string method(promote ? reserved::method_promote : reserved::method_remove_member);
    json::array args{json::string(id)};
    co_return co_await run(method, std::move(args), std::nullopt);
  }
  if (verb != "POST") co_return method_not_allowed(path, path == "/members" ? "GET, POST" : "POST");
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* id = object ? object->if_contains("id") : nullptr;
  if (!id || !id->is_string()) {
    co_return error(400, "bad_arguments", "the body must be a JSON object with a string \"id\"");
  }
  if (path == "/leader/transfer") {
    std::string method(reserved::method_transfer_leadership);
    json::array args{*id};
    co_return co_await run(method, std::move(args), std::nullopt);
  }
  const auto* address = object->if_contains("address");
  const auto* learner = object->if_contains("learner");
  if ((address && !address->is_string()) || (learner && !learner->is_bool())) {
    co_return error(400, "bad_arguments", "\"address\" must be a string, \"learner\" a boolean");
  }
  std::string method(reserved::method_add_member);
  json::array args{*id, address ? *address : json::value(json::string()),
                   learner ? learner->get_bool() : false};
  co_return co_await run(method, std::move(args), std::nullopt);
}

// A read served from this node's committed state: nothing is appended,
// nothing is replicated, and no quorum is asked. The answer says how fresh
// it is: it includes every action up to "applied"; on a follower, or on a
// leader that was deposed without knowing it yet, later actions may already
// be committed elsewhere.
// The committed state to read: this node's as it stands, or (linearizable)
// a copy once a read index is confirmed and applied (thesis §6.4).
asio::awaitable<std::variant<json::value, HttpResponse>> NodeApi::read_state(bool linearizable) {
  if (!linearizable) co_return node_.state();
  auto [failure, state] = co_await node_.linearizable_state(asio::as_tuple(asio::use_awaitable));
  if (!failure) co_return std::move(state);
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    co_return error(http_status_for(e.code()), to_string(e.code()), e.what(), e.retryable());
  }
}

asio::awaitable<HttpResponse> NodeApi::query(const std::string& name, const std::string& query,
                                             const std::string& body) {
  const auto found = queries_.find(name);
  if (found == queries_.end()) {
    co_return error(404, "unknown_query", name + " is not a registered query");
  }
  auto parsed = arguments_in(body);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) co_return std::move(*refusal);
  const auto linearizable = linearizable_in(parameters(query));
  if (auto* refusal = std::get_if<HttpResponse>(&linearizable)) co_return *refusal;
  auto read = co_await read_state(std::get<bool>(linearizable));
  if (auto* refusal = std::get_if<HttpResponse>(&read)) co_return std::move(*refusal);
  json::value result;
  try {
    result = found->second(std::get<json::value>(read), std::get<json::array>(parsed));
  } catch (const std::exception& e) {
    co_return error(409, "query_failed", e.what());
  } catch (...) {
    co_return error(409, "query_failed", "the query threw a non-standard exception");
  }
  const auto status = node_.status();
  co_return json_response(
      200, {{"result", std::move(result)},
            {"applied", status.applied},
            {"commit", status.commit},
            {"role", status.role},
            {"leader", status.leader.empty() ? json::value(nullptr) : json::value(status.leader)}});
}

// ?provisional=true: the provisional state; ?consistency=linearizable: the
// committed state read linearizably; neither: this node's committed state.
asio::awaitable<HttpResponse> NodeApi::state(const std::string& query) {
  auto params = parameters(query);
  const auto linearizable = linearizable_in(params);
  if (auto* refusal = std::get_if<HttpResponse>(&linearizable)) co_return *refusal;
  params.erase("consistency");
  const auto provisional = params.find("provisional");
  const bool wants_provisional =
      provisional != params.end() && (provisional->second == "true" || provisional->second == "1");
  if (provisional != params.end()) {
    if (!wants_provisional && provisional->second != "false" && provisional->second != "0") {
      co_return error(400, "bad_query", "provisional=" + provisional->second + " is not a boolean");
    }
    params.erase(provisional);
  }
  if (!params.empty()) {
    co_return error(400, "bad_query",
                    "unknown parameter \"" + params.begin()->first +
                        "\"; use provisional=true or consistency=linearizable");
  }
  if (wants_provisional) {
    if (std::get<bool>(linearizable)) {
      co_return error(400, "bad_query", "a provisional state cannot be read linearizably");
    }
    co_return json_response(200, node_.provisional_state());
  }
  auto read = co_await read_state(std::get<bool>(linearizable));
  if (auto* refusal = std::get_if<HttpResponse>(&read)) co_return std::move(*refusal);
  auto answer = json_response(200, std::get<json::value>(read));
  // A local read is the state at this node's applied index: read_state()
  // returned it in this same turn. A linearizable one may be older by now.
  if (!std::get<bool>(linearizable)) {
    answer.headers.emplace_back("Conflux-Applied", std::to_string(node_.status().applied));
  }
  co_return answer;
}

bool NodeApi::reads_only(const HttpRequest& request) {
  const std::string_view path(request.target);
  return request.method == "GET" || request.method == "HEAD" ||
         (request.method == "POST" && path.starts_with("/query/"));
}

HttpResponse NodeApi::metrics() const {
  return HttpResponse{
      .status = 200,
      .content_type = "text/plain; version=0.0.4; charset=utf-8",
      .body = prometheus_text(node_.status(), node_.metrics(), http_ ? http_() : nullptr),
      .headers = {}};
}

}  // namespace conflux::server
