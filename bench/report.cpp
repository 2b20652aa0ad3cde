#include "report.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <fstream>
#include <stdexcept>

namespace conflux::bench {

namespace json = boost::json;

namespace {

LatencySummary summarize(const LatencyHistogram& h) {
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000; };
  return {us(h.quantile(0.50)),  us(h.quantile(0.90)), us(h.quantile(0.99)),
          us(h.quantile(0.999)), us(h.max()),          h.mean() / 1000};
}

/// CPU during the window: the difference of the two samples of each process.
std::vector<ProcessFigures> process_figures(const Measurement& m) {
  std::vector<ProcessFigures> figures;
  for (const auto& end : m.at_end) {
    ProcessFigures f{end.name, end.role, std::nullopt, end.peak_rss};
    for (const auto& start : m.at_start) {
      if (start.name == end.name && start.cpu_seconds && end.cpu_seconds)
        f.cpu_seconds = *end.cpu_seconds - *start.cpu_seconds;
    }
    figures.push_back(f);
  }
  return figures;
}

std::string with_commas(double value) {
  const auto digits = std::to_string(static_cast<long long>(value + 0.5));
  std::string text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string time_text(double us) {
  char text[32];
  if (us < 1000) {
    std::snprintf(text, sizeof text, "%.0f us", us);
  } else if (us < 1e6) {
    std::snprintf(text, sizeof text, "%.2f ms", us / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.2f s", us / 1e6);
  }
  return text;
}

std::string mib_text(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string ratio_text(double value, double floor) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fx", floor > 0 ? value / floor : 0);
  return text;
}

}  // namespace

double RawTcp::floor_p50_us() const {
  auto lowest = p50_us;
  for (const auto& other : {same_cpu_p50_us, spin_p50_us})
    if (other && *other < lowest) lowest = *other;
  return lowest;
}

RunReport make_report(const BenchFlags& flags, std::string started_at, std::string leader,
                      const Measurement& m, const RawTcp& raw) {
  RunReport r;
  r.flags = flags;
  r.started_at = std::move(started_at);
  r.leader = std::move(leader);
  r.actions = m.load.actions;
  r.seconds = m.load.seconds;
  r.throughput = r.seconds > 0 ? static_cast<double>(r.actions) / r.seconds : 0;
  r.latency = summarize(m.load.latency);
  r.errors = m.load.errors;
  r.raw = raw;
  r.processes = process_figures(m);
  r.cpu_actions = m.actions_between_samples;
  for (const auto& p : r.processes) {
    if (p.cpu_seconds && r.cpu_actions > 0)
      r.cpu_per_1000[p.role] += *p.cpu_seconds * 1000 / static_cast<double>(r.cpu_actions);
  }
  return r;
}

namespace {

std::string storage_text(const BenchFlags& f) {
  if (f.storage == Storage::memory) return "memory";
  return std::string("file, fsync ") + (f.fsync ? "always" : "never");
}

void print_header(const RunReport& r, std::FILE* out) {
  const auto& f = r.flags;
  // With --connect the nodes were started by someone else: their storage
  // and reducer are unknown here.
  const auto started = f.connect.empty() ? ", storage " + storage_text(f) + ", reducer " +
                                               std::string(to_string(f.reducer))
                                         : std::string(", existing nodes");
  std::fprintf(
      out, "conflux-bench: %s%s, %d node%s (leader %s), %d client%s to %s, payload %zu B%s%s%s\n",
      std::string(to_string(f.mode)).c_str(),
      f.op == Op::write ? ""
      : f.read_lease    ? ", lease reads"
                        : ", linearizable reads",
      f.nodes, f.nodes == 1 ? "" : "s", r.leader.c_str(), f.concurrency,
      f.concurrency == 1 ? "" : "s", f.target == Target::leader ? "the leader" : "every node",
      f.payload, started.c_str(), f.label.empty() ? "" : ", label ", f.label.c_str());
}

/// A row of the table: the label, then cells in columns 11 characters wide
/// from column 17, where the other rows' values start too.
void print_row(std::FILE* out, const std::string& label, const std::vector<std::string>& cells) {
  std::string line = "  " + label;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line.resize(std::max(line.size() + 1, 17 + 11 * i), ' ');
    line += cells[i];
  }
  std::fprintf(out, "%s\n", line.c_str());
}

void print_latency(const RunReport& r, std::FILE* out) {
  const auto& l = r.latency;
  print_row(out, "latency", {"p50", "p90", "p99", "p99.9", "max"});
  print_row(out, "",
            {time_text(l.p50_us), time_text(l.p90_us), time_text(l.p99_us), time_text(l.p999_us),
             time_text(l.max_us)});
  std::string note = "(ping-pong, " + std::to_string(r.raw.bytes) + " B, " +
                     std::to_string(r.raw.round_trips) + " round trips" +
                     (r.raw.cross_cpu ? ", two CPUs" : "");
  if (r.raw.same_cpu_p50_us && r.raw.same_cpu_p99_us)
    note += "; one CPU: " + time_text(*r.raw.same_cpu_p50_us) + ", " +
            time_text(*r.raw.same_cpu_p99_us);
  if (r.raw.spin_p50_us && r.raw.spin_p99_us)
    note += "; spinning: " + time_text(*r.raw.spin_p50_us) + ", " + time_text(*r.raw.spin_p99_us);
  print_row(out, "raw TCP", {time_text(r.raw.p50_us), "", time_text(r.raw.p99_us), "", note + ")"});
  print_row(out, "run / raw",
            {ratio_text(l.p50_us, r.raw.p50_us), "", ratio_text(l.p99_us, r.raw.p99_us)});
  print_row(out, "run / floor",
            {ratio_text(l.p50_us, r.raw.floor_p50_us()), "", "",
             "(p50 against the lowest raw p50: " + time_text(r.raw.floor_p50_us()) + ")"});
}

/// Milliseconds of CPU per 1,000 actions of one process, or "?".
std::string cpu_text(const RunReport& r, const ProcessFigures& p) {
  if (!p.cpu_seconds || r.cpu_actions == 0) return "?";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f",
                *p.cpu_seconds * 1e6 / static_cast<double>(r.cpu_actions));
  return text;
}

/// "nodes 21.2 ms (n1 14.0, n2 3.6, n3 3.6), bench 4.4 ms": each role's
/// sum, then each node's share.
void print_resources(const RunReport& r, std::FILE* out) {
  std::string cpu, rss;
  for (const std::string role : {"process", "node", "leader", "hub", "redis", "bench"}) {
    const auto total = r.cpu_per_1000.find(role);
    if (total == r.cpu_per_1000.end()) continue;
    char text[64];
    std::snprintf(text, sizeof text, "%s%s%.1f ms", cpu.empty() ? "" : ", ",
                  role == "process" ? ""
                  : role == "node"  ? "nodes "
                                    : (role + " ").c_str(),
                  total->second * 1000);
    cpu += text;
    std::string parts;
    for (const auto& p : r.processes) {
      if (p.role == "node" && role == "node")
        parts += (parts.empty() ? "" : ", ") + p.name + " " + cpu_text(r, p);
    }
    if (!parts.empty() && r.flags.nodes > 1) cpu += " (" + parts + ")";
  }
  for (const auto& p : r.processes) {
    if (p.peak_rss)
      rss += (rss.empty() ? "" : ", ") + (p.role == "process" ? "" : p.name + " ") +
             mib_text(*p.peak_rss);
  }
  const char* note =
      r.flags.mode == Mode::inprocess  ? "   (the whole process: every node and the clients)"
      : r.flags.mode == Mode::embedded ? "   (leader: n1 and the clients, one process)"
                                       : "";
  std::fprintf(out, "  %-14s %s%s\n", "CPU/1k actions", cpu.empty() ? "unknown" : cpu.c_str(),
               note);
  std::fprintf(out, "  %-14s %s%s\n", "peak RSS", rss.empty() ? "unknown" : rss.c_str(), note);
}

}  // namespace

