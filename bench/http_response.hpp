#pragma once
// The little of HTTP/1.1 the load clients need, sans I/O: the bytes of a
// perform request, prepared once per connection, and the status and length
// of a response. A full parser (Beast) would cost the client more CPU than
// the figures can afford: on 2 cores the client shares the machine with the
// nodes it measures.

#include <cstddef>
#include <string>
#include <string_view>

namespace conflux::bench {

/// `size` printable ASCII characters (no quote, no backslash): the payload
/// of every action, a JSON string once quoted.
std::string make_payload(std::size_t size);

/// The arguments of every write: the JSON array ["<payload>"].
std::string write_arguments(std::size_t payload_size);

/// A keep-alive "POST /perform/<method>" with `body` (a JSON array).
std::string perform_request(std::string_view host, std::string_view method, std::string_view body);

struct ResponseHead {
  unsigned status = 0;
  std::size_t header_bytes = 0;  ///< up to and including the blank line
  std::size_t content_length = 0;
};

enum class HeadParse { incomplete, complete, malformed };

/// Parses the head of the response at the start of `bytes`: the status line
/// and Content-Length (required: the node never sends chunked bodies).
HeadParse parse_response_head(std::string_view bytes, ResponseHead& head);

}  // namespace conflux::bench
