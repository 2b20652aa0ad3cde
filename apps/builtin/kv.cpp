#include <boost/json.hpp>
#include <conflux/errors.hpp>

#include "apps.hpp"

namespace conflux::apps {
namespace {

namespace json = boost::json;

/// The key at args[0]: a non-empty string. `arity` is the expected count.
std::string key_of(const json::array& args, std::size_t arity, const char* method) {
  if (args.size() != arity) {
    throw Rejection(std::string(method) + " takes " + std::to_string(arity) + " argument" +
                    (arity == 1 ? "" : "s"));
  }
  if (!args[0].is_string() || args[0].get_string().empty()) {
    throw Rejection(std::string(method) + ": the key must be a non-empty string");
  }
  return std::string(args[0].get_string());
}

const json::value* lookup(const json::value& state, const std::string& key) {
  return state.is_object() ? state.get_object().if_contains(key) : nullptr;
}

/// The serialized size of `value`, escapes included.
std::size_t size_of(const json::value& value) {
  return json::serialize(value).size();
}

void check_size(std::size_t bytes, const char* method) {
  if (bytes > kv_max_value_bytes) {
    throw Rejection(std::string(method) + ": the value would be larger than 3 MiB (" +
                    std::to_string(bytes) + " bytes serialized)");
  }
}

json::value put(const json::value&, const json::array& args) {
  const auto key = key_of(args, 2, "put");
  check_size(size_of(args[1]), "put");
  return json::object{{"op", "put"}, {"k", key}, {"v", args[1]}};
}

json::value append(const json::value& state, const json::array& args) {
  const auto key = key_of(args, 2, "append");
  if (!args[1].is_string()) throw Rejection("append: the value must be a string");
  const auto* current = lookup(state, key);
  if (current && !current->is_string())
    throw Rejection("append: \"" + key + "\" does not hold a string");
  // Appended text adds its serialized size less the two quotes.
  check_size((current ? size_of(*current) : 2) + size_of(args[1]) - 2, "append");
  return json::object{{"op", "append"}, {"k", key}, {"v", args[1]}};
}

json::value del(const json::value& state, const json::array& args) {
  const auto key = key_of(args, 1, "del");
  if (!lookup(state, key)) return nullptr;  // nothing to delete: append nothing
  return json::object{{"op", "del"}, {"k", key}};
}

json::value cas(const json::value& state, const json::array& args) {
  const auto key = key_of(args, 3, "cas");
  const auto* current = lookup(state, key);
  const json::value found = current ? *current : json::value(nullptr);
  if (found != args[1]) {
    throw Rejection("cas failed for \"" + key + "\": expected " + json::serialize(args[1]) +
                    ", found " + json::serialize(found));
  }
  check_size(size_of(args[2]), "cas");
  return json::object{{"op", "put"}, {"k", key}, {"v", args[2]}};
}

// A query: it reads the state and appends nothing.
json::value get(const json::value& state, const json::array& args) {
  const auto key = key_of(args, 1, "get");
  const auto* current = lookup(state, key);
  return current ? *current : json::value(nullptr);
}

// In place: a put costs what it changes, whatever the size of the store.
// Strong guarantee (InPlaceReducer): insert_or_assign builds the new value
// before it touches the object, and nothing else changes the state.
void reduce(json::value& state, const json::value& action) {
  if (!state.is_object()) state = json::object{};
  if (!action.is_object()) return;
  const auto& a = action.get_object();
  const auto* op = a.if_contains("op");
  const auto* key = a.if_contains("k");
  if (!op || !op->is_string() || !key || !key->is_string()) return;
  auto& store = state.get_object();
  const std::string k(key->get_string());
  if (*op == "put" && a.contains("v")) {
    store.insert_or_assign(k, a.at("v"));
  } else if (*op == "append" && a.contains("v") && a.at("v").is_string()) {
    const auto* current = store.if_contains(k);
    std::string joined =
        current && current->is_string() ? std::string(current->get_string()) : std::string();
    joined += a.at("v").get_string();
    store.insert_or_assign(k, std::move(joined));
  } else if (*op == "del") {
    store.erase(k);
  }
  // unknown actions (and "get", which logs written before get became a
  // query may hold) leave the state unchanged
}

}  // namespace

App kv() {
  App app;
  app.methods = {{"put", put}, {"append", append}, {"del", del}, {"cas", cas}};
  app.queries = {{"get", get}};
  app.reduce_in_place = reduce;
  return app;
}

}  // namespace conflux::apps
