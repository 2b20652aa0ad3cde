// Which ids a certificate names (transport/tls_context.hpp): the rules a
// node's identity rests on, checked on certificates built field by field,
// including the ones an authority should never sign.

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <conflux/transport/tls_context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using conflux::transport::detail::certificate_ids;
using Ids = std::vector<std::string>;

namespace {

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using Certificate = std::unique_ptr<X509, X509Free>;

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

/// A common name of ASN.1 string `type` holding `text`'s bytes as they are
/// (MBSTRING_UTF8: converted from UTF-8 the usual way).
void add_common_name(X509* certificate, int type, std::string_view text) {
  X509_NAME_add_entry_by_NID(X509_get_subject_name(certificate), NID_commonName, type,
                             bytes_of(text), static_cast<int>(text.size()), -1, 0);
}

/// A subjectAltName of DNS names and IPv4 addresses (4 bytes each).
void add_alt_names(X509* certificate, const Ids& dns, const Ids& addresses = {}) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  const auto add = [&](int type, std::string_view value) {
    ASN1_STRING* text = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
    ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
    GENERAL_NAME* name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, type, text);
    sk_GENERAL_NAME_push(names, name);
  };
  for (const auto& name : dns) add(GEN_DNS, name);
  for (const auto& address : addresses) add(GEN_IPADD, address);
  X509_add1_ext_i2d(certificate, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
}

/// A subjectAltName extension whose contents do not decode.
void add_garbled_alt_names(X509* certificate) {
  ASN1_OCTET_STRING* garbage = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(garbage, bytes_of("\x30\x03\xff\xff\xff"), 5);
  X509_EXTENSION* extension =
      X509_EXTENSION_create_by_NID(nullptr, NID_subject_alt_name, 0, garbage);
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  ASN1_OCTET_STRING_free(garbage);
}

Certificate blank() {
  Certificate certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  return certificate;
}

}  // namespace

TEST_CASE(
    "certificate ids: DNS subjectAltNames, else the common name when there is no such extension") {
  auto named = blank();
  add_common_name(named.get(), MBSTRING_UTF8, "n1");
  CHECK(certificate_ids(named.get()) == Ids{"n1"});

  auto alt = blank();
  add_common_name(alt.get(), MBSTRING_UTF8, "cn-is-ignored");
  add_alt_names(alt.get(), {"n1", "n2"}, {std::string("\x7f\0\0\x01", 4)});
  CHECK(certificate_ids(alt.get()) == Ids{"n1", "n2"});

  CHECK(certificate_ids(nullptr).empty());
  CHECK(certificate_ids(blank().get()).empty());
}

TEST_CASE("certificate ids: an id in UTF-8 is named as written, in a DNS name or a common name") {
  const std::string id = "n\xc5\x93ud";  // "nœud"
  auto alt = blank();
  add_alt_names(alt.get(), {id});  // what make-dev-certs writes: the bytes as they are
  CHECK(certificate_ids(alt.get()) == Ids{id});

  auto named = blank();
  add_common_name(named.get(), MBSTRING_UTF8, id);
  CHECK(certificate_ids(named.get()) == Ids{id});
}

TEST_CASE("certificate ids: a subjectAltName without a DNS name, or unreadable, names no id") {
  auto addresses_only = blank();
  add_common_name(addresses_only.get(), MBSTRING_UTF8, "n1");
  add_alt_names(addresses_only.get(), {}, {std::string("\x7f\0\0\x01", 4)});
  CHECK(certificate_ids(addresses_only.get()).empty());

  auto garbled = blank();
  add_common_name(garbled.get(), MBSTRING_UTF8, "n1");
  add_garbled_alt_names(garbled.get());
  CHECK(certificate_ids(garbled.get()).empty());
}

TEST_CASE("certificate ids: names are compared as text, never as raw bytes") {
  // A BMPString whose two UTF-16 code units are the bytes "node": it reads
  // as two CJK characters, not as the id "node".
  auto wide = blank();
  add_common_name(wide.get(), V_ASN1_BMPSTRING, "node");
  const auto ids = certificate_ids(wide.get());
  REQUIRE(ids.size() == 1);
  CHECK(ids.front() != "node");
  CHECK(ids.front() == "\xe6\xb9\xaf\xe6\x91\xa5");  // U+6E6F U+6465

  // A NUL inside a name would let "n1\0.attacker.example" pass for "n1"
  // wherever C strings are compared: such a name names nothing.
  auto nul = blank();
  add_alt_names(nul.get(), {std::string("n1\0.attacker.example", 20), "n2"});
  CHECK(certificate_ids(nul.get()) == Ids{"n2"});
}

TEST_CASE("a server name OpenSSL cannot check is refused, never left unchecked") {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  REQUIRE(context);
  const auto check = [&](const std::string& host) {
    SSL* ssl = SSL_new(context);
    const bool accepted = conflux::transport::detail::expect_server_name(ssl, host);
    SSL_free(ssl);
    return accepted;
  };
  CHECK(check("hub.example"));
  CHECK(check("127.0.0.1"));
  CHECK(check("[::1]"));
  CHECK_FALSE(check(""));
  CHECK_FALSE(check(std::string("hub.example\0.attacker.example", 29)));
  SSL_CTX_free(context);
}
