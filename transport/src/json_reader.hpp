#pragma once
// Field readers for decoding: each one checks presence, JSON type and range,
// and reports the first problem as a CodecError naming the field. Internal to
// the codec: the Failure they throw never leaves decode().

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <conflux/raft/types.hpp>
#include <conflux/transport/codec.hpp>
#include <string>
#include <string_view>

namespace conflux::transport::detail {

struct Failure {
  CodecError error;
};

[[noreturn]] inline void fail(CodecErrc code, std::string detail) {
  throw Failure{CodecError{code, std::move(detail)}};
}

inline std::string quoted(std::string_view key) {
  return "field \"" + std::string(key) + "\"";
}

inline const boost::json::object& as_object(const boost::json::value& value,
                                            std::string_view what) {
  if (!value.is_object()) fail(CodecErrc::not_an_object, std::string(what) + " is not an object");
  return value.get_object();
}

inline const boost::json::value& require(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value) fail(CodecErrc::missing_field, quoted(key) + " is missing");
  return *value;
}

/// A non-negative integer no larger than 2^53-1, so JavaScript reads it exactly,
/// written as plain digits: a fraction or an exponent (even 1.0 or 1e3) is out_of_range.
inline std::uint64_t read_integer(const boost::json::object& object, std::string_view key) {
  const auto& value = require(object, key);
  if (value.is_uint64()) {
    if (value.get_uint64() > raft::max_wire_integer) {
      fail(CodecErrc::out_of_range, quoted(key) + " exceeds 2^53-1");
    }
    return value.get_uint64();
  }
  if (value.is_int64()) {
    const auto number = value.get_int64();
    if (number < 0) fail(CodecErrc::out_of_range, quoted(key) + " is negative");
    if (static_cast<std::uint64_t>(number) > raft::max_wire_integer) {
      fail(CodecErrc::out_of_range, quoted(key) + " exceeds 2^53-1");
    }
    return static_cast<std::uint64_t>(number);
  }
  if (value.is_double()) {  // a fraction, an exponent, or beyond 64 bits
    const auto number = value.get_double();
    if (number < 0) fail(CodecErrc::out_of_range, quoted(key) + " is negative");
    if (number > static_cast<double>(raft::max_wire_integer)) {
      fail(CodecErrc::out_of_range, quoted(key) + " exceeds 2^53-1");
    }
    fail(CodecErrc::out_of_range, quoted(key) + " is not an integer (fraction or exponent)");
  }
  fail(CodecErrc::wrong_type, quoted(key) + ": expected an integer");
}

inline bool read_bool(const boost::json::object& object, std::string_view key) {
  const auto& value = require(object, key);
  if (!value.is_bool()) fail(CodecErrc::wrong_type, quoted(key) + ": expected true or false");
  return value.get_bool();
}

inline std::string_view read_string(const boost::json::object& object, std::string_view key) {
  const auto& value = require(object, key);
  if (!value.is_string()) fail(CodecErrc::wrong_type, quoted(key) + ": expected a string");
  return value.get_string();
}

/// A node id: a non-empty string of at most max_node_id_bytes.
inline std::string read_id(const boost::json::object& object, std::string_view key) {
  const auto id = read_string(object, key);
  if (id.empty() || id.size() > max_node_id_bytes) {
    fail(CodecErrc::invalid_value, quoted(key) + ": a node id has 1 to 256 bytes");
  }
  return std::string(id);
}

}  // namespace conflux::transport::detail
