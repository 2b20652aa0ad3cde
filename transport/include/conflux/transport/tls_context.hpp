#pragma once
// TLS contexts for the TCP mesh and the HTTPS servers (tls.hpp): built
// from files, rebuilt on reload, and the checks that bind a peer's
// certificate to its id. Include only where Asio is used already (it brings
// OpenSSL's and Asio's SSL headers).

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <conflux/transport/tls.hpp>
#include <memory>
#include <string>
#include <vector>

namespace conflux::transport::detail {

/// A context for both ends of a connection: TLS 1.2 or later, this node's
/// certificate and key, and peers' certificates verified against the
/// authority; a peer must present one unless `peer_certificate_optional`
/// (an HTTPS server, whose clients may authenticate by token instead).
/// Throws std::invalid_argument naming the file that failed. Each
/// connection holds the context it started with (an SSL object must not
/// outlive its context's verify data), so a reload swaps in a new one for
/// new connections only.
/// This node's own certificate must verify against the authority, and name
/// `id` when given (a DNS subjectAltName equal to it byte for byte, or the
/// common name when the certificate has no DNS name).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsFiles& files,
                                                            bool peer_certificate_optional = false,
                                                            const std::string& id = {});

/// A rotation: replaces `context` (when set: a listener with TLS) by one
/// built from `files` as above. "" once done, else why not, and `context`
/// stays as it was.
std::string reload_tls_context(std::shared_ptr<boost::asio::ssl::context>& context,
                               const TlsFiles& files, bool peer_certificate_optional,
                               const std::string& id = {});

/// A client context that trusts the system's authorities and presents no
/// certificate (a wss:// hub when the node was given no TLS files).
std::shared_ptr<boost::asio::ssl::context> make_system_trust_context();

/// Before a client's handshake: the server's certificate must name `host`
/// as a browser would check it (rfc 2818: a DNS subjectAltName, or an IP
/// address one for an address), and a DNS name is sent as SNI. False when
/// OpenSSL refused the name (empty, or with a NUL byte): then no name
/// would be checked, so the caller must not connect.
[[nodiscard]] bool expect_server_name(SSL* ssl, std::string host);

/// The ids a certificate names: its DNS subjectAltNames or, when it has no
/// subjectAltName extension at all, its common name, each as UTF-8 (a name
/// that cannot be converted, or holds a NUL byte, names nothing). A
/// subjectAltName that is present but unreadable, or holds no DNS name,
/// names no id: the common name is not consulted then.
std::vector<std::string> certificate_ids(X509* certificate);

/// Whether the verified peer certificate of `ssl` names `id` (as above),
/// byte for byte.
bool certificate_names(SSL* ssl, const std::string& id);

/// The ids that the peer's verified certificate names (as above); empty
/// without one.
std::vector<std::string> verified_peer_ids(SSL* ssl);

/// Why a TLS handshake failed, as plainly as OpenSSL says it.
struct TlsFailure {
  /// The peer's certificate failed verification (another authority,
  /// expired, none), rather than the handshake itself.
  bool certificate = false;
  std::string text;  ///< "the peer's certificate: certificate has expired", "wrong version number"
};
TlsFailure handshake_failure(SSL* ssl, const boost::system::error_code& error);

}  // namespace conflux::transport::detail
