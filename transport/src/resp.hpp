#pragma once
// RESP (the Redis protocol), sans-io, on Debian's hiredis: its reader parses
// replies from bytes fed in, and its formatter writes commands. The Redis
// channel (redis_channel.cpp) owns the sockets.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::transport::resp {

/// One reply, copied out of hiredis's tree. Arrays hold their elements.
struct Reply {
  enum class Kind { string, array, integer, nil, status, error };
  Kind kind = Kind::nil;
  std::string text;  ///< string, status and error
  long long integer = 0;
  std::vector<Reply> elements;
};

/// The command `args` in RESP, ready to write.
std::string format(const std::vector<std::string_view>& args);

class Reader {
 public:
  Reader();
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Appends bytes read from the server.
  void feed(const char* data, std::size_t size);
  /// The next complete reply, or nullopt until more bytes arrive. Throws
  /// std::runtime_error, naming the problem, on bytes that are not RESP.
  std::optional<Reply> next();

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

}  // namespace conflux::transport::resp
