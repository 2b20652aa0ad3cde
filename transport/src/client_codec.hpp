#pragma once
// The JSON shapes of client messages (forwarded performs and their
// replies), for codec.cpp. Internal to the codec.

#include <boost/json/object.hpp>
#include <conflux/transport/packet.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace conflux::transport::detail {

bool is_client_type(std::string_view type);
void encode_client(std::string& out, const ClientMessage& message);
/// `json` is the whole message: the arguments are taken from it verbatim.
ClientMessage decode_client(std::string_view type, const boost::json::object& object,
                            std::string_view json);

/// Where the top-level "args" array of a perform starts and ends (one past
/// its closing bracket) in `json`, found without assuming that `json` is
/// valid JSON: it is used when it is not. nullopt if there is no such array.
std::optional<std::pair<std::size_t, std::size_t>> args_span(std::string_view json);

}  // namespace conflux::transport::detail
