#include <conflux/errors.hpp>

namespace conflux {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "conflux"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unknown_method:
        return "not a registered method";
      case errc::method_failed:
        return "the method refused the call";
      case errc::reducer_failed:
        return "the reducer failed on the action";
      case errc::timeout:
        return "timed out before the action was committed";
      case errc::leadership_lost:
        return "leadership changed and the action was lost; retry";
      case errc::outcome_unknown:
        return "the leader changed before answering; the action may commit";
      case errc::closed:
        return "the node is closed";
      case errc::bad_arguments:
        return "the arguments or the action cannot be carried";
      case errc::no_leader:
        return "no leader was known before the timeout";
      case errc::membership_refused:
        return "the membership change cannot apply";
      case errc::change_in_progress:
        return "another membership change or a transfer is in progress";
      case errc::session_expired:
        return "the client session expired; the action was not applied";
      case errc::stale_sequence:
        return "the sequence number is older than the session remembers";
    }
    return "unknown conflux error";
  }
};

}  // namespace

std::string_view to_string(errc code) {
  switch (code) {
    case errc::unknown_method:
      return "unknown_method";
    case errc::method_failed:
      return "method_failed";
    case errc::reducer_failed:
      return "reducer_failed";
    case errc::timeout:
      return "timeout";
    case errc::leadership_lost:
      return "leadership_lost";
    case errc::outcome_unknown:
      return "outcome_unknown";
    case errc::closed:
      return "closed";
    case errc::bad_arguments:
      return "bad_arguments";
    case errc::no_leader:
      return "no_leader";
    case errc::membership_refused:
      return "membership_refused";
    case errc::change_in_progress:
      return "change_in_progress";
    case errc::session_expired:
      return "session_expired";
    case errc::stale_sequence:
      return "stale_sequence";
  }
  return "unknown";
}

const std::error_category& error_category() {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc code) {
  return {static_cast<int>(code), error_category()};
}

bool is_retryable(errc code) {
  return code == errc::leadership_lost || code == errc::no_leader ||
         code == errc::change_in_progress;
}

}  // namespace conflux
