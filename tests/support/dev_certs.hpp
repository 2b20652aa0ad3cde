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

  /// Makes the certificates (and keys) of `ids` (space-separated) with
  /// make-dev-certs' `options` (--authority NAME, --expired, --san LIST).
  void make(const std::string& ids, const std::string& options = "") {
    const auto command = std::string(CONFLUX_SOURCE_DIR) + "/apps/tls/make-dev-certs " +
                         dir_.path().string() + " " + options + " " + ids;
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  /// Makes a second certificate of `id` into the subdirectory `kind` (say
  /// "old", with --expired). Call it before make(id): it takes id's files.
  void make_in(const std::string& kind, const std::string& id, const std::string& options) {
    make(id, options);
    std::filesystem::create_directories(path(kind));
    for (const std::string extension : {".pem", ".key"})
      std::filesystem::rename(path(id + extension), path(kind + "/" + id + extension));
  }
  /// The files of `id`'s certificate (that of make_in(kind, ...) if `kind`
  /// is given), with the authority "ca".
  transport::TlsFiles files(const std::string& id, const std::string& kind = "") const {
    const auto dir = kind.empty() ? dir_.path() : dir_ / kind;
    return {.certificate = (dir / (id + ".pem")).string(),
            .private_key = (dir / (id + ".key")).string(),
            .authority = (dir_ / "ca.pem").string()};
  }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

 private:
  TempDir dir_;
};

/// Certificates made once for the whole test binary: the first call runs
/// `make` on them. Each call site (each lambda) has its own.
template <class Make>
DevCerts& made_once(Make make) {
  struct Made {
    DevCerts certs;
    explicit Made(Make& steps) { steps(certs); }
  };
  static Made made(make);
  return made.certs;
}

}  // namespace conflux::test
