#pragma once
// conflux-node --join: a node started in join mode asks a member of the
// cluster, over its HTTP API, to add it (POST /members; thesis §4.2.1: it
// joins as a learner and is promoted once it has caught up).

#include <boost/asio/awaitable.hpp>
#include <conflux/options.hpp>
#include <conflux/transport/tls.hpp>
#include <string>

namespace conflux::daemon {

/// Asks the member whose HTTP API is at `member` ("host:port") to add node
/// `id`, reachable by its peers at `address`, as a voter. Retries with a
/// growing pause (1 s to 10 s) while the member cannot be reached or answers
/// that the cluster is busy; ends once the member answers that the node was
/// added, or that it cannot be (for instance: it is a member already, as
/// after a restart). Logs each outcome.
///
/// With `tls` set, the member is reached over HTTPS: its certificate must be
/// of the authority, and this node presents its own (which the member takes
/// for the token). With `token`, the request carries it as a bearer token.
struct JoinCredentials {
  transport::TlsFiles tls;
  std::string token;
};
boost::asio::awaitable<void> ask_to_join(std::string member, std::string id, std::string address,
                                         JoinCredentials credentials, LogSink log);

}  // namespace conflux::daemon
