#include "http_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <stdexcept>
#include <thread>

#include "cluster_ready.hpp"

namespace conflux::bench {

using transport::as_tuple_awaitable;

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

/// The body of a 200 answer to "GET path" (Connection: close, so the body
/// ends where the stream does); throws on failure.
asio::awaitable<std::string> fetch(std::string address, std::string path) {
  const auto [host, port] = transport::split_address(address);
  tcp::resolver resolver(co_await asio::this_coro::executor);
  const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n";
  const auto request_bytes = asio::buffer(request);  // g++ 12: no temporaries inside co_await
  co_await asio::async_write(socket, request_bytes, asio::use_awaitable);
  std::string response;
  auto buffer = asio::dynamic_buffer(response);
  auto [ec, n] = co_await asio::async_read(socket, buffer, as_tuple_awaitable);
  if (ec && ec != asio::error::eof) throw std::system_error(ec);
  const auto blank = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.1 200") || blank == std::string::npos)
    throw std::runtime_error("not a 200 answer");
  co_return response.substr(blank + 4);
}

std::string describe(const std::vector<std::optional<NodeStatus>>& statuses,
                     const std::vector<std::string>& addresses) {
  std::string text;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    text += "\n  " + addresses[i] + ": ";
    if (!statuses[i]) {
      text += "no answer";
      continue;
    }
    const auto& s = *statuses[i];
    std::size_t connected = 0;
    for (const auto& peer : s.peers) connected += peer.connected ? 1 : 0;
    text += s.id + " " + s.role + ", term " + std::to_string(s.term) + ", leader " +
            (s.leader.empty() ? "unknown" : s.leader) + ", peers connected " +
            std::to_string(connected) + "/" + std::to_string(s.peers.size());
  }
  return text;
}

}  // namespace

std::optional<json::value> get_json(const std::string& address, const std::string& path,
                                    std::chrono::milliseconds timeout) {
  asio::io_context io(1);
  std::optional<std::string> body;
  asio::co_spawn(io, fetch(address, path), [&body](std::exception_ptr error, std::string text) {
    if (!error) body = std::move(text);
  });
  io.run_for(timeout);
  if (!body) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(*body, ec);
  if (ec) return std::nullopt;
  return value;
}

std::optional<NodeStatus> status_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    NodeStatus status;
    status.id = std::string(object.at("id").as_string());
    status.role = std::string(object.at("role").as_string());
    status.term = object.at("term").to_number<std::uint64_t>();
    if (object.at("leader").is_string())
      status.leader = std::string(object.at("leader").as_string());
    for (const auto& peer : object.at("peers").as_array()) {
      status.peers.push_back({.id = std::string(peer.at("id").as_string()),
                              .connected = peer.at("connected").as_bool(),
                              .match = std::nullopt});
    }
    return status;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

ReadyLeader wait_for_leader(const std::vector<std::string>& addresses,
                            std::chrono::milliseconds timeout, const std::function<void()>& check) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::optional<NodeStatus>> statuses(addresses.size());
  for (;;) {
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      const auto json = get_json(addresses[i], "/status", std::chrono::milliseconds(500));
      statuses[i] = json ? status_from_json(*json) : std::nullopt;
    }
    if (const auto leader = ready_leader(statuses)) return {*leader, statuses[*leader]->id};
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(
          "the cluster did not become ready (a leader known to every node, "
          "every peer connected) in time:" +
          describe(statuses, addresses));
    }
    check();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace conflux::bench
