#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>
#include <conflux/transport/tls_context.hpp>
#include <stdexcept>

namespace conflux::transport {

namespace ssl = boost::asio::ssl;

namespace detail {

std::shared_ptr<ssl::context> make_tls_context(const TlsFiles& files,
                                               bool peer_certificate_optional) {
  if (files.certificate.empty() || files.private_key.empty() || files.authority.empty()) {
    throw std::invalid_argument("TLS needs a certificate, its key and the cluster's authority");
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No session tickets: every connection is a full handshake, so a peer's
  // certificate is checked against the current authority each time.
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  const auto load = [](std::string_view what, const std::string& path, auto&& step) {
    boost::system::error_code ec;
    step(ec);
    if (ec)
      throw std::invalid_argument("the TLS " + std::string(what) + " " + path + ": " +
                                  ec.message());
  };
  load("certificate", files.certificate,
       [&](auto& ec) { context->use_certificate_chain_file(files.certificate, ec); });
  load("key", files.private_key,
       [&](auto& ec) { context->use_private_key_file(files.private_key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::invalid_argument("the TLS key " + files.private_key +
                                " does not match the certificate " + files.certificate);
  }
  load("authority", files.authority,
       [&](auto& ec) { context->load_verify_file(files.authority, ec); });
  context->set_verify_mode(peer_certificate_optional
                               ? ssl::verify_peer
                               : ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

bool certificate_names(SSL* ssl, const std::string& id) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return false;
  X509* certificate = SSL_get0_peer_certificate(ssl);
  return certificate && !id.empty() &&
         X509_check_host(certificate, id.data(), id.size(), X509_CHECK_FLAG_NO_WILDCARDS,
                         nullptr) == 1;
}

TlsFailure handshake_failure(SSL* ssl, const boost::system::error_code& error) {
  if (const auto verdict = SSL_get_verify_result(ssl); verdict != X509_V_OK) {
    return {true, std::string("the peer's certificate: ") + X509_verify_cert_error_string(verdict)};
  }
  return {false, error.message()};
}

}  // namespace detail

bool same_secret(std::string_view presented, std::string_view expected) {
  return presented.size() == expected.size() &&
         CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

std::string validate_tls(const TlsFiles& files) {
  try {
    detail::make_tls_context(files);
    return "";
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

}  // namespace conflux::transport
