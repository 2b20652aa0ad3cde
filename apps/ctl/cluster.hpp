#pragma once
// Asking a cluster rather than a node: the endpoints in turn, failing over
// from one that cannot be reached or has no leader to the next, and
// performs that are applied once however often they are sent.

#include <boost/json/array.hpp>
#include <string>

#include "node_client.hpp"

namespace conflux::ctl {

/// An answer, and which endpoint gave it; or, with no answer (`answered`
/// false), why each endpoint gave none.
struct Outcome {
  bool answered = false;
  std::string endpoint;
  Reply reply;
  std::string problems;  ///< "a:1: cannot connect: Connection refused; b:2: ..."
};

/// Whether an answer says the same request may succeed elsewhere or later:
/// {"retryable": true} (no leader, leadership lost, closing) or a 504.
bool retry_elsewhere(const Reply& reply);

class Cluster {
 public:
  explicit Cluster(Connection connection) : connection_(std::move(connection)) {}

  /// The first answer that is not retry_elsewhere(), asking each endpoint in
  /// turn (round after round while time is left: 2 × --timeout). A request
  /// that was sent but not answered is sent elsewhere only when
  /// `repeatable` (reads, and performs in a session).
  Outcome ask(const Request& request, bool repeatable = true);
  /// One endpoint only.
  Outcome ask_one(const std::string& endpoint, const Request& request) const;

  /// POST /perform/<method> in a client session opened for it, so that it
  /// may be sent again to another endpoint and still apply once.
  Outcome perform(const std::string& method, const boost::json::array& args);

  const Connection& connection() const { return connection_; }

 private:
  Connection connection_;
  std::size_t next_ = 0;  ///< where the next ask() starts: the last endpoint that answered
};

}  // namespace conflux::ctl
