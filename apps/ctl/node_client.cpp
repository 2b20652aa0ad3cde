#include "node_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <conflux/transport/address.hpp>
#include <optional>
#include <stdexcept>

#include "flag_reader.hpp"

namespace conflux::ctl {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

ssl::context client_context(const Connection& connection) {
  ssl::context context(ssl::context::tls_client);
  context.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context.load_verify_file(connection.authority);
  context.set_verify_mode(ssl::verify_peer);
  if (!connection.certificate.empty()) {
    context.use_certificate_chain_file(connection.certificate);
    context.use_private_key_file(connection.private_key, ssl::context::pem);
  }
  return context;
}

}  // namespace

std::pair<bool, std::string> parse_endpoint(const std::string& endpoint, bool default_tls) {
  auto tls = default_tls;
  auto address = endpoint;
  if (endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
    tls = endpoint.starts_with("https://");
    address = endpoint.substr(tls ? 8 : 7);
  }
  if (!address.empty() && address.back() == '/') address.pop_back();
  try {
    transport::split_address(address);
  } catch (const std::invalid_argument& error) {
    throw cli::FlagError("endpoint \"" + endpoint + "\": " + error.what());
  }
  return {tls, address};
}

Reply exchange(const Connection& connection, const std::string& endpoint, const Request& request,
               std::chrono::milliseconds timeout) {
  const auto [tls, address] = parse_endpoint(endpoint, !connection.authority.empty());
  if (tls && connection.authority.empty()) {
    return Reply{Reply::Reach::not_sent, 0, {}, "https needs --cacert, the nodes' authority"};
  }
  Reply reply{Reply::Reach::not_sent, 0, {}, "timed out"};
  try {
    std::optional<ssl::context> context;
    if (tls) context.emplace(client_context(connection));
    asio::io_context io(1);
    asio::co_spawn(io,
                   client::http_exchange(address, context ? &*context : nullptr, request, timeout),
                   [&reply](std::exception_ptr failed, Reply done) {
                     if (!failed) reply = std::move(done);
                   });
    io.run();
  } catch (const boost::system::system_error& error) {  // a TLS file that does not load
    reply.problem = std::string("TLS files: ") + error.what();
  }
  return reply;
}

}  // namespace conflux::ctl
