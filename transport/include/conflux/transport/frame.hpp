#pragma once
// Length-prefixed framing: a 4-byte big-endian length, then that many bytes
// of JSON. FrameDecoder is a sans-io parser: feed it bytes as they arrive, in
// pieces of any size, and take whole frames out. It refuses an announced
// length above its limit before allocating anything for it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::transport {

inline constexpr std::size_t frame_header_bytes = 4;
inline constexpr std::size_t default_max_frame_bytes = 16 << 20;

/// Appends a frame holding `body` to `out`. Precondition: body.size() < 2^32.
void append_frame(std::string& out, std::string_view body);
/// Writes the header for a body of `size` bytes into out[0..3].
void write_frame_header(char* out, std::uint32_t size);

enum class FrameErrc : std::uint8_t {
  too_large,  ///< the announced length exceeds the limit
  empty,      ///< a zero-length frame (no JSON text is empty)
};

std::string_view to_string(FrameErrc code);

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = default_max_frame_bytes)
      : max_frame_bytes_(max_frame_bytes) {}

  /// Changes the limit for frames not yet returned (e.g. after a handshake).
  void set_max_frame_bytes(std::size_t max_frame_bytes) { max_frame_bytes_ = max_frame_bytes; }

  /// Takes bytes from the stream.
  void feed(std::string_view bytes) { buffer_.append(bytes); }

  /// The next whole frame's body, or nullopt when more bytes are needed or
  /// after an error (see error()). A view into the decoder's buffer, valid
  /// until the next call to feed() or next().
  std::optional<std::string_view> next();

  std::optional<FrameErrc> error() const { return error_; }
  /// Bytes received but not yet returned as frames.
  std::size_t buffered() const { return buffer_.size() - consumed_; }
  /// Length announced by the partial frame at the front (0 if none).
  std::uint32_t announced() const;

 private:
  /// An emptied buffer keeps at most this much memory.
  static constexpr std::size_t retained_bytes = 1 << 20;

  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned
  std::optional<FrameErrc> error_;
};

}  // namespace conflux::transport