void print_report(const RunReport& r, std::FILE* out) {
  print_header(r, out);
  std::uint64_t errors = 0;
  std::string kinds;
  for (const auto& [kind, n] : r.errors) {
    errors += n;
    kinds += (kinds.empty() ? "" : ", ") + kind + " " + with_commas(static_cast<double>(n));
  }
  std::fprintf(out, "  %-14s %s in %.2f s, %s error%s%s%s%s\n", "actions",
               with_commas(static_cast<double>(r.actions)).c_str(), r.seconds,
               with_commas(static_cast<double>(errors)).c_str(), errors == 1 ? "" : "s",
               kinds.empty() ? "" : " (", kinds.c_str(), kinds.empty() ? "" : ")");
  std::fprintf(out, "  %-14s %s actions/s\n", "throughput", with_commas(r.throughput).c_str());
  print_latency(r, out);
  print_resources(r, out);
}

std::string report_json(const RunReport& r) {
  const auto& f = r.flags;
  json::object o;
  o["label"] = f.label;
  o["started_at"] = r.started_at;
  o["mode"] = to_string(f.mode);
  o["op"] = to_string(f.op);
  o["read_lease"] = f.read_lease;
  o["nodes"] = f.nodes;
  o["concurrency"] = f.concurrency;
  o["payload_bytes"] = f.payload;
  o["duration_s"] = f.duration ? json::value(*f.duration) : json::value(nullptr);
  o["count"] = f.count ? json::value(*f.count) : json::value(nullptr);
  o["warmup_s"] = f.warmup;
  const bool started = f.connect.empty();  // else storage and reducer are unknown
  o["storage"] = started ? json::value(to_string(f.storage)) : json::value(nullptr);
  o["fsync"] = started && f.storage == Storage::file ? json::value(f.fsync ? "always" : "never")
                                                     : json::value(nullptr);
  o["reducer"] = started ? json::value(to_string(f.reducer)) : json::value(nullptr);
  o["target"] = to_string(f.target);
  o["connect"] = json::value_from(f.connect);
  o["leader"] = r.leader;
  o["actions"] = r.actions;
  o["seconds"] = r.seconds;
  o["throughput"] = r.throughput;
  o["errors"] = json::value_from(r.errors);
  const auto& l = r.latency;
  o["latency_us"] = {{"p50", l.p50_us},    {"p90", l.p90_us}, {"p99", l.p99_us},
                     {"p99_9", l.p999_us}, {"max", l.max_us}, {"mean", l.mean_us}};
  o["raw_tcp_us"] = {{"p50", r.raw.p50_us},
                     {"p99", r.raw.p99_us},
                     {"cross_cpu", r.raw.cross_cpu},
                     {"round_trips", r.raw.round_trips},
                     {"bytes", r.raw.bytes}};
  if (r.raw.same_cpu_p50_us && r.raw.same_cpu_p99_us) {
    o["raw_tcp_same_cpu_us"] = {{"p50", *r.raw.same_cpu_p50_us}, {"p99", *r.raw.same_cpu_p99_us}};
  }
  if (r.raw.spin_p50_us && r.raw.spin_p99_us)
    o["raw_tcp_spin_us"] = {{"p50", *r.raw.spin_p50_us}, {"p99", *r.raw.spin_p99_us}};
  o["floor_p50_us"] = r.raw.floor_p50_us();
  o["vs_raw"] = {{"p50", r.raw.p50_us > 0 ? l.p50_us / r.raw.p50_us : 0},
                 {"p99", r.raw.p99_us > 0 ? l.p99_us / r.raw.p99_us : 0},
                 {"p50_floor", r.raw.floor_p50_us() > 0 ? l.p50_us / r.raw.floor_p50_us() : 0}};
  o["cpu_s_per_1000"] = json::value_from(r.cpu_per_1000);
  o["cpu_window_actions"] = r.cpu_actions;
  json::array processes;
  for (const auto& p : r.processes) {
    processes.push_back(
        {{"name", p.name},
         {"role", p.role},
         {"cpu_s", p.cpu_seconds ? json::value(*p.cpu_seconds) : json::value(nullptr)},
         {"peak_rss_bytes", p.peak_rss ? json::value(*p.peak_rss) : json::value(nullptr)}});
  }
  o["processes"] = std::move(processes);
  return json::serialize(o);
}

void save_json(const RunReport& r) {
  const auto& path = r.flags.json_file;
  std::ofstream file(path, r.flags.json_append ? std::ios::app : std::ios::trunc);
  file << report_json(r) << '\n';
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace conflux::bench
