#pragma once
// The typed form: write the reducer and methods with your own structs.
// State, Action and argument types convert through Boost.JSON's
// value_from / value_to (give them tag_invoke overloads, or use types
// Boost.JSON already knows).
//
//   struct Counter { std::int64_t value = 0; };
//   struct Add { std::int64_t n = 0; };
//   options.reduce = conflux::typed_reducer<Counter, Add>(
//       [](Counter c, const Add& a) { c.value += a.n; return c; });
//   options.methods["incr"] = conflux::typed_method<Counter, Add, std::int64_t>(
//       [](const Counter&, std::int64_t n) { return Add{n}; });

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/system/system_error.hpp>
#include <conflux/errors.hpp>
#include <conflux/options.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace conflux {

/// Adapts `State reduce(State, const Action&)`. A null state builds the
/// initial State{}; a null action, or one that does not convert to Action
/// (an unknown action), leaves the state unchanged.
template <class State, class Action, class F>
Reducer typed_reducer(F reduce) {
  return [reduce](const boost::json::value& state,
                  const boost::json::value& action) -> boost::json::value {
    State current = state.is_null() ? State{} : boost::json::value_to<State>(state);
    if (action.is_null()) return boost::json::value_from(current);
    std::optional<Action> typed;
    try {
      typed = boost::json::value_to<Action>(action);
    } catch (const std::exception&) {
      return state.is_null() ? boost::json::value_from(current) : state;
    }
    return boost::json::value_from(reduce(std::move(current), *typed));
  };
}

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// args[i] as a T, or a Rejection naming the argument and the problem in
/// plain words (Boost's message carries a source location, which means
/// nothing to a remote caller).
template <class T>
T typed_argument(const boost::json::array& args, std::size_t i) {
  const auto which = "argument " + std::to_string(i + 1) + " does not match the method: ";
  try {
    return boost::json::value_to<T>(args[i]);
  } catch (const boost::system::system_error& error) {
    throw Rejection(which + error.code().message());
  } catch (const std::exception& error) {
    throw Rejection(which + error.what());
  }
}

template <class... Args, std::size_t... I>
std::tuple<Args...> typed_arguments(const boost::json::array& args, std::index_sequence<I...>) {
  if (args.size() != sizeof...(Args)) {
    throw Rejection("the method takes " + std::to_string(sizeof...(Args)) + " argument" +
                    (sizeof...(Args) == 1 ? "" : "s") + ", not " + std::to_string(args.size()));
  }
  return std::tuple<Args...>{typed_argument<Args>(args, I)...};  // braces: left to right
}
}  // namespace detail

/// Adapts `Action method(const State&, Args...)` (or one returning
/// std::optional<Action>, where nullopt means "append nothing"). A call with
/// the wrong number of arguments, or one that does not convert to its type
/// in Args..., is refused with a message naming it ("argument 1 does not
/// match the method: ...").
template <class State, class Action, class... Args, class F>
Method typed_method(F method) {
  return [method](const boost::json::value& state,
                  const boost::json::array& args) -> boost::json::value {
    auto typed_args = detail::typed_arguments<Args...>(args, std::index_sequence_for<Args...>{});
    const State typed_state = state.is_null() ? State{} : boost::json::value_to<State>(state);
    auto result = std::apply([&](auto&&... a) { return method(typed_state, std::move(a)...); },
                             std::move(typed_args));
    if constexpr (detail::is_optional<decltype(result)>::value) {
      if (!result) return nullptr;
      return boost::json::value_from(*result);
    } else {
      return boost::json::value_from(result);
    }
  };
}

}  // namespace conflux
