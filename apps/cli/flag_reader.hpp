#pragma once
// Reading a command line of "--name value" and "--name=value" flags, shared
// by conflux-node and conflux-bench (each keeps its own table of flags).

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace conflux::cli {

/// A command line that cannot be run; what() names the flag and the problem.
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Walks the arguments one flag at a time:
///   for (FlagReader flags(args); flags.next();)
///     if (flags.name() == "--verbose") flags.no_value(); else use(flags.value());
class FlagReader {
 public:
  explicit FlagReader(const std::vector<std::string>& args) : args_(args) {}

  /// Moves to the next flag; false at the end.
  bool next() {
    if (next_ == args_.size()) return false;
    name_ = args_[next_++];
    attached_.reset();
    if (const auto equals = name_.find('=');
        name_.starts_with("--") && equals != std::string::npos) {
      attached_ = name_.substr(equals + 1);
      name_.resize(equals);
    }
    return true;
  }
  const std::string& name() const { return name_; }
  /// The value after '=', or else the next argument (consumed).
  std::string value() {
    if (attached_) return *attached_;
    if (next_ == args_.size()) throw FlagError(name_ + " needs a value");
    return args_[next_++];
  }
  /// For a switch: refuses "--switch=value".
  void no_value() const {
    if (attached_) throw FlagError(name_ + " takes no value");
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t next_ = 0;
  std::string name_;
  std::optional<std::string> attached_;
};

}  // namespace conflux::cli
