#pragma once
// One HTTP/1.1 request to a node's HTTP API on a fresh connection, plain or
// over TLS, under one deadline: what conflux-node --join and conflux-ctl
// send.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace conflux::client {

struct HttpCall {
  std::string method;  ///< "GET", "POST", "DELETE"
  std::string target;  ///< "/status", "/query/get?consistency=linearizable"
  std::string body = {};
  std::vector<std::pair<std::string, std::string>> headers = {};
};

struct HttpAnswer {
  enum class Reach {
    not_sent,  ///< never reached the node (resolve, connect or TLS failed): nothing happened
    sent,      ///< sent, and no answer came: it may or may not have happened
    answered,
  };
  Reach reach = Reach::not_sent;
  unsigned status = 0;  ///< when answered
  std::string body;     ///< when answered
  std::string problem;  ///< when not answered: what went wrong
};

/// Sends `call` to `address` ("host:port", an IPv6 host in brackets; also
/// the Host header) and reads the answer, all within `timeout`. With `tls`,
/// over TLS with that context: what it verifies, and what it presents, is
/// the caller's choice.
boost::asio::awaitable<HttpAnswer> http_exchange(std::string address,
                                                 boost::asio::ssl::context* tls, HttpCall call,
                                                 std::chrono::milliseconds timeout);

}  // namespace conflux::client
