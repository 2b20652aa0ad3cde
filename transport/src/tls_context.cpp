#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ssl/error.hpp>
#include <conflux/transport/tls_context.hpp>
#include <cstring>
#include <stdexcept>

namespace conflux::transport {

namespace ssl = boost::asio::ssl;

namespace detail {
namespace {

/// A name as UTF-8 text: a UTF8String's or an IA5String's bytes as they
/// are (a DNS subjectAltName is an IA5String, and an id's UTF-8 is written
/// there as is), any other string type converted (so that a BMPString
/// whose raw bytes spell an id does not pass for it). Empty when it cannot
/// be converted or holds a NUL byte.
std::string text_of(const ASN1_STRING* text) {
  if (!text) return {};
  std::string converted;
  const int type = ASN1_STRING_type(text);
  if (type == V_ASN1_UTF8STRING || type == V_ASN1_IA5STRING) {
    converted.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<std::size_t>(ASN1_STRING_length(text)));
  } else {
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, text);
    if (length < 0) return {};
    converted.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
  }
  if (converted.find('\0') != std::string::npos) return {};
  return converted;
}

}  // namespace

// Compared byte for byte by the callers (not X509_check_host, which ignores
// case and reads a leading dot as "any subdomain", while ids are
// case-sensitive bytes).
std::vector<std::string> certificate_ids(X509* certificate) {
  std::vector<std::string> ids;
  if (!certificate) return ids;
  int found = -1;  // -1: no such extension; -2: several; else decoded or not
  if (auto* names = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(certificate, NID_subject_alt_name, &found, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_DNS) continue;
      if (auto id = text_of(name->d.dNSName); !id.empty()) ids.push_back(std::move(id));
    }
    GENERAL_NAMES_free(names);
  }
  if (found != -1) return ids;
  X509_NAME* subject = X509_get_subject_name(certificate);
  if (const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); at >= 0) {
    if (auto id = text_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at))); !id.empty())
      ids.push_back(std::move(id));
  }
  return ids;
}

namespace {

bool names(X509* certificate, const std::string& id) {
  const auto ids = certificate_ids(certificate);
  return !id.empty() && std::find(ids.begin(), ids.end(), id) != ids.end();
}

/// This node's own certificate must verify against the authority (not
/// expired, not of another authority) and name `id` when given: a bad
/// rotation is refused at once rather than by every peer.
void check_own_certificate(SSL_CTX* native, const TlsFiles& files, const std::string& id) {
  X509* own = SSL_CTX_get0_certificate(native);
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(native, &chain);
  X509_STORE_CTX* verify = X509_STORE_CTX_new();
  const bool ok = verify &&
                  X509_STORE_CTX_init(verify, SSL_CTX_get_cert_store(native), own, chain) == 1 &&
                  X509_verify_cert(verify) == 1;
  const auto error = verify ? X509_STORE_CTX_get_error(verify) : X509_V_ERR_OUT_OF_MEM;
  X509_STORE_CTX_free(verify);
  if (!ok) {
    throw std::invalid_argument("the TLS certificate " + files.certificate + ": " +
                                X509_verify_cert_error_string(error) + " (against " +
                                files.authority + ")");
  }
  if (!id.empty() && !names(own, id))
    throw std::invalid_argument("the TLS certificate " + files.certificate + " does not name \"" +
                                id + "\"");
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsFiles& files,
                                               bool peer_certificate_optional,
                                               const std::string& id) {
  if (files.certificate.empty() || files.private_key.empty() || files.authority.empty()) {
    throw std::invalid_argument("TLS needs a certificate, its key and the cluster's authority");
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No session tickets and no resumption: every connection is a full
  // handshake, so a peer's certificate is checked against the current
  // authority each time. No renegotiation: a peer cannot change its
  // certificate after the identity check, nor make the node burn CPU.
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(native, 0);
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
  check_own_certificate(native, files, id);
  context->set_verify_mode(peer_certificate_optional
                               ? ssl::verify_peer
                               : ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

std::string reload_tls_context(std::shared_ptr<ssl::context>& context, const TlsFiles& files,
                               bool peer_certificate_optional, const std::string& id) {
  if (!context) return "";
  try {
    context = make_tls_context(files, peer_certificate_optional, id);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

std::shared_ptr<ssl::context> make_system_trust_context() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_default_verify_paths();
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

bool expect_server_name(SSL* ssl, std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) return true;  // no SNI
  // An empty name, or one with a NUL, is refused here and would leave no
  // name to check at all.
  if (host.empty() || X509_VERIFY_PARAM_set1_host(param, host.data(), host.size()) != 1)
    return false;
  // SSL_set_tlsext_host_name, without the macro's C cast (OpenSSL copies the name).
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, host.data());
  return true;
}

bool certificate_names(SSL* ssl, const std::string& id) {
  return SSL_get_verify_result(ssl) == X509_V_OK && names(SSL_get0_peer_certificate(ssl), id);
}

std::vector<std::string> verified_peer_ids(SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return {};
  return certificate_ids(SSL_get0_peer_certificate(ssl));
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

std::string validate_tls(const TlsFiles& files, const std::string& id) {
  try {
    detail::make_tls_context(files, false, id);
    return "";
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

}  // namespace conflux::transport
