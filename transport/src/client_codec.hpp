#pragma once
// The JSON shapes of client messages (forwarded performs and their
// replies), for codec.cpp. Internal to the codec.

#include <boost/json/object.hpp>
#include <conflux/transport/packet.hpp>
#include <string>
#include <string_view>

namespace conflux::transport::detail {

bool is_client_type(std::string_view type);
void encode_client(std::string& out, const ClientMessage& message);
/// `json` is the whole message: the arguments are taken from it verbatim.
ClientMessage decode_client(std::string_view type, const boost::json::object& object,
                            std::string_view json);

}  // namespace conflux::transport::detail
