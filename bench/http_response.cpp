#include "http_response.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace conflux::bench {

namespace {

constexpr std::size_t max_head_bytes = 64 * 1024;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

template <class Number>
bool parse_whole(std::string_view text, Number& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

/// Finds Content-Length among the header lines (between the status line and
/// the blank line).
bool find_content_length(std::string_view headers, std::size_t& length) {
  bool found = false;
  while (!headers.empty()) {
    const auto end = std::min(headers.find("\r\n"), headers.size());
    const auto line = headers.substr(0, end);
    headers.remove_prefix(std::min(end + 2, headers.size()));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos ||
        !equals_ignoring_case(line.substr(0, colon), "content-length"))
      continue;
    if (!parse_whole(trim(line.substr(colon + 1)), length)) return false;
    found = true;
  }
  return found;
}

}  // namespace

std::string make_payload(std::size_t size) {
  static constexpr std::string_view alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string payload(size, ' ');
  for (std::size_t i = 0; i < size; ++i) payload[i] = alphabet[i % alphabet.size()];
  return payload;
}

std::string write_arguments(std::size_t payload_size) {
  return "[\"" + make_payload(payload_size) + "\"]";
}

std::string perform_request(std::string_view host, std::string_view method, std::string_view body) {
  std::string request;
  request.reserve(160 + body.size());
  request.append("POST /perform/").append(method).append(" HTTP/1.1\r\nHost: ").append(host);
  request.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  request.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return request;
}

HeadParse parse_response_head(std::string_view bytes, ResponseHead& head) {
  const auto blank = bytes.find("\r\n\r\n");
  if (blank == std::string_view::npos)
    return bytes.size() > max_head_bytes ? HeadParse::malformed : HeadParse::incomplete;
  // "HTTP/1.1 200 OK": the version, a space, three digits.
  const auto line_end = bytes.find("\r\n");
  const auto line = bytes.substr(0, line_end);
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ' ||
      !parse_whole(line.substr(9, 3), head.status))
    return HeadParse::malformed;
  const auto headers = bytes.substr(line_end + 2, blank - line_end);
  if (!find_content_length(headers, head.content_length)) return HeadParse::malformed;
  head.header_bytes = blank + 4;
  return HeadParse::complete;
}

}  // namespace conflux::bench
