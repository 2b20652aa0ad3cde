#include <conflux/transport/frame.hpp>

namespace conflux::transport {

void write_frame_header(char* out, std::uint32_t size) {
  out[0] = static_cast<char>(size >> 24);
  out[1] = static_cast<char>(size >> 16);
  out[2] = static_cast<char>(size >> 8);
  out[3] = static_cast<char>(size);
}

void append_frame(std::string& out, std::string_view body) {
  char header[frame_header_bytes];
  write_frame_header(header, static_cast<std::uint32_t>(body.size()));
  out.append(header, frame_header_bytes);
  out.append(body);
}

std::string_view to_string(FrameErrc code) {
  return code == FrameErrc::too_large ? "frame larger than the limit" : "empty frame";
}

std::uint32_t FrameDecoder::announced() const {
  if (buffered() < frame_header_bytes) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::optional<std::string_view> FrameDecoder::next() {
  if (error_) return std::nullopt;
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);  // keep the buffer from growing without bound
    consumed_ = 0;
    // Emptied after a large frame: give its memory back, so that an idle
    // connection does not keep up to twice the largest frame it ever read.
    if (buffer_.empty() && buffer_.capacity() > retained_bytes) std::string().swap(buffer_);
  }
  if (buffered() < frame_header_bytes) return std::nullopt;
  const std::uint32_t size = announced();
  if (size > max_frame_bytes_) error_ = FrameErrc::too_large;
  if (size == 0) error_ = FrameErrc::empty;
  if (error_ || buffered() < frame_header_bytes + size) return std::nullopt;
  const std::string_view body(buffer_.data() + consumed_ + frame_header_bytes, size);
  consumed_ += frame_header_bytes + size;
  return body;
}

}  // namespace conflux::transport
