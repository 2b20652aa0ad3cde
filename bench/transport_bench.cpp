// Two TcpMesh nodes on loopback, each on its own thread:
//   throughput  AppendEntries carrying 256-byte entries, acknowledged one by
//               one, with a window of messages in flight: entries/s and MB/s;
//   latency     a small message and its reply, one at a time, through our
//               stack, next to a raw TCP ping-pong of the same size measured
//               in the same run.
//
// With --tls DIR, each is measured twice in the same run, plaintext then TLS
// (DIR from apps/tls/make-dev-certs DIR n1 n2), with the ratios.
//
//   transport_bench [--seconds S] [--entries-per-message N] [--window W] [--pings N]
//                   [--tls DIR]

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/tcp_mesh.hpp>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "raw_ping_pong.hpp"
#include "version.hpp"

namespace {

namespace asio = boost::asio;
using namespace conflux;
using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 3;
  std::size_t entries_per_message = 64;
  std::size_t window = 16;
  std::size_t pings = 5000;
  std::string tls_dir;
};

/// One mesh node on its own io_context thread.
struct Node {
  asio::io_context io;
  std::unique_ptr<transport::TcpMesh> mesh;
  std::function<void(raft::Message)> on_message;
  std::thread thread;

  Node(const raft::NodeId& id, const raft::NodeId& peer, const std::string& tls_dir) {
    transport::TcpMeshConfig config;
    config.id = id;
    if (!tls_dir.empty())
      config.tls = {tls_dir + "/" + id + ".pem", tls_dir + "/" + id + ".key", tls_dir + "/ca.pem"};
    config.cluster = "bench";
    config.peers[peer] = "";
    config.queue_max_frames = 1 << 16;
    mesh = std::make_unique<transport::TcpMesh>(
        io.get_executor(), config,
        [this](transport::Packet p) { on_message(std::get<raft::Message>(std::move(p))); });
  }
  void start() {
    asio::co_spawn(io, mesh->run(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }
  void stop() {
    asio::post(io, [this] { mesh->close(); });
    thread.join();
  }
  template <class F>
  void on_thread(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
};

raft::Message make_append(std::size_t entries, raft::Index first) {
  const raft::Payload payload("\"" + std::string(254, 'x') + "\"");  // a 256-byte JSON action
  raft::AppendRequest request{first - 1, 1, {}, first - 1};
  for (std::size_t i = 0; i < entries; ++i) {
    request.entries.push_back(raft::Entry{1, first + i, raft::EntryType::normal, payload});
  }
  return raft::Message{"n1", "n2", 1, std::move(request)};
}

/// Entries per second.
double throughput(Node& a, Node& b, const Options& options) {
  std::atomic<std::size_t> entries{0};
  std::size_t in_flight = 0;
  bool sending = true;
  const auto message = make_append(options.entries_per_message, 1);
  const auto pump = [&] {
    while (sending && in_flight < options.window) {
      a.mesh->send(message);
      ++in_flight;
    }
  };
  b.on_message = [&](raft::Message m) {
    entries += std::get<raft::AppendRequest>(m.body).entries.size();
    b.mesh->send(raft::Message{"n2", "n1", 1, raft::AppendResponse{true, 1, 0, 0, 0}});
  };
  a.on_message = [&](raft::Message) {
    --in_flight;
    pump();
  };
  const auto start = Clock::now();
  a.on_thread(pump);
  std::this_thread::sleep_for(
      std::chrono::duration<double>(options.seconds));  // the measurement window
  a.on_thread([&] { sending = false; });
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  const auto received = entries.load();
  // Drain: every acknowledgement arrives before the handlers go out of scope.
  for (bool idle = false; !idle; std::this_thread::sleep_for(std::chrono::milliseconds(1))) {
    a.on_thread([&] { idle = in_flight == 0; });
  }
  a.on_thread([&] { a.on_message = [](raft::Message) {}; });
  b.on_thread([&] { b.on_message = [](raft::Message) {}; });
  return static_cast<double>(received) / elapsed.count();
}

struct Percentiles {
  double p50, p99;
};

Percentiles percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

std::vector<double> mesh_ping_pong(Node& a, Node& b, std::size_t pings) {
  std::vector<double> rtts;
  std::promise<void> done;
  Clock::time_point sent;
  const raft::Message ping{"n1", "n2", 1, raft::VoteRequest{false, 1, 1}};
  b.on_message = [&](raft::Message) {
    b.mesh->send(raft::Message{"n2", "n1", 1, raft::VoteResponse{false, true}});
  };
  a.on_message = [&](raft::Message) {
    rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    if (rtts.size() == pings) return done.set_value();
    sent = Clock::now();
    a.mesh->send(ping);
  };
  a.on_thread([&] {
    sent = Clock::now();
    a.mesh->send(ping);
  });
  done.get_future().wait();
  a.on_thread([&] { a.on_message = [](raft::Message) {}; });
  b.on_thread([&] { b.on_message = [](raft::Message) {}; });
  return rtts;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--seconds")
      options.seconds = std::stod(value);
    else if (flag == "--entries-per-message")
      options.entries_per_message = std::stoul(value);
    else if (flag == "--window")
      options.window = std::stoul(value);
    else if (flag == "--pings")
      options.pings = std::stoul(value);
    else if (flag == "--tls")
      options.tls_dir = value;
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  return options;
}

struct Measured {
  double entries_per_second;
  Percentiles ping;
};

/// Two meshes, plaintext or TLS: throughput, then ping-pong.
Measured measure(const Options& options, const std::string& tls_dir) {
  Node a("n1", "n2", tls_dir);
  Node b("n2", "n1", tls_dir);
  a.mesh->set_peer_address("n2", "127.0.0.1:" + std::to_string(b.mesh->port()));
  b.mesh->set_peer_address("n1", "127.0.0.1:" + std::to_string(a.mesh->port()));
  a.on_message = b.on_message = [](raft::Message) {};
  a.start();
  b.start();
  // Warm up: wait until both links are connected.
  auto connected = [](Node& n) {
    bool up = false;
    n.on_thread([&] { up = n.mesh->status().front().connected; });
    return up;
  };
  while (!connected(a) || !connected(b)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Measured measured{throughput(a, b, options), percentiles(mesh_ping_pong(a, b, options.pings))};
  a.stop();
  b.stop();
  return measured;
}

void print(const char* label, const Measured& m, const Options& options) {
  std::printf(
      "%s throughput: %.0f entries/s, %.1f MB/s of entry payload (%zu entries/message, "
      "window %zu)\n",
      label, m.entries_per_second, m.entries_per_second * 256 / 1e6, options.entries_per_message,
      options.window);
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "transport_bench")) return 0;
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr,
                 "%s\nusage: %s [--seconds S] [--entries-per-message N] [--window W] [--pings N] "
                 "[--tls DIR]\n",
                 error.what(), argv[0]);
    return 2;
  }
  const auto plain = measure(options, "");
  print("TcpMesh", plain, options);
  const std::string ping =
      transport::encode(raft::Message{"n1", "n2", 1, raft::VoteRequest{false, 1, 1}});
  const auto frame_bytes = ping.size() + transport::frame_header_bytes;
  const auto raw = percentiles(bench::raw_ping_pong(options.pings, frame_bytes).rtts);
  std::optional<Measured> tls;
  if (!options.tls_dir.empty()) {
    tls = measure(options, options.tls_dir);
    print("TLS    ", *tls, options);
    std::printf("  TLS / plaintext throughput %.2f\n",
                tls->entries_per_second / plain.entries_per_second);
  }
  std::printf("ping-pong (%zu round trips, %zu-byte frames):\n", options.pings, frame_bytes);
  std::printf("  raw TCP    p50 %7.1f us  p99 %7.1f us\n", raw.p50, raw.p99);
  std::printf("  TcpMesh    p50 %7.1f us  p99 %7.1f us  (p50 %.2fx raw)\n", plain.ping.p50,
              plain.ping.p99, plain.ping.p50 / raw.p50);
  if (tls) {
    std::printf("  TLS        p50 %7.1f us  p99 %7.1f us  (p50 %.2fx raw, %.2fx TcpMesh)\n",
                tls->ping.p50, tls->ping.p99, tls->ping.p50 / raw.p50,
                tls->ping.p50 / plain.ping.p50);
  }
}
