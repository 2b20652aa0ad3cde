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
/// {"retryable": true} (no leader, leadership lost, closing), a 504, or none.
bool retry_elsewhere(const Reply& reply);
/// Whether the request may or may not have been carried out: sent without
/// an answer, or answered 504 (not committed in time; it may still be).
bool unknown_outcome(const Reply& reply);

class Cluster {
 public:
  explicit Cluster(Connection connection) : connection_(std::move(connection)) {}

  /// The first answer that is not retry_elsewhere(), asking each endpoint in
  /// turn (round after round while time is left: 2 × --timeout). A request
  /// whose outcome is unknown (sent and not answered, or a 504) is sent
  /// elsewhere only when `repeatable` (reads, performs in a session, an
  /// add); else that outcome is returned (unknown_outcome() says so). An
  /// answer {"retryable": true} says nothing was done: always passed on.
  Outcome ask(const Request& request, bool repeatable = true);
  /// One endpoint only.
  Outcome ask_one(const std::string& endpoint, const Request& request) const;

  /// POST /perform/<method> in a client session opened for it, so that it
  /// may be sent again to another endpoint and still apply once.
  Outcome perform(const std::string& method, const boost::json::array& args);

  const Connection& connection() const { return connection_; }
  /// The next ask() starts at the endpoint after the last that answered.
  void move_on() { next_ = (next_ + 1) % connection_.endpoints.size(); }

 private:
  Connection connection_;
  std::size_t next_ = 0;  ///< where the next ask() starts: the last endpoint that answered
};

}  // namespace conflux::ctl
