#pragma once
// TLS between nodes: the files each node is given (no Asio here; the
// contexts built from them are internal to the channels).
//
// Every node presents a certificate signed by the cluster's authority and
// checks its peer's against it (mutual authentication), and a certificate
// binds an id: it must name the node (a DNS subjectAltName equal to the id,
// or, in a certificate with no DNS name, the common name). So a node with
// a valid certificate still cannot speak as another id.

#include <string>
#include <string_view>

namespace conflux::transport {

struct TlsFiles {
  std::string certificate;  ///< PEM: this node's certificate (then any intermediates)
  std::string private_key;  ///< PEM: its key
  std::string authority;    ///< PEM: the cluster's CA certificate(s)
  /// Whether TLS is on: all three set (validate_tls() refuses a partial set).
  bool enabled() const { return !certificate.empty(); }
  friend bool operator==(const TlsFiles&, const TlsFiles&) = default;
};

/// Whether a secret presented equals the one expected, in a time that does
/// not depend on where they differ (tokens of the hub and the HTTP API).
bool same_secret(std::string_view presented, std::string_view expected);

/// Why `files` cannot be used, naming the file ("the TLS key /etc/n1.key:
/// No such file or directory", "the TLS certificate /etc/a.pem: certificate
/// has expired"), or "" when a context builds from them and the certificate
/// names `id` (when given).
std::string validate_tls(const TlsFiles& files, const std::string& id = {});

}  // namespace conflux::transport
