#pragma once
// Certificates for TLS tests, made by the project's own script
// (apps/tls/make-dev-certs) in a temporary directory: the authority "ca",
// and on demand a node's certificate, one from another authority, or an
// expired one.

#include <conflux/transport/tls.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/temp_dir.hpp"

namespace conflux::test {

class DevCerts {
 public:
  DevCerts() : dir_("conflux-certs") {}

  /// Makes `id`'s certificate (and key), signed by `authority` ("ca" unless
  /// told), expired if asked; `san`: extra subjectAltNames.
  void make(const std::string& id, const std::string& options = "") {
    const auto command = std::string(CONFLUX_SOURCE_DIR) + "/apps/tls/make-dev-certs " +
                         dir_.path().string() + " " + options + " " + id;
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  /// The files of `id`'s certificate, with the authority "ca".
  transport::TlsFiles files(const std::string& id) const {
    return {.certificate = (dir_ / (id + ".pem")).string(),
            .private_key = (dir_ / (id + ".key")).string(),
            .authority = (dir_ / "ca.pem").string()};
  }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

 private:
  TempDir dir_;
};

}  // namespace conflux::test
