#pragma once
// conflux-node's command line (`conflux-node --help` prints usage()).

#include <chrono>
#include <conflux/options.hpp>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flag_reader.hpp"

namespace conflux::daemon {

struct Flags {
  std::string id;
  std::string channel = "tcp";  ///< "tcp", "ws" or "redis"
  std::string listen;           ///< peer traffic (tcp)
  std::string hub;              ///< ws://host:port/<cluster> (ws)
  std::string redis;            ///< redis://... (redis)
  std::string ws_hub;           ///< host:port of a hub to run in this process
  std::string http;             ///< the HTTP API
  std::string dashboard;        ///< host:port of the live dashboard, if wanted
  std::vector<Peer> peers;
  std::string join;  ///< host:port of a member's HTTP API: start in join mode and ask it
  std::string cluster = "conflux";
  std::string app = "kv";
  std::filesystem::path data_dir;  ///< default ./<id>.conflux
  bool in_memory = false;
  storage::FsyncPolicy fsync = storage::FsyncPolicy::always;
  std::chrono::milliseconds election_min{300};
  std::chrono::milliseconds election_max{500};
  std::chrono::milliseconds heartbeat{50};
  std::chrono::milliseconds perform_timeout{5000};
  std::chrono::milliseconds http_timeout{10000};
  std::chrono::milliseconds http_header_timeout{2000};
  std::size_t http_max_connections = 1024;
  std::size_t http_max_per_address = 256;
  std::size_t max_body = 1 << 20;
  std::size_t redis_in_flight = RedisChannelOptions{}.max_in_flight_bytes;
  Options::ReadLease read_lease;     ///< --read-lease, --max-clock-drift
  Options::SnapshotPolicy snapshot;  ///< --snapshot-entries, --snapshot-bytes, --snapshot-trailing
  /// --tls-cert, --tls-key, --tls-ca: TLS on the peer mesh (tcp) and HTTPS
  /// on the HTTP API, with the same certificate.
  transport::TlsFiles tls;
  std::filesystem::path token_file;  ///< --token-file
  std::string token;                 ///< read from it: the HTTP API's bearer token
  bool public_reads = false;         ///< --public-reads: reads need no token
  bool insecure = false;             ///< --insecure: plaintext beyond loopback, knowingly
  LogLevel log_level = LogLevel::info;
  bool help = false;
  bool version = false;
};

using cli::FlagError;

/// Parses argv[1..]. Accepts "--flag value" and "--flag=value". The node's
/// own id is added to the peers (with --listen's address) when absent. With
/// --channel ws, peers are given by id alone.
/// Throws FlagError.
Flags parse_flags(const std::vector<std::string>& args);

std::string usage();

}  // namespace conflux::daemon
