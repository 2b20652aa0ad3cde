// WsHub, a member's connection: the reader routes each message to its
// addressee's queue, the writer drains this member's queue. One reader and
// one writer per stream, as Beast requires; the writer alone sends the
// close frame.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "ws_hub_impl.hpp"

namespace conflux::transport {

using hub::Connection;
namespace websocket = hub::websocket;

asio::awaitable<void> WsHub::Impl::read_loop(Connection& connection) {
  for (;;) {
    boost::beast::flat_buffer buffer;
    auto [ec, n] = co_await connection.ws.async_read(buffer, as_tuple_awaitable);
    if (ec) {
      const bool gone = ec == websocket::error::closed || ec == asio::error::eof ||
                        ec == asio::error::connection_reset ||
                        ec == asio::error::operation_aborted ||
                        ec == asio::ssl::error::stream_truncated;  // TLS without close_notify
      std::string reason = gone ? "" : ec.message();               // a peer leaving is not news
      if (ec == websocket::error::message_too_big) {
        ++stats.refused;  // Beast has already sent the close frame (code only)
        reason = "message over " + std::to_string(config.max_message_bytes) + " bytes";
        connection.request_close(websocket::close_code::too_big, reason);
      } else {
        connection.request_close(websocket::close_code::going_away, reason);
      }
      if (!reason.empty())
        log_limited("closing " + connection.id + " (" + connection.peer + "): " + reason);
      co_return;
    }
    std::optional<std::string> problem;
    if (!connection.ws.got_text()) {
      problem = "binary frames are not accepted";
    } else {
      problem = route(connection, boost::beast::buffers_to_string(buffer.data()));
    }
    if (problem) {
      ++stats.refused;
      log_limited("closing " + connection.id + " (" + connection.peer + "): " + *problem);
      connection.request_close(websocket::close_code::policy_error, *problem);
      co_return;
    }
  }
}

asio::awaitable<void> WsHub::Impl::write_loop(Connection& connection) {
  while (!connection.closing) {
    if (connection.queue.empty()) {
      connection.wake.expires_at(asio::steady_timer::time_point::max());
      co_await connection.wake.async_wait(as_tuple_awaitable);
      continue;
    }
    auto text = std::move(connection.queue.front());
    connection.queue.pop_front();
    connection.queued_bytes -= text.size();
    connection.ws.text(true);
    auto [ec, n] = co_await connection.ws.async_write(asio::buffer(text), as_tuple_awaitable);
    if (ec) connection.request_close(websocket::close_code::going_away, ec.message());
  }
  co_await connection.ws.async_close(*connection.closing, as_tuple_awaitable);
  boost::beast::get_lowest_layer(connection.ws).close();  // ends a read still pending
}

// Checks the envelope only ("from" is the sender, "to" names somebody) and
// forwards the text as is; the addressee decodes and validates the rest.
// Returns why the sender must be disconnected, if it must.
std::optional<std::string> WsHub::Impl::route(const Connection& from, std::string text) {
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(text, ec);
  if (ec) return "a message is not JSON (" + ec.message() + ")";
  const auto message = parser.release();
  const auto* object = message.if_object();
  const auto* sender = object ? object->if_contains("from") : nullptr;
  const auto* addressee = object ? object->if_contains("to") : nullptr;
  if (!sender || !sender->is_string() || !addressee || !addressee->is_string())
    return "a message must be an object with string \"from\" and \"to\"";
  if (sender->get_string() != from.id)
    return "spoofed sender: \"" + std::string(sender->get_string()) + "\" is not \"" + from.id +
           "\"";
  const auto& members = clusters[from.cluster];
  const auto to = members.find(std::string(addressee->get_string()));
  if (to == members.end()) {
    ++stats.dropped_absent;
    return std::nullopt;
  }
  enqueue(*to->second, std::move(text));
  return std::nullopt;
}

void WsHub::Impl::enqueue(Connection& to, std::string text) {
  if (to.closing || to.queue.size() >= config.queue_max_messages ||
      to.queued_bytes + text.size() > config.queue_max_bytes) {
    ++stats.dropped_full;
    return;
  }
  ++stats.routed;
  to.queued_bytes += text.size();
  to.queue.push_back(std::move(text));
  to.wake.cancel();
}

// Tells every member of `cluster` who is connected: {"type":"members","ids":[...]}.
void WsHub::Impl::announce_members(const std::string& cluster) {
  boost::json::array ids;
  for (const auto& [id, member] : clusters[cluster]) ids.emplace_back(id);
  const auto text =
      boost::json::serialize(boost::json::object{{"type", "members"}, {"ids", std::move(ids)}});
  for (const auto& [id, member] : clusters[cluster]) enqueue(*member, text);
}

}  // namespace conflux::transport
