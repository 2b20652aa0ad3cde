#pragma once
// The list app of the original's tests, for the node and engine tests:
// append(x) appends x; nothing() returns null; refuse() throws; poison()
// returns an action the reducer rejects; refuse_cut() and poison_cut() do
// the same with a text that is not UTF-8 (a character cut in two);
// infinity() makes the reducer append a number JSON has no text for.

#include <boost/json.hpp>
#include <conflux/errors.hpp>
#include <conflux/options.hpp>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace conflux::test {

/// "caf" and the first byte of "é": not UTF-8.
inline std::string cut_text() {
  return std::string("caf") + '\xC3';
}

inline boost::json::value list_reduce(const boost::json::value& state,
                                      const boost::json::value& action) {
  boost::json::array next = state.is_array() ? state.get_array() : boost::json::array{};
  if (!action.is_object()) return next;
  const auto& object = action.get_object();
  if (object.if_contains("poison")) throw std::runtime_error("the reducer refuses poison");
  if (object.if_contains("poison_cut")) throw std::runtime_error(cut_text());
  if (object.if_contains("infinity")) next.push_back(std::numeric_limits<double>::infinity());
  if (const auto* thing = object.if_contains("append")) next.push_back(*thing);
  return next;
}

/// list_reduce written as an InPlaceReducer: it refuses before it changes.
inline void list_reduce_in_place(boost::json::value& state, const boost::json::value& action) {
  if (!state.is_array()) state = boost::json::array{};
  if (!action.is_object()) return;
  const auto& object = action.get_object();
  if (object.if_contains("poison")) throw std::runtime_error("the reducer refuses poison");
  if (object.if_contains("poison_cut")) throw std::runtime_error(cut_text());
  if (object.if_contains("infinity")) {
    state.get_array().push_back(std::numeric_limits<double>::infinity());
  }
  if (const auto* thing = object.if_contains("append")) state.get_array().push_back(*thing);
}

inline std::map<std::string, Method> list_methods() {
  std::map<std::string, Method> methods;
  methods["append"] = [](const boost::json::value&,
                         const boost::json::array& args) -> boost::json::value {
    if (args.empty()) throw Rejection("append needs one argument");
    return boost::json::object{{"append", args[0]}};
  };
  methods["nothing"] = [](const boost::json::value&,
                          const boost::json::array&) -> boost::json::value { return nullptr; };
  methods["refuse"] = [](const boost::json::value&,
                         const boost::json::array&) -> boost::json::value {
    throw Rejection("It is not your turn!");
  };
  methods["poison"] = [](const boost::json::value&,
                         const boost::json::array&) -> boost::json::value {
    return boost::json::object{{"poison", true}};
  };
  methods["refuse_cut"] = [](const boost::json::value&,
                             const boost::json::array&) -> boost::json::value {
    throw Rejection(cut_text());
  };
  methods["infinity"] = [](const boost::json::value&,
                           const boost::json::array&) -> boost::json::value {
    return boost::json::object{{"infinity", true}};
  };
  methods["poison_cut"] = [](const boost::json::value&,
                             const boost::json::array&) -> boost::json::value {
    return boost::json::object{{"poison_cut", true}};
  };
  return methods;
}

}  // namespace conflux::test
