#pragma once
// An HTTPS client for tests: one request on a fresh connection to
// 127.0.0.1, on an io_context of its own run for at most the timeout. The
// server's certificate must verify against `client.authority`; with
// `client.certificate` and `client.private_key`, the client presents its
// own.

#include <conflux/transport/tls.hpp>

#include "apps/http_client.hpp"

namespace conflux::test {

HttpReply https_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body, const transport::TlsFiles& client,
                        const HttpHeaders& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace conflux::test
